/* lookup/json.c -- what `tandem lookup --json` shows: one JSON object per reply or transfer */
#include <stdlib.h>

#include "lib/error.h"
#include "lookup/json.h"
#include "lookup/present.h"
#include "lookup/reply.h"
#include "wire/edns.h"
#include "wire/name.h"
#include "wire/pkt.h"

static const char *const keys[LOOKUP_SEC_COUNT] = { "question", "answer", "authority", "additional" };

struct walk {
	lookup_present_t pr;
	json_t *arrays[LOOKUP_SEC_COUNT];   /* borrowed from the reply object */
};

/* jansson's setters take NULL values as failure, so a chain of them checks every allocation. */
static json_t *rr_object(struct walk *w, const lookup_rr_t *rr)
{
	char name[NAME_TEXT_MAX], rclass[32], type[32];
	name_to_text(rr->owner, name, sizeof(name));
	json_t *o = json_object();
	if (o == NULL || json_object_set_new(o, "name", json_string(name)) != 0)
		goto fail;
	if (rr->section != LOOKUP_SEC_QUESTION &&
	    json_object_set_new(o, "ttl", json_integer(rr->ttl)) != 0)
		goto fail;
	if (json_object_set_new(o, "class", json_string(lookup_present_class(rr->rclass, rclass,
	                                                                      sizeof(rclass)))) != 0 ||
	    json_object_set_new(o, "type", json_string(lookup_present_type(rr->type, type,
	                                                                    sizeof(type)))) != 0)
		goto fail;
	if (rr->section != LOOKUP_SEC_QUESTION) {
		int n = lookup_present_rr(&w->pr, rr, true);
		if (n < 0 || json_object_set_new(o, "data", json_stringn(w->pr.buf, (size_t)n)) != 0)
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static int visit(void *ctx, const lookup_rr_t *rr)
{
	struct walk *w = ctx;
	json_t *array = w->arrays[rr->section];
	if (array == NULL)
		return TDM_OK;
	json_t *o = rr_object(w, rr);
	if (o == NULL || json_array_append_new(array, o) != 0)
		return TDM_ENOMEM;
	return TDM_OK;
}

static json_t *flags_array(uint16_t flags)
{
	const char *names[LOOKUP_FLAGS_MAX];
	int n = lookup_present_flags(flags, names);
	json_t *a = json_array();
	for (int i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_string(names[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The option's data as text (NSID), hex (COOKIE, others) or {code, name, text} (EDE). */
static json_t *option_value(const lookup_opt_t *opt)
{
	if (opt->code == LOOKUP_OPT_EDE && opt->len >= 2) {
		uint16_t code = pkt_get16(opt->data);
		char *text = lookup_present_escape(opt->data + 2, opt->len - 2u);
		json_t *v = text == NULL ? NULL : json_pack("{s:i, s:s, s:s}", "code", code,
		                                            "name", lookup_present_ede(code), "text", text);
		free(text);
		return v;
	}
	char *s = opt->code == EDNS_OPT_NSID ? lookup_present_escape(opt->data, opt->len)
	                                     : lookup_present_hex(opt->data, opt->len);
	json_t *v = s == NULL ? NULL : json_string(s);
	free(s);
	return v;
}

static int append_to(json_t *edns, const char *key, json_t *v)
{
	json_t *list = json_object_get(edns, key);
	if (list == NULL && json_object_set_new(edns, key, list = json_array()) != 0) {
		json_decref(v);
		return TDM_ENOMEM;
	}
	return json_array_append_new(list, v) == 0 ? TDM_OK : TDM_ENOMEM;
}

/* Known options under their name ("nsid", "cookie", "ede": a list), the rest in "options". */
static int add_option(json_t *edns, const lookup_opt_t *opt)
{
	json_t *v = option_value(opt);
	if (v == NULL)
		return TDM_ENOMEM;
	if (opt->code == EDNS_OPT_NSID)
		return json_object_set_new(edns, "nsid", v) == 0 ? TDM_OK : TDM_ENOMEM;
	if (opt->code == EDNS_OPT_COOKIE)
		return json_object_set_new(edns, "cookie", v) == 0 ? TDM_OK : TDM_ENOMEM;
	if (opt->code == LOOKUP_OPT_EDE && opt->len >= 2)
		return append_to(edns, "ede", v);
	json_t *o = json_pack("{s:i, s:o}", "code", opt->code, "data", v);
	return o == NULL ? TDM_ENOMEM : append_to(edns, "options", o);
}

static int add_edns(json_t *obj, const uint8_t *msg, const lookup_reply_t *r)
{
	if (!r->edns)
		return TDM_OK;
	json_t *edns = json_pack("{s:i, s:[], s:i}", "version", r->edns_version, "flags",
	                         "udp_size", r->edns_payload);
	if (edns == NULL || json_object_set_new(obj, "edns", edns) != 0)
		return TDM_ENOMEM;
	if (r->edns_do && json_array_append_new(json_object_get(edns, "flags"), json_string("do")) != 0)
		return TDM_ENOMEM;
	lookup_opt_t opt;
	size_t off = 0;
	while (lookup_present_next_opt(msg, r, &off, &opt)) {
		int ret = add_option(edns, &opt);
		if (ret != TDM_OK)
			return ret;
	}
	return TDM_OK;
}

/* The object without records: header fields, edns, and empty arrays for the sections. */
static json_t *reply_object(const uint8_t *msg, const lookup_reply_t *r)
{
	char opcode[16], rcode[16];
	json_t *obj = json_pack("{s:i, s:s, s:s, s:o}", "id", r->id,
	                        "opcode", lookup_opcode_name(r->opcode, opcode, sizeof(opcode)),
	                        "rcode", lookup_rcode_name(r->rcode, rcode, sizeof(rcode)),
	                        "flags", flags_array(r->flags));
	if (obj == NULL)
		return NULL;
	if (add_edns(obj, msg, r) != TDM_OK ||
	    json_object_set_new(obj, "question", json_array()) != 0 ||
	    json_object_set_new(obj, "sections", json_pack("{s:[], s:[], s:[]}", "answer",
	                                                   "authority", "additional")) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static void borrow_arrays(struct walk *w, json_t *obj, bool answers_only)
{
	json_t *sections = json_object_get(obj, "sections");
	w->arrays[LOOKUP_SEC_QUESTION] = answers_only ? NULL : json_object_get(obj, "question");
	for (int s = LOOKUP_SEC_ANSWER; s < LOOKUP_SEC_COUNT; s++)
		w->arrays[s] = answers_only && s != LOOKUP_SEC_ANSWER ? NULL
		                                                    : json_object_get(sections, keys[s]);
}

/* Appends the records of msg to obj's arrays. */
static int fill(json_t *obj, const uint8_t *msg, size_t len, bool answers_only)
{
	lookup_reply_t r;
	char err[256];
	struct walk w;
	int ret = lookup_present_init(&w.pr);
	if (ret != TDM_OK)
		return ret;
	borrow_arrays(&w, obj, answers_only);
	ret = lookup_reply_read(msg, len, &r, visit, &w, err, sizeof(err));
	lookup_present_free(&w.pr);
	return ret;
}

int lookup_json_reply(const uint8_t *msg, size_t len, json_t **obj)
{
	lookup_reply_t r;
	char err[256];
	*obj = NULL;
	int ret = lookup_reply_read(msg, len, &r, NULL, NULL, err, sizeof(err));
	if (ret != TDM_OK)
		return ret;
	json_t *o = reply_object(msg, &r);
	if (o == NULL)
		return TDM_ENOMEM;
	if ((ret = fill(o, msg, len, false)) != TDM_OK) {
		json_decref(o);
		return ret;
	}
	*obj = o;
	return TDM_OK;
}

int lookup_json_answers(json_t *obj, const uint8_t *msg, size_t len)
{
	return fill(obj, msg, len, true);
}

int lookup_json_print(FILE *out, json_t *obj, const lookup_stats_t *st)
{
	int ret = TDM_ENOMEM;
	if (json_object_set_new(obj, "server", json_string(st->server)) != 0 ||
	    json_object_set_new(obj, "protocol", json_string(st->tcp ? "TCP" : "UDP")) != 0 ||
	    json_object_set_new(obj, "size", json_integer((json_int_t)st->size)) != 0 ||
	    json_object_set_new(obj, "time_ms", json_real(st->ms)) != 0)
		goto done;
	if (st->messages > 0 &&
	    (json_object_set_new(obj, "messages", json_integer(st->messages)) != 0 ||
	     json_object_set_new(obj, "records", json_integer(st->records)) != 0))
		goto done;
	ret = TDM_EIO;
	size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(12);
	if (json_dumpf(obj, out, flags) != 0 || fputc('\n', out) == EOF || fflush(out) != 0)
		goto done;
	ret = TDM_OK;
done:
	json_decref(obj);
	return ret;
}
