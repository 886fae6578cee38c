/* tests/fuzz/fuzz_zonefile.c -- fuzz target: the zone file loader, then building, checking, dumping and diffing */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>

#include "fuzz_util.h"
#include "lib/error.h"
#include "wire/name.h"
#include "zone/diff.h"
#include "zone/dnssec.h"
#include "zonefile/zonefile.h"

/*
 * The input is a zone file. Its origin is "example.com." unless the first line says otherwise as
 * ";origin NAME". Each input goes through what loading a zone does in the daemon (zonefile_load,
 * zone_contents_build, zonefile_check, the DNSSEC warnings) and then through three properties:
 *   - zonefile_dump's output loads back into the same records (sorted, duplicates dropped);
 *   - zone_diff from the example.com test zone to the new version, applied with zone_apply, gives
 *     the new version's records again;
 *   - nothing is read outside the input (ASan).
 * $INCLUDE may only name "fuzz_inc.zone", a small file the target writes beside the input in its
 * temp folder: any other name could open /dev/zero, a FIFO or the input itself (zscanner follows
 * includes without a depth limit, an administrator's problem, not a peer's).
 */

static char in_path[128], dump_path[128];
static const zone_contents_t *base;

static void setup(void)
{
	const char *dir = fuzz_tempdir("zonefile");
	snprintf(in_path, sizeof(in_path), "%s/zone", dir);
	snprintf(dump_path, sizeof(dump_path), "%s/dump", dir);
	char inc[128];
	snprintf(inc, sizeof(inc), "%s/fuzz_inc.zone", dir);
	FILE *f = fopen(inc, "w");
	if (f == NULL)
		abort();
	fputs("included 300 IN A 192.0.2.7\nincluded TXT \"from an include\"\n", f);
	fclose(f);
	base = fuzz_zone_load("tests/data/zones/example.com.zone", "example.com.");
}

/* Whether every $INCLUDE names fuzz_inc.zone (zscanner matches directives case-insensitively). */
static bool includes_ok(const char *text)
{
	static const char file[] = "fuzz_inc.zone";
	for (const char *p = text; (p = strchr(p, '$')) != NULL; p++) {
		if (strncasecmp(p, "$INCLUDE", 8) != 0)
			continue;
		const char *q = p + 8;
		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, file, sizeof(file) - 1) != 0)
			return false;
		q += sizeof(file) - 1;
		if (*q != '\0' && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r' && *q != ';')
			return false;
	}
	return true;
}

static bool write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return false;
	bool ok = size == 0 || write(fd, data, size) == (ssize_t)size;
	close(fd);
	return ok;
}

static bool same_lists(rrlist_t *a, rrlist_t *b)
{
	if (rrlist_sort(a) != TDM_OK || rrlist_sort(b) != TDM_OK)
		return true;   /* out of memory: nothing to compare */
	if (rrlist_count(a) != rrlist_count(b))
		return false;
	for (size_t i = 0; i < rrlist_count(a); i++) {
		const rr_t *x = rrlist_at(a, i), *y = rrlist_at(b, i);
		if (x->type != y->type || x->ttl != y->ttl || x->rdlen != y->rdlen ||
		    !name_equal(x->owner, y->owner) || (x->rdlen && memcmp(x->rdata, y->rdata, x->rdlen)))
			return false;
	}
	return true;
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_zonefile: %s\n", what);
	abort();
}

/* Dump, load again, compare. */
static void check_dump(rrlist_t *list, const uint8_t *apex, const char *origin)
{
	FILE *f = fopen(dump_path, "w");
	if (f == NULL)
		abort();
	int ret = zonefile_dump(list, apex, f);
	fclose(f);
	if (ret != TDM_OK)
		return;
	rrlist_t *again = NULL;
	ret = zonefile_load(dump_path, origin, &again, fuzz_quiet, NULL);
	if (ret == TDM_EPARSE) {
		zonefile_load(dump_path, origin, &again, NULL, NULL);   /* say why */
		fail("zonefile_dump wrote a file zonefile_load refuses");
	}
	if (ret == TDM_OK && !same_lists(list, again))
		fail("zonefile_dump's output loads back into other records");
	rrlist_free(again);
}

/* Diff from the example.com zone to z, applied again, must give z. */
static void check_diff(const zone_contents_t *z)
{
	rrlist_t *removed = rrlist_new(), *added = rrlist_new(), *mine = rrlist_new(), *out = NULL;
	if (removed == NULL || added == NULL || mine == NULL || zone_diff(base, z, removed, added) != TDM_OK ||
	    zone_contents_to_rrlist(z, mine) != TDM_OK)
		goto out;
	int ret = zone_apply(base, removed, added, &out);
	if (ret == TDM_EMALF)
		fail("zone_apply refuses the diff zone_diff made");
	if (ret == TDM_OK && !same_lists(mine, out))
		fail("zone_apply of zone_diff's output is not the new version");
out:
	rrlist_free(removed);
	rrlist_free(added);
	rrlist_free(mine);
	rrlist_free(out);
}

static void quiet_dnssec(void *ctx, const char *problem)
{
	(void)ctx, (void)problem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base == NULL)
		setup();
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char origin[300] = "example.com.";
	if (strncmp(text, ";origin ", 8) == 0)
		sscanf(text + 8, "%255s", origin);
	uint8_t apex[NAME_MAXLEN];
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	if (!includes_ok(text) || name_from_text(origin, NULL, apex) <= 0 ||
	    !write_file(in_path, data, size))
		goto out;
	name_copy_lower(apex, apex);
	if (zonefile_load(in_path, origin, &list, fuzz_quiet, NULL) != TDM_OK)
		goto out;
	if (zone_contents_build(apex, list, &z) != TDM_OK)
		goto out;
	zonefile_check(list, z, apex, in_path, fuzz_quiet, NULL);
	const struct zone_dnssec *d = zone_contents_dnssec(z);
	if (d != NULL)
		zone_dnssec_check(z, d, 1700000000, 10, quiet_dnssec, NULL);
	check_diff(z);
	if (rrlist_sort(list) == TDM_OK)
		check_dump(list, apex, origin);
out:
	zone_contents_free(z);
	rrlist_free(list);
	free(text);
	return 0;
}
