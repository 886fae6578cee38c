/* tests/fuzz/fuzz_update.c -- fuzz target: an UPDATE message's prerequisites and updates (ddns_prepare) */
#include <stdlib.h>
#include <string.h>

#include "ddns/ddns.h"
#include "fuzz_util.h"
#include "lib/error.h"
#include "wire/name.h"
#include "wire/pkt.h"
#include "zone/diff.h"
#include "zone/update.h"

/*
 * The input is an UPDATE message for example.com. (its header and zone section as a client writes them;
 * names may be compressed). ddns_prepare reads it against the test zone example.com. as the server's
 * dispatch does. When it accepts the update, the change must apply to the version (zone_update_apply),
 * lead to the serial it announced, and leave a version that still has its SOA and apex NS.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static zone_contents_t *z;
	if (z == NULL)
		z = fuzz_zone_load("tests/data/zones/example.com.zone", "example.com.");
	if (size < 12 || size > 65535)
		return 0;
	rrlist_t *removed = rrlist_new(), *added = rrlist_new();
	ddns_result_t res;
	if (removed == NULL || added == NULL || ddns_prepare(z, data, size, zone_serial(z) + 1, removed, added, &res) != TDM_OK)
		abort();
	if (res.rcode == PKT_RCODE_NOERROR && rrlist_count(removed) + rrlist_count(added) > 0) {
		zone_contents_t *next = NULL;
		int ret = zone_update_apply(z, removed, added, &next);
		if (ret != TDM_OK && ret != TDM_ENOMEM && ret != TDM_ERANGE)
			abort();   /* a change ddns_prepare made must apply to the version it read */
		if (next != NULL) {
			const zone_node_t *apex = zone_node(next, zone_apex_index(next));
			if (zone_serial(next) != res.serial || zone_node_rrset(next, apex, PKT_TYPE_NS) == NULL)
				abort();
			zone_contents_free(next);
		}
	}
	rrlist_free(removed);
	rrlist_free(added);
	return 0;
}
