"""test_catalog_groups.py -- a consumed catalog's group selects a template of settings (RFC 9432 4.4.2):
members in group "open" may be transferred by 127.0.0.3, others follow the catalog zone's own settings.
Two tandemd: a producer on 127.0.0.1, a consumer on 127.0.0.2."""

import signal
import subprocess
import time

import dns.message
import dns.query
import dns.rcode
import dns.xfr
import dns.zone
import pytest

from harness import BUILD, stop_process
from harness.ports import free_port

MEMBER = """$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.7
"""


def start(workdir, text):
    workdir.mkdir(exist_ok=True)
    (workdir / "t.yaml").write_text(text)
    log = open(workdir / "log", "w")
    return subprocess.Popen([str(BUILD / "tandemd"), "-c", "t.yaml"], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=log)


def serves(addr, port, name):
    try:
        r = dns.query.udp(dns.message.make_query(name, "A"), addr, port=port, timeout=0.5)
    except Exception:
        return False
    return r.rcode() == dns.rcode.NOERROR and len(r.answer) == 1


def rcode(addr, port, name, rdtype="SOA"):
    """The rcode of the answer, or None when nothing came back."""
    try:
        return dns.query.udp(dns.message.make_query(name, rdtype), addr, port=port, timeout=0.5).rcode()
    except Exception:
        return None


def axfr_rcode(addr, port, zone, source):
    q = dns.message.make_query(zone, "AXFR")
    r = dns.query.tcp(q, addr, port=port, timeout=2, source=source)
    return r.rcode()


def producer_head(pport, cport, server_extra=""):
    """The producer's (127.0.0.1) server:, remotes: and acls: sections: the consumer is a remote, and an
    ACL that lets it transfer."""
    return f"""server:
  listen: [127.0.0.1@{pport}]
  data-dir: var
  workers: 1
{server_extra}remotes:
  - name: consumer
    address: [127.0.0.2@{cport}]
acls:
  - name: consumer
    address: [127.0.0.2]
    allow: [transfer]
"""


def consumer_head(cport, pport):
    """The consumer's (127.0.0.2, its transfers from there) server: and remotes: sections."""
    return f"""server:
  listen: [127.0.0.2@{cport}]
  source-address: 127.0.0.2
  data-dir: var
  workers: 1
remotes:
  - name: producer
    address: [127.0.0.1@{pport}]
"""


@pytest.fixture
def pair(tmp_path):
    procs = []
    yield tmp_path, procs
    for p in procs:
        stop_process(p, 8)


def test_group_template_applies_to_its_members_only(pair):
    tmp, procs = pair
    pport, cport = free_port(host="127.0.0.1"), free_port(host="127.0.0.2")
    (tmp / "p").mkdir()
    (tmp / "p" / "member.zone").write_text(MEMBER)
    procs.append(start(tmp / "p", producer_head(pport, cport) + """zones:
  - name: cat.test.
    type: primary
    catalog: produce
    notify: [consumer]
    acl: [consumer]
  - name: open.test.
    file: member.zone
    member-of: cat.test.
    group: open
    acl: [consumer]
  - name: closed.test.
    file: member.zone
    member-of: cat.test.
    acl: [consumer]
"""))
    procs.append(start(tmp / "c", consumer_head(cport, pport) + """acls:
  - name: third
    address: [127.0.0.3]
    allow: [transfer]
templates:
  - name: open
    acl: [third]
zones:
  - name: cat.test.
    type: secondary
    catalog: consume
    primaries: [producer]
"""))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (serves("127.0.0.2", cport, "www.open.test.") and
                                                 serves("127.0.0.2", cport, "www.closed.test.")):
        time.sleep(0.05)
    log = (tmp / "c" / "log").read_text()
    assert serves("127.0.0.2", cport, "www.open.test."), log
    assert serves("127.0.0.2", cport, "www.closed.test."), log
    # The "open" group's template lets 127.0.0.3 transfer; the other member has the catalog's
    # settings (no transfer ACL at all: refused).
    assert axfr_rcode("127.0.0.2", cport, "open.test.", "127.0.0.3") == dns.rcode.NOERROR
    assert axfr_rcode("127.0.0.2", cport, "closed.test.", "127.0.0.3") == dns.rcode.REFUSED


def producer_conf(pport, cport, catalog_of_z):
    return producer_head(pport, cport) + f"""zones:
  - name: a.cat.
    type: primary
    catalog: produce
    notify: [consumer]
    acl: [consumer]
  - name: b.cat.
    type: primary
    catalog: produce
    notify: [consumer]
    acl: [consumer]
  - name: z.test.
    file: member.zone
    member-of: {catalog_of_z}
    acl: [consumer]
"""


def test_a_zone_moved_between_catalogs_keeps_its_data(pair):
    """RFC 9432 5.6: the producer leaves the zone in its old catalog with coo naming the new one; the
    consumer moves it (no delete, no new transfer) rather than dropping and adding it."""
    tmp, procs = pair
    pport, cport = free_port(host="127.0.0.1"), free_port(host="127.0.0.2")
    (tmp / "p").mkdir()
    (tmp / "p" / "member.zone").write_text(MEMBER)
    producer = start(tmp / "p", producer_conf(pport, cport, "a.cat."))
    procs.append(producer)
    procs.append(start(tmp / "c", consumer_head(cport, pport) + """zones:
  - name: a.cat.
    type: secondary
    catalog: consume
    primaries: [producer]
  - name: b.cat.
    type: secondary
    catalog: consume
    primaries: [producer]
"""))
    log = tmp / "c" / "log"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not serves("127.0.0.2", cport, "www.z.test."):
        time.sleep(0.05)
    assert serves("127.0.0.2", cport, "www.z.test."), log.read_text()
    assert "z.test.: added from catalog a.cat." in log.read_text()
    transfers = log.read_text().count("z.test.: AXFR from")
    (tmp / "p" / "t.yaml").write_text(producer_conf(pport, cport, "b.cat."))
    producer.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "moves from catalog a.cat. to b.cat." not in log.read_text():
        time.sleep(0.05)
    text = log.read_text()
    assert "z.test.: moves from catalog a.cat. to b.cat. (coo)" in text, text
    assert "z.test.: removed" not in text, text
    assert serves("127.0.0.2", cport, "www.z.test.")
    assert text.count("z.test.: AXFR from") == transfers, text


def test_server_wide_catalog_lists_every_primary_zone(pair):
    """server.catalog: the seed's "super primary" -- every zone this server is primary for goes into one
    catalog without a member-of on each; a zone added to the configuration reaches the consumer."""
    tmp, procs = pair
    pport, cport = free_port(host="127.0.0.1"), free_port(host="127.0.0.2")
    (tmp / "p").mkdir()
    (tmp / "p" / "member.zone").write_text(MEMBER)

    def conf(zones):
        text = producer_head(pport, cport, "  catalog: all.cat.\n") + """zones:
  - name: all.cat.
    type: primary
    catalog: produce
    notify: [consumer]
    acl: [consumer]
"""
        for z in zones:
            text += f"  - name: {z}\n    file: member.zone\n    acl: [consumer]\n"
        return text

    producer = start(tmp / "p", conf(["one.test.", "two.test."]))
    procs.append(producer)
    procs.append(start(tmp / "c", consumer_head(cport, pport) + """zones:
  - name: all.cat.
    type: secondary
    catalog: consume
    primaries: [producer]
"""))
    consumer = procs[-1]

    def wait(name, predicate=None, seconds=15):
        predicate = predicate or (lambda: serves("127.0.0.2", cport, name))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not predicate():
            time.sleep(0.05)
        return predicate()
    log = tmp / "c" / "log"
    assert wait("www.one.test.") and wait("www.two.test."), log.read_text()
    (tmp / "p" / "t.yaml").write_text(conf(["one.test.", "three.test."]))
    producer.send_signal(signal.SIGHUP)
    assert wait("www.three.test.", seconds=10), log.read_text()
    # Gone means the consumer, alive, refuses it (a dead consumer answers nothing) and serves the others.
    assert wait("two.test.", lambda: rcode("127.0.0.2", cport, "two.test.") == dns.rcode.REFUSED,
                seconds=10), log.read_text()
    assert consumer.poll() is None, "the consumer died\n" + log.read_text()
    assert serves("127.0.0.2", cport, "www.one.test.") and serves("127.0.0.2", cport, "www.three.test."), \
        log.read_text()
