/* rrl/rrl.h -- response rate limiting: a bound on the UDP answers one source prefix gets per second */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sockaddr.h"

/*
 * DESIGN. Spoofed UDP questions turn an authoritative server into an amplifier aimed at the spoofed
 * address. As in BIND, Knot and NSD, answers are counted per (source prefix, kind of answer, name):
 * the same answer to the same network at most `rate` times a second; beyond that, every slip-th answer
 * is replaced by an empty truncated one (TC: a real client retries over TCP, which cannot be spoofed)
 * and the others are dropped. The kind and name come from the answer itself: positive answers count
 * per name and type, NXDOMAIN and NODATA per zone (the SOA owner), referrals per delegation, errors per
 * prefix. Buckets live in one table shared by all workers, each a single 64-bit word updated with
 * compare-and-swap (fingerprint, second, count): no lock, no allocation after start. Two keys that
 * land in one bucket share it (and reset each other's count): the table is sized so that this is rare.
 */
typedef struct rrl rrl_t;

typedef struct {
	unsigned rate;                 /* answers per second per bucket; 0 = off */
	unsigned slip;                 /* every slip-th limited answer goes out truncated; 0 = none */
	unsigned ipv4_prefix;          /* bits of the source address that name its network */
	unsigned ipv6_prefix;
	unsigned table_size;           /* buckets (rounded up to a power of two) */
	const addr_prefix_t *exempt;   /* sources never limited */
	size_t exempt_count;
} rrl_conf_t;

typedef enum { RRL_PASS, RRL_DROP, RRL_SLIP } rrl_action_t;

/* A limiter for conf (copied, the exempt list too). NULL on OOM, or when conf->rate is 0 (off). */
rrl_t *rrl_new(const rrl_conf_t *conf);
void rrl_free(rrl_t *r);

/* What to do with an answer about to go to client over UDP, at unix time now (seconds). resp is
 * one of our own answers (a well-formed message of len octets). */
rrl_action_t rrl_check(rrl_t *r, const sockaddr_t *client, const uint8_t *resp, size_t len,
                       uint32_t now);

/* Rewrites an answer in place into its slip form: header and question, TC set, nothing else.
 * Returns the new length (0 when the question cannot be read). */
size_t rrl_slip(uint8_t *resp, size_t len);

/* Answers dropped and slipped since start. */
void rrl_stats(const rrl_t *r, uint64_t *dropped, uint64_t *slipped);
