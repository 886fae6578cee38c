/* tests/fuzz/fuzz_util.c -- what the fuzz targets share: paths to test data, the test zones, framing */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "fuzz_util.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zonefile/zonefile.h"

#ifndef FUZZ_ROOT
#define FUZZ_ROOT "."
#endif

const char *fuzz_path(const char *rel)
{
	static char bufs[4][4096];
	static unsigned next;
	char *b = bufs[next++ % 4];
	const char *root = getenv("TANDEM_SRC");
	snprintf(b, sizeof(bufs[0]), "%s/%s", root != NULL && *root != '\0' ? root : FUZZ_ROOT, rel);
	return b;
}

static char tempdir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void tempdir_remove(void)
{
	nftw(tempdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_tempdir(const char *what)
{
	if (tempdir[0] != '\0')
		abort();   /* one a process */
	snprintf(tempdir, sizeof(tempdir), "/tmp/tandem-fuzz-%s-XXXXXX", what);
	if (mkdtemp(tempdir) == NULL)
		abort();
	atexit(tempdir_remove);
	return tempdir;
}

void fuzz_quiet(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx, (void)file, (void)line, (void)msg;
}

zone_contents_t *fuzz_zone_load(const char *rel, const char *origin)
{
	const char *path = fuzz_path(rel);
	rrlist_t *list = NULL;
	zone_contents_t *z = NULL;
	uint8_t apex[NAME_MAXLEN];
	int ret = zonefile_load(path, origin, &list, NULL, NULL);
	if (ret == TDM_OK && name_from_text(origin, NULL, apex) > 0) {
		name_copy_lower(apex, apex);
		ret = zone_contents_build(apex, list, &z);
	}
	rrlist_free(list);
	if (z == NULL) {
		fprintf(stderr, "fuzz: cannot load %s as %s (%s); set TANDEM_SRC to the source tree\n",
		        path, origin, tdm_strerror(ret));
		abort();
	}
	return z;
}

static const struct {
	const char *file, *origin;
} fuzz_zones[] = {
	{ "tests/data/zones/example.com.zone", "example.com." },
	{ "tests/data/zones/example.net.zone", "example.net." },
	{ "tests/data/zones/child.example.com.zone", "child.example.com." },
	{ "tests/fuzz/data/nsec.test.zone", "nsec.test." },
	{ "tests/fuzz/data/nsec3.test.zone", "nsec3.test." },
	{ "tests/fuzz/data/nsec3-salt.test.zone", "nsec3-salt.test." },
	{ "tests/fuzz/data/nsec3-optout.test.zone", "nsec3-optout.test." },
};

const zoneset_t *fuzz_zoneset(void)
{
	static zoneset_t *set;
	if (set != NULL)
		return set;
	rcu_register_thread();
	enum { N = sizeof(fuzz_zones) / sizeof(fuzz_zones[0]) };
	zone_t *zones[N];
	for (size_t i = 0; i < N; i++) {
		zone_contents_t *z = fuzz_zone_load(fuzz_zones[i].file, fuzz_zones[i].origin);
		zones[i] = zone_new(zone_apex(z));
		if (zones[i] == NULL)
			abort();
		zone_set_contents(zones[i], z);
	}
	set = zoneset_new(zones, N);
	if (set == NULL)
		abort();
	return set;
}

bool fuzz_next(fuzz_reader_t *r, const uint8_t **msg, size_t *len)
{
	if (r->left == 0)
		return false;
	if (r->left < 2) {
		*msg = r->p;
		*len = r->left;
		r->left = 0;
		return true;
	}
	size_t n = (size_t)r->p[0] << 8 | r->p[1];
	r->p += 2;
	r->left -= 2;
	if (n > r->left)
		n = r->left;
	*msg = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return true;
}

size_t fuzz_make_query(uint8_t *buf, size_t cap, const uint8_t *qname, uint16_t qtype, bool dnssec)
{
	pkt_writer_t w;
	pkt_writer_init(&w, buf, cap);
	if (pkt_write_header(&w, 0x1234, 0) != TDM_OK ||
	    pkt_write_question(&w, qname, qtype, PKT_CLASS_IN) != TDM_OK)
		return 0;
	pkt_begin_section(&w, PKT_SECTION_ADDITIONAL);
	if (pkt_write_rr(&w, (const uint8_t *)"", 0, PKT_TYPE_OPT, 1232, dnssec ? 0x8000 : 0, NULL,
	                 0) != TDM_OK)
		return 0;
	return pkt_writer_finish(&w);
}
