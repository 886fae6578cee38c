/* cli/verify.c -- `tandem verify ZONE [@SERVER[@PORT]]`: does every name server of a zone hold one serial? */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/verify.h"
#include "lib/error.h"
#include "lookup/reply.h"
#include "zone/diff.h"

/*
 *   ask SERVER: NS of ZONE ------ no NS, REFUSED, NXDOMAIN --> exit 3
 *        |
 *   ask SERVER: SOA of ZONE (the reference serial)
 *        |
 *   per name server: glue from the NS reply, else A and AAAA from SERVER
 *        |
 *   per address, on SERVER's port: SOA of ZONE, UDP, no recursion
 *        |
 *   compare with the reference: all OK --> exit 0, else exit 4
 */

/* Everything one run needs; big, so on the heap. */
struct work {
	cli_verify_t v;
	cli_dnsq_t q;
	cli_dnsq_found_t nsreply;       /* the NS reply: the NS set and its glue */
	cli_dnsq_found_t found;         /* the latest other reply */
};

static void usage(FILE *out)
{
	fputs("usage: tandem verify ZONE [@SERVER[@PORT]] [--timeout SECONDS] [--json]\n\n"
	      "Asks SERVER (default 127.0.0.1@53; @127.0.0.1@5300 for make run) for the NS set of ZONE and\n"
	      "the addresses of each name server, then asks every address (on SERVER's port) for the\n"
	      "zone's SOA, without recursion. Exit status 0 only when all answer with the serial SERVER\n"
	      "gives; 4 when some differ or do not answer; 3 when SERVER does not serve ZONE; 2 when\n"
	      "SERVER does not answer.\n", out);
}

const char *cli_verify_status_name(cli_verify_status_t s)
{
	static const char *const names[] = {
		[CLI_VERIFY_OK] = "OK", [CLI_VERIFY_DIFFERS] = "DIFFERS",
		[CLI_VERIFY_NO_ANSWER] = "NO ANSWER", [CLI_VERIFY_REFUSED] = "REFUSED",
		[CLI_VERIFY_NOT_AUTH] = "NOT AUTH", [CLI_VERIFY_ERROR] = "ERROR",
		[CLI_VERIFY_NO_ADDRESS] = "NO ADDRESS", [CLI_VERIFY_PENDING] = "?",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- the command line ---- */

int cli_verify_args(cli_verify_t *v, int npos, char **pos, char *err, size_t errsize)
{
	memset(v, 0, sizeof(*v));
	v->timeout_ms = CLI_VERIFY_TIMEOUT_MS;
	v->tries = CLI_VERIFY_TRIES;
	const char *zone = NULL, *server = "127.0.0.1";
	for (int i = 0; i < npos; i++) {
		if (pos[i][0] == '@' && strcmp(server, "127.0.0.1") == 0 && pos[i][1] != '\0')
			server = pos[i] + 1;
		else if (pos[i][0] != '@' && zone == NULL)
			zone = pos[i];
		else
			return snprintf(err, errsize, "unexpected '%s'", pos[i]), TDM_EINVAL;
	}
	if (zone == NULL)
		return snprintf(err, errsize, "which zone?"), TDM_EINVAL;
	if (name_from_text(zone, NULL, v->zone) < 0)
		return snprintf(err, errsize, "'%s' is not a domain name", zone), TDM_EINVAL;
	if (cli_resolve(server, CLI_VERIFY_DEFAULT_PORT, &v->server, NULL) != TDM_OK)
		return snprintf(err, errsize, "'@%s' is not a server (ADDRESS[@PORT] or HOST[@PORT])",
		                server), TDM_EINVAL;
	sockaddr_format(&v->server, v->server_text, sizeof(v->server_text));
	return TDM_OK;
}

/* ---- asking ---- */

static cli_verify_row_t *add_row(cli_verify_t *v, const uint8_t *ns, const sockaddr_t *addr)
{
	if (v->nrows >= CLI_VERIFY_MAX_ROWS) {
		v->truncated = true;
		return NULL;
	}
	cli_verify_row_t *row = &v->rows[v->nrows++];
	memset(row, 0, sizeof(*row));
	memcpy(row->ns, ns, (size_t)name_length(ns, NAME_MAXLEN));
	if (addr != NULL)
		row->addr = *addr;
	else
		row->status = CLI_VERIFY_NO_ADDRESS;
	return row;
}

/* Rows for the addresses of ns found in a reply; returns how many. */
static size_t add_addresses(cli_verify_t *v, const uint8_t *ns, const cli_dnsq_found_t *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->naddrs; i++) {
		if (name_equal(f->addrs[i].owner, ns) && add_row(v, ns, &f->addrs[i].addr) != NULL)
			n++;
	}
	return n;
}

/* Glue first; without glue, the name server's A and AAAA records from the same server. */
static void find_addresses(struct work *w, const uint8_t *ns)
{
	cli_verify_t *v = &w->v;
	uint16_t port = sockaddr_port(&v->server);
	static const uint16_t types[] = { PKT_TYPE_A, PKT_TYPE_AAAA };
	size_t n = add_addresses(v, ns, &w->nsreply);
	for (size_t t = 0; t < 2 && n == 0; t++) {
		w->q.server = v->server;
		if (cli_dnsq_ask(&w->q, ns, types[t]) == TDM_OK &&
		    cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, port, &w->found, w->q.why,
		                   sizeof(w->q.why)) == TDM_OK)
			n += add_addresses(v, ns, &w->found);
	}
	if (n == 0)
		add_row(v, ns, NULL);
}

/* What a failure to get a reply was. */
static void no_answer(cli_verify_row_t *row, int ret, const cli_verify_t *v)
{
	row->status = CLI_VERIFY_NO_ANSWER;
	if (ret == TDM_ETIMEDOUT)
		snprintf(row->note, sizeof(row->note), "timeout (%u tries of %u ms)", v->tries,
		         v->timeout_ms);
	else if (ret == TDM_ECONNREFUSED)
		snprintf(row->note, sizeof(row->note), "port unreachable");
	else
		snprintf(row->note, sizeof(row->note), "%s", tdm_strerror(ret));
}

/* What the SOA reply says: a serial to compare, or why not. */
static void judge_reply(cli_verify_row_t *row, const cli_dnsq_found_t *f)
{
	char rcode[32];
	if (f->rcode == PKT_RCODE_REFUSED) {
		row->status = CLI_VERIFY_REFUSED;
		snprintf(row->note, sizeof(row->note), "does not serve the zone");
	} else if (f->rcode != PKT_RCODE_NOERROR) {
		row->status = CLI_VERIFY_ERROR;
		snprintf(row->note, sizeof(row->note), "%s",
		         lookup_rcode_name(f->rcode, rcode, sizeof(rcode)));
	} else if (!f->has_soa) {
		row->status = CLI_VERIFY_ERROR;
		snprintf(row->note, sizeof(row->note), "no SOA in the answer");
	} else {
		row->has_serial = true;
		row->serial = f->serial;
		row->status = f->aa ? CLI_VERIFY_PENDING : CLI_VERIFY_NOT_AUTH;
		if (!f->aa)
			snprintf(row->note, sizeof(row->note), "not authoritative (AA clear)");
	}
}

static void ask_row(struct work *w, cli_verify_row_t *row)
{
	cli_verify_t *v = &w->v;
	if (row->status == CLI_VERIFY_NO_ADDRESS)
		return;
	w->q.server = row->addr;
	int ret = cli_dnsq_ask(&w->q, v->zone, PKT_TYPE_SOA);
	if (ret == TDM_OK)
		ret = cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, 0, &w->found, w->q.why,
		                     sizeof(w->q.why));
	if (ret == TDM_EMALF || ret == TDM_ECOMPRESS || ret == TDM_ELABEL || ret == TDM_ENAMELEN) {
		row->status = CLI_VERIFY_ERROR;
		snprintf(row->note, sizeof(row->note), "malformed reply: %s", w->q.why);
	} else if (ret != TDM_OK) {
		no_answer(row, ret, v);
	} else {
		judge_reply(row, &w->found);
	}
}

/* The NS set from SERVER; a problem is reported here and becomes the exit status. */
static int ask_ns(struct work *w, FILE *err)
{
	cli_verify_t *v = &w->v;
	char zone[NAME_TEXT_MAX], rcode[32];
	name_to_text(v->zone, zone, sizeof(zone));
	w->q.server = v->server;
	int ret = cli_dnsq_ask(&w->q, v->zone, PKT_TYPE_NS);
	if (ret == TDM_OK)
		ret = cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, sockaddr_port(&v->server),
		                     &w->nsreply, w->q.why, sizeof(w->q.why));
	if (ret != TDM_OK) {
		fprintf(err, "tandem verify: no usable answer from %s to the NS query for %s (%s)\n",
		        v->server_text, zone, w->q.why[0] != '\0' ? w->q.why : tdm_strerror(ret));
		return CLI_EXIT_API;
	}
	if (w->nsreply.rcode != PKT_RCODE_NOERROR || w->nsreply.nns == 0) {
		fprintf(err, "tandem verify: %s answered %s with %s to the NS query for %s: does it serve "
		        "the zone? (give the server with @ADDRESS[@PORT])\n", v->server_text,
		        lookup_rcode_name(w->nsreply.rcode, rcode, sizeof(rcode)),
		        w->nsreply.nns == 0 ? "no NS records" : "an error", zone);
		return CLI_EXIT_NOTFOUND;
	}
	v->nns = w->nsreply.nns;
	return CLI_EXIT_OK;
}

static int run(struct work *w, FILE *err)
{
	cli_verify_t *v = &w->v;
	w->q.timeout_ms = v->timeout_ms;
	w->q.tries = v->tries;
	int status = ask_ns(w, err);
	if (status != CLI_EXIT_OK)
		return status;
	w->q.server = v->server;
	if (cli_dnsq_ask(&w->q, v->zone, PKT_TYPE_SOA) == TDM_OK &&
	    cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, 0, &w->found, w->q.why,
	                   sizeof(w->q.why)) == TDM_OK &&
	    w->found.rcode == PKT_RCODE_NOERROR && w->found.aa && w->found.has_soa) {
		v->has_serial = true;
		v->serial = w->found.serial;
	}
	for (size_t i = 0; i < w->nsreply.nns; i++)
		find_addresses(w, w->nsreply.ns[i]);
	for (size_t i = 0; i < v->nrows; i++)
		ask_row(w, &v->rows[i]);
	return cli_verify_judge(v) ? CLI_EXIT_OK : CLI_EXIT_DIFFERS;
}

/* ---- comparing ---- */

bool cli_verify_reference(const cli_verify_t *v, uint32_t *serial)
{
	bool have = v->has_serial;
	*serial = v->serial;
	for (size_t i = 0; i < v->nrows && !v->has_serial; i++) {
		const cli_verify_row_t *row = &v->rows[i];
		if (row->has_serial && (!have || serial_cmp(row->serial, *serial) > 0)) {
			*serial = row->serial;
			have = true;
		}
	}
	return have;
}

bool cli_verify_judge(cli_verify_t *v)
{
	uint32_t ref;
	bool have = cli_verify_reference(v, &ref), all = v->nrows > 0;
	for (size_t i = 0; i < v->nrows; i++) {
		cli_verify_row_t *row = &v->rows[i];
		if (row->status == CLI_VERIFY_PENDING)
			row->status = have && row->serial == ref ? CLI_VERIFY_OK : CLI_VERIFY_DIFFERS;
		if (row->status != CLI_VERIFY_OK)
			all = false;
	}
	return all;
}
