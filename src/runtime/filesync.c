/* runtime/filesync.c -- a primary's zone file written back after dynamic updates changed the zone */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include "lib/clock.h"
#include "lib/crashpoint.h"
#include "lib/error.h"
#include "lib/log.h"
#include "runtime/filesync.h"
#include "runtime/inbox.h"
#include "runtime/zoneload.h"
#include "runtime/zonework.h"
#include "store/digest.h"
#include "zonefile/zonefile.h"

static void fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	zonert_t *zr = arg;
	filesync_now(zr->srv, zr);
}

/* Each update pushes the write-back to FILESYNC_DELAY_MS after it (evtimer_add moves a pending timer),
 * but no further than FILESYNC_MAX_DELAY_MS after the first update it waits for: a burst costs one
 * write after it, not one a second while it lasts (the dump of a large zone would take a core from the
 * updates themselves), and a steady stream still gets its file written. */
void filesync_soon(server_t *srv, zonert_t *zr)
{
	if (zr->file_sync == NULL && (zr->file_sync = evtimer_new(srv->base, fired, zr)) == NULL) {
		filesync_now(srv, zr);   /* no timer to be had: write it at once */
		return;
	}
	int64_t now = clock_ms(), wait = FILESYNC_DELAY_MS;
	if (!evtimer_pending(zr->file_sync, NULL))
		zr->file_sync_since = now;
	if (now + wait > zr->file_sync_since + FILESYNC_MAX_DELAY_MS)
		wait = zr->file_sync_since + FILESYNC_MAX_DELAY_MS - now;
	if (wait < 0)
		wait = 0;
	struct timeval tv = { .tv_sec = (time_t)(wait / 1000), .tv_usec = (suseconds_t)(wait % 1000 * 1000) };
	evtimer_add(zr->file_sync, &tv);
}

/* fsync of the folder holding path, so that the rename survives a power loss. */
static void sync_dir(const char *path)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Writes the version to path atomically (the old file kept as path.bak). */
static int write_file(const char *path, const zone_contents_t *z)
{
	char tmp[PATH_MAX], bak[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tandem-new", path) >= (int)sizeof(tmp) ||
	    snprintf(bak, sizeof(bak), "%s.bak", path) >= (int)sizeof(bak))
		return TDM_ESPACE;
	rrlist_t *list = rrlist_new();
	int ret = list == NULL ? TDM_ENOMEM : zone_contents_to_rrlist(z, list);
	if (ret == TDM_OK)
		ret = rrlist_sort(list);
	FILE *f = ret == TDM_OK ? fopen(tmp, "w") : NULL;
	if (ret == TDM_OK && f == NULL)
		ret = TDM_EIO;
	if (ret == TDM_OK)
		ret = zonefile_dump(list, zone_apex(z), f);
	if (f != NULL) {
		if (fflush(f) != 0 || fsync(fileno(f)) != 0)
			ret = ret == TDM_OK ? TDM_EIO : ret;
		if (fclose(f) != 0 && ret == TDM_OK)
			ret = TDM_EIO;
	}
	rrlist_free(list);
	if (ret != TDM_OK) {
		unlink(tmp);
		return ret;
	}
	unlink(bak);
	if (link(path, bak) != 0 && access(path, F_OK) == 0)
		log_warn("%s: no backup of the zone file kept (%s.bak)", path, path);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return TDM_EIO;
	}
	sync_dir(path);
	return TDM_OK;
}

void filesync_now(server_t *srv, zonert_t *zr)
{
	if (zr->file_sync != NULL)
		evtimer_del(zr->file_sync);
	zonework_post(srv, ZONEWORK_FILE, zr);
}

void filesync_write(server_t *srv, zonert_t *zr, bool stopping)
{
	char path[PATH_MAX];
	if (!zonert_primary_file(zr, path, sizeof(path), NULL))
		return;
	zone_contents_t *z = zone_contents_pin(zr->zone);
	if (z == NULL)
		return;
	char digest[65];
	pausepoint("filesync-write");
	int ret = write_file(path, z);
	if (ret == TDM_OK && (ret = store_file_digest(path, digest)) == TDM_OK)
		ret = store_zone_file_synced(srv->store, zr->name, zone_serial(z), digest);
	if (ret == TDM_OK)
		log_info("%s: zone file %s written back after dynamic updates (serial %u, %zu records; the "
		         "previous one kept as %s.bak)", zr->name, path, zone_serial(z), zone_record_count(z),
		         path);
	else if (ret != TDM_ENOENT) {   /* ENOENT: newer updates came; their write-back follows */
		log_err("%s: cannot write the zone file %s back (%s); trying again", zr->name, path,
		        tdm_strerror(ret));
		if (!stopping)
			inbox_post(srv, CTL_FILE_SYNC, zr);   /* filesync_soon, on the control thread */
	}
	zone_contents_unref(z);
}

void filesync_flush_all(server_t *srv)
{
	zoneset_t *set = srv->zones;
	for (size_t i = 0; set != NULL && i < zoneset_count(set); i++) {
		zonert_t *zr = zonert_of(zoneset_at(set, i));
		if (zr != NULL && zr->file_sync != NULL && evtimer_pending(zr->file_sync, NULL)) {
			evtimer_del(zr->file_sync);
			filesync_write(srv, zr, true);
		}
	}
}
