"""test_cli.py -- the operator's `tandem` commands against real servers (SPEC.md "Programs", "Management";
docs/cli.md).

The stories:

- keygen: the key block pastes into Tandem's configuration (`tandemd --check` takes it) and, with --bind, into
  BIND's (`named-checkconf` takes it).
- verify, no API needed: tandemd on 127.0.0.1 and knotd on 127.0.0.2 serve one zone on the same port; verify
  finds the NS set, the addresses (glue, or an A query for a name server outside the zone), asks each for the
  SOA and says OK when both hold one serial (exit 0), DIFFERS when knotd lags (exit 4), REFUSED / NO ANSWER
  for a server that does not serve the zone or is not there; exit 3 for a zone the server does not serve,
  2 when nothing answers.
- the API commands, with tandemd's http.listen on a free port: status, zone list and show (text and --json),
  the errors a person can act on (wrong key, no tandemd, no such zone, refresh on a primary: 409), the
  environment variables; and the replication view: a primary and its secondary, `zone show` on each tells
  the story, and every action is seen doing what it says -- `zone reload` serves the edited file, `zone
  notify` reaches the secondary, `zone refresh` brings a change the secondary was not told of, `zone
  retransfer` transfers the whole zone again.
"""

import base64
import json
import re
import shutil
import subprocess
import time

import pytest
import yaml

from conftest import skip_peer
from harness import BUILD, Acl, Knot, Remote, Tandem, TandemApi, Zone, secondary, tandem_cli
from harness import dnsq, xfr
from harness.ports import bindable, free_port


def shared_port(*addrs):
    """A port free on every address given (verify asks every name server on the server's port). Not
    finding one in 50 tries is a broken machine, not a reason to skip."""
    for _ in range(50):
        port = free_port(host=addrs[0])
        if all(bindable(a, port) for a in addrs[1:]):
            return port
    pytest.fail("no port free on all of %s after 50 tries" % ", ".join(addrs))


# ---- keygen

def test_keygen_block_pastes_into_tandem_and_bind(tmp_path):
    r = tandem_cli("keygen", "Xfr-Key", "--bind")
    assert r.returncode == 0, r.stderr
    yaml_part, bind_part = r.stdout.split("\n# BIND (named.conf)\n")
    keys = yaml.safe_load(yaml_part)["keys"]
    assert keys[0]["name"] == "xfr-key." and keys[0]["algorithm"] == "hmac-sha256"
    assert len(base64.b64decode(keys[0]["secret"])) == 32   # RFC 8945 6: as long as the MAC

    zone = tmp_path / "k.test.zone"
    zone.write_text("$TTL 300\n@ SOA ns1.k.test. h.k.test. 1 3600 600 86400 300\n@ NS ns1.k.test.\n"
                    "ns1.k.test. A 192.0.2.1\n")
    conf = tmp_path / "tandem.yaml"
    conf.write_text(yaml_part + "acls:\n  - name: sec\n    address: [127.0.0.2]\n    key: [xfr-key.]\n"
                    "    allow: [transfer]\nzones:\n  - name: k.test.\n    file: k.test.zone\n"
                    "    acl: [sec]\n")
    check = subprocess.run([str(BUILD / "tandemd"), "--check", "-c", str(conf)], capture_output=True,
                           text=True, timeout=30, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    assert 'key "xfr-key." {' in bind_part and "algorithm hmac-sha256;" in bind_part
    assert keys[0]["secret"] in bind_part
    # The BIND statement is also a key file for Tandem's keys: - file:.
    (tmp_path / "xfr.key").write_text("# BIND (named.conf)\n" + bind_part)
    conf.write_text(conf.read_text().replace(yaml_part, "keys:\n  - name: xfr-key.\n    file: xfr.key\n"))
    check = subprocess.run([str(BUILD / "tandemd"), "--check", "-c", str(conf)], capture_output=True,
                           text=True, timeout=30, cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    if shutil.which("named-checkconf"):
        named = tmp_path / "named.conf"
        named.write_text(bind_part)
        checked = subprocess.run(["named-checkconf", str(named)], capture_output=True, text=True,
                                 timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_keygen_algorithms_and_mistakes():
    r = tandem_cli("keygen", "big.example", "hmac-sha512", "--json")
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)
    assert key["name"] == "big.example." and key["algorithm"] == "hmac-sha512"
    assert len(base64.b64decode(key["secret"])) == 64
    two = tandem_cli("keygen", "big.example", "hmac-sha512", "--json")
    assert json.loads(two.stdout)["secret"] != key["secret"]
    r = tandem_cli("keygen", "k", "hmac-sha3")
    assert r.returncode == 1 and "unknown algorithm 'hmac-sha3'" in r.stderr
    r = tandem_cli("keygen")
    assert r.returncode == 1 and "usage: tandem keygen" in r.stderr


# ---- verify

VERIFY_ZONE = """$ORIGIN verify.test.
$TTL 300
@ SOA ns1 hostmaster {serial} 3600 600 86400 300
@ NS ns1
@ NS ns2
@ NS ns.other.test.
ns1 A 127.0.0.1
ns2 A 127.0.0.2
www A 192.0.2.80
"""

OTHER_ZONE = """$ORIGIN other.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
"""


def zone_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def two_servers(tmp_path):
    """tandemd on 127.0.0.1 (verify.test. and other.test.) and a function starting knotd on 127.0.0.2,
    same port, with the verify.test. zone at a serial of the test's choosing (or another zone)."""
    port = shared_port("127.0.0.1", "127.0.0.2")
    t = Tandem(tmp_path, [Zone("verify.test.", zone_file(tmp_path, "v.zone", VERIFY_ZONE.format(serial=7))),
                          Zone("other.test.", zone_file(tmp_path, "o.zone", OTHER_ZONE))],
               addr="127.0.0.1", port=port)
    started = [t]
    t.start()
    t.wait_ready()

    def knot(serial=7, zone="verify.test."):
        if not shutil.which(str(Knot.binary)):
            skip_peer("knotd")
        text = VERIFY_ZONE.format(serial=serial) if zone == "verify.test." else OTHER_ZONE
        k = Knot(tmp_path, [Zone(zone, zone_file(tmp_path, "k.zone", text))], addr="127.0.0.2",
                 port=port)
        started.append(k)
        k.start()
        k.wait_ready()
        return k

    yield t, knot
    for s in started:
        s.stop()


def rows(stdout):
    """The table rows of verify's text output: {(name server, address): (serial, status)}."""
    out = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 4 and words[0].endswith(".") and not line.startswith("verify.test."):
            status = " ".join(words[3:5]) if words[3] in ("NO", "NOT") else words[3]
            out[(words[0], words[1])] = (words[2], status)
    return out


def test_verify_all_name_servers_agree(two_servers):
    t, knot = two_servers
    knot(serial=7)
    r = tandem_cli("verify", "verify.test", "@127.0.0.1@%d" % t.port)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("verify.test. at 127.0.0.1@%d: serial 7; 3 name servers" % t.port)
    got = rows(r.stdout)
    assert got[("ns1.verify.test.", "127.0.0.1")] == ("7", "OK")
    assert got[("ns2.verify.test.", "127.0.0.2")] == ("7", "OK")
    # Outside the zone, no glue: its address comes from an A query to the same server.
    assert got[("ns.other.test.", "127.0.0.1")] == ("7", "OK")
    assert "all 3 addresses answer serial 7" in r.stdout

    r = tandem_cli("verify", "verify.test.", "@127.0.0.1@%d" % t.port, "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["ok"] is True and j["serial"] == 7 and j["zone"] == "verify.test."
    assert sorted(n["address"] for n in j["nameservers"]) == ["127.0.0.1", "127.0.0.1", "127.0.0.2"]


def test_verify_finds_the_lagging_name_server(two_servers):
    t, knot = two_servers
    knot(serial=6)
    r = tandem_cli("verify", "verify.test.", "@127.0.0.1@%d" % t.port)
    assert r.returncode == 4, r.stdout + r.stderr
    got = rows(r.stdout)
    assert got[("ns1.verify.test.", "127.0.0.1")] == ("7", "OK")
    assert got[("ns2.verify.test.", "127.0.0.2")] == ("6", "DIFFERS")
    assert "1 of 3 addresses do not answer serial 7" in r.stdout


def test_verify_refused_and_silent_name_servers(two_servers):
    t, knot = two_servers
    # No knotd yet: 127.0.0.2 has nobody on the port.
    r = tandem_cli("verify", "verify.test.", "@127.0.0.1@%d" % t.port, "--json")
    assert r.returncode == 4, r.stdout + r.stderr
    by_addr = {n["address"]: n for n in json.loads(r.stdout)["nameservers"]}
    assert by_addr["127.0.0.2"]["status"] == "NO ANSWER" and by_addr["127.0.0.2"]["serial"] is None
    # knotd there, but serving another zone: it refuses.
    knot(zone="other.test.")
    r = tandem_cli("verify", "verify.test.", "@127.0.0.1@%d" % t.port)
    assert r.returncode == 4, r.stdout + r.stderr
    assert rows(r.stdout)[("ns2.verify.test.", "127.0.0.2")] == ("-", "REFUSED")


def test_verify_zone_not_served_or_no_server(two_servers):
    t, _ = two_servers
    r = tandem_cli("verify", "nope.test.", "@127.0.0.1@%d" % t.port)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "answered REFUSED to the NS query for nope.test." in r.stderr
    port = free_port()
    r = tandem_cli("verify", "verify.test.", "@127.0.0.1@%d" % port)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no answer from 127.0.0.1@%d" % port in r.stderr
    r = tandem_cli("verify")
    assert r.returncode == 1 and "which zone?" in r.stderr


# ---- the API commands

@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    with TandemApi(tmp_path_factory.mktemp("cli-api"), [Zone("example.com."), Zone("example.net.")]) as s:
        yield s


def test_status(api_server):
    r = api_server.cli("status")
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(None, 1) for line in r.stdout.splitlines())
    assert lines["zones"] == "2"
    assert "127.0.0.1@%d" % api_server.port in lines["listen"]
    assert "up since" in lines["uptime"] and lines["version"] != "-"
    j = json.loads(api_server.cli("status", "--json").stdout)
    assert set(j) >= {"version", "uptime", "zones", "workers", "listen"}
    assert j["zones"] == 2
    # Global options before the command, and --json there too.
    assert json.loads(tandem_cli("--server", api_server.api_addr, "--key-file", api_server.key_file, "--json",
                                 "status").stdout)["zones"] == 2


def test_zone_list(api_server):
    r = api_server.cli("zone", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "SERIAL", "STATE", "RECORDS", "SOURCE"]
    table = {line.split()[0]: line.split() for line in lines[1:]}
    zones = {z["name"]: z for z in json.loads(api_server.cli("zone", "list", "--json").stdout)["zones"]}
    assert set(table) == set(zones) == {"example.com.", "example.net."}
    for name, z in zones.items():
        assert table[name] == [name, z["type"], str(z["serial"]), z["state"], str(z["records"]), z["source"]]
    assert zones["example.com."]["type"] == "primary" and zones["example.com."]["state"] == "ok"


def test_zone_show_primary(api_server):
    r = api_server.cli("zone", "show", "EXAMPLE.com")   # any case, with or without the dot
    assert r.returncode == 0, r.stderr
    assert "zone     example.com.\n" in r.stdout
    assert "type     primary\n" in r.stdout
    assert "secondaries seen: 0" in r.stdout
    assert "secondary side" not in r.stdout
    j = json.loads(api_server.cli("zone", "show", "example.com.", "--json").stdout)
    assert j["name"] == "example.com." and "primary" in j


def test_zone_actions_answers(api_server):
    """What the actions print (what they do: test_replication_view_and_actions_...)."""
    r = api_server.cli("zone", "reload", "example.com.")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() != ""
    r = api_server.cli("zone", "notify", "example.com.", "--json")
    assert r.returncode == 0, r.stderr
    assert "result" in json.loads(r.stdout)
    # A primary has nothing to refresh: 409, said in the API's words.
    r = api_server.cli("zone", "refresh", "example.com.")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("tandem: ") and "(409)" in r.stderr


def test_errors_a_person_can_act_on(api_server):
    r = api_server.cli("zone", "show", "nope.test.")
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stderr.startswith("tandem: ") and "404" in r.stderr
    r = tandem_cli("--server", api_server.api_addr, "--api-key", "wrong", "status")
    assert r.returncode == 2
    assert r.stderr == "tandem: the API refused the key (401): check --api-key\n"
    r = tandem_cli("--server", api_server.api_addr, "--key-file", api_server.dir / "nowhere.key", "status")
    assert r.returncode == 1 and "cannot read the API key from" in r.stderr
    port = free_port()
    r = tandem_cli("--server", "127.0.0.1@%d" % port, "--api-key", "x", "status")
    assert r.returncode == 2
    assert r.stderr == ("tandem: cannot connect to the API at 127.0.0.1@%d (connection refused): is "
                        "tandemd running with http.listen set?\n" % port)
    r = api_server.cli("zone", "frobnicate", "example.com.")
    assert r.returncode == 1 and "unknown subcommand 'frobnicate'" in r.stderr


def test_environment(api_server):
    key = api_server.key_file.read_text().strip()
    r = tandem_cli("status", "--json", env={"TANDEM_API": api_server.api_addr, "TANDEM_API_KEY": key})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["zones"] == 2


# ---- the replication view, and the actions seen at work

def repl_zone(serial, extra=()):
    return VERIFY_ZONE.replace("verify.test.", "repl.test.").format(serial=serial) + "".join(
        "%s\n" % line for line in extra)


def show(server, zone="repl.test."):
    r = server.cli("zone", "show", zone, "--json")
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout else {}


def wait_view(what, server, predicate, timeout=10):
    """Polls `zone show --json` until predicate(view) is true (bounded); the view."""
    deadline = time.monotonic() + timeout
    view = {}
    while time.monotonic() < deadline:
        view = show(server)
        if predicate(view):
            return view
        time.sleep(0.1)
    raise AssertionError("%s: not within %d s; last view %s\n%s" % (what, timeout, view, server.log_tail()))


def test_replication_view_and_actions_of_a_primary_and_its_secondary(tmp_path):
    """The operator's story: ns1 (127.0.0.1) is the primary of repl.test., ns2 (127.0.0.2) its secondary.
    `zone show` on ns2 tells where its data came from and when it expires; on ns1, ns2 holding the same
    serial. Then each action, seen at work: `zone notify` on ns1 makes ns2 check (its log); `zone reload`
    on ns1 serves the edited file (and ns2 follows); `zone refresh` on ns2 fetches a change ns1 did not
    announce; `zone retransfer` on ns2 transfers the whole zone although it is up to date."""
    (tmp_path / "repl.zone").write_text(repl_zone(42))
    ns1 = TandemApi(tmp_path, [], name="ns1", addr="127.0.0.1", extra_server={"source-address": "127.0.0.1"})
    ns2 = TandemApi(tmp_path, [], name="ns2", addr="127.0.0.2", extra_server={"source-address": "127.0.0.2"})
    ns1.zones = [Zone("repl.test.", tmp_path / "repl.zone", notify=[Remote.of(ns2)],
                      acl=[Acl("127.0.0.2", allow=("transfer",))])]
    ns2.zones = [secondary("repl.test.", [Remote.of(ns1)], acl=[Acl("127.0.0.1", allow=("notify",))])]
    try:
        for s in (ns1, ns2):
            s.serve()
        primary_at = r"127\.0\.0\.1@%d" % ns1.port
        wait_view("ns2 holds serial 42", ns2, lambda v: v.get("serial") == 42)

        r = ns2.cli("zone", "show", "repl.test.")
        assert r.returncode == 0, r.stderr
        assert "type     secondary\n" in r.stdout
        assert "serial   42\n" in r.stdout
        assert "primary used   127.0.0.1@%d\n" % ns1.port in r.stdout
        assert re.search(r"\n  last refresh   (now|\d[^\n]* ago) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): ok",
                         r.stdout), r.stdout
        assert "  next refresh   in " in r.stdout
        assert "  expires        in " in r.stdout

        # zone notify: ns2 is told, and checks. ns1's own NOTIFY of serial 42 (sent at its start, retried
        # until answered) must be answered first, so that the next one ns2 logs is the command's.
        ns2.wait_log(r"repl\.test\.: NOTIFY from %s(, refreshing| with serial 42: up to date)"
                     % r"127\.0\.0\.1@\d+")
        wait_view("ns1 sees ns2 at serial 42", ns1,
                  lambda v: any(x.get("serial") == 42 for x in v.get("primary", {}).get("secondaries", [])))
        mark = ns2.log_mark()
        r = ns1.cli("zone", "notify", "repl.test.")
        assert r.returncode == 0, r.stderr
        # It says serial 42, which ns2 has: answered, and nothing asked of ns1 (RFC 1996 3.7's hint).
        ns2.wait_log(r"repl\.test\.: NOTIFY from 127\.0\.0\.1@\d+ with serial 42: up to date \(serial 42 here\)",
                     mark=mark)
        r = ns1.cli("zone", "show", "repl.test.")
        assert "secondaries seen: 1" in r.stdout
        assert "  127.0.0.2      serial 42, in sync\n" in r.stdout
        assert "    last seen      " in r.stdout

        # zone reload: the edited file is served (and announced: ns2 follows by IXFR).
        xfr.write_zone(ns1.zone_path("repl.test."), repl_zone(43, ["reloaded A 192.0.2.43"]))
        mark = ns2.log_mark()
        r = ns1.cli("zone", "reload", "repl.test.")
        assert r.returncode == 0, r.stderr
        xfr.wait_serial(ns1, "repl.test.", 43)
        assert dnsq.ask(ns1, "reloaded.repl.test.", "A").answer[0][0].address == "192.0.2.43"
        xfr.wait_serial(ns2, "repl.test.", 43)
        ns2.wait_log(r"repl\.test\.: IXFR from %s serial 42 -> 43" % primary_at, mark=mark)

        # zone refresh: ns1 changes without telling anyone (its notify list emptied, SIGHUP); ns2, whose
        # SOA refresh is an hour away, learns of it only from the command.
        ns1.zones[0].notify = []
        ns1.prepare()
        xfr.write_zone(ns1.zone_path("repl.test."), repl_zone(44, ["reloaded A 192.0.2.43", "quiet A 192.0.2.44"]))
        mark1 = ns1.log_mark()
        ns1.reload()
        ns1.wait_log(r"reloaded: \d+ zones", mark=mark1)
        xfr.wait_serial(ns1, "repl.test.", 44)
        assert "NOTIFY serial 44" not in ns1.log_since(mark1), ns1.log_since(mark1)
        assert xfr.soa_serial(ns2, "repl.test.") == 43
        mark = ns2.log_mark()
        r = ns2.cli("zone", "refresh", "repl.test.")
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.strip().splitlines()) == 1
        ns2.wait_log(r"repl\.test\.: IXFR from %s serial 43 -> 44" % primary_at, mark=mark)
        xfr.wait_serial(ns2, "repl.test.", 44)
        assert dnsq.ask(ns2, "quiet.repl.test.", "A").answer[0][0].address == "192.0.2.44"

        # zone retransfer: up to date, transferred whole all the same.
        mark = ns2.log_mark()
        r = ns2.cli("zone", "retransfer", "repl.test.")
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.strip().splitlines()) == 1
        ns2.wait_log(r"repl\.test\.: AXFR from %s serial 44 -> 44" % primary_at, mark=mark)
        assert xfr.soa_serial(ns2, "repl.test.") == 44
        assert dnsq.ask(ns2, "quiet.repl.test.", "A").answer[0][0].address == "192.0.2.44"
    finally:
        ns2.stop()
        ns1.stop()
