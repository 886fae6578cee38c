/* bench/answer_cost.c -- what answering a batch of UDP queries costs Tandem's answer path alone */
/*
 * Not a test: prints figures. Loads a zone file, builds the version the server would serve, turns a dnsperf
 * query file ("name type" lines) into requests, then answers them as a query worker does a recvmmsg batch
 * (server/worker.c): the batch's cache warmed first (query/prefetch.c), then every request parsed and
 * answered (query_answer) into its own response buffer. No socket and no kernel: the CPU per query this
 * prints is the part of a server's that is Tandem's own, timed with the thread's CPU clock over PASSES
 * passes of the whole query file (the fastest and the median pass).
 *
 * Between batches it reads TRASH KiB of other memory (default 256), standing for what the kernel's receive
 * and send paths put in the caches between two batches in the server, so that a zone's lines are not found
 * in the core's own caches more often than they would be there; and it copies the batch's requests into the
 * buffers they are answered from, as recvmmsg does. Both are timed alone afterwards and taken off.
 *
 * Why: bench/udp_floor.py measures the whole server with dnsperf, where Tandem's own 0.9 us of a 3.7 us
 * query moves by 10% between runs; a change worth 30 ns cannot be seen there. This figure moves by a few
 * percent, so two builds of the library can be compared: bench/udp_floor.py --answer-only --answer-lib A
 * --answer-lib B.
 *
 * Usage: answer_cost ZONEFILE ORIGIN QUERYFILE BATCH PASSES [TRASH_KIB [noprefetch]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu.h>

#include "lib/error.h"
#include "query/query.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/contents.h"
#include "zone/zoneset.h"
#include "zonefile/zonefile.h"

#define REQ_MAX 512
#define RESP_MAX 1232
#define BATCH_MAX 64

typedef struct {
	uint8_t msg[REQ_MAX];
	size_t len;
} request_t;

static const struct {
	const char *name;
	uint16_t type;
} TYPES[] = { { "A", 1 },   { "NS", 2 },  { "CNAME", 5 }, { "SOA", 6 },   { "PTR", 12 },  { "MX", 15 },
	      { "TXT", 16 }, { "AAAA", 28 }, { "SRV", 33 }, { "DS", 43 },   { "DNSKEY", 48 }, { "ANY", 255 } };

static double thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print_problem(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* One query as dnsperf sends it by default: RD, no EDNS. false for a line it cannot turn into one. */
static bool make_request(const char *text, request_t *r, uint16_t id)
{
	char name[1024], type[32];
	if (sscanf(text, "%1023s %31s", name, type) != 2)
		return false;
	uint16_t qtype = 0;
	for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
		if (strcmp(type, TYPES[i].name) == 0)
			qtype = TYPES[i].type;
	uint8_t wire[NAME_MAXLEN];
	if (qtype == 0 || name_from_text(name, NULL, wire) < 0)
		return false;
	pkt_writer_t w;
	pkt_writer_init(&w, r->msg, sizeof(r->msg));
	if (pkt_write_header(&w, id, PKT_FLAG_RD) != TDM_OK || pkt_write_question(&w, wire, qtype, 1) != TDM_OK)
		return false;
	r->len = pkt_writer_finish(&w);
	return true;
}

static request_t *read_requests(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t cap = 1024, n = 0;
	request_t *reqs = malloc(cap * sizeof(*reqs));
	char line[1200];
	while (reqs != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (n == cap) {
			request_t *more = realloc(reqs, 2 * cap * sizeof(*reqs));
			if (more == NULL) {
				free(reqs);
				reqs = NULL;
				break;
			}
			reqs = more;
			cap *= 2;
		}
		if (make_request(line, &reqs[n], (uint16_t)n))
			n++;
	}
	fclose(f);
	*count = n;
	return reqs;
}

/* What the server's kernel does between two batches: other memory through the caches, the requests in. */
static void between_batches(volatile uint8_t *trash, size_t trash_len, request_t *in, const request_t *reqs,
                            int n)
{
	for (size_t i = 0; i < trash_len; i += 64)
		(void)trash[i];
	for (int i = 0; i < n; i++) {
		memcpy(in[i].msg, reqs[i].msg, reqs[i].len);
		in[i].len = reqs[i].len;
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || argc > 8 || atoi(argv[4]) < 1 || atoi(argv[4]) > BATCH_MAX || atoi(argv[5]) < 1) {
		fprintf(stderr, "usage: answer_cost ZONEFILE ORIGIN QUERYFILE BATCH(1-%d) PASSES [TRASH_KIB [noprefetch]]\n",
		        BATCH_MAX);
		return 2;
	}
	int batch = atoi(argv[4]), passes = atoi(argv[5]);
	size_t trash_len = (argc > 6 ? (size_t)atoi(argv[6]) : 256) * 1024;
	bool use_prefetch = !(argc > 7 && strcmp(argv[7], "noprefetch") == 0);
	uint8_t apex[NAME_MAXLEN];
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	if (name_from_text(argv[2], NULL, apex) < 0) {
		fprintf(stderr, "answer_cost: bad origin %s\n", argv[2]);
		return 1;
	}
	name_copy_lower(apex, apex);
	int ret = zonefile_load(argv[1], argv[2], &list, print_problem, NULL);
	if (ret == TDM_OK)
		ret = zone_contents_build(apex, list, &z);
	rrlist_free(list);
	if (ret != TDM_OK) {
		fprintf(stderr, "answer_cost: %s: %s\n", argv[1], tdm_strerror(ret));
		return 1;
	}
	zone_t *zone = zone_new(apex);
	size_t count = 0;
	request_t *reqs = read_requests(argv[3], &count);
	double *ns = calloc((size_t)passes, sizeof(double));
	uint8_t (*resp)[RESP_MAX] = malloc((size_t)BATCH_MAX * RESP_MAX);
	query_prefetch_t *pf = malloc((size_t)BATCH_MAX * sizeof(*pf));
	request_t *in = malloc((size_t)BATCH_MAX * sizeof(*in));
	volatile uint8_t *trash = trash_len > 0 ? calloc(trash_len, 1) : NULL;
	if (zone == NULL || reqs == NULL || count == 0 || ns == NULL || resp == NULL || pf == NULL || in == NULL ||
	    (trash_len > 0 && trash == NULL)) {
		fprintf(stderr, "answer_cost: %s\n", reqs == NULL || count == 0 ? "no queries read" : "out of memory");
		return 1;
	}
	zone_set_contents(zone, z);
	zoneset_t *set = zoneset_new(&zone, 1);
	if (set == NULL) {
		fprintf(stderr, "answer_cost: out of memory\n");
		return 1;
	}
	rcu_register_thread();
	query_env_t env = { .zones = set, .udp_payload = 1232 };
	size_t octets = 0, answered = 0;
	unsigned rcodes[16] = { 0 };
	for (int p = 0; p < passes; p++) {
		double t = thread_cpu_ns();
		for (size_t first = 0; first < count; first += (size_t)batch) {
			int n = (int)(count - first < (size_t)batch ? count - first : (size_t)batch);
			between_batches(trash, trash_len, in, reqs + first, n);
			rcu_read_lock();
			bool prefetch = use_prefetch && n > 1;   /* as server/worker.c: udp_answer */
			if (prefetch) {
				for (int i = 0; i < n; i++)
					query_prefetch_begin(&pf[i], set, in[i].msg, in[i].len);
				for (bool more = true; more;) {
					more = false;
					for (int i = 0; i < n; i++)
						more |= query_prefetch_step(&pf[i]);
				}
			}
			for (int i = 0; i < n; i++) {
				env.prefetch = prefetch ? &pf[i] : NULL;
				size_t len = query_answer(&env, in[i].msg, in[i].len, resp[i], RESP_MAX, false);
				if (p == 0 && len >= PKT_HEADER_LEN) {
					octets += len;
					answered++;
					rcodes[pkt_rcode(resp[i]) & 15]++;
				}
			}
			rcu_read_unlock();
		}
		ns[p] = (thread_cpu_ns() - t) / (double)count;
	}
	/* What is done between batches, alone, so that its cost can be taken off. */
	double t = thread_cpu_ns();
	for (size_t first = 0; first < count; first += (size_t)batch)
		between_batches(trash, trash_len, in, reqs + first,
		                (int)(count - first < (size_t)batch ? count - first : (size_t)batch));
	double trash_ns = (thread_cpu_ns() - t) / (double)count;
	qsort(ns, (size_t)passes, sizeof(double), cmp_double);
	printf("{\"queries\": %zu, \"answered\": %zu, \"noerror\": %u, \"nxdomain\": %u, \"mean_octets\": %.1f, "
	       "\"batch\": %d, \"prefetch\": %s, \"trash_ns\": %.1f, \"min_ns\": %.1f, \"median_ns\": %.1f}\n",
	       count, answered, rcodes[0], rcodes[3], answered ? (double)octets / (double)answered : 0.0, batch,
	       use_prefetch ? "true" : "false", trash_ns, ns[0] - trash_ns, ns[passes / 2] - trash_ns);
	rcu_unregister_thread();
	zoneset_free(set);
	free(reqs);
	free(ns);
	free(resp);
	free(pf);
	free(in);
	free((void *)trash);
	return 0;
}
