"""test_reconfig.py -- `tandem reconfig` / POST /api/v1/reconfig: the configuration file read again and
applied without a look at the zone files of the zones kept (NSD's `nsd-control reconfig`):

- a zone added to the file is loaded and answers; the file of a zone kept, edited meanwhile, is not read (its
  old data is still served; a SIGHUP then reads it); the answer counts what happened;
- the same text again: nothing to apply;
- a zone gone from the file is removed with its data; a zone pointed at another file serves that file; a
  primary made secondary keeps its data in its new role;
- a configuration that does not load changes nothing (422, the CLI exits non-zero and says so);
- a read-only key and a key limited to some zones are refused (403) and nothing changes;
- the catalogs the server produces change by the members that came, went or changed (an IXFR of exactly
  those records, a coo for a member moving to another catalog), at a reconfig as at a SIGHUP, and a
  restart, which writes them whole, finds nothing to change.
"""

import time

import dns.rcode

from catalog_util import TandemC
from harness import dnsq, xfr
from harness.ports import free_port


def zone_text(name, serial=1, www="192.0.2.80"):
    return ("$ORIGIN %s\n$TTL 3600\n@ SOA ns1 hostmaster %d 7200 900 1209600 300\n@ NS ns1\n"
            "ns1 A 192.0.2.1\nwww A %s\n") % (name, serial, www)


def www(t, zone):
    r = dnsq.ask(t, "www." + zone, "A")
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return dns.rcode.to_text(r.rcode())
    return r.answer[0][0].address


def test_reconfig_applies_the_file_without_reading_kept_zone_files(tmp_path):
    files = {}
    for name in ("a.recon.test.", "b.recon.test.", "c.recon.test.", "d.recon.test."):
        files[name] = tmp_path / (name.split(".")[0] + ".zone")
        files[name].write_text(zone_text(name))
    zones = [{"name": "a.recon.test.", "type": "primary", "file": str(files["a.recon.test."])},
             {"name": "b.recon.test.", "type": "primary", "file": str(files["b.recon.test."])}]

    remotes = []

    def conf(s):
        out = {"server": s.server_section(), "http": s.http_section(), "zones": zones}
        if remotes:
            out["remotes"] = remotes
        return out

    t = TandemC(tmp_path, "recon", conf, ready_zones=["b.recon.test."])
    with t:
        t.wait_api()
        assert www(t, "a.recon.test.") == "192.0.2.80"
        assert www(t, "c.recon.test.") == "REFUSED"

        # c added to the file; a's file edited (not through the configuration).
        zones.append({"name": "c.recon.test.", "type": "primary", "file": str(files["c.recon.test."])})
        t.write_config()
        files["a.recon.test."].write_text(zone_text("a.recon.test.", serial=2, www="192.0.2.81"))
        mark = t.log_mark()
        st, body, _ = t.call("POST", "reconfig")
        assert st == 200, body
        assert (body["unchanged"], body["zones"], body["added"], body["removed"], body["loaded"]) == \
            (False, 3, 1, 0, 0)
        assert body["file"].endswith("tandem.yaml")
        assert www(t, "c.recon.test.") == "192.0.2.80"
        assert www(t, "a.recon.test.") == "192.0.2.80"      # its file was not read
        assert "reconfigured: 3 zones, 1 added, 0 removed, 0 loaded again" in t.log_since(mark)
        # Only the new zone's file was read: the others were not even looked at (a SIGHUP's pass counts
        # every zone as unchanged, read or parsed).
        assert "zone files: 0 unchanged (same size and time, not read), 1 read and hashed, 1 parsed" \
            in t.log_since(mark)

        # The same text again: nothing to do.
        r = t.cli("reconfig")
        assert r.returncode == 0, r.stderr
        assert "unchanged, nothing to apply (3 zones)" in r.stdout

        # b removed; a pointed at another file.
        a2 = tmp_path / "a2.zone"
        a2.write_text(zone_text("a.recon.test.", serial=3, www="192.0.2.82"))
        zones[:] = [{"name": "a.recon.test.", "type": "primary", "file": str(a2)}, zones[2]]
        t.write_config()
        r = t.cli("reconfig", "--json")
        assert r.returncode == 0, r.stderr
        assert '"removed": 1' in r.stdout and '"loaded": 1' in r.stdout and '"added": 0' in r.stdout
        assert www(t, "b.recon.test.") == "REFUSED"
        assert www(t, "a.recon.test.") == "192.0.2.82"
        assert not [n for n in t.stored_zones()[0] if n.startswith("b.recon")]
        assert dnsq.ask(t, "a.recon.test.", "SOA").answer[0][0].serial == 3

        # c made a secondary (of a primary that does not answer): loaded in its new role, data kept.
        remotes.append({"name": "gone", "address": ["127.0.0.1@%d" % free_port()]})
        zones[1] = {"name": "c.recon.test.", "type": "secondary", "primaries": ["gone"]}
        t.write_config()
        st, body, _ = t.call("POST", "reconfig")
        assert st == 200, body
        assert (body["added"], body["removed"], body["loaded"]) == (0, 0, 1)
        assert www(t, "c.recon.test.") == "192.0.2.80"
        assert t.api_zones()["c.recon.test."]["type"] == "secondary"

        # A configuration that does not load: 422, nothing changed.
        good = t.conf_path.read_text()
        t.conf_path.write_text(good.replace('"zones"', '"zonez"', 1))
        st, body, _ = t.call("POST", "reconfig")
        assert st == 422, body
        assert "not loaded" in body["error"] and "the running configuration is kept" in body["error"]
        r = t.cli("reconfig")
        assert r.returncode != 0 and "not loaded" in r.stderr
        assert www(t, "c.recon.test.") == "192.0.2.80"
        assert www(t, "a.recon.test.") == "192.0.2.82"
        t.conf_path.write_text(good)

        # Keys that may not: read-only, and limited to some zones. Nothing changes.
        st, rk, _ = t.call("POST", "apikeys", {"name": "reader", "scope": "read"})
        assert st == 201, rk
        st, zk, _ = t.call("POST", "apikeys", {"name": "a-only", "scope": "write",
                                               "zones": ["a.recon.test."]})
        assert st == 201, zk
        zones.append({"name": "d.recon.test.", "type": "primary", "file": str(files["d.recon.test."])})
        t.write_config()
        for key in (rk["key"], zk["key"]):
            st, body, _ = t.call("POST", "reconfig", key=key)
            assert st == 403, body
        assert www(t, "d.recon.test.") == "REFUSED"

        # A SIGHUP after all this reads what reconfig left alone, and serves the same zones.
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: 3 zones", timeout=60, mark=mark)
        assert www(t, "d.recon.test.") == "192.0.2.80"
        assert www(t, "a.recon.test.") == "192.0.2.82"


def test_reconfig_reads_a_large_zones_new_file_on_the_zone_work_thread(tmp_path):
    # 10,000 records or more: given another file, the zone's file is read on the zone-work thread (as a
    # reload of that zone), not in the pass on the control thread; its change is served once read.
    name = "big.recon.test."
    hosts = "".join("h%d A 10.0.%d.%d\n" % (i, i // 250, i % 250 + 1) for i in range(10050))
    first, second = tmp_path / "big1.zone", tmp_path / "big2.zone"
    first.write_text(zone_text(name) + hosts)
    second.write_text(zone_text(name, serial=2, www="192.0.2.90") + hosts)
    zones = [{"name": name, "type": "primary", "file": str(first)}]

    def conf(s):
        return {"server": s.server_section(), "http": s.http_section(), "zones": zones}

    t = TandemC(tmp_path, "recon-big", conf, ready_zones=[name])
    with t:
        t.wait_api()
        assert www(t, name) == "192.0.2.80"
        zones[0] = {"name": name, "type": "primary", "file": str(second)}
        t.write_config()
        mark = t.log_mark()
        st, body, _ = t.call("POST", "reconfig")
        assert st == 200, body
        assert (body["added"], body["removed"], body["loaded"]) == (0, 0, 1)
        t.wait_log(r"1 large zone files \(10000 records or more\) read on the zone-work thread", timeout=10,
                   mark=mark)
        deadline = time.monotonic() + 30
        while www(t, name) != "192.0.2.90" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert www(t, name) == "192.0.2.90"
        assert dnsq.ask(t, name, "SOA").answer[0][0].serial == 2


def test_reconfig_changes_a_produced_catalog_by_its_members(tmp_path):
    zones = []

    def zone(name, **kw):
        f = tmp_path / (name + "zone")
        f.write_text(zone_text(name))
        zones.append(dict({"name": name, "type": "primary", "file": str(f)}, **kw))

    for cat in ("cat1.recon.test.", "cat2.recon.test."):
        zones.append({"name": cat, "type": "primary", "catalog": "produce", "acl": ["local"]})
    zone("x1.recon.test.", **{"member-of": "cat1.recon.test.", "group": "g1"})
    zone("x2.recon.test.", **{"member-of": "cat1.recon.test."})
    zone("x3.recon.test.", **{"member-of": "cat2.recon.test."})
    zone("plain.recon.test.")

    def conf(s):
        return {"server": s.server_section(), "http": s.http_section(), "zones": zones,
                "acls": [{"name": "local", "address": ["127.0.0.1"], "allow": ["transfer"]}]}

    def by_name(name):
        return next(z for z in zones if z["name"] == name)

    def members(recs):
        """{member: owner} of a catalog's member PTRs (not its coo ones)."""
        return {rd: o for o, ty, _, rd in recs if ty == "PTR" and not o.startswith("coo.")}

    t = TandemC(tmp_path, "recon", conf, ready_zones=["x3.recon.test."])
    with t:
        t.wait_api()
        cats = {c: xfr.serial_and_records(t, c) for c in ("cat1.recon.test.", "cat2.recon.test.")}
        owner = {m: o for c in cats for m, o in members(cats[c][1]).items()}
        assert set(owner) == {"x1.recon.test.", "x2.recon.test.", "x3.recon.test."}

        def reconfig(changed):
            """Applies the configuration; changed: the catalogs that must change. Returns, for those,
            {catalog: (removed, added)} as sets of (owner, type, rdata) read from an IXFR, after checking
            that it turns the AXFR before into the one after; the others must not have changed."""
            t.write_config()
            st, body, _ = t.call("POST", "reconfig")
            assert st == 200, body
            out = {}
            for c, (serial, recs) in list(cats.items()):
                now = xfr.serial_and_records(t, c)
                if c not in changed:
                    assert now == (serial, recs), c
                    continue
                removed, added = xfr.ixfr_changes(t, c, serial)
                assert recs - removed | added == now[1], c
                out[c] = ({(o, ty, rd) for o, ty, _, rd in removed}, {(o, ty, rd) for o, ty, _, rd in added})
                cats[c] = now
                owner.update(members(now[1]))
            return out

        # x4 comes, x2 goes, x1 changes group: one change of cat1 with exactly those records.
        zone("x4.recon.test.", **{"member-of": "cat1.recon.test."})
        zones.remove(by_name("x2.recon.test."))
        by_name("x1.recon.test.")["group"] = "g2"
        mark = t.log_mark()
        x1 = owner["x1.recon.test."]
        got = reconfig({"cat1.recon.test."})
        assert got["cat1.recon.test."] == (
            {(owner["x2.recon.test."], "PTR", "x2.recon.test."), ("group." + x1, "TXT", '"g1"')},
            {(owner["x4.recon.test."], "PTR", "x4.recon.test."), ("group." + x1, "TXT", '"g2"')})
        assert "cat1.recon.test.: catalog members: 1 added, 1 removed, 1 changed" in t.log_since(mark)

        # x1 moves to cat2: cat1 keeps it with a coo naming cat2 (RFC 9432 5.6), cat2 lists it.
        by_name("x1.recon.test.")["member-of"] = "cat2.recon.test."
        got = reconfig({"cat1.recon.test.", "cat2.recon.test."})
        x1_in_cat2 = members(cats["cat2.recon.test."][1])["x1.recon.test."]
        assert x1_in_cat2.split(".")[0] == x1.split(".")[0]   # the same ID: a function of the name
        assert got == {"cat1.recon.test.": (set(), {("coo." + x1, "PTR", "cat2.recon.test.")}),
                       "cat2.recon.test.": (set(), {(x1_in_cat2, "PTR", "x1.recon.test."),
                                                    ("group." + x1_in_cat2, "TXT", '"g2"')})}

        # Zones that are no member come and go: nothing changes.
        zone("y.recon.test.")
        zones.remove(by_name("plain.recon.test."))
        reconfig(set())

        # A SIGHUP with a changed configuration does the same: x5 joins cat2, one change of one member.
        zone("x5.recon.test.", **{"member-of": "cat2.recon.test."})
        mark = t.log_mark()
        t.write_config()
        t.reload()
        t.wait_log(r"cat2\.recon\.test\.: catalog member x5\.recon\.test\. added", mark=mark)
        serial, recs = cats["cat2.recon.test."]
        removed, added = xfr.ixfr_changes(t, "cat2.recon.test.", serial)
        now = xfr.serial_and_records(t, "cat2.recon.test.")
        assert removed == set() and {(ty, rd) for _, ty, _, rd in added} == {("PTR", "x5.recon.test.")}
        assert recs | added == now[1]
        assert xfr.serial_and_records(t, "cat1.recon.test.") == cats["cat1.recon.test."]
        cats["cat2.recon.test."] = now
        # The same text again: nothing to write.
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reload: .* unchanged", mark=mark)
        assert all(xfr.serial_and_records(t, c) == cats[c] for c in cats)

        # Written whole at a restart: nothing to change, the same serials and records.
        t.stop()
        t.serve()
        for c, before in cats.items():
            assert xfr.serial_and_records(t, c) == before, (c, t.log_tail(20))
