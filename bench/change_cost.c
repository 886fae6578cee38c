/* bench/change_cost.c -- what one change costs through the change path, measured on the library itself */
/*
 * Not a test: prints figures. Three runs:
 *  1. churn: a zone of N records (hostN A), then C one-record changes (one A replaced, the serial raised)
 *     through change/change.c with the real store: per change, the version made and committed (ms), the
 *     compactions as they come, and the store's size on disk every C/10 changes (it must level off).
 *  2. versions: the octets the new version holds alone beside what it shares with the one before.
 *  3. signed: an NSEC3 zone of S names; one name added with its NSEC3 (what a signer's IXFR does): the
 *     next version carried through the change versus the same version built whole.
 * Usage: change_cost N C S DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dnssec/nsec3.h"
#include "lib/error.h"
#include "lib/log.h"
#include "change/change.h"
#include "store/store.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/update.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n ? v[n / 2] : 0;
}

static uint8_t apex[NAME_MAXLEN];

static void add_text(rrlist_t *l, const char *owner, uint16_t type, const void *rd, size_t len)
{
	uint8_t name[NAME_MAXLEN];
	if (name_from_text(owner, NULL, name) < 0 || rrlist_add(l, name, type, 300, rd, (uint16_t)len, 0))
		abort();
}

static void add_soa(rrlist_t *l, uint32_t serial)
{
	uint8_t rd[64] = { 3, 'n', 's', '1', 0, 1, 'h', 0 };
	size_t n = 8;
	uint32_t v[5] = { serial, 3600, 600, 86400, 300 };
	for (int i = 0; i < 5; i++, n += 4)
		pkt_put32(rd + n, v[i]);
	add_text(l, "bench.test.", PKT_TYPE_SOA, rd, n);
}

static double file_mb(const char *dir)
{
	char path[512];
	double total = 0;
	const char *files[] = { "tandem.db", "tandem.db-wal" };
	for (int i = 0; i < 2; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) == 0)
			total += (double)st.st_size / 1e6;
	}
	return total;
}

static void churn(unsigned n, unsigned changes, const char *dir)
{
	rrlist_t *l = rrlist_new();
	add_soa(l, 1);
	add_text(l, "bench.test.", PKT_TYPE_NS, "\x03ns1\x05" "bench\x04test", 16);
	char owner[64];
	for (unsigned i = 0; i < n; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		snprintf(owner, sizeof(owner), "host%u.bench.test.", i);
		add_text(l, owner, PKT_TYPE_A, a, 4);
	}
	store_t *st;
	zone_contents_t *z;
	if (store_open(dir, &st) != TDM_OK || zone_contents_build(apex, l, &z) != TDM_OK)
		abort();
	store_zone_meta_t meta = { .serial = 1, .source = "config" };
	double t0 = now_ms();
	if (store_zone_commit(st, "bench.test.", l, &meta, NULL, 100) != TDM_OK)
		abort();
	printf("churn: %u records stored whole in %.0f ms, store %.1f MB\n", n, now_ms() - t0, file_mb(dir));
	double *cost = malloc(changes * sizeof(double)), *own = malloc(changes * sizeof(double));
	double compact_ms = 0, worst = 0;
	if (cost == NULL || own == NULL)
		abort();
	unsigned compactions = 0;
	uint32_t serial = 1;
	for (unsigned c = 0; c < changes; c++) {
		rrlist_t *removed = rrlist_new(), *added = rrlist_new();
		unsigned h = (c * 7919u) % n;
		snprintf(owner, sizeof(owner), "host%u.bench.test.", h);
		add_soa(removed, serial);
		add_soa(added, serial + 1);
		/* The record holds its original address or the one the last change to it gave. */
		uint8_t name[NAME_MAXLEN];
		name_from_text(owner, NULL, name);
		uint32_t node = zone_lookup(z, name, (size_t)name_length(name, NAME_MAXLEN));
		uint16_t rdlen;
		const uint8_t *cur = zone_rrset_first(z, zone_node_rrset(z, zone_node(z, node), PKT_TYPE_A), &rdlen);
		uint8_t next[4] = { cur[0], cur[1], cur[2], (uint8_t)(cur[3] + 1) };
		add_text(removed, owner, PKT_TYPE_A, cur, 4);
		add_text(added, owner, PKT_TYPE_A, next, 4);
		change_t chg = { .store = st, .zone = "bench.test.", .journal_max = 100 };
		snprintf(chg.meta.source, sizeof(chg.meta.source), "config");
		zone_contents_t *out;
		double s = now_ms();
		if (change_commit(&chg, z, removed, added, &out) != TDM_OK)
			abort();
		cost[c] = now_ms() - s;
		if (cost[c] > worst)
			worst = cost[c];
		own[c] = (double)zone_memory_exclusive(out) / 1024;   /* both versions alive, as in a grace period */
		zone_contents_free(z);
		z = out;
		serial++;
		if (change_compact_due(&chg, z)) {
			s = now_ms();
			change_compact(&chg, z);
			compact_ms += now_ms() - s;
			compactions++;
		}
		rrlist_free(removed);
		rrlist_free(added);
		if ((c + 1) % (changes / 10) == 0)
			printf("churn: after %6u changes: store %.1f MB, %u compactions so far\n", c + 1, file_mb(dir),
			       compactions);
	}
	printf("churn: per change (version made + journal entry committed, fsync included): median %.2f ms, "
	       "worst %.1f ms; compactions: %u, %.0f ms each on average (after the change is served)\n",
	       median(cost, changes), worst, compactions, compactions ? compact_ms / compactions : 0);
	printf("versions: while both are alive, the new version holds %.0f KiB of its own (median) beside the "
	       "%zu KiB of the zone\n", median(own, changes), zone_memory(z) / 1024);
	free(cost);
	free(own);
	zone_contents_free(z);
	store_close(st);
	rrlist_free(l);
}

static void add_nsec3(rrlist_t *l, const nsec3_params_t *p, const char *owner_text)
{
	uint8_t name[NAME_MAXLEN], owner[NAME_MAXLEN], label[NSEC3_LABEL_MAX];
	name_from_text(owner_text, NULL, name);
	if (nsec3_label(p, name, (size_t)name_length(name, NAME_MAXLEN), label) != 32)
		abort();
	owner[0] = 32;
	memcpy(owner + 1, label, 32);
	memcpy(owner + 33, apex, (size_t)name_length(apex, NAME_MAXLEN));
	uint8_t rd[64] = { 1, 0, 0, 0, 0, NSEC3_HASH_MAX };
	if (rrlist_add(l, owner, PKT_TYPE_NSEC3, 300, rd, 6 + NSEC3_HASH_MAX, 0) != TDM_OK)
		abort();
}

static void signed_zone(unsigned names)
{
	nsec3_params_t p = { .alg = NSEC3_ALG_SHA1 };
	rrlist_t *l = rrlist_new();
	add_soa(l, 1);
	add_text(l, "bench.test.", PKT_TYPE_DNSKEY, "\x01\x00\x03\x0d\x01\x02\x03\x04", 8);
	add_text(l, "bench.test.", 51, "\x01\x00\x00\x00\x00", 5);
	add_nsec3(l, &p, "bench.test.");
	char owner[64];
	for (unsigned i = 0; i < names; i++) {
		snprintf(owner, sizeof(owner), "host%u.bench.test.", i);
		add_text(l, owner, PKT_TYPE_A, "\x0a\x00\x00\x01", 4);
		add_nsec3(l, &p, owner);
	}
	zone_contents_t *z, *whole, *next;
	double t0 = now_ms();
	if (zone_contents_build(apex, l, &z) != TDM_OK)
		abort();
	double build = now_ms() - t0;
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	add_soa(removed, 1);
	add_soa(added, 2);
	add_text(added, "newname.bench.test.", PKT_TYPE_A, "\x0a\x00\x00\x02", 4);
	add_nsec3(added, &p, "newname.bench.test.");
	t0 = now_ms();
	if (zone_update_apply(z, removed, added, &next) != TDM_OK)
		abort();
	double carried = now_ms() - t0;
	rrlist_t *all = rrlist_new();
	zone_contents_to_rrlist(next, all);
	t0 = now_ms();
	if (zone_contents_build(apex, all, &whole) != TDM_OK)
		abort();
	double rebuilt = now_ms() - t0;
	printf("signed: NSEC3 zone of %u names (%zu records) built whole in %.0f ms; one name added with its "
	       "NSEC3: next version carried through the change in %.2f ms (%zu KiB of its own), built whole in "
	       "%.0f ms\n", names, zone_record_count(z), build, carried, zone_memory_exclusive(next) / 1024,
	       rebuilt);
	zone_contents_free(z);
	zone_contents_free(next);
	zone_contents_free(whole);
	rrlist_free(l);
	rrlist_free(all);
	rrlist_free(removed);
	rrlist_free(added);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: change_cost RECORDS CHANGES SIGNED_NAMES DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);   /* lines as they come, through a pipe too */
	log_set_level(LOG_WARN);
	name_from_text("bench.test.", NULL, apex);
	churn((unsigned)atoi(argv[1]), (unsigned)atoi(argv[2]), argv[4]);
	signed_zone((unsigned)atoi(argv[3]));
	return 0;
}
