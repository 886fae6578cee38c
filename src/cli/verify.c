/* cli/verify.c -- `tandem verify ZONE [@SERVER[@PORT]]`: does every name server of a zone hold one serial? */
#include <arpa/inet.h>
#include <ctype.h>
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

static int fail(char *err, size_t errsize, const char *fmt, const char *arg)
{
	snprintf(err, errsize, fmt, arg);
	return TDM_EINVAL;
}

int cli_verify_args(cli_verify_t *v, int npos, char **pos, char *err, size_t errsize)
{
	const char *zone = NULL, *server = NULL;
	memset(v, 0, sizeof(*v));
	v->timeout_ms = CLI_VERIFY_TIMEOUT_MS;
	v->tries = CLI_VERIFY_TRIES;
	for (int i = 0; i < npos; i++) {
		if (pos[i][0] == '@' && server == NULL && pos[i][1] != '\0')
			server = pos[i] + 1;
		else if (pos[i][0] != '@' && zone == NULL)
			zone = pos[i];
		else
			return fail(err, errsize, "unexpected '%s'", pos[i]);
	}
	if (zone == NULL)
		return fail(err, errsize, "%s", "which zone?");
	if (name_from_text(zone, NULL, v->zone) < 0)
		return fail(err, errsize, "'%s' is not a domain name", zone);
	if (server == NULL)
		server = "127.0.0.1";
	if (cli_resolve(server, CLI_VERIFY_DEFAULT_PORT, &v->server, NULL) != TDM_OK)
		return fail(err, errsize, "'@%s' is not a server (ADDRESS[@PORT] or HOST[@PORT])", server);
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
	bool glue = n > 0;
	for (size_t t = 0; t < 2 && !glue; t++) {
		w->q.server = v->server;
		if (cli_dnsq_ask(&w->q, ns, types[t]) == TDM_OK &&
		    cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, port, &w->found, w->q.why,
		                   sizeof(w->q.why)) == TDM_OK)
			n += add_addresses(v, ns, &w->found);
	}
	cli_verify_row_t *row = n == 0 ? add_row(v, ns, NULL) : NULL;
	if (row != NULL)
		snprintf(row->note, sizeof(row->note), "no A/AAAA from %s", v->server_text);
}

/* Why no reply came, in a few words. */
static void no_reply_text(int ret, const cli_verify_t *v, char *buf, size_t size)
{
	if (ret == TDM_ETIMEDOUT)
		snprintf(buf, size, "timeout, %u tries of %u ms", v->tries, v->timeout_ms);
	else if (ret == TDM_ECONNREFUSED)
		snprintf(buf, size, "port unreachable");
	else
		snprintf(buf, size, "%s", tdm_strerror(ret));
	buf[0] = (char)tolower((unsigned char)buf[0]);
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
		row->status = CLI_VERIFY_NO_ANSWER;
		no_reply_text(ret, v, row->note, sizeof(row->note));
	} else {
		judge_reply(row, &w->found);
	}
}

/* The NS set from SERVER; a problem is reported here and becomes the exit status. */
static int ask_ns(struct work *w, FILE *err)
{
	cli_verify_t *v = &w->v;
	cli_dnsq_found_t *f = &w->nsreply;
	char zone[NAME_TEXT_MAX], why[300];
	name_to_text(v->zone, zone, sizeof(zone));
	w->q.server = v->server;
	int ret = cli_dnsq_ask(&w->q, v->zone, PKT_TYPE_NS);
	if (ret != TDM_OK && ret != TDM_EMALF) {
		no_reply_text(ret, v, why, sizeof(why));
		fprintf(err, "tandem verify: no answer from %s to the NS query for %s (%s): is a DNS "
		        "server listening there? (give it as @ADDRESS[@PORT])\n", v->server_text, zone, why);
		return CLI_EXIT_API;
	}
	if (ret == TDM_OK)
		ret = cli_dnsq_found(w->q.reply, w->q.rlen, v->zone, sockaddr_port(&v->server), f,
		                     w->q.why, sizeof(w->q.why));
	if (ret != TDM_OK) {
		fprintf(err, "tandem verify: malformed answer from %s to the NS query for %s: %s\n",
		        v->server_text, zone, w->q.why);
		return CLI_EXIT_API;
	}
	if (f->rcode != PKT_RCODE_NOERROR) {
		fprintf(err, "tandem verify: %s answered %s to the NS query for %s: does it serve the "
		        "zone?\n", v->server_text, lookup_rcode_name(f->rcode, why, sizeof(why)), zone);
		return CLI_EXIT_NOTFOUND;
	}
	if (f->nns == 0) {
		fprintf(err, "tandem verify: %s has no NS records for %s (AA %s): is it authoritative for "
		        "the zone?\n", v->server_text, zone, f->aa ? "set" : "clear");
		return CLI_EXIT_NOTFOUND;
	}
	v->nns = f->nns;
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

/* ---- showing ---- */

static const char *address_text(const sockaddr_t *sa, char *buf, size_t size)
{
	const void *a = sa->ss.ss_family == AF_INET6
	                        ? (const void *)&((const struct sockaddr_in6 *)&sa->ss)->sin6_addr
	                        : (const void *)&((const struct sockaddr_in *)&sa->ss)->sin_addr;
	if (sa->len == 0 || inet_ntop(sa->ss.ss_family, a, buf, (socklen_t)size) == NULL)
		return NULL;
	return buf;
}

static void print_head(FILE *out, const cli_verify_t *v, uint32_t ref, bool have)
{
	char zone[NAME_TEXT_MAX];
	name_to_text(v->zone, zone, sizeof(zone));
	if (v->has_serial)
		fprintf(out, "%s at %s: serial %u", zone, v->server_text, v->serial);
	else if (have)
		fprintf(out, "%s at %s: no authoritative SOA; comparing with the highest serial seen, %u",
		        zone, v->server_text, ref);
	else
		fprintf(out, "%s at %s: no authoritative SOA", zone, v->server_text);
	fprintf(out, "; %zu name server%s, asked on port %u\n\n", v->nns, v->nns == 1 ? "" : "s",
	        sockaddr_port(&v->server));
}

static void print_summary(FILE *out, const cli_verify_t *v, uint32_t ref, bool have)
{
	size_t bad = 0;
	for (size_t i = 0; i < v->nrows; i++)
		bad += v->rows[i].status != CLI_VERIFY_OK;
	if (v->truncated)
		fprintf(out, "\nonly the first %d addresses were asked", CLI_VERIFY_MAX_ROWS);
	if (bad == 0)
		fprintf(out, "\nall %zu address%s answer serial %u\n", v->nrows,
		        v->nrows == 1 ? "" : "es", ref);
	else if (have)
		fprintf(out, "\n%zu of %zu address%s do not answer serial %u\n", bad, v->nrows,
		        v->nrows == 1 ? "" : "es", ref);
	else
		fprintf(out, "\nno name server answered with a serial\n");
}

static int add_verify_row(cli_table_t *t, const cli_verify_row_t *row)
{
	char ns[NAME_TEXT_MAX], addr[64], serial[16];
	name_to_text(row->ns, ns, sizeof(ns));
	snprintf(serial, sizeof(serial), "%u", row->serial);
	const char *cells[5] = {
		ns, address_text(&row->addr, addr, sizeof(addr)), row->has_serial ? serial : NULL,
		cli_verify_status_name(row->status), row->note,
	};
	return cli_table_add(t, cells);
}

int cli_verify_print(FILE *out, const cli_verify_t *v)
{
	static const char *const heads[5] = { "NAME SERVER", "ADDRESS", "SERIAL", "STATUS", "NOTE" };
	static const bool right[5] = { false, false, true, false, false };
	uint32_t ref;
	bool have = cli_verify_reference(v, &ref);
	cli_table_t t;
	print_head(out, v, ref, have);
	cli_table_init(&t, 5, heads, right);
	for (size_t i = 0; i < v->nrows; i++)
		add_verify_row(&t, &v->rows[i]);
	int ret = cli_table_print(&t, out);
	cli_table_free(&t);
	if (ret == TDM_OK)
		print_summary(out, v, ref, have);
	return ret == TDM_OK && ferror(out) ? TDM_EIO : ret;
}

static json_t *row_json(const cli_verify_row_t *row)
{
	char ns[NAME_TEXT_MAX], addr[64];
	name_to_text(row->ns, ns, sizeof(ns));
	const char *a = address_text(&row->addr, addr, sizeof(addr));
	return json_pack("{s:s, s:o, s:o, s:s, s:s}", "name", ns,
	                 "address", a != NULL ? json_string(a) : json_null(),
	                 "serial", row->has_serial ? json_integer(row->serial) : json_null(),
	                 "status", cli_verify_status_name(row->status), "note", row->note);
}

json_t *cli_verify_json(const cli_verify_t *v)
{
	char zone[NAME_TEXT_MAX];
	uint32_t ref;
	bool have = cli_verify_reference(v, &ref), ok = v->nrows > 0;
	name_to_text(v->zone, zone, sizeof(zone));
	json_t *list = json_array();
	for (size_t i = 0; i < v->nrows && list != NULL; i++) {
		ok = ok && v->rows[i].status == CLI_VERIFY_OK;
		if (json_array_append_new(list, row_json(&v->rows[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	if (list == NULL)
		return NULL;
	/* "o" steals list, also when json_pack() fails. */
	return json_pack("{s:s, s:s, s:o, s:b, s:o}", "zone", zone, "server", v->server_text,
	                 "serial", have ? json_integer(ref) : json_null(), "ok", ok,
	                 "nameservers", list);
}

/* ---- the command ---- */

static int show(const cli_opts_t *o, const cli_verify_t *v)
{
	int ret;
	if (o->json) {
		json_t *j = cli_verify_json(v);
		ret = j != NULL ? cli_api_print_json(stdout, j) : TDM_ENOMEM;
		json_decref(j);
	} else {
		ret = cli_verify_print(stdout, v);
	}
	if (ret == TDM_OK && fflush(stdout) != 0)
		ret = TDM_EIO;
	if (ret != TDM_OK)
		fprintf(stderr, "tandem verify: cannot show the result: %s\n", tdm_strerror(ret));
	return ret;
}

int cli_verify_main(cli_opts_t *o, int argc, char **argv)
{
	char err[512];
	int npos;
	struct work *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		fputs("tandem verify: out of memory\n", stderr);
		return CLI_EXIT_API;
	}
	int status = CLI_EXIT_USAGE;
	if (cli_opts_parse(o, argc, argv, NULL, 0, argv, &npos, err, sizeof(err)) != TDM_OK ||
	    (!o->help && cli_verify_args(&w->v, npos, argv, err, sizeof(err)) != TDM_OK)) {
		fprintf(stderr, "tandem verify: %s\n\n", err);
		usage(stderr);
		goto done;
	}
	if (o->help) {
		usage(stdout);
		status = CLI_EXIT_OK;
		goto done;
	}
	if (o->timeout != 0)
		w->v.timeout_ms = o->timeout * 1000;
	status = run(w, stderr);
	if ((status == CLI_EXIT_OK || status == CLI_EXIT_DIFFERS) && show(o, &w->v) != TDM_OK)
		status = CLI_EXIT_API;
done:
	free(w);
	return status;
}
