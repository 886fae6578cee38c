"""test_metrics.py -- GET /metrics (Prometheus text, SPEC.md "Management"): the values move as queries,
transfers and NOTIFYs happen between a primary (127.0.0.1) and its secondary (127.0.0.2), the
secondaries of a primary zone show their serial lag and when they were seen, a change through the change
path lands in the commit latency histogram, the API key is required; and a real Prometheus (Debian's
`prometheus`, 2.42: no custom headers, so the key goes as `authorization: {credentials: KEY}`, a Bearer
token) scrapes tandemd and answers queries about it."""

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.zone
import pytest

from conftest import skip_peer
from harness import Acl, Remote, TandemApi, Zone, secondary, stop_process, xfr
from harness.ports import free_port

PROMETHEUS = Path("/usr/bin/prometheus")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse(text):
    """{(name, frozenset of label pairs): value} of an exposition; checks every line's shape."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            assert re.match(r"^# (HELP|TYPE) \w+ ", line) or not line, line
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def scrape(t, path="/metrics"):
    st, text, hdrs = t.call("GET", path)
    assert st == 200, text
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(text)


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def test_metrics_move_with_queries_transfers_and_notify(tmp_path):
    (tmp_path / "m.zone").write_text(xfr.zone_text("m.test.", 10))
    ns1 = TandemApi(tmp_path, [], name="ns1", addr="127.0.0.1", extra_server={"source-address": "127.0.0.1"})
    ns2 = TandemApi(tmp_path, [], name="ns2", addr="127.0.0.2", extra_server={"source-address": "127.0.0.2"})
    ns1.zones = [Zone("m.test.", tmp_path / "m.zone", notify=[Remote.of(ns2)],
                      acl=[Acl("127.0.0.0/8", allow=("transfer",))])]
    ns2.zones = [secondary("m.test.", [Remote.of(ns1)], acl=[Acl("127.0.0.1", allow=("notify",))])]
    try:
        for s in (ns1, ns2):
            s.serve()
        xfr.wait_serial(ns2, "m.test.", 10)

        # The key is required, as for the rest of the API; /api/v1/metrics is the same text.
        st, _, _ = ns1.call("GET", "/metrics", key="wrong")
        assert st == 401
        before = scrape(ns1, "/api/v1/metrics")

        # Queries: by protocol, type and rcode, exactly as many as asked.
        for _ in range(3):
            r = dns.query.udp(dns.message.make_query("www.m.test.", "A"), ns1.addr, port=ns1.port, timeout=2)
            assert r.rcode() == dns.rcode.NOERROR
        r = dns.query.udp(dns.message.make_query("nope.m.test.", "AAAA"), ns1.addr, port=ns1.port, timeout=2)
        assert r.rcode() == dns.rcode.NXDOMAIN
        dns.query.tcp(dns.message.make_query("m.test.", "MX"), ns1.addr, port=ns1.port, timeout=2)
        dns.query.udp(dns.message.make_query("m.test.", "TYPE65280"), ns1.addr, port=ns1.port, timeout=2)
        # A transfer out (AXFR by the test) and a NOTIFY the primary refuses (it is no secondary).
        z = dns.zone.from_xfr(dns.query.xfr(ns1.addr, "m.test.", port=ns1.port, timeout=5))
        assert z.get_rdataset("www", "A") is not None
        n = dns.message.make_query("m.test.", "SOA")
        n.set_opcode(dns.opcode.NOTIFY)
        assert dns.query.udp(n, ns1.addr, port=ns1.port, timeout=2).rcode() == dns.rcode.REFUSED

        after = scrape(ns1)
        q = "tandem_queries_total"
        assert val(after, q, protocol="udp", type="A", rcode="NOERROR") - \
            val(before, q, protocol="udp", type="A", rcode="NOERROR") == 3
        assert val(after, q, protocol="udp", type="AAAA", rcode="NXDOMAIN") - \
            val(before, q, protocol="udp", type="AAAA", rcode="NXDOMAIN") == 1
        assert val(after, q, protocol="tcp", type="MX", rcode="NOERROR") - \
            val(before, q, protocol="tcp", type="MX", rcode="NOERROR") == 1
        assert val(after, q, protocol="udp", type="other", rcode="NOERROR") - \
            val(before, q, protocol="udp", type="other", rcode="NOERROR") == 1
        assert val(after, "tandem_transfers_out_total", type="axfr", result="ok") - \
            val(before, "tandem_transfers_out_total", type="axfr", result="ok") == 1
        assert val(after, "tandem_notify_in_total", result="refused") - \
            val(before, "tandem_notify_in_total", result="refused") == 1
        assert val(after, "tandem_zones", role="primary", state="ok") == 1
        # Series stay bounded: every type label is of the fixed set.
        types = {dict(k[1])["type"] for k in after if k[0] == q}
        assert types <= {"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "NAPTR", "DS", "DNSKEY",
                         "TLSA", "SVCB", "HTTPS", "SPF", "IXFR", "AXFR", "ANY", "CAA", "other"}, types

        # A change on the primary: the change path's latency histogram, NOTIFY out, IXFR in on ns2.
        b1, b2 = scrape(ns1), scrape(ns2)
        xfr.write_zone(ns1.zone_path("m.test."), xfr.zone_text("m.test.", 11, ["new A 192.0.2.11"]))
        assert ns1.call("POST", "zones/m.test/reload")[0] == 202
        xfr.wait_serial(ns2, "m.test.", 11)
        h = "tandem_change_commit_seconds"

        def moved():
            a1, a2 = scrape(ns1), scrape(ns2)
            return (val(a1, h + "_count") > val(b1, h + "_count") and
                    val(a1, "tandem_notify_out_total", result="acknowledged") >
                    val(b1, "tandem_notify_out_total", result="acknowledged") and
                    val(a2, "tandem_transfers_in_total", type="ixfr", result="ok") >
                    val(b2, "tandem_transfers_in_total", type="ixfr", result="ok") and
                    val(a2, "tandem_notify_in_total", result="accepted") >
                    val(b2, "tandem_notify_in_total", result="accepted")), a1
        deadline = time.monotonic() + 10
        while True:
            ok, a1 = moved()
            if ok:
                break
            assert time.monotonic() < deadline, "metrics did not move\n%s" % a1
            time.sleep(0.1)
        assert val(a1, h + "_bucket", le="+Inf") == val(a1, h + "_count")
        assert val(a1, "tandem_notify_out_total", result="sent") > val(b1, "tandem_notify_out_total", result="sent")

        # The secondary as its primary sees it: in sync, seen lately.
        deadline = time.monotonic() + 10
        while val(scrape(ns1), "tandem_secondary_serial_lag", zone="m.test.", secondary="127.0.0.2") != 0 or \
                ("tandem_secondary_serial_lag", frozenset({("zone", "m.test."), ("secondary", "127.0.0.2")})) \
                not in scrape(ns1):
            assert time.monotonic() < deadline, ns1.log_tail()
            time.sleep(0.1)
        seen = val(scrape(ns1), "tandem_secondary_last_seen_seconds", zone="m.test.", secondary="127.0.0.2")
        assert 0 <= seen < 600
        assert val(scrape(ns2), "tandem_zones", role="secondary", state="ok") == 1
    finally:
        ns2.stop()
        ns1.stop()


def prometheus_query(port, expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_a_real_prometheus_scrapes_tandemd(tmp_path):
    if not PROMETHEUS.exists():
        skip_peer("prometheus not installed (Debian package prometheus)")
    t = TandemApi(tmp_path, [Zone("m.test.", tmp_path / "m.zone")])
    (tmp_path / "m.zone").write_text(xfr.zone_text("m.test.", 1))
    prom = None
    with t:
        for _ in range(5):
            dns.query.udp(dns.message.make_query("www.m.test.", "A"), t.addr, port=t.port, timeout=2)
        pdir = tmp_path / "prometheus"
        pdir.mkdir()
        (pdir / "key").write_text(t.key())
        port = free_port()
        (pdir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n"
            "  - job_name: tandem\n"
            "    authorization:\n      credentials_file: %s\n"
            "    static_configs:\n      - targets: ['%s:%d']\n" % (pdir / "key", t.addr, t.http_port))
        log = open(pdir / "log", "wb")
        prom = subprocess.Popen([str(PROMETHEUS), "--config.file=%s" % (pdir / "prometheus.yml"),
                                 "--storage.tsdb.path=%s" % (pdir / "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port],
                                stdout=log, stderr=subprocess.STDOUT, cwd=pdir)
        try:
            deadline = time.monotonic() + 30
            up = queries = None
            while time.monotonic() < deadline:
                assert prom.poll() is None, (pdir / "log").read_text()
                try:
                    up = prometheus_query(port, 'up{job="tandem"}')
                    queries = prometheus_query(
                        port, 'tandem_queries_total{protocol="udp",type="A",rcode="NOERROR"}')
                except OSError:
                    pass
                if up and up[0]["value"][1] == "1" and queries:
                    break
                time.sleep(0.5)
            assert up and up[0]["value"][1] == "1", (up, (pdir / "log").read_text()[-3000:])
            assert queries and float(queries[0]["value"][1]) >= 5, queries
            zones = prometheus_query(port, 'tandem_zones{role="primary",state="ok"}')
            assert zones and zones[0]["value"][1] == "1"
        finally:
            stop_process(prom)
            log.close()
