/* tests/unit/testlib/testlib.h -- what the unit tests share: names from text, records into lists, temp dirs */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "zone/rrlist.h"

/*
 * Linked into every unit test binary (Makefile). Every helper fails the running cmocka test on a
 * problem of its own (a name that does not parse, a record refused, a directory not made), so a test
 * reads as the steps it checks.
 */

/* The wire form of a textual name ("www.example.com."); the result lives until 16 more calls. */
const uint8_t *N(const char *text);

/* The wire length of that name. */
int NL(const char *text);

/* Appends owner type ttl rdata (rdlen octets, already in wire form) to l. */
void add_raw(rrlist_t *l, const char *owner, uint16_t type, uint32_t ttl, const void *rd, size_t rdlen);

/* A record whose rdata is one name: NS, CNAME, DNAME, PTR. */
void add_name(rrlist_t *l, const char *owner, uint16_t type, uint32_t ttl, const char *target);

/* An MX record. */
void add_mx(rrlist_t *l, const char *owner, uint32_t ttl, uint16_t pref, const char *target);

/* An SOA record: ns1.example.com. hostmaster.example.com. serial 7200 3600 1209600 minimum. */
void add_soa(rrlist_t *l, const char *owner, uint32_t ttl, uint32_t serial, uint32_t minimum);

/* A new directory /tmp/tdm-PREFIX-XXXXXX (malloc'ed path); test_rmtree removes it and frees the path. */
char *test_tmpdir(const char *prefix);
void test_rmtree(char *dir);
