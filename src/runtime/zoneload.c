/* runtime/zoneload.c -- bringing a configured zone's contents in */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "change/change.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/zoneload.h"
#include "store/digest.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/diff.h"
#include "zone/dnssec.h"
#include "zonefile/zonefile.h"

/* A zone file's problems, as the daemon logs them (with a level: the journal keeps it). */
static void log_problem(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	if (line > 0)
		log_err("%s:%u: %s", file, line, msg);
	else
		log_err("%s: %s", file, msg);
}

/* Parse (text: the file as read once, or NULL to read it here), build and check; the list and version
 * are returned only when all passed. No sort: the checks work on the built version, which is what
 * makes a first start of a big zone fast. fn reports each problem (tandemd --check prints them bare,
 * the daemon logs them). */
static int parse_file(const conf_zone_t *cz, zonefile_parser_t *parser, const char *text,
                      size_t len, const uint8_t *apex, rrlist_t **list, zone_contents_t **out,
                      zonefile_error_fn fn)
{
	int ret = text != NULL && parser != NULL
	        ? zonefile_parse(parser, cz->file, text, len, cz->name, list, fn, NULL)
	        : zonefile_load(cz->file, cz->name, list, fn, NULL);
	if (ret != TDM_OK)
		return ret;
	ret = zone_contents_build(apex, *list, out);
	if (ret != TDM_OK && ret != TDM_ESEMCHECK)
		goto fail;
	ret = zonefile_check(*list, *out, apex, cz->file, fn, NULL);
	if (ret == TDM_OK) {
		zoneload_dnssec_warnings(cz->name, *out);
		return TDM_OK;
	}
fail:
	zone_contents_free(*out);
	*out = NULL;
	rrlist_free(*list);
	*list = NULL;
	return ret;
}

static void dnssec_warning(void *ctx, const char *problem)
{
	log_warn("%s: DNSSEC: %s", (const char *)ctx, problem);
}

unsigned zoneload_dnssec_warnings(const char *zone, const zone_contents_t *z)
{
	return zone_dnssec_check(z, zone_contents_dnssec(z), (int64_t)time(NULL), 5, dnssec_warning,
	                         (void *)zone);
}

/* Patches the SOA serial in a list (its rdata is the list's own memory). */
static void list_set_serial(rrlist_t *list, uint32_t serial)
{
	for (size_t i = 0; i < rrlist_count(list); i++) {
		const rr_t *rr = rrlist_at(list, i);
		if (rr->type == PKT_TYPE_SOA && rr->rdlen >= 22)
			pkt_put32((uint8_t *)rr->rdata + rr->rdlen - 20, serial);
	}
}

/*
 * The change from base (what was served or stored before; NULL = none) to z into *removed and
 * *added. SPEC.md: a change whose serial did not increase gets one anyway (z's serial raised; the
 * committer logs it: *file_serial is the serial z had). *same says nothing changed at all.
 */
static int make_change(const conf_zone_t *cz, const zone_contents_t *base, rrlist_t *list,
                       zone_contents_t *z, rrlist_t **removed, rrlist_t **added, bool *same,
                       uint32_t *file_serial)
{
	*same = false;
	*file_serial = zone_serial(z);
	if (base == NULL)
		return TDM_OK;
	if (zone_diff(base, z, *removed, *added) != TDM_OK)
		return TDM_ENOMEM;
	if (rrlist_count(*removed) == 0 && rrlist_count(*added) == 0) {
		*same = true;
		return TDM_OK;
	}
	if (!zone_diff_beyond_soa(*removed, *added) ||
	    serial_cmp(zone_serial(z), zone_serial(base)) > 0)
		return TDM_OK;
	uint32_t serial = serial_next(zone_serial(base), (int)cz->serial_policy, (int64_t)time(NULL));
	zone_contents_set_serial(z, serial);
	list_set_serial(list, serial);
	rrlist_free(*removed);
	rrlist_free(*added);
	*removed = rrlist_new();
	*added = rrlist_new();
	if (*removed == NULL || *added == NULL)
		return TDM_ENOMEM;
	return zone_diff(base, z, *removed, *added);
}

static int load_stored(store_t *store, const conf_zone_t *cz, const uint8_t *apex,
                       zone_contents_t **out, bool *pending, bool quiet);

typedef struct {
	zone_contents_t *z;
	size_t count;
} replay_t;

static int replay_one(void *ctx, uint32_t from, uint32_t to, rrlist_t *removed, rrlist_t *added)
{
	replay_t *r = ctx;
	zone_contents_t *next = NULL;
	int ret = zone_update_apply(r->z, removed, added, &next);
	rrlist_free(removed);
	rrlist_free(added);
	if (ret != TDM_OK)
		return ret;
	zone_contents_free(r->z);
	r->z = next;
	r->count++;
	return TDM_OK;
}

static int replay(store_t *store, const char *zone, const uint8_t *apex, const rrlist_t *list,
                  zone_contents_t **out, size_t *count)
{
	replay_t r = { 0 };
	*out = NULL;
	int ret = zone_contents_build(apex, list, &r.z);
	if (ret == TDM_OK)
		ret = store_zone_pending(store, zone, replay_one, &r);
	if (ret != TDM_OK) {
		zone_contents_free(r.z);
		return ret;
	}
	if (r.count > 0)
		log_info("%s: %zu journal entries replayed onto the stored contents", zone, r.count);
	*out = r.z;
	if (count != NULL)
		*count = r.count;
	return TDM_OK;
}

int zoneload_replay(store_t *store, const char *zone, const uint8_t *apex, const rrlist_t *list,
                    zone_contents_t **out)
{
	return replay(store, zone, apex, list, out, NULL);
}

void zoneload_compact(const zoneload_t *zl, const char *zone, const zone_contents_t *z)
{
	change_t chg = { .store = zl->store, .zone = zone };
	if (store_zone_pending_size(zl->store, zone, &chg.pending) == TDM_OK &&
	    change_compact_due(&chg, z))
		change_compact(&chg, z);
}

static store_zone_meta_t file_meta(uint32_t serial, const char *digest, const store_file_stat_t *fs)
{
	store_zone_meta_t meta = { .serial = serial, .updated = (int64_t)time(NULL) };
	snprintf(meta.source, sizeof(meta.source), "config");
	snprintf(meta.file_digest, sizeof(meta.file_digest), "%s", digest);
	if (fs != NULL)
		meta.file_stat = *fs;
	return meta;
}

/* Commits the change from base (removed, added; same: none at all, only a new digest to record) to a
 * version of the given serial; *out is the version to publish (made from base by the change path),
 * NULL when nothing changed. */
static int commit_change(const zoneload_t *zl, const conf_zone_t *cz, const zone_contents_t *base,
                         rrlist_t *removed, rrlist_t *added, bool same, uint32_t serial,
                         uint32_t file_serial, const char *digest, const store_file_stat_t *fs,
                         const char *what, zone_contents_t **out)
{
	if (serial != file_serial && cz->file != NULL)
		log_warn("%s: zone file %s changed but its serial %u did not increase: serving it as %u",
		         cz->name, cz->file, file_serial, serial);
	store_zone_meta_t meta = file_meta(serial, digest, fs);
	/* Committed to the store before it is served (SPEC.md "Storage and durability"): the same
	 * records with only a new digest keep their journal; a change goes through the change path
	 * (made from the version before, appended to the journal). */
	zone_contents_t *next = NULL;
	int ret;
	if (same) {
		ret = store_zone_append(zl->store, cz->name, &meta, NULL, zl->journal_max, NULL);
	} else {
		char who[1100];
		snprintf(who, sizeof(who), "%s%s", cz->file ? "zone file " : what,
		         cz->file ? cz->file : "");
		change_t chg = { .store = zl->store, .zone = cz->name, .journal_max = zl->journal_max,
		                 .meta = meta, .who = who };
		ret = change_commit(&chg, base, removed, added, &next);
	}
	if (ret != TDM_OK) {
		log_err("%s: cannot store the zone (%s)", cz->name, tdm_strerror(ret));
		return ret;
	}
	if (same)
		return TDM_OK;
	if (zl->pending != NULL)
		*zl->pending = true;
	log_msg(zl->quiet ? LOG_DEBUG : LOG_INFO, "%s: %s, serial %u, %zu records", cz->name, what,
	        zone_serial(next), zone_record_count(next));
	*out = next;
	return TDM_OK;
}

/* Commits a new version (list and z, both taken) made from a file or generated, as a change from
 * base, or whole when there is no base (a first load); *out is the version to publish, NULL when
 * nothing changed. */
static int commit_version(const zoneload_t *zl, const conf_zone_t *cz, rrlist_t *list,
                          zone_contents_t *z, const zone_contents_t *base, const char *digest,
                          const store_file_stat_t *fs, const char *what, zone_contents_t **out)
{
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	bool same = false;
	uint32_t file_serial = 0;
	int ret = removed && added
	        ? make_change(cz, base, list, z, &removed, &added, &same, &file_serial) : TDM_ENOMEM;
	if (ret != TDM_OK)
		goto out;
	if (base != NULL) {
		/* next, served instead of z, shares the unchanged data with base */
		ret = commit_change(zl, cz, base, removed, added, same, zone_serial(z), file_serial,
		                    digest, fs, what, out);
		goto out;
	}
	store_zone_meta_t meta = file_meta(zone_serial(z), digest, fs);
	ret = store_zone_commit(zl->store, cz->name, list, &meta, NULL, zl->journal_max);
	if (ret != TDM_OK) {
		log_err("%s: cannot store the zone (%s)", cz->name, tdm_strerror(ret));
		goto out;
	}
	log_msg(zl->quiet ? LOG_DEBUG : LOG_INFO, "%s: %s, serial %u, %zu records", cz->name, what,
	        zone_serial(z), zone_record_count(z));
	*out = z;
	z = NULL;
out:
	zone_contents_free(z);
	rrlist_free(list);
	rrlist_free(removed);
	rrlist_free(added);
	return ret;
}

int zoneload_generated(const zoneload_t *zl, const conf_zone_t *cz, rrlist_t *list,
                       const zone_contents_t *current, zone_contents_t **out)
{
	uint8_t apex[NAME_MAXLEN];
	zone_contents_t *z = NULL;
	*out = NULL;
	if (name_from_text(cz->name, NULL, apex) < 0) {
		rrlist_free(list);
		return TDM_EINVAL;
	}
	name_copy_lower(apex, apex);
	int ret = zone_contents_build(apex, list, &z);
	if (ret != TDM_OK) {
		rrlist_free(list);
		return ret;
	}
	/* The generator does not own the serial (it wrote the served one, or the clock's before anything
	 * was stored): the same records are no change, and a change takes the serial policy's next. A
	 * restart must not move a catalog's serial, back to the clock's least of all. */
	if (current != NULL && zone_serial(z) != zone_serial(current)) {
		zone_contents_set_serial(z, zone_serial(current));
		list_set_serial(list, zone_serial(current));
	}
	return commit_version(zl, cz, list, z, current, "", NULL, "catalog written", out);
}

static int load_stored(store_t *store, const conf_zone_t *cz, const uint8_t *apex,
                       zone_contents_t **out, bool *pending, bool quiet)
{
	size_t replayed = 0;
	rrlist_t *list = NULL;
	int ret = store_zone_load(store, cz->name, &list);
	if (ret != TDM_OK) {
		if (ret == TDM_ENOENT)
			log_warn("%s: no data yet (no zone file, nothing stored)", cz->name);
		else
			log_err("%s: cannot read the stored zone (%s)", cz->name, tdm_strerror(ret));
		return ret;
	}
	ret = replay(store, cz->name, apex, list, out, &replayed);
	rrlist_free(list);
	if (pending != NULL && replayed > 0)
		*pending = true;
	if (ret != TDM_OK)
		log_err("%s: stored zone unusable (%s)", cz->name, tdm_strerror(ret));
	else
		log_msg(quiet ? LOG_DEBUG : LOG_INFO, "%s: loaded from the store, serial %u, %zu records",
		        cz->name, zone_serial(*out), zone_record_count(*out));
	return ret;
}

static store_file_stat_t file_stat_of(const struct stat *sb)
{
	return (store_file_stat_t){ .size = (int64_t)sb->st_size,
	                            .mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 +
	                                        sb->st_mtim.tv_nsec,
	                            .ctime_ns = (int64_t)sb->st_ctim.tv_sec * 1000000000 +
	                                        sb->st_ctim.tv_nsec,
	                            .ino = (uint64_t)sb->st_ino, .dev = (uint64_t)sb->st_dev };
}

static bool same_stat(const store_file_stat_t *a, const store_file_stat_t *b)
{
	return a->mtime_ns != 0 && a->size == b->size && a->mtime_ns == b->mtime_ns &&
	       a->ctime_ns == b->ctime_ns && a->ino == b->ino && a->dev == b->dev;
}

/*
 * Whether what stat() said may stand for the file's octets next time (zoneload.h): a regular file,
 * no $INCLUDE (the included files' changes do not show in it), and last modified or changed well
 * before now: a write in the same timestamp tick as the one we read could leave the times as they
 * are, so a file modified in the last ZONELOAD_RACY_S seconds is hashed again next time, until it
 * is older.
 */
static bool stat_recordable(const struct stat *sb, bool includes)
{
	struct timespec now;
	if (!S_ISREG(sb->st_mode) || includes || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return false;
	time_t last = sb->st_mtim.tv_sec > sb->st_ctim.tv_sec ? sb->st_mtim.tv_sec : sb->st_ctim.tv_sec;
	return last + ZONELOAD_RACY_S < now.tv_sec;
}

/* The digest matched but the stat is new (the file was touched, copied back, or recorded by an older
 * version): records it so that the next look skips the read. A failure only costs that. */
static void record_stat(const zoneload_t *zl, const conf_zone_t *cz, store_zone_meta_t *meta,
                        const store_file_stat_t *fs)
{
	meta->file_stat = *fs;
	int ret = store_zone_append(zl->store, cz->name, meta, NULL, 0, NULL);
	if (ret != TDM_OK)
		log_warn("%s: could not record the zone file's size and time (%s)", cz->name,
		         tdm_strerror(ret));
}

void zoneload_prep_clear(zoneload_prep_t *prep)
{
	rrlist_free(prep->list);
	zone_contents_free(prep->z);
	rrlist_free(prep->removed);
	rrlist_free(prep->added);
	zone_contents_unref(prep->base);
	*prep = (zoneload_prep_t){ 0 };
}

void zoneload_prepare_change(const conf_zone_t *cz, zoneload_prep_t *prep, zone_contents_t *base)
{
	if (prep->kind != ZONELOAD_PREP_PARSED || base == NULL || prep->base != NULL) {
		zone_contents_unref(base);
		return;
	}
	struct timespec t0, t1;
	t0 = clock_now();
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	bool same = false;
	if (removed == NULL || added == NULL ||
	    make_change(cz, base, prep->list, prep->z, &removed, &added, &same, &prep->file_serial) !=
	        TDM_OK) {
		/* Left as parsed: zoneload_configured makes the change itself. make_change may have
		 * raised the serial of z already, as it would have there. */
		rrlist_free(removed);
		rrlist_free(added);
		zone_contents_unref(base);
		return;
	}
	prep->base = base;
	prep->removed = removed;
	prep->added = added;
	prep->same = same;
	prep->serial = zone_serial(prep->z);
	/* The parsed copy is not needed any more: the change is made from base. Freed here, on the
	 * thread that read it, not on the one that commits. */
	rrlist_free(prep->list);
	zone_contents_free(prep->z);
	prep->list = NULL;
	prep->z = NULL;
	t1 = clock_now();
	prep->diff_ms = clock_ms_between(&t0, &t1);
}

/* Reads the file (once), hashes it and, unless its digest is the one recorded, parses and checks it. */
static void prepare_read(const conf_zone_t *cz, const store_zone_meta_t *meta,
                         zonefile_parser_t *parser, const struct stat *sb, zoneload_prep_t *prep)
{
	char *text = NULL;
	size_t len = 0;
	bool includes = true;
	uint8_t apex[NAME_MAXLEN];
	int ret = zonefile_read(cz->file, &text, &len, NULL);
	if (ret == TDM_OK)
		ret = store_text_digest(cz->file, text, len, prep->digest, &includes);
	if (ret != TDM_OK) {
		log_err("%s: cannot read zone file %s (%s)", cz->name, cz->file, tdm_strerror(ret));
		prep->kind = ZONELOAD_PREP_FAILED;
		prep->ret = ret;
		free(text);
		return;
	}
	if (!stat_recordable(sb, includes))
		prep->fs = (store_file_stat_t){ 0 };
	if (meta != NULL && strcmp(meta->file_digest, prep->digest) == 0) {
		prep->kind = ZONELOAD_PREP_SAME;
		free(text);
		return;
	}
	struct timespec t0, t1;
	t0 = clock_now();
	zonefile_parser_t *own = parser == NULL ? zonefile_parser_new() : NULL;
	if (parser == NULL)
		parser = own;
	ret = parser == NULL ? TDM_ENOMEM : name_from_text(cz->name, NULL, apex) < 0 ? TDM_EINVAL
	    : TDM_OK;
	if (ret == TDM_OK) {
		name_copy_lower(apex, apex);
		ret = parse_file(cz, parser, text, len, apex, &prep->list, &prep->z, log_problem);
	}
	zonefile_parser_free(own);
	free(text);
	t1 = clock_now();
	prep->ms = clock_ms_between(&t0, &t1);
	prep->kind = ret == TDM_OK ? ZONELOAD_PREP_PARSED : ZONELOAD_PREP_FAILED;
	prep->ret = ret;
	prep->parsed = true;
	if (ret != TDM_OK)
		log_err("%s: zone file %s not loaded (%s)", cz->name, cz->file, tdm_strerror(ret));
}

void zoneload_prepare(const conf_zone_t *cz, const store_zone_meta_t *meta,
                      zonefile_parser_t *parser, zoneload_prep_t *prep)
{
	*prep = (zoneload_prep_t){ .done = true, .stored = meta != NULL };
	if (meta != NULL)
		prep->meta = *meta;
	/* stat() before reading: a change made while the file is read shows next time as a new stat. */
	struct stat sb;
	if (stat(cz->file, &sb) != 0) {
		prep->ret = -errno;
		prep->kind = ZONELOAD_PREP_FAILED;
		log_err("%s: cannot read zone file %s (%s)", cz->name, cz->file, tdm_strerror(prep->ret));
		return;
	}
	prep->fs = file_stat_of(&sb);
	if (meta != NULL && strcmp(meta->file_digest, ZONELOAD_DIGEST_PENDING) == 0) {
		prep->kind = ZONELOAD_PREP_BEHIND;   /* the store is ahead: the file is not read */
		return;
	}
	if (meta != NULL && meta->file_digest[0] != '\0' && same_stat(&meta->file_stat, &prep->fs)) {
		prep->kind = ZONELOAD_PREP_UNCHANGED;
		return;
	}
	prepare_read(cz, meta, parser, &sb, prep);
}

/* Whether a file prepared against a snapshot of the store's metadata may stand for what the store
 * holds now (nothing changed the zone's row in between). */
static bool prep_current(const zoneload_prep_t *prep, bool stored, const store_zone_meta_t *meta,
                         const zone_contents_t *current)
{
	if (prep == NULL || !prep->done || prep->stored != stored)
		return false;
	if (prep->base != NULL && prep->base != current)
		return false;   /* diffed from a version no longer served */
	return !stored || (strcmp(prep->meta.file_digest, meta->file_digest) == 0 &&
	                   memcmp(&prep->meta.file_stat, &meta->file_stat,
	                          sizeof(meta->file_stat)) == 0 && prep->meta.serial == meta->serial);
}

/* A new version from a parsed file (prep's list and version, taken), committed as a change from
 * what is served, or else what is stored. */
static int import_prepared(const zoneload_t *zl, const conf_zone_t *cz, const uint8_t *apex,
                           bool stored, zoneload_prep_t *prep, const zone_contents_t *current,
                           zone_contents_t **out)
{
	char what[NAME_TEXT_MAX + 64];
	if (prep->base != NULL) {   /* diffed ahead from current, which is still served */
		snprintf(what, sizeof(what), "loaded from %s (parsed and checked in %.0f ms, compared in "
		         "%.0f ms)", cz->file, prep->ms, prep->diff_ms);
		return commit_change(zl, cz, prep->base, prep->removed, prep->added, prep->same,
		                     prep->serial, prep->file_serial, prep->digest, &prep->fs, what, out);
	}
	/* The change is made against what was served, or else what was stored (the file changed
	 * while the server was down), so the journal keeps its continuity. */
	zone_contents_t *stored_version = NULL;
	if (current == NULL && stored &&
	    load_stored(zl->store, cz, apex, &stored_version, NULL, zl->quiet) == TDM_OK)
		current = stored_version;
	snprintf(what, sizeof(what), "loaded from %s (parsed and checked in %.0f ms)", cz->file,
	         prep->ms);
	int ret = commit_version(zl, cz, prep->list, prep->z, current, prep->digest, &prep->fs, what,
	                         out);
	prep->list = NULL;
	prep->z = NULL;
	zone_contents_free(stored_version);
	if (ret == TDM_OK && stored_version != NULL && *out == NULL)
		ret = load_stored(zl->store, cz, apex, out, zl->pending, zl->quiet);
	return ret;
}

int zoneload_configured(const zoneload_t *zl, const conf_zone_t *cz,
                        const zone_contents_t *current, zone_contents_t **out)
{
	uint8_t apex[NAME_MAXLEN];
	*out = NULL;
	if (zl->pending != NULL)
		*zl->pending = false;
	if (name_from_text(cz->name, NULL, apex) < 0)
		return TDM_EINVAL;
	name_copy_lower(apex, apex);
	if (cz->file == NULL)
		return current != NULL ? TDM_OK
		                       : load_stored(zl->store, cz, apex, out, zl->pending, zl->quiet);
	zoneload_prep_t local, *prep = zl->prep;
	/* A zone served whose file a helper found as the store recorded it when the pass began: nothing to
	 * do, and nothing the store got since can change that (a write-back or reload meanwhile recorded the
	 * file as it then was; an update, a serial). The store's row is not read again: that read was a
	 * quarter of a SIGHUP beside 100,000 unchanged zones. */
	if (current != NULL && prep != NULL && prep->done && prep->stored &&
	    prep->kind == ZONELOAD_PREP_UNCHANGED) {
		if (zl->stats != NULL)
			zl->stats->unchanged++;
		zoneload_prep_clear(prep);
		return TDM_OK;
	}
	store_zone_meta_t meta;
	bool stored = store_zone_meta(zl->store, cz->name, &meta) == TDM_OK;
	/* The file as looked at ahead on another thread (runtime/zoneprep.h), or now. */
	if (!prep_current(prep, stored, &meta, current)) {
		prep = &local;
		zoneload_prepare(cz, stored ? &meta : NULL, zl->parser, prep);
	}
	int ret = TDM_OK;
	switch (prep->kind) {
	case ZONELOAD_PREP_FAILED:
		if (zl->stats != NULL && prep->parsed) {
			zl->stats->hashed++;
			zl->stats->parsed++;
		}
		ret = prep->ret;
		break;
	case ZONELOAD_PREP_BEHIND:
		/* Dynamic updates the file does not hold yet: the store is ahead; the file is written
		 * again. */
		if (zl->file_behind != NULL)
			*zl->file_behind = true;
		if (current != NULL)
			break;
		log_warn("%s: zone file %s is behind the dynamic updates in the store: serving the store's "
		         "version, the file is written again (an edit made to it meanwhile is in %s.bak)",
		         cz->name, cz->file, cz->file);
		ret = load_stored(zl->store, cz, apex, out, zl->pending, zl->quiet);
		break;
	case ZONELOAD_PREP_UNCHANGED:
		if (zl->stats != NULL)
			zl->stats->unchanged++;
		if (current == NULL)
			ret = load_stored(zl->store, cz, apex, out, zl->pending, zl->quiet);
		break;
	case ZONELOAD_PREP_SAME:
		if (zl->stats != NULL)
			zl->stats->hashed++;
		if (prep->fs.mtime_ns != 0)
			record_stat(zl, cz, &meta, &prep->fs);
		if (current == NULL)
			ret = load_stored(zl->store, cz, apex, out, zl->pending, zl->quiet);
		break;
	case ZONELOAD_PREP_PARSED:
		if (zl->stats != NULL) {
			zl->stats->hashed++;
			zl->stats->parsed++;
		}
		ret = import_prepared(zl, cz, apex, stored, prep, current, out);
		break;
	}
	zoneload_prep_clear(prep);
	return ret;
}

int zoneload_stored(store_t *store, const conf_zone_t *cz, bool quiet, zone_contents_t **out)
{
	uint8_t apex[NAME_MAXLEN];
	*out = NULL;
	if (name_from_text(cz->name, NULL, apex) < 0)
		return TDM_EINVAL;
	name_copy_lower(apex, apex);
	return load_stored(store, cz, apex, out, NULL, quiet);
}

int zoneload_check_file(const conf_zone_t *cz)
{
	uint8_t apex[NAME_MAXLEN];
	if (cz->file == NULL)
		return TDM_OK;
	if (name_from_text(cz->name, NULL, apex) < 0)
		return TDM_EINVAL;
	name_copy_lower(apex, apex);
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	int ret = parse_file(cz, NULL, NULL, 0, apex, &list, &z, zonefile_error_print);
	zone_contents_free(z);
	rrlist_free(list);
	return ret;
}
