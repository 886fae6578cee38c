/* runtime/metrics.c -- counters for /metrics and their Prometheus text exposition */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "change/change.h"
#include "lib/error.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "runtime/zonert.h"

struct metrics {
	_Atomic uint64_t ev[METRICS_EVENTS];
	metrics_cell_t *cells;         /* one per worker */
	size_t ncells;
};

/* The question types counted by name; the others go to "other" (index METRICS_TYPES - 1). */
static const struct { uint16_t type; const char *name; } types[METRICS_TYPES - 1] = {
	{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" }, { 15, "MX" },
	{ 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 35, "NAPTR" }, { 43, "DS" }, { 48, "DNSKEY" },
	{ 52, "TLSA" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" }, { 251, "IXFR" }, { 252, "AXFR" },
	{ 255, "ANY" }, { 257, "CAA" },
};

static const char *const rcodes[METRICS_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
};

unsigned metrics_type_index(uint16_t qtype)
{
	/* A switch the compiler turns into a jump table: no search on the query path. */
	switch (qtype) {
	case 1: return 0;
	case 2: return 1;
	case 5: return 2;
	case 6: return 3;
	case 12: return 4;
	case 15: return 5;
	case 16: return 6;
	case 28: return 7;
	case 33: return 8;
	case 35: return 9;
	case 43: return 10;
	case 48: return 11;
	case 52: return 12;
	case 64: return 13;
	case 65: return 14;
	case 99: return 15;
	case 251: return 16;
	case 252: return 17;
	case 255: return 18;
	case 257: return 19;
	default: return METRICS_TYPES - 1;
	}
}

int metrics_new(server_t *srv)
{
	srv->metrics = calloc(1, sizeof(*srv->metrics));
	return srv->metrics != NULL ? TDM_OK : TDM_ENOMEM;
}

int metrics_workers(server_t *srv, size_t count)
{
	struct metrics *m = srv->metrics;
	if (m == NULL || count == 0)
		return TDM_OK;
	m->cells = aligned_alloc(64, count * sizeof(metrics_cell_t));
	if (m->cells == NULL)
		return TDM_ENOMEM;
	memset(m->cells, 0, count * sizeof(metrics_cell_t));
	m->ncells = count;
	srv->shared.metrics = m->cells;
	return TDM_OK;
}

void metrics_free(server_t *srv)
{
	if (srv->metrics == NULL)
		return;
	free(srv->metrics->cells);
	free(srv->metrics);
	srv->metrics = NULL;
}

void metrics_event(server_t *srv, metrics_event_t ev)
{
	if (srv != NULL && srv->metrics != NULL)
		atomic_fetch_add_explicit(&srv->metrics->ev[ev], 1, memory_order_relaxed);
}

static uint64_t ev(struct metrics *m, metrics_event_t e)
{
	return atomic_load_explicit(&m->ev[e], memory_order_relaxed);
}

/* A label value as the exposition format wants it: backslash, quote and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void queries(FILE *f, struct metrics *m)
{
	fputs("# HELP tandem_queries_total DNS answers sent, by protocol, question type and rcode.\n"
	      "# TYPE tandem_queries_total counter\n", f);
	for (int tcp = 0; tcp < 2; tcp++)
		for (unsigned t = 0; t < METRICS_TYPES; t++)
			for (unsigned r = 0; r < METRICS_RCODES; r++) {
				uint64_t sum = 0;
				for (size_t w = 0; w < m->ncells; w++)
					sum += atomic_load_explicit(&m->cells[w].q[tcp][t][r],
					                            memory_order_relaxed);
				if (sum == 0)
					continue;   /* series appear once they count something */
				fprintf(f, "tandem_queries_total{protocol=\"%s\",type=\"%s\",rcode=\"%s\"} %llu\n",
				        tcp ? "tcp" : "udp", t < METRICS_TYPES - 1 ? types[t].name : "other",
				        rcodes[r], (unsigned long long)sum);
			}
}

static void events(FILE *f, struct metrics *m)
{
	static const char *const res[2] = { "ok", "failed" };
	fputs("# HELP tandem_transfers_in_total Zone transfers received (secondary zones), by type and "
	      "result.\n# TYPE tandem_transfers_in_total counter\n", f);
	for (int i = 0; i < 4; i++)
		fprintf(f, "tandem_transfers_in_total{type=\"%s\",result=\"%s\"} %llu\n",
		        i < 2 ? "axfr" : "ixfr", res[i % 2],
		        (unsigned long long)ev(m, METRICS_XFR_IN_AXFR_OK + i));
	fputs("# HELP tandem_transfers_out_total Zone transfers served, by type and result.\n"
	      "# TYPE tandem_transfers_out_total counter\n", f);
	for (int i = 0; i < 4; i++)
		fprintf(f, "tandem_transfers_out_total{type=\"%s\",result=\"%s\"} %llu\n",
		        i < 2 ? "axfr" : "ixfr", res[i % 2],
		        (unsigned long long)ev(m, METRICS_XFR_OUT_AXFR_OK + i));
	fprintf(f, "# HELP tandem_notify_in_total NOTIFY messages received, by result.\n"
	        "# TYPE tandem_notify_in_total counter\n"
	        "tandem_notify_in_total{result=\"accepted\"} %llu\n"
	        "tandem_notify_in_total{result=\"refused\"} %llu\n"
	        "# HELP tandem_notify_out_total NOTIFY messages sent (retries too), answers and give-ups.\n"
	        "# TYPE tandem_notify_out_total counter\n"
	        "tandem_notify_out_total{result=\"sent\"} %llu\n"
	        "tandem_notify_out_total{result=\"acknowledged\"} %llu\n"
	        "tandem_notify_out_total{result=\"failed\"} %llu\n",
	        (unsigned long long)ev(m, METRICS_NOTIFY_IN_ACCEPTED),
	        (unsigned long long)ev(m, METRICS_NOTIFY_IN_REFUSED),
	        (unsigned long long)ev(m, METRICS_NOTIFY_OUT_SENT),
	        (unsigned long long)ev(m, METRICS_NOTIFY_OUT_ACKNOWLEDGED),
	        (unsigned long long)ev(m, METRICS_NOTIFY_OUT_FAILED));
	fprintf(f, "# HELP tandem_update_polls_total Applied UPDATEs after which a worker polled its sockets "
	        "for the client's next one (at most 100 us) instead of sleeping.\n"
	        "# TYPE tandem_update_polls_total counter\ntandem_update_polls_total %llu\n",
	        (unsigned long long)ev(m, METRICS_UPDATE_POLLS));
}

static void latency(FILE *f)
{
	uint64_t counts[CHANGE_LATENCY_BUCKETS], count, sum_us;
	change_latency_read(counts, &count, &sum_us);
	fputs("# HELP tandem_change_commit_seconds Time a zone change takes through the change path "
	      "(new version made, journal entry stored).\n"
	      "# TYPE tandem_change_commit_seconds histogram\n", f);
	for (size_t i = 0; i < CHANGE_LATENCY_BUCKETS; i++) {
		if (change_latency_bounds_us[i] == UINT64_MAX)
			fputs("tandem_change_commit_seconds_bucket{le=\"+Inf\"}", f);
		else
			fprintf(f, "tandem_change_commit_seconds_bucket{le=\"%g\"}",
			        (double)change_latency_bounds_us[i] / 1e6);
		fprintf(f, " %llu\n", (unsigned long long)counts[i]);
	}
	fprintf(f, "tandem_change_commit_seconds_sum %.6f\ntandem_change_commit_seconds_count %llu\n",
	        (double)sum_us / 1e6, (unsigned long long)count);
}

/* Zones by role and state; each zone's secondaries. Under rcu_read_lock (contents read). */
static void zones(FILE *f, server_t *srv)
{
	static const char *const states[3] = { "ok", "expired", "empty" };
	size_t by[2][3] = { { 0 } };
	int64_t now = (int64_t)time(NULL);
	bool head = false;
	for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf == NULL)
			continue;
		const zone_contents_t *z = zone_contents(zr->zone);
		int st = z == NULL ? 2 : zone_expired(zr->zone) ? 1 : 0;
		by[zr->conf->type == CONF_ZONE_SECONDARY][st]++;
	}
	fputs("# HELP tandem_zones Zones served, by role and state.\n# TYPE tandem_zones gauge\n", f);
	for (int r = 0; r < 2; r++)
		for (int s = 0; s < 3; s++)
			fprintf(f, "tandem_zones{role=\"%s\",state=\"%s\"} %zu\n",
			        r ? "secondary" : "primary", states[s], by[r][s]);
	for (size_t i = 0; i < zoneset_count(srv->zones); i++) {
		zonert_t *zr = zonert_of(zoneset_at(srv->zones, i));
		if (zr->conf == NULL)
			continue;
		const zone_contents_t *z = zone_contents(zr->zone);
		pthread_mutex_lock(&zr->lock);
		for (int p = 0; p < zr->npeers; p++) {
			const zonert_peer_t *peer = &zr->peers[p];
			char addr[SOCKADDR_STRLEN];
			sockaddr_format(&peer->addr, addr, sizeof(addr));
			addr[strcspn(addr, "@")] = '\0';
			if (!head) {
				fputs("# HELP tandem_secondary_serial_lag Serials a secondary of a zone is "
				      "behind ours (as it last told us).\n"
				      "# TYPE tandem_secondary_serial_lag gauge\n"
				      "# HELP tandem_secondary_last_seen_seconds Seconds since a secondary of a "
				      "zone was last seen (NOTIFY answer, SOA query, transfer).\n"
				      "# TYPE tandem_secondary_last_seen_seconds gauge\n", f);
				head = true;
			}
			if (peer->serial_known && z != NULL) {
				fputs("tandem_secondary_serial_lag{zone=\"", f);
				label(f, zr->name);
				fprintf(f, "\",secondary=\"%s\"} %u\n", addr,
				        (uint32_t)(zone_serial(z) - peer->serial));
			}
			fputs("tandem_secondary_last_seen_seconds{zone=\"", f);
			label(f, zr->name);
			fprintf(f, "\",secondary=\"%s\"} %lld\n", addr,
			        (long long)(peer->last_seen ? now - peer->last_seen : 0));
		}
		pthread_mutex_unlock(&zr->lock);
	}
}

char *metrics_render(server_t *srv, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (f == NULL)
		return NULL;
	if (srv->metrics != NULL) {
		queries(f, srv->metrics);
		events(f, srv->metrics);
	}
	rcu_read_lock();
	zones(f, srv);
	rcu_read_unlock();
	latency(f);
	fprintf(f, "# HELP tandem_uptime_seconds Seconds since the server started.\n"
	        "# TYPE tandem_uptime_seconds gauge\ntandem_uptime_seconds %lld\n",
	        (long long)(time(NULL) - srv->started));
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
