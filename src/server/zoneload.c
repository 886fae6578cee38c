/* server/zoneload.c -- bringing a configured zone's contents in */
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/log.h"
#include "server/zoneload.h"
#include "store/digest.h"
#include "wire/name.h"
#include "zonefile/zonefile.h"

/* Parse, build and check; the list and version are returned only when all passed. No sort: the
 * checks work on the built version, which is what makes a first start of a big zone fast. */
static int parse_file(const conf_zone_t *cz, const uint8_t *apex, rrlist_t **list,
                      zone_contents_t **out)
{
	int ret = zonefile_load(cz->file, cz->name, list, NULL, NULL);
	if (ret != TDM_OK)
		return ret;
	ret = zone_contents_build(apex, *list, out);
	if (ret != TDM_OK && ret != TDM_ESEMCHECK)
		goto fail;
	ret = zonefile_check(*list, *out, apex, cz->file, NULL, NULL);
	if (ret == TDM_OK)
		return TDM_OK;
fail:
	zone_contents_free(*out);
	*out = NULL;
	rrlist_free(*list);
	*list = NULL;
	return ret;
}

static int import_file(store_t *store, const conf_zone_t *cz, const uint8_t *apex,
                       const char *digest, zone_contents_t **out)
{
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	int ret = parse_file(cz, apex, &list, &z);
	if (ret != TDM_OK) {
		log_err("%s: zone file %s not loaded (%s)", cz->name, cz->file, tdm_strerror(ret));
		return ret;
	}
	store_zone_meta_t meta = { .serial = zone_serial(z), .updated = (int64_t)time(NULL) };
	snprintf(meta.source, sizeof(meta.source), "config");
	snprintf(meta.file_digest, sizeof(meta.file_digest), "%s", digest);
	/* Committed to the store before it is served (SPEC.md "Storage and durability"). */
	ret = store_zone_replace(store, cz->name, list, &meta);
	rrlist_free(list);
	if (ret != TDM_OK) {
		log_err("%s: cannot store the zone (%s)", cz->name, tdm_strerror(ret));
		zone_contents_free(z);
		return ret;
	}
	log_info("%s: loaded from %s, serial %u, %zu records", cz->name, cz->file, zone_serial(z),
	         zone_record_count(z));
	*out = z;
	return TDM_OK;
}

static int load_stored(store_t *store, const conf_zone_t *cz, const uint8_t *apex,
                       zone_contents_t **out)
{
	rrlist_t *list = NULL;
	int ret = store_zone_load(store, cz->name, &list);
	if (ret != TDM_OK) {
		if (ret == TDM_ENOENT)
			log_warn("%s: no data yet (no zone file, nothing stored)", cz->name);
		else
			log_err("%s: cannot read the stored zone (%s)", cz->name, tdm_strerror(ret));
		return ret;
	}
	ret = zone_contents_build(apex, list, out);
	rrlist_free(list);
	if (ret != TDM_OK)
		log_err("%s: stored zone unusable (%s)", cz->name, tdm_strerror(ret));
	else
		log_info("%s: loaded from the store, serial %u, %zu records", cz->name,
		         zone_serial(*out), zone_record_count(*out));
	return ret;
}

int zoneload_configured(store_t *store, const conf_zone_t *cz, bool loaded, zone_contents_t **out)
{
	uint8_t apex[NAME_MAXLEN];
	*out = NULL;
	if (name_from_text(cz->name, NULL, apex) < 0)
		return TDM_EINVAL;
	name_copy_lower(apex, apex);
	if (cz->file == NULL)
		return loaded ? TDM_OK : load_stored(store, cz, apex, out);
	char digest[65];
	int ret = store_file_digest(cz->file, digest);
	if (ret != TDM_OK) {
		log_err("%s: cannot read zone file %s (%s)", cz->name, cz->file, tdm_strerror(ret));
		return ret;
	}
	store_zone_meta_t meta;
	if (store_zone_meta(store, cz->name, &meta) == TDM_OK && strcmp(meta.file_digest, digest) == 0)
		return loaded ? TDM_OK : load_stored(store, cz, apex, out);
	return import_file(store, cz, apex, digest, out);
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
	int ret = parse_file(cz, apex, &list, &z);
	zone_contents_free(z);
	rrlist_free(list);
	return ret;
}
