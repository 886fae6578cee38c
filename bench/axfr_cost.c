/* bench/axfr_cost.c -- what writing one AXFR costs Tandem's writer alone, measured on the library itself */
/*
 * Not a test: prints figures. Loads a zone file, builds the version the server would serve, then writes
 * ROUNDS whole AXFRs of it through xfr/out.c into a sink that only counts octets (no TSIG, no socket, no
 * kernel), each timed with the thread's CPU clock. Prints the records, the stream's octets and messages,
 * and the fastest and median transfer.
 *
 * Why: a server's CPU per AXFR (bench/axfr_shapes.py) is counted in 10 ms ticks and moves by 10-20% from
 * one run to the next on a shared machine, half of it the kernel's TCP; a change to the writer worth 10%
 * cannot be seen there. This figure moves by a few percent (the median of 20), so two builds of the library
 * can be compared: bench/axfr_shapes.py --writer-only --writer-lib A --writer-lib B.
 *
 * Usage: axfr_cost ZONEFILE ORIGIN ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "xfr/out.h"
#include "zone/contents.h"
#include "zonefile/zonefile.h"

typedef struct {
	size_t octets;
	unsigned messages;
} sink_t;

static int count_message(void *ctx, uint8_t *msg, size_t len, size_t cap, bool last)
{
	(void)msg;
	(void)cap;
	(void)last;
	sink_t *s = ctx;
	s->octets += len + 2;   /* with the TCP length prefix, as bench/axfr_shapes.py counts */
	s->messages++;
	return TDM_OK;
}

static double thread_cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
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

int main(int argc, char **argv)
{
	if (argc != 4 || atoi(argv[3]) < 1) {
		fprintf(stderr, "usage: axfr_cost ZONEFILE ORIGIN ROUNDS\n");
		return 2;
	}
	int rounds = atoi(argv[3]);
	uint8_t apex[NAME_MAXLEN];
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	if (name_from_text(argv[2], NULL, apex) < 0) {
		fprintf(stderr, "axfr_cost: bad origin %s\n", argv[2]);
		return 1;
	}
	name_copy_lower(apex, apex);
	int ret = zonefile_load(argv[1], argv[2], &list, print_problem, NULL);
	if (ret == TDM_OK)
		ret = zone_contents_build(apex, list, &z);
	rrlist_free(list);
	double *ms = calloc((size_t)rounds, sizeof(double));
	uint8_t *buf = malloc(PKT_MAXLEN);
	if (ret != TDM_OK || ms == NULL || buf == NULL) {
		fprintf(stderr, "axfr_cost: %s: %s\n", argv[1], ret != TDM_OK ? tdm_strerror(ret) : "out of memory");
		return 1;
	}
	sink_t sink = { 0 };
	size_t records = 0;
	for (int i = 0; i < rounds; i++) {
		xfr_out_t x;
		memset(&x, 0, sizeof(x));
		sink = (sink_t){ 0 };
		x.buf = buf;
		x.flags = 0x8400;   /* QR, AA */
		x.send = count_message;
		x.ctx = &sink;
		double t = thread_cpu_ms();
		if ((ret = xfr_out_axfr(&x, z)) != TDM_OK) {
			fprintf(stderr, "axfr_cost: AXFR: %s\n", tdm_strerror(ret));
			return 1;
		}
		ms[i] = thread_cpu_ms() - t;
		records = x.records;
	}
	qsort(ms, (size_t)rounds, sizeof(double), cmp_double);
	printf("{\"records\": %zu, \"octets\": %zu, \"messages\": %u, \"min_ms\": %.3f, \"median_ms\": %.3f}\n",
	       records, sink.octets, sink.messages, ms[0], ms[rounds / 2]);
	zone_contents_free(z);
	free(ms);
	free(buf);
	return 0;
}
