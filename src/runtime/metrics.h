/* runtime/metrics.h -- counters for /metrics: queries per worker without locks, transfers, NOTIFY */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;

/*
 * Queries are counted by the worker that answered them, in its own cell (one writer each: a relaxed
 * load and store, no locked instruction, no shared cache line), by protocol, question type (a fixed
 * set, the rest "other": the number of series is bounded) and rcode (the header's four bits). A
 * scrape sums the cells; a count read while a worker writes it is at most one behind.
 */
#define METRICS_TYPES 21           /* the types of metrics.c's table, "other" last */
#define METRICS_RCODES 16

typedef struct metrics_cell {
	_Atomic uint64_t q[2][METRICS_TYPES][METRICS_RCODES];   /* [tcp][type][rcode] */
} __attribute__((aligned(64))) metrics_cell_t;

/* The index of a question type in the table (METRICS_TYPES - 1 for the rest). */
unsigned metrics_type_index(uint16_t qtype);

/* Counts one answer (the response as sent: its rcode and question). Nothing when cell is NULL. */
static inline void metrics_query(metrics_cell_t *cell, bool tcp, const uint8_t *resp, size_t len)
{
	if (cell == NULL || len < 12)
		return;
	uint16_t qtype = 0;
	if (resp[4] == 0 && resp[5] == 1) {   /* one question: its type follows the name */
		size_t p = 12;
		while (p < len && resp[p] != 0 && (resp[p] & 0xC0) == 0)
			p += (size_t)resp[p] + 1;
		if (p + 2 < len && resp[p] == 0)
			qtype = (uint16_t)(resp[p + 1] << 8 | resp[p + 2]);
	}
	_Atomic uint64_t *c = &cell->q[tcp][metrics_type_index(qtype)][resp[3] & 15];
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

/* Events off the query path, counted with atomic additions from any thread. */
typedef enum {
	METRICS_XFR_IN_AXFR_OK, METRICS_XFR_IN_AXFR_FAILED,
	METRICS_XFR_IN_IXFR_OK, METRICS_XFR_IN_IXFR_FAILED,
	METRICS_XFR_OUT_AXFR_OK, METRICS_XFR_OUT_AXFR_FAILED,
	METRICS_XFR_OUT_IXFR_OK, METRICS_XFR_OUT_IXFR_FAILED,
	METRICS_NOTIFY_IN_ACCEPTED, METRICS_NOTIFY_IN_REFUSED,
	METRICS_NOTIFY_OUT_SENT, METRICS_NOTIFY_OUT_ACKNOWLEDGED, METRICS_NOTIFY_OUT_FAILED,
	METRICS_UPDATE_POLLS,      /* a worker polled for a client's next UPDATE (server/worker.c) */
	METRICS_EVENTS
} metrics_event_t;

/* The server's counters (srv->metrics); TDM_OK or TDM_ENOMEM. */
int metrics_new(struct server *srv);
/* One cell per worker, given to the workers (srv->shared.metrics) before they start. */
int metrics_workers(struct server *srv, size_t count);
void metrics_free(struct server *srv);

/* Counts an event (any thread; nothing before metrics_new). */
void metrics_event(struct server *srv, metrics_event_t ev);

/*
 * The Prometheus text exposition (format 0.0.4) of everything: queries, transfers, NOTIFY, zones by
 * role and state, each primary zone's secondaries (serial lag, seconds since seen), the change commit
 * latency histogram. Control thread, outside an RCU read section. A malloc'ed string (*len octets),
 * or NULL when out of memory.
 */
char *metrics_render(struct server *srv, size_t *len);
