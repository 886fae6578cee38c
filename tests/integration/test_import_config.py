"""test_import_config.py -- `tandem import-config` (issue 11, "Migration"):

- the configurations the harness writes for BIND, Knot and NSD (a primary with TSIG, NOTIFY and transfer ACLs;
  a secondary of it) convert with nothing left out (exit 0); `tandemd --check` accepts every result; a Tandem
  started from the converted secondary's file, in that secondary's place, replicates from the same server:
  the zone arrives, and a change on the primary (NOTIFY, then a transfer) reaches it. One test per peer.
- named.conf syntax: the three comment styles, quoted strings holding comment characters, `include` followed
  (relative to the including file), BIND's "address and key" idiom, named ACLs and primaries lists; what has
  no equivalent is reported with its file:line and the exit status is 3; syntax errors stop with 1 and
  nothing written; -o never overwrites.
"""

import shutil
import subprocess
import time
import types

import pytest
import yaml

from conftest import skip_peer
from harness import BUILD, Acl, Bind, Key, Knot, Nsd, Remote, Zone, secondary, stop_process
from harness import xfr
from harness.ports import free_port

TANDEM = BUILD / "tandem"
TANDEMD = BUILD / "tandemd"
ZONE = "imp.test."


def import_config(*args, cwd=None):
    return subprocess.run([str(TANDEM), "import-config"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30, cwd=cwd)


def check(conf):
    return subprocess.run([str(TANDEMD), "--check", "-c", str(conf)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("cls", [Bind, Knot, Nsd], ids=["bind", "knot", "nsd"])
def test_converted_secondary_replicates_from_the_same_server(tmp_path, cls):
    if not cls.binary.exists():
        skip_peer(cls.binary.name)
    key = Key.generate("xfr-key.")
    p_port, s_port = free_port(), free_port()
    src = tmp_path / "imp.zone"
    src.write_text(xfr.zone_text(ZONE, 1, ["www A 192.0.2.1"]))
    primary = cls(tmp_path, [Zone(ZONE, src, notify=[Remote("127.0.0.1", s_port, key=key)],
                                  acl=[Acl(["127.0.0.1"], key=key, allow=["transfer"])])],
                  name="primary", port=p_port)
    sec = cls(tmp_path, [secondary(ZONE, [Remote("127.0.0.1", p_port, key=key)],
                                   acl=[Acl(["127.0.0.1"], key=key, allow=["transfer"])])],
              name="secondary", port=s_port)
    outs = {}
    for role, server in (("primary", primary), ("secondary", sec)):
        conf = server.prepare()
        out = tmp_path / ("%s.yaml" % role)
        r = import_config(conf, "-o", out, "--data-dir", tmp_path / ("%s-data" % role))
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        c = check(out)
        assert c.returncode == 0, c.stdout + c.stderr + out.read_text()
        outs[role] = yaml.safe_load(out.read_text())
    # What the secondary's file says, in Tandem's words.
    t = outs["secondary"]
    assert t["server"]["listen"] == ["127.0.0.1@%d" % s_port]
    assert [k["name"] for k in t["keys"]] == [key.name] and t["keys"][0]["secret"] == key.secret
    (z,) = t["zones"]
    assert z["name"] == ZONE and z["type"] == "secondary"
    (remote,) = [r for r in t["remotes"] if r["name"] in z["primaries"]]
    assert remote["address"] == ["127.0.0.1@%d" % p_port] and remote["key"] == key.name
    p = outs["primary"]
    (pz,) = p["zones"]
    assert pz["type"] == "primary" and pz["notify"]
    acl = [a for a in p["acls"] if a["name"] in pz["acl"] and "transfer" in a["allow"]]
    assert acl and acl[0]["address"] == ["127.0.0.1"] and acl[0]["key"] == [key.name]

    # Tandem in the secondary's place, from the converted file.
    (tmp_path / "secondary-run").mkdir()
    log = open(tmp_path / "secondary-run" / "tandemd.log", "wb")
    with primary:
        proc = subprocess.Popen([str(TANDEMD), "-c", str(tmp_path / "secondary.yaml")], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path / "secondary-run")
        try:
            me = types.SimpleNamespace(addr="127.0.0.1", port=s_port)
            xfr.wait_serial(me, ZONE, 1, timeout=20)
            primary.zone_path(ZONE).write_text(xfr.zone_text(ZONE, 2, ["www A 192.0.2.1", "new A 192.0.2.2"]))
            primary.reload_zone(ZONE)
            xfr.wait_serial(me, ZONE, 2, timeout=20)
        finally:
            stop_process(proc)
            log.close()


NAMED = """\
# a hash comment with { braces } and ; semicolons
// a C++ comment: zone "nope" { type primary; };
/* a C comment
   over lines: key "nope" { }; */
options {
    directory "%(dir)s";      # relative zone files are here
    listen-on port 5353 { 127.0.0.1; 192.0.2.53; };
    listen-on-v6 { none; };
    recursion no;
    allow-transfer { none; };
    pid-file "/run/named/named.pid"; notify-delay 3;
    max-cache-size 10m;       // not mapped: reported
};
include "keys.conf";
acl "secondaries" { 192.0.2.0/24; 2001:db8::/32; };
primaries "upstream" port 5300 { 192.0.2.1 key "k1"; 192.0.2.2; };
zone "a.test" {
    type master; notify-delay 0;
    file "a.zone";
    also-notify { 192.0.2.9 port 5301 key "k1"; };
    allow-transfer { secondaries; key "k2"; !{ !{ 198.51.100.1; }; any; }; key "k1"; };
    allow-update { key "k1"; };
};
zone "b.test" IN {
    type slave; notify-delay 120;
    masters { upstream; };
    file "/var/cache/b.zone";
};
zone "c.test" { type forward; forwarders { 192.0.2.7; }; };
logging { channel x { stderr; }; };
"""

KEYS = """\
key "k1" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="; };
key "k2" { algorithm "hmac-sha512"; secret "YW5vdGhlcnNlY3JldGFub3RoZXJzZWNyZXRhbm90aGVy"; }; # "quoted" ok
"""


def test_named_conf_syntax_and_what_is_left_out(tmp_path):
    (tmp_path / "a.zone").write_text(xfr.zone_text("a.test.", 1))
    conf = tmp_path / "named.conf"
    conf.write_text(NAMED % {"dir": tmp_path})
    (tmp_path / "keys.conf").write_text(KEYS)
    r = import_config(conf, "--from", "bind")
    assert r.returncode == 3, r.stderr
    out = yaml.safe_load(r.stdout)
    assert out["server"]["listen"] == ["127.0.0.1@5353", "192.0.2.53@5353"]
    assert {k["name"]: k["algorithm"] for k in out["keys"]} == {"k1": "hmac-sha256", "k2": "hmac-sha512"}
    zones = {z["name"]: z for z in out["zones"]}
    assert set(zones) == {"a.test", "b.test"}
    a, b = zones["a.test"], zones["b.test"]
    assert a["type"] == "primary" and a["file"] == "%s/a.zone" % tmp_path
    assert b["type"] == "secondary" and "file" not in b      # Tandem keeps it in its store
    remotes = {r["name"]: r for r in out["remotes"]}
    assert sorted(remotes[n]["address"][0] for n in b["primaries"]) == ["192.0.2.1@5300", "192.0.2.2@5300"]
    assert [remotes[n].get("key") for n in b["primaries"]] == ["k1", None]
    (n,) = a["notify"]
    assert remotes[n] == {"name": n, "address": ["192.0.2.9@5301"], "key": "k1"}
    acls = {x["name"]: x for x in out["acls"]}
    got = sorted((tuple(acls[n].get("address", [])), tuple(acls[n].get("key", [])), tuple(acls[n]["allow"]))
                 for n in a["acl"])
    assert got == sorted([(("192.0.2.0/24", "2001:db8::/32"), (), ("transfer",)),
                          ((), ("k2",), ("transfer",)),
                          (("198.51.100.1",), ("k1",), ("transfer",)),
                          ((), ("k1",), ("update",))])
    # Reported with file:line, then counted; the hash/C/C++ comments hid their zone and key.
    err = r.stderr
    assert "%s:12: not mapped: options { max-cache-size }" % conf in err
    assert "%s:29: not mapped: zone c.test of type forward" % conf in err
    assert "%s:30: not mapped: logging" % conf in err
    assert "%s:25: not mapped: notify-delay 120 as it is (Tandem's is at most 60, so 60 was written)" % conf in err
    assert "4 things not mapped" in err
    # notify-delay: the options' for the server, a zone's for that zone (BIND's own default, 5, is not written).
    assert out["server"]["notify-delay"] == 3
    assert a["notify-delay"] == 0 and b["notify-delay"] == 60
    assert "nope" not in r.stdout
    # The result loads in Tandem.
    out_path = tmp_path / "t.yaml"
    out_path.write_text(r.stdout)
    c = check(out_path)
    assert c.returncode == 0, c.stdout + c.stderr


@pytest.mark.parametrize("text,where,what", [
    ("options {\n  recursion no;\n", 3, "ends inside a { block"),
    ("zone \"x\" { type primary }\n", 1, "';' is missing"),
    ("/* never closed\nzone \"x\" { };\n", 1, "never closed"),
    ("zone \"x { type primary; };\n", 1, "quoted string is not closed"),
    ("include \"missing.conf\";\n", 1, "cannot read"),
    ("};\n", 1, "closes nothing"),
])
def test_named_conf_errors_stop_with_file_and_line(tmp_path, text, where, what):
    conf = tmp_path / "named.conf"
    conf.write_text(text)
    out = tmp_path / "out.yaml"
    r = import_config(conf, "-o", out)
    assert r.returncode == 1, r.stderr
    assert "%s:%d: " % (conf, where) in r.stderr and what in r.stderr, r.stderr
    assert "nothing written" in r.stderr and not out.exists()


def test_includes_nest_at_most_eight_deep_and_output_is_never_overwritten(tmp_path):
    conf = tmp_path / "named.conf"
    conf.write_text('include "named.conf";\n')          # itself: bounded, not a loop
    r = import_config(conf)
    assert r.returncode == 1 and "nest deeper than 8" in r.stderr
    conf.write_text('zone "x.test" { type primary; file "x.zone"; };\n')
    out = tmp_path / "out.yaml"
    out.write_text("mine\n")
    r = import_config(conf, "-o", out)
    assert r.returncode == 1 and "never overwritten" in r.stderr and out.read_text() == "mine\n"
    big = tmp_path / "big.conf"
    big.write_text("# " + "x" * (4 * 1024 * 1024) + "\n")
    r = import_config(big, "--from", "bind")
    assert r.returncode == 1 and "at most 4 MiB" in r.stderr
    r = import_config(conf, "--from", "powerdns")
    assert r.returncode == 1 and "bind, knot or nsd" in r.stderr


def test_nsd_and_knot_report_what_they_cannot_map(tmp_path):
    nsd = tmp_path / "nsd.conf"
    nsd.write_text("server:\n    ip-address: 127.0.0.1\n    port: 5353\n    zonesdir: \"%s\"\n"
                   "pattern:\n    name: p\nzone:\n    name: \"n.test\"  # a comment\n    zonefile: \"n.zone\"\n"
                   "    provide-xfr: 192.0.2.0/24 BLOCKED\n    include-pattern: p\n" % tmp_path)
    r = import_config(nsd)
    assert r.returncode == 3
    assert "%s:5: not mapped: pattern" % nsd in r.stderr
    assert "%s:10: not mapped: provide-xfr: 192.0.2.0/24 BLOCKED" % nsd in r.stderr
    assert "%s:11: not mapped: zone n.test: include-pattern" % nsd in r.stderr
    out = yaml.safe_load(r.stdout)
    assert out["server"]["listen"] == ["127.0.0.1@5353"]
    assert out["zones"] == [{"name": "n.test", "type": "primary", "file": "%s/n.zone" % tmp_path}]
    knot = tmp_path / "knot.conf"
    knot.write_text("server:\n    listen: 127.0.0.1@5353\nacl:\n  - id: a\n    address: 192.0.2.1-192.0.2.9\n"
                    "    action: query\ntemplate:\n  - id: default\n    storage: /srv\nzone:\n"
                    "  - domain: k.test.\n    dnssec-signing: on\n    acl: a\n")
    r = import_config(knot)
    assert r.returncode == 3
    assert "acl a: action query" in r.stderr and "acl a: the address range" in r.stderr
    assert "%s:12: not mapped: zone: dnssec-signing" % knot in r.stderr
    out = yaml.safe_load(r.stdout)
    assert out["zones"][0]["file"] == "/srv/k.test.zone"
