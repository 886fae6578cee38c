"""test_powerdns_provisioning.py -- auto-provisioning with a real PowerDNS 4.7 (SQLite backend), both ways
(SPEC.md "Auto-provisioning", issue 4):

- PowerDNS as RFC 9432 catalog producer (a zone of kind PRODUCER, members put in it with `pdnsutil
  set-catalog`) -> Tandem consuming it: members appear and serve their data, a member added later appears,
  a member taken out of the catalog (`set-catalog ZONE ""`) or deleted (`delete-zone`) goes, data and all.
- Tandem as primary -> PowerDNS as autosecondary (`autosecondary=yes`, `pdnsutil add-autoprimary`): a zone
  Tandem NOTIFYs whose NS set names PowerDNS's nameserver name is created there, transferred and served.
- PowerDNS as primary -> Tandem as autosecondary (`autoprimaries:`): PowerDNS's NOTIFY for a zone whose NS set
  names Tandem creates it; a zone whose NS set does not name Tandem, or a NOTIFY from another address or
  without the key, creates nothing; the zone survives a restart, and DELETE /api/v1/zones/ZONE removes it
  for good.

TSIG (hmac-sha256, one key) wherever PowerDNS can use it: every transfer both ways (PowerDNS's
`allow-axfr-ips` is emptied, so only the key lets anyone transfer; Tandem's ACLs want the key), every NOTIFY
(PowerDNS signs its NOTIFY with the zone's TSIG-ALLOW-AXFR key, `send-signed-notify`; as autosecondary it is
told `allow-unsigned-autoprimary=no` and `allow-unsigned-notify=no`), and Tandem's SOA and NS queries to
PowerDNS. One path cannot be signed, on PowerDNS's side: the SOA and NS queries PowerDNS sends an
autoprimary before creating a zone are plain queries (its Resolver has no TSIG; PowerDNS 4.7 copies only the
NOTIFY's key name into the new zone's AXFR-MASTER-TSIG, for the transfers and NOTIFYs that follow).

PowerDNS as autosecondary asks the primary at port 53, whatever port the NOTIFY came from (4.7's
tryAutoPrimarySynchronous sets port 53, and the zone it creates names the primary without a port), so that
test runs Tandem on 127.0.0.45@53 (with `source-address` there, since PowerDNS looks at the NOTIFY's source):
it needs root or CAP_NET_BIND_SERVICE and skips otherwise.

PowerDNS runs with `xfr-cycle-interval=1`: its producer notices a catalog change (its CATALOG-HASH), raises
the serial and NOTIFYs within a second, and an autosecondary zone is transferred within a second of being
created. `only-notify=` (empty) keeps it from NOTIFYing the test zones' NS addresses: only ALSO-NOTIFY.
"""

import re
import shutil
import socket

import dns.rcode
import pytest

from catalog_util import KEY, TandemC, member_text, refused, serial, serves, wait_for, www
from conftest import skip_machine
from harness import PowerDns, ServerError
from harness import dnsq, xfr

CAT = "cat.test."
NOT_SERVED = (dns.rcode.REFUSED, dns.rcode.NOTAUTH)

# The schema is looked for where Debian puts it (harness PowerDns.schema: two places, one of them under
# /usr/share/doc, which minimal images leave out). A skip here fails the run where scripts/deps.sh test
# installed everything (conftest.py).
pytestmark = pytest.mark.skipif(not shutil.which(str(PowerDns.binary)) or not shutil.which("pdnsutil")
                                or not PowerDns.schema.exists(),
                                reason="PowerDNS with its SQLite backend is not installed (scripts/deps.sh test)")


# ---------------------------------------------------------------------------------------------- helpers

class Pdns(PowerDns):
    """pdns_server as the harness starts it (SQLite backend, caches off, primary and secondary), with extra
    configuration lines, and its database filled by the test: setup(server) runs once, after the schema and
    the TSIG key are in. Ready when every zone of ready_zones answers its SOA with AA (or, none given, when
    it answers at all)."""

    def __init__(self, workdir, name="pdns", extra=(), setup=None, ready_zones=(), **kw):
        super().__init__(workdir, [], name=name, **kw)
        self.extra = ["xfr-cycle-interval=1", "only-notify=", "allow-axfr-ips="] + list(extra)
        self.setup = setup
        self.ready_zones = list(ready_zones)

    def write_config(self):
        path = super().write_config()
        with open(path, "a") as f:
            f.write("\n".join(self.extra) + "\n")
        return path

    def prepare(self):
        fresh = not (self.dir / "pdns.sqlite3").exists()
        super().prepare()
        if fresh:
            self.pdnsutil("import-tsig-key", KEY.name, KEY.algorithm, KEY.secret)
            if self.setup:
                self.setup(self)
        return self.conf_path

    def ready_check(self, timeout=0.5):
        for z in self.ready_zones:
            if not isinstance(serial(self, z, timeout=timeout), int):
                return False
        if not self.ready_zones:
            dnsq.ask(self, ".", "SOA", timeout=timeout)
        return True

    def primary_zone(self, zone, text, notify=(), catalog=None):
        """A primary zone from text: transfers (and the NOTIFY PowerDNS signs) with KEY, ALSO-NOTIFY to the
        servers given, a member of catalog when given."""
        path = self.zone_dir / (zone.rstrip(".") + ".zone")
        path.write_text(text)
        self.pdnsutil("load-zone", zone, path)
        self.pdnsutil("set-kind", zone, "primary")
        self.pdnsutil("activate-tsig-key", zone, KEY.name, "primary")
        if notify:
            self.pdnsutil("set-meta", zone, "ALSO-NOTIFY", *["%s:%d" % (s.addr, s.port) for s in notify])
        if catalog:
            self.pdnsutil("set-catalog", zone, catalog)

    def notify(self, zone):
        r = self.control("notify", zone)
        if r.returncode != 0:
            raise ServerError("pdns_control notify %s: %s%s" % (zone, r.stdout, r.stderr))


def tandem_keys():
    return [{"name": KEY.name, "algorithm": KEY.algorithm, "secret": KEY.secret}]


def remote(name, server):
    return {"name": name, "address": ["%s@%d" % (server.addr, server.port)], "key": KEY.name}


def zone_text(zone, serial_no, ns, tag=None):
    """A small zone whose NS set is `ns` (absolute names, none inside the zone) and whose tag TXT and www A
    tell which zone answered."""
    lines = ["$ORIGIN %s" % zone, "$TTL 300", "@ SOA ns1.primary.test. hostmaster %d 3600 600 604800 300" % serial_no]
    lines += ["@ NS %s" % n for n in ns]
    lines += ["www A 192.0.2.%d" % (sum(zone.encode()) % 250 + 1), 'tag TXT "%s"' % (tag or zone)]
    return "\n".join(lines) + "\n"


def pdns_axfr_refused_unsigned(p, zone):
    """PowerDNS gives the zone to nobody without the key (allow-axfr-ips is empty): the key is what lets
    Tandem in."""
    return xfr.xfr_rcode(p, zone) != dns.rcode.NOERROR


# ---------------------------------------------------------------------------------------------- 1. producer

def test_powerdns_catalog_producer_to_tandem_consumer(tmp_path):
    """PowerDNS 4.7 produces cat.test. (kind PRODUCER; a, b members at first); Tandem consumes it: a, b
    appear and serve their data; c, put in the catalog later, appears; b taken out of the catalog
    (`set-catalog b ""`) and a deleted (`delete-zone`) disappear from Tandem's answers, API and store."""
    a, b, c = "a.pdns.test.", "b.pdns.test.", "c.pdns.test."
    t = TandemC(tmp_path, "tandem")

    def setup(p):
        p.pdnsutil("create-zone", CAT, "invalid.")
        p.pdnsutil("set-kind", CAT, "producer")
        p.pdnsutil("activate-tsig-key", CAT, KEY.name, "producer")
        p.pdnsutil("set-meta", CAT, "ALSO-NOTIFY", "%s:%d" % (t.addr, t.port))
        for z in (a, b, c):
            p.primary_zone(z, member_text(z), notify=[t], catalog=CAT if z != c else None)

    pdns = Pdns(tmp_path, setup=setup, ready_zones=[CAT, a, b, c])

    def conf(s):
        return {"server": s.server_section(), "http": s.http_section(), "keys": tandem_keys(),
                "remotes": [remote("pdns", pdns)],
                "zones": [{"name": CAT, "type": "secondary", "catalog": "consume", "primaries": ["pdns"]}]}
    t.config = conf
    with pdns, t:
        assert pdns_axfr_refused_unsigned(pdns, CAT) and pdns_axfr_refused_unsigned(pdns, a)
        wait_for("members a, b served by Tandem", lambda: serves(t, a) and serves(t, b), 10)
        for z in (a, b):
            t.wait_log(r"%s: added from catalog cat\.test\." % z.replace(".", r"\."))
            t.wait_log(r"%s: AXFR from 127\.0\.0\.1@%d serial 0 -> 1" % (z.replace(".", r"\."), pdns.port))
            assert www(t, z) == www(pdns, z) and www(t, z)
            xfr.assert_serves(t, xfr.axfr(pdns, z, KEY))
        zones = t.api_zones()
        assert set(zones) == {CAT, a, b}
        assert zones[a]["source"] == zones[b]["source"] == "catalog cat.test."
        # PowerDNS may raise the catalog's serial once more as it starts (its first CATALOG-HASH): wait.
        wait_for("the catalog's serial as PowerDNS has it",
                 lambda: t.api_zones()[CAT]["serial"] == serial(pdns, CAT), 5)
        assert refused(t, c)

        # c joins the catalog: PowerDNS raises the catalog's serial and NOTIFYs; c appears.
        mark = t.log_mark()
        pdns.pdnsutil("set-catalog", c, CAT)
        wait_for("c served by Tandem", lambda: serves(t, c), 10)
        t.wait_log(r"c\.pdns\.test\.: added from catalog cat\.test\.", mark=mark)
        t.wait_log(r"cat\.test\.: NOTIFY from 127\.0\.0\.1@\d+, refreshing", mark=mark)

        # A reload of Tandem's configuration (SIGHUP) keeps the members.
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", mark=mark)
        assert all(serves(t, z) for z in (a, b, c)) and set(t.api_zones()) == {CAT, a, b, c}

        # A catalog's member is the catalog's to remove, not the operator's.
        assert t.call("DELETE", "zones/c.pdns.test.")[0] == 409
        assert serves(t, c)

        # b leaves the catalog: gone from the answers, the API and the store.
        mark = t.log_mark()
        pdns.pdnsutil("set-catalog", b, "")
        wait_for("b gone from Tandem", lambda: refused(t, b), 10)
        t.wait_log(r"b\.pdns\.test\.: removed from catalog cat\.test\., deleting it", mark=mark)
        assert serves(pdns, b), "PowerDNS still serves b: only its catalog membership went"
        assert set(t.api_zones()) == {CAT, a, c}
        wait_for("b gone from the store", lambda: b not in t.stored_zones()[0], 5)

        # a deleted on PowerDNS: the catalog drops it, and so does Tandem.
        mark = t.log_mark()
        pdns.pdnsutil("delete-zone", a)
        wait_for("a gone from Tandem", lambda: refused(t, a), 10)
        t.wait_log(r"a\.pdns\.test\.: removed from catalog cat\.test\., deleting it", mark=mark)
        assert serves(t, c)
        assert set(t.api_zones()) == {CAT, c}
        wait_for("a gone from the store", lambda: a not in t.stored_zones()[0], 5)
        stored, members, with_records = t.stored_zones()
        assert members == {c} and with_records == {CAT, c}, (stored, members, with_records)
        assert "AXFR-out zone 'cat.test', client '127.0.0.1" in pdns.log_text()


# ---------------------------------------------------------------------------------------------- 2. Tandem -> PowerDNS

PORT53_ADDR = "127.0.0.45"
# PowerDNS 4.7 still logs the old words.
CREATED = r"Created new (?:slave|secondary) zone '%s\.test' from (?:supermaster|autoprimary) %s"


def port53_free(addr):
    """True when this process may bind addr@53 for UDP and TCP (root or CAP_NET_BIND_SERVICE, nothing there)."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, 53))
        except OSError:
            return False
        finally:
            s.close()
    return True


def test_tandem_primary_to_powerdns_autosecondary(tmp_path):
    """Tandem (127.0.0.45@53) is primary of one.test.; PowerDNS is an autosecondary with Tandem as
    autoprimary for the name ns2.secondary.test.. Tandem's signed NOTIFY makes PowerDNS create one.test.,
    transfer it with the key and serve it; two.test., added to Tandem's configuration later (SIGHUP), the same;
    a zone whose NS set does not name ns2.secondary.test. is not created. A change on Tandem reaches
    PowerDNS by NOTIFY."""
    if not port53_free(PORT53_ADDR):
        skip_machine("cannot bind %s@53 (needs root or CAP_NET_BIND_SERVICE, and the port free): PowerDNS "
                     "asks an autoprimary at port 53 only" % PORT53_ADDR)
    one, two, other = "one.test.", "two.test.", "other.test."
    ns = ["ns1.primary.test.", "ns2.secondary.test."]
    zones = {one: ns}
    t = TandemC(tmp_path, "tandem", addr=PORT53_ADDR, port=53)
    t.ready_zones = [one]

    def setup(p):
        # Without the trailing dot: pdnsutil stores the name as given, and PowerDNS 4.7 compares it with the
        # NS names written without one ("ns2.secondary.test." never matches).
        p.pdnsutil("add-autoprimary", PORT53_ADDR, "ns2.secondary.test", "tandem")

    pdns = Pdns(tmp_path, setup=setup, extra=["autosecondary=yes", "allow-unsigned-autoprimary=no",
                                              "allow-unsigned-notify=no"])

    def conf(s):
        out = []
        for z, names in zones.items():
            path = s.dir / (z.rstrip(".") + ".zone")
            if not path.exists():
                path.write_text(zone_text(z, 1, names))
            out.append({"name": z, "file": path.name, "notify": ["pdns"], "acl": ["xfr"]})
        return {"server": s.server_section(source=True), "http": s.http_section(), "keys": tandem_keys(),
                "remotes": [remote("pdns", pdns)],
                "acls": [{"name": "xfr", "address": ["127.0.0.0/8"], "key": [KEY.name], "allow": ["transfer"]}],
                "zones": out}
    t.config = conf
    with pdns, t:
        wait_for("one.test. served by PowerDNS", lambda: serves(pdns, one), 10)
        pdns.wait_log(CREATED % ("one", PORT53_ADDR.replace(".", r"\.")))
        t.wait_log(r"one\.test\.: AXFR to 127\.0\.0\.1@\d+ serial 1, ")
        assert www(pdns, one) == www(t, one) and www(pdns, one)
        xfr.assert_serves(pdns, xfr.axfr(t, one, KEY))

        # A zone added on Tandem: created on PowerDNS; one whose NS set does not name it: not created.
        mark, pmark = t.log_mark(), pdns.log_mark()
        zones[two] = ns
        zones[other] = ["ns1.primary.test.", "ns3.elsewhere.test."]
        t.rewrite()
        t.reload()
        wait_for("two.test. served by PowerDNS", lambda: serves(pdns, two), 10)
        t.wait_log(r"two\.test\.: NOTIFY serial 1 to 1 secondaries", mark=mark)
        pdns.wait_log(CREATED % ("two", PORT53_ADDR.replace(".", r"\.")), mark=pmark)
        pdns.wait_log(r"Unable to find backend willing to host other\.test", mark=pmark)
        assert dnsq.ask(pdns, other, "SOA").rcode() == dns.rcode.REFUSED
        assert "other.test" not in pdns.pdnsutil("list-all-zones")

        # A change on Tandem: NOTIFY (signed; PowerDNS wants the key the zone was created with) and transfer.
        xfr.write_zone(t.dir / "one.test.zone", zone_text(one, 2, ns, tag="changed"))
        t.reload()
        wait_for("PowerDNS serves one.test. serial 2", lambda: serial(pdns, one) == 2, 10)
        assert serves(pdns, one, "changed")
        # PowerDNS keeps the NOTIFY's key for the zone's transfers; Tandem refused nothing (its ACL wants the key).
        assert "cat-key" in pdns.pdnsutil("get-meta", one, "AXFR-MASTER-TSIG")
        assert "refused" not in t.log_text(), t.log_text()


# ---------------------------------------------------------------------------------------------- 3. PowerDNS -> Tandem

def test_powerdns_primary_to_tandem_autosecondary(tmp_path):
    """PowerDNS (127.0.0.1) is primary of auto.test. (NS names ns2.tandem.test.) and other.test. (NS does not),
    both ALSO-NOTIFYing Tandem, whose only configuration is PowerDNS as super-primary for ns2.tandem.test..
    auto.test. is created and served, other.test. is not; a NOTIFY from 127.0.0.3 (signed) or from PowerDNS's
    address without the key creates nothing; the zone follows PowerDNS's changes, survives a restart, and
    DELETE /api/v1/zones/auto.test. removes it for good."""
    auto, other, late = "auto.test.", "other.test.", "late.test."
    ours = ["ns1.pdns.test.", "ns2.tandem.test."]
    t = TandemC(tmp_path, "tandem")

    def setup(p):
        p.primary_zone(auto, zone_text(auto, 1, ours), notify=[t])
        p.primary_zone(other, zone_text(other, 1, ["ns1.pdns.test.", "ns3.elsewhere.test."]), notify=[t])
        # No ALSO-NOTIFY: PowerDNS never tells Tandem of it; only the test's own NOTIFYs do.
        p.primary_zone(late, zone_text(late, 1, ours))

    pdns = Pdns(tmp_path, setup=setup, ready_zones=[auto, other, late])

    def conf(s):
        return {"server": s.server_section(), "http": s.http_section(), "keys": tandem_keys(),
                "remotes": [remote("pdns", pdns)],
                "autoprimaries": [{"name": "sp", "remote": "pdns", "nameservers": ["ns2.tandem.test."]}]}
    t.config = conf
    # Tandem first: PowerDNS NOTIFYs its primary zones as it starts (their notified serial is unset).
    with t, pdns:
        wait_for("auto.test. served by Tandem", lambda: serves(t, auto), 10)
        t.wait_log(r"auto\.test\.: created by NOTIFY from super-primary sp, transferring it")
        t.wait_log(r"auto\.test\.: AXFR from 127\.0\.0\.1@%d serial 0 -> 1" % pdns.port)
        t.wait_log(r"other\.test\.: NOTIFY from super-primary 127\.0\.0\.1@%d, but its NS set does not name us"
                   % pdns.port)
        xfr.assert_serves(t, xfr.axfr(pdns, auto, KEY))
        assert www(t, auto) == www(pdns, auto) and www(t, auto)
        zones = t.api_zones()
        assert set(zones) == {auto}, zones
        assert zones[auto]["source"] == "autoprimary from sp"
        assert zones[auto]["type"] == "secondary" and zones[auto]["serial"] == 1
        view = t.get_json("zones/auto.test.")
        assert view["secondary"]["primary_used"] == "127.0.0.1@%d" % pdns.port, view
        assert refused(t, other)
        pdns.wait_log(r"AXFR-out zone 'auto\.test', client '127\.0\.0\.1[^']*', allowed: TSIG signed request")

        # Strangers: a signed NOTIFY from 127.0.0.3, an unsigned one from PowerDNS's address. Nothing created,
        # PowerDNS not even asked. The refusal is decided before the answer; what a NOTIFY sets off goes
        # through the control thread in order, so once the next NOTIFY's outcome is logged, anything the
        # strangers' could have started would have shown.
        mark = t.log_mark()
        assert xfr.notify(t, late, key=KEY, source="127.0.0.3", serial=1) in NOT_SERVED
        assert xfr.notify(t, late, source="127.0.0.1", serial=1) in NOT_SERVED
        # From PowerDNS's address with the key, for a zone PowerDNS does not have: its NS query is refused.
        assert xfr.notify(t, "nothere.test.", key=KEY, source="127.0.0.1", serial=1) == dns.rcode.NOERROR
        t.wait_log(r"nothere\.test\.: NOTIFY from super-primary 127\.0\.0\.1@%d, but its NS query failed"
                   % pdns.port, mark=mark)
        assert refused(t, "nothere.test.")
        assert refused(t, late)
        assert set(t.api_zones()) == {auto}
        since = t.log_since(mark)
        assert not re.search(r"late\.test\.: (created|NOTIFY from super-primary)", since), since
        # The same NOTIFY from PowerDNS's address with the key: created (the refusals were about who sent it).
        assert xfr.notify(t, late, key=KEY, source="127.0.0.1", serial=1) == dns.rcode.NOERROR
        wait_for("late.test. served by Tandem", lambda: serves(t, late), 10)
        t.wait_log(r"late\.test\.: created by NOTIFY from super-primary sp", mark=mark)

        # A change on PowerDNS reaches the created zone by NOTIFY.
        mark = t.log_mark()
        path = pdns.zone_dir / "auto.test.zone"
        xfr.write_zone(path, zone_text(auto, 2, ours, tag="changed"))
        pdns.pdnsutil("load-zone", auto, path)
        pdns.notify(auto)
        wait_for("auto.test. serial 2 on Tandem", lambda: serial(t, auto) == 2, 10)
        assert serves(t, auto, "changed")
        # A reload of Tandem's configuration (SIGHUP) keeps the zones a super-primary made.
        mark = t.log_mark()
        t.reload()
        t.wait_log(r"reloaded: \d+ zones", mark=mark)
        assert serves(t, auto, "changed") and serves(t, late)
        assert set(t.api_zones()) == {auto, late}

        # Restart: the created zones come back from the store, before PowerDNS says anything.
        pdns.stop()
        t.stop()
        t.start()
        t.wait_ready()
        wait_for("auto.test. served after the restart", lambda: serves(t, auto, "changed"), 3)
        zones = t.api_zones()
        assert set(zones) == {auto, late}
        assert zones[auto]["source"] == zones[late]["source"] == "autoprimary from sp"

        # DELETE: gone from the answers, the API and the store, and it stays gone after a restart.
        status, body, _ = t.call("DELETE", "zones/Auto.Test")   # no dot, any case (docs/api.md)
        assert status == 200, (status, body)
        wait_for("auto.test. gone", lambda: refused(t, auto), 5)
        assert set(t.api_zones()) == {late}
        wait_for("auto.test. gone from the store", lambda: auto not in t.stored_zones()[0], 5)
        assert auto not in t.stored_zones()[2], "auto.test.'s records are still stored"
        assert t.call("DELETE", "zones/auto.test.")[0] == 404
        t.stop()
        mark = t.log_mark()
        t.start()
        t.wait_ready()
        wait_for("late.test. served after the second restart", lambda: serves(t, late), 3)
        assert refused(t, auto)
        assert set(t.api_zones()) == {late}
        assert auto not in t.stored_zones()[0]
        assert "auto.test." not in t.log_since(mark), t.log_since(mark)
