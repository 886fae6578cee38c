/* tests/fuzz/fuzz_xfr.c -- fuzz target: a primary's answer stream read by xfr/in.c (AXFR, IXFR, SOA query) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "fuzz_util.h"
#include "lib/error.h"
#include "lib/sockaddr.h"
#include "query/query.h"
#include "tsig/tsig.h"
#include "wire/pkt.h"
#include "xfr/in.h"
#include "xfr/net.h"
#include "zone/diff.h"
#include "zonefile/zonefile.h"

/*
 * The input is one flags octet, then the primary's answer: messages each with a two-octet length, as
 * over TCP. xfr/net.c's socket functions are replaced at link time (-Wl,--wrap=xfrnet_*): connect
 * opens /dev/null, send keeps the request, recv hands out the next message and then "connection
 * closed". So xfr_fetch and xfr_soa_query run as they do against a real primary, with no socket.
 * Flags:
 *   bit 0  IXFR from the example.com test zone (else AXFR of a zone we lack)
 *   bit 1  TSIG: the request is signed with a test key, and the fake primary signs every message
 *   bit 2  keep each message's own ID (else it is set to the request's, as a primary would)
 *   bit 3  an SOA query (xfr_soa_query, UDP then TCP) instead of a transfer
 *   bit 4  with TSIG: sign only every other message (RFC 8945 5.3.1 allows unsigned ones between)
 * What a transfer brings then goes where the daemon takes it: applied to the current version (IXFR),
 * built into a version, checked as a zone file is, and asked a few questions (DO set).
 */

enum { F_IXFR = 1, F_TSIG = 2, F_KEEP_ID = 4, F_SOA = 8, F_SKIP = 16 };

static struct {
	fuzz_reader_t in;
	unsigned flags;
	uint16_t id;
	unsigned sent;                /* messages handed out */
	unsigned connects;            /* connections "opened" */
	tsig_ctx_t tsig;              /* the fake primary's side */
	bool tsig_ok;
} fake;

static tsig_key_t key;
static const zone_contents_t *current;
static const uint8_t apex[] = "\x07" "example" "\x03" "com";

static const tsig_key_t *lookup(void *arg, const uint8_t *name)
{
	(void)arg;
	return name_equal(name, key.name) ? &key : NULL;
}

/* xfr/net.c's functions in both forms (a timeout per call, or an absolute deadline), all replaced. */
int __wrap_xfrnet_connect(const sockaddr_t *to, const sockaddr_t *source, int type,
                          unsigned timeout_ms)
{
	(void)to, (void)source, (void)type, (void)timeout_ms;
	fake.connects++;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : TDM_EIO;
}

int __wrap_xfrnet_connect_until(const sockaddr_t *to, const sockaddr_t *source, int type,
                                int64_t until)
{
	(void)until;
	return __wrap_xfrnet_connect(to, source, type, 0);
}

int __wrap_xfrnet_send(int fd, int type, const uint8_t *msg, size_t len, unsigned timeout_ms)
{
	(void)fd, (void)type, (void)timeout_ms;
	if (len < PKT_HEADER_LEN)
		abort();   /* xfr/in.c sends whole requests */
	fake.id = pkt_id(msg);
	tsig_ctx_clear(&fake.tsig);
	tsig_ctx_init(&fake.tsig, NULL);
	fake.tsig_ok = false;
	if (fake.flags & F_TSIG)
		fake.tsig_ok = tsig_server_verify(&fake.tsig, msg, len, lookup, NULL,
		                                  (uint64_t)time(NULL)) == TDM_OK;
	return TDM_OK;
}

int __wrap_xfrnet_send_until(int fd, int type, const uint8_t *msg, size_t len, int64_t until)
{
	(void)until;
	return __wrap_xfrnet_send(fd, type, msg, len, 0);
}

int __wrap_xfrnet_recv(int fd, int type, uint8_t *buf, size_t cap, unsigned timeout_ms)
{
	(void)fd, (void)type, (void)timeout_ms;
	const uint8_t *msg;
	size_t len;
	if (!fuzz_next(&fake.in, &msg, &len))
		return TDM_EIO;   /* the primary closed the connection */
	if (len > cap)
		len = cap;
	memcpy(buf, msg, len);
	if (len >= 2 && !(fake.flags & F_KEEP_ID))
		pkt_put16(buf, fake.id);
	if (fake.tsig_ok && len >= PKT_HEADER_LEN) {
		if ((fake.flags & F_SKIP) && fake.sent % 2 == 1 && fake.tsig.state == TSIG_STATE_NEXT)
			tsig_sign_skip(&fake.tsig, buf, len);
		else
			tsig_sign(&fake.tsig, buf, &len, cap, (uint64_t)time(NULL));
	}
	fake.sent++;
	return (int)len;
}

int __wrap_xfrnet_recv_until(int fd, int type, uint8_t *buf, size_t cap, int64_t until)
{
	(void)until;
	return __wrap_xfrnet_recv(fd, type, buf, cap, 0);
}

static void setup(void)
{
	rcu_register_thread();
	static const uint8_t secret[] = "fuzz transfer key, 32 octets..";
	if (tsig_key_init(&key, "xfr-key.", "hmac-sha256", secret, sizeof(secret) - 1) != TDM_OK)
		abort();
	current = fuzz_zone_load("tests/data/zones/example.com.zone", "example.com.");
}

/* A few questions to the new version, as secondaries answer them right after a transfer. */
static void ask(zone_contents_t *z)
{
	static uint8_t resp[PKT_MAXLEN];
	uint8_t req[600];
	zone_t *zone = zone_new(apex);
	if (zone == NULL) {
		zone_contents_free(z);
		return;
	}
	zone_set_contents(zone, z);
	zoneset_t *set = zoneset_new(&zone, 1);
	zone_unref(zone);
	if (set == NULL)
		return;
	query_env_t env = { .zones = set, .udp_payload = 1232 };
	uint32_t count = zone_node_count(z);
	for (uint32_t i = 0; i < count && i < 24; i++) {
		const zone_node_t *n = zone_node(z, i);
		const zone_rrset_t *sets = zone_node_rrsets(z, n);
		uint16_t types[3] = { PKT_TYPE_ANY, n->rrset_count ? sets[0].type : PKT_TYPE_A,
		                      PKT_TYPE_TXT };
		for (int t = 0; t < 3; t++) {
			size_t len = fuzz_make_query(req, sizeof(req), zone_node_name(z, n), types[t], i % 2);
			rcu_read_lock();
			query_answer(&env, req, len, resp, sizeof(resp), t == 2);
			rcu_read_unlock();
		}
	}
	zoneset_free(set);
}

static void take(const xfr_result_t *r)
{
	rrlist_t *records = NULL, *owned = NULL;
	if (r->full) {
		records = r->records;
	} else if (r->removed != NULL && r->added != NULL) {
		if (zone_apply(current, r->removed, r->added, &owned) != TDM_OK)
			return;
		records = owned;
	}
	zone_contents_t *z = NULL;
	if (records != NULL && zone_contents_build(apex, records, &z) == TDM_OK) {
		zonefile_check(records, z, apex, "(transfer)", fuzz_quiet, NULL);
		ask(z);
	}
	rrlist_free(owned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (current == NULL)
		setup();
	if (size < 1)
		return 0;
	memset(&fake, 0, sizeof(fake));
	tsig_ctx_init(&fake.tsig, NULL);
	fake.flags = data[0];
	fake.in = (fuzz_reader_t){ data + 1, size - 1 };
	sockaddr_t primary;
	sockaddr_parse(&primary, "127.0.0.1", 9);   /* never used: no socket is opened */
	xfr_peer_t peer = { .zone = apex, .primary = &primary, .timeout_ms = 200,
	                    .key = fake.flags & F_TSIG ? &key : NULL };
	xfr_result_t r;
	memset(&r, 0, sizeof(r));
	if (fake.flags & F_SOA) {
		uint32_t serial;
		xfr_soa_query(&peer, &serial, &r);
	} else if (xfr_fetch(&peer, fake.flags & F_IXFR ? current : NULL, &r) == TDM_OK) {
		take(&r);
	}
	if (getenv("FUZZ_VERBOSE") != NULL)   /* for whoever writes seeds: what the input did */
		fprintf(stderr, "fuzz_xfr: flags %#x: %s%s%s%s\n", fake.flags, r.full ? "full " : "",
		        r.uptodate ? "up to date " : "", r.added != NULL ? "incremental " : "",
		        r.error[0] ? r.error : "ok");
	xfr_result_clear(&r);
	tsig_ctx_clear(&fake.tsig);
	if (fake.connects == 0) {
		fprintf(stderr, "fuzz_xfr: xfr/in.c opened no connection through the replaced xfrnet "
		        "functions (renamed?): update fuzz_xfr.c and FUZZ_WRAP_xfr in the Makefile\n");
		abort();
	}
	return 0;
}
