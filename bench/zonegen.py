"""bench/zonegen.py -- deterministic zone and query-file generation for the benchmarks.

One generator makes both the ~100k-name zone the throughput runs use (with a matching dnsperf query file)
and the 1,000,000-record zone for the memory and start-up figures. The same seed always gives the same files,
so figures from different runs and machines describe the same work.

Mix of an ordinary name (weights, per name):
  A only 40, A+AAAA 20, AAAA only 5, A+MX 5, A+TXT 10, CNAME 12 (in-zone target 80%, out-of-zone 20%),
  delegation 8 (NS pair; in-bailiwick NS with A+AAAA glue 70%, out-of-zone NS without glue 30%).
A quarter of the names sit one level down under one of ~2,000 "group" names that hold no records themselves
(empty non-terminals), the rest directly under the apex. One name in five with A records has 2-4 of them.
Two wildcards: *.wild (A, AAAA, TXT) and *.apps (CNAME to an existing name).

Query mix (one "name TYPE" per line, shuffled):
  ~80% names that exist with the type asked (including CNAME chains and wildcard matches),
  ~10% NXDOMAIN, ~5% NODATA (existing names or empty non-terminals, missing type),
  ~5% referrals (at or below a delegation point).
"""

import random

WORDS = (
    "www mail api cdn app web smtp imap pop vpn git db cache auth login shop blog news img static media "
    "files dev test stage prod admin portal support help docs wiki status search edge proxy lb gw node "
    "srv host box core data store video chat meet calendar drive sync backup monitor metrics logs ns "
    "office remote gateway relay mx dns ldap sso crm erp hr finance sales marketing partner client "
    "users assets upload download mirror pkg repo build ci deploy k8s cluster pod rack dc eu us asia"
).split()

KINDS = (
    ("a", 40), ("a_aaaa", 20), ("aaaa", 5), ("mx", 5), ("txt", 10), ("cname", 12), ("deleg", 8),
)


def _kind_table():
    table = []
    for kind, weight in KINDS:
        table.extend([kind] * weight)
    return table


def _a(i, k=0):
    n = (i * 4 + k) & 0xFFFFFF
    return "10.%d.%d.%d" % (n >> 16, (n >> 8) & 255, n & 255)


def _aaaa(i, k=0):
    return "2001:db8:%x:%x::%x" % ((i >> 16) & 0xFFFF, i & 0xFFFF, k + 1)


def generate(zone_path, origin="bench.test.", names=None, records=None, seed=20240501, want_queries=False):
    """Write a zone file; stop after `names` owner names or `records` records, whichever comes first.

    Returns a dict with counts, and with want_queries the candidate lists query_file() needs.
    """
    assert origin.endswith(".")
    rnd = random.Random(seed)
    kinds = _kind_table()
    names = names or 10 ** 9
    records = records or 10 ** 12
    nrec = 0
    nnames = 0
    cand = {"exist": [], "nodata": [], "referral": [], "nx_parent": [], "a_names": []}
    groups = ["%s-g%d" % (WORDS[g % len(WORDS)], g) for g in range(2000)]
    out = open(zone_path, "w", buffering=1 << 20)
    w = out.write
    w("$ORIGIN %s\n$TTL 3600\n" % origin)
    w("@ SOA ns1 hostmaster 2024050101 7200 3600 1209600 3600\n")
    w("@ NS ns1\n@ NS ns2\n@ MX 10 mail\n@ TXT \"v=spf1 mx -all\"\n@ A 192.0.2.1\n@ AAAA 2001:db8::1\n")
    w("ns1 A 192.0.2.53\nns1 AAAA 2001:db8::53\nns2 A 192.0.2.54\nns2 AAAA 2001:db8::54\n")
    w("mail A 192.0.2.25\nmail AAAA 2001:db8::25\n")
    w("*.wild A 192.0.2.80\n*.wild AAAA 2001:db8::80\n*.wild TXT \"wildcard\"\n")
    w("apps A 192.0.2.81\n*.apps CNAME www\nwww A 192.0.2.82\nwww AAAA 2001:db8::82\n")
    nrec += 19
    nnames += 9
    cand["exist"] += [("@", "SOA"), ("@", "NS"), ("@", "MX"), ("@", "A"), ("ns1", "A"), ("mail", "AAAA"),
                      ("www", "A")]
    cand["nodata"] += [("@", "SRV"), ("wild", "A")]
    cand["a_names"] += ["www", "mail"]
    last = ("www", "A")
    i = 0
    while nnames < names and nrec < records:
        i += 1
        word = WORDS[rnd.randrange(len(WORDS))]
        if rnd.random() < 0.25:
            owner = "%s-%d.%s" % (word, i, groups[rnd.randrange(len(groups))])
        else:
            owner = "%s-%d" % (word, i)
        kind = kinds[rnd.randrange(len(kinds))]
        if kind == "cname" and not cand["a_names"]:
            kind = "a"
        nnames += 1
        if kind in ("a", "a_aaaa", "mx", "txt"):
            count = rnd.randint(2, 4) if rnd.random() < 0.2 else 1
            for k in range(count):
                w("%s A %s\n" % (owner, _a(i, k)))
            nrec += count
            cand["exist"].append((owner, "A"))
            last = (owner, "A")
            if len(cand["a_names"]) < 50000:
                cand["a_names"].append(owner)
            if kind == "a_aaaa":
                w("%s AAAA %s\n" % (owner, _aaaa(i)))
                nrec += 1
                cand["exist"].append((owner, "AAAA"))
            elif kind == "mx":
                w("%s MX 10 mail\n%s MX 20 %s\n" % (owner, owner, owner))
                nrec += 2
                cand["exist"].append((owner, "MX"))
            elif kind == "txt":
                w("%s TXT \"v=spf1 ip4:%s -all\" \"site-verification=%08x\"\n"
                  % (owner, _a(i), rnd.getrandbits(32)))
                nrec += 1
                cand["exist"].append((owner, "TXT"))
            if kind == "a":
                cand["nodata"].append((owner, "AAAA"))
            else:
                cand["nodata"].append((owner, "SRV"))
        elif kind == "aaaa":
            w("%s AAAA %s\n" % (owner, _aaaa(i)))
            nrec += 1
            cand["exist"].append((owner, "AAAA"))
            cand["nodata"].append((owner, "A"))
            last = (owner, "AAAA")
        elif kind == "cname":
            if rnd.random() < 0.8:
                target = cand["a_names"][rnd.randrange(len(cand["a_names"]))]
            else:
                target = "cdn%d.example.net." % (i % 97)
            w("%s CNAME %s\n" % (owner, target))
            nrec += 1
            cand["exist"].append((owner, "A"))
        else:  # delegation
            if rnd.random() < 0.7:
                w("%s NS ns1.%s\n%s NS ns2.%s\n" % (owner, owner, owner, owner))
                w("ns1.%s A %s\nns1.%s AAAA %s\n" % (owner, _a(i, 1), owner, _aaaa(i, 1)))
                w("ns2.%s A %s\nns2.%s AAAA %s\n" % (owner, _a(i, 2), owner, _aaaa(i, 2)))
                nrec += 6
            else:
                w("%s NS ns1.provider%d.example.org.\n%s NS ns2.provider%d.example.org.\n"
                  % (owner, i % 13, owner, i % 13))
                nrec += 2
            cand["referral"].append(owner)
        if kind not in ("deleg", "cname"):
            cand["nx_parent"].append(owner)
    out.close()
    info = {"origin": origin, "names": nnames, "records": nrec, "seed": seed, "groups": len(groups),
            "last": (last[0] + "." + origin, last[1])}  # late in the file: answered only once all is loaded
    if want_queries:
        info["cand"] = cand
        info["groups_list"] = groups
    return info


def _fqdn(owner, origin):
    return origin if owner == "@" else owner + "." + origin


def query_file(path, info, count=200000, seed=7):
    """Write a dnsperf input file from generate(..., want_queries=True); returns the mix actually written."""
    rnd = random.Random(seed)
    origin = info["origin"]
    cand = info["cand"]
    groups = info["groups_list"]
    lines = []
    mix = {"exist": 0, "nxdomain": 0, "nodata": 0, "referral": 0}
    for _ in range(count):
        r = rnd.random()
        if r < 0.80:
            mix["exist"] += 1
            if rnd.random() < 0.03:  # wildcard matches
                if rnd.random() < 0.5:
                    lines.append("h%d.wild.%s %s" % (rnd.getrandbits(24), origin, rnd.choice(("A", "AAAA", "TXT"))))
                else:
                    lines.append("a%d.apps.%s A" % (rnd.getrandbits(24), origin))
                continue
            owner, qtype = cand["exist"][rnd.randrange(len(cand["exist"]))]
            lines.append("%s %s" % (_fqdn(owner, origin), qtype))
        elif r < 0.90:
            mix["nxdomain"] += 1
            if rnd.random() < 0.5:
                lines.append("nx-%d.%s A" % (rnd.getrandbits(30), origin))
            else:
                parent = cand["nx_parent"][rnd.randrange(len(cand["nx_parent"]))]
                lines.append("%s.%s %s" % (rnd.choice(("foo", "old", "x1", "_dmarc")), _fqdn(parent, origin),
                                           rnd.choice(("A", "AAAA", "TXT"))))
        elif r < 0.95:
            mix["nodata"] += 1
            if rnd.random() < 0.2:
                lines.append("%s.%s A" % (groups[rnd.randrange(len(groups))], origin))  # empty non-terminal
            else:
                owner, qtype = cand["nodata"][rnd.randrange(len(cand["nodata"]))]
                lines.append("%s %s" % (_fqdn(owner, origin), qtype))
        else:
            mix["referral"] += 1
            owner = cand["referral"][rnd.randrange(len(cand["referral"]))]
            if rnd.random() < 0.5:
                lines.append("%s A" % _fqdn(owner, origin))
            else:
                lines.append("www.%s %s" % (_fqdn(owner, origin), rnd.choice(("A", "AAAA", "MX"))))
    with open(path, "w") as f:
        f.write("\n".join(lines))
        f.write("\n")
    return {k: round(v / count, 4) for k, v in mix.items()}


if __name__ == "__main__":
    import sys
    import time
    t = time.time()
    inf = generate(sys.argv[1], names=int(sys.argv[2]) if len(sys.argv) > 2 else 100000, want_queries=True)
    print({k: v for k, v in inf.items() if k not in ("cand", "groups_list")}, "%.1fs" % (time.time() - t))
    if len(sys.argv) > 3:
        print(query_file(sys.argv[3], inf))
