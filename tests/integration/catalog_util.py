"""catalog_util.py -- what the catalog-zone tests (test_catalog.py) and bench/catalog.py need beyond the
harness: servers whose whole configuration the test writes (catalog roles are said differently by every
implementation), RFC 9432 catalog zone text, Tandem's store contents, bounded waits, and PSS.

The servers reuse harness.Server (folders, process, log, SIGTERM/SIGKILL, wait_log); only the configuration
and the readiness check are their own: `config` is a function of the server, returning the text to write,
so that it can name the server's own port and folder and be changed between reloads.
"""

import json
import socket
import subprocess
import time
from pathlib import Path

import dns.flags
import dns.name
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from harness import BUILD, ApiClient, Key, Server, free_port
from harness import dnsq

KEY = Key("cat-key.", "hmac-sha256", "y2YlTmcqxBhkquxZEUtPdE2iJdATNlXcbdMmWqZtyh4=")


class Timeout(AssertionError):
    pass


def wait_for(what, fn, timeout, interval=0.05):
    """Calls fn until it returns something true; returns that. Raises Timeout (an AssertionError) naming
    `what` and fn's last value after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except Exception as e:   # a server starting, a socket timeout
            last = e
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() >= deadline:
            raise Timeout("%s: not within %.1fs (last: %r)" % (what, timeout, last))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------- zones

def member_text(zone, serial=1, tag=None):
    """A small member zone whose TXT at `tag.<zone>` and A at www tell which zone answered."""
    zone = fqdn(zone)
    return "\n".join([
        "$ORIGIN %s" % zone, "$TTL 300",
        "@ SOA ns1 hostmaster %d 3600 600 604800 300" % serial,
        "@ NS ns1", "ns1 A 192.0.2.1",
        "www A 192.0.2.%d" % (sum(zone.encode()) % 250 + 1),
        'tag TXT "%s"' % (tag or zone)]) + "\n"


SHARED_MEMBER = "\n".join([
    "$TTL 300",
    "@ SOA ns1 hostmaster 1 3600 600 604800 300",
    "@ NS ns1", "ns1 A 192.0.2.1", "www A 192.0.2.80", 'tag TXT "shared"']) + "\n"
"""One member zone file with relative names only: any number of zones can load it."""


def catalog_text(catalog, serial, members, version="2", extra=()):
    """An RFC 9432 catalog zone: members is a list of (zone, unique id) or (zone, id, group)."""
    lines = ["$ORIGIN %s" % fqdn(catalog), "$TTL 0",
             "@ SOA invalid. invalid. %d 3600 600 2147483646 0" % serial,
             "@ NS invalid."]
    if version is not None:
        lines.append('version TXT "%s"' % version)
    for m in members:
        lines.append("%s.zones PTR %s" % (m[1], fqdn(m[0])))
        if len(m) > 2 and m[2]:
            lines.append('group.%s.zones TXT "%s"' % (m[1], m[2]))
    lines += list(extra)
    return "\n".join(lines) + "\n"


def fqdn(name):
    return name if name.endswith(".") else name + "."


# ---------------------------------------------------------------------------------------------- queries

def serial(server, zone, timeout=1.0):
    """The SOA serial the server answers authoritatively, or the rcode's name (or "noaa") when none."""
    r = dnsq.ask(server, zone, "SOA", timeout=timeout)
    if r.rcode() != dns.rcode.NOERROR:
        return dns.rcode.to_text(r.rcode())
    if not (r.flags & dns.flags.AA) or not r.answer:
        return "noaa"
    return r.answer[0][0].serial


def tag(server, zone, timeout=1.0):
    """The TXT at tag.<zone> as the server answers it, or the rcode's name."""
    r = dnsq.ask(server, "tag." + fqdn(zone), "TXT", timeout=timeout)
    if r.rcode() != dns.rcode.NOERROR or not r.answer or not (r.flags & dns.flags.AA):
        return dns.rcode.to_text(r.rcode())
    return b"".join(r.answer[0][0].strings).decode()


def serves(server, zone, want_tag=None):
    """True when the server answers the member's tag TXT authoritatively, with want_tag (default: the
    zone's name, as member_text writes it)."""
    try:
        return tag(server, zone, timeout=0.5) == (want_tag or fqdn(zone))
    except Exception:
        return False


def sweep(addr, port, names, want_serial=None, timeout=5.0, window=200):
    """Asks every name's SOA over UDP, `window` queries in flight at once; returns the set of names answered
    NOERROR with AA and an SOA (of serial want_serial when given). A query left unanswered is sent again in
    the next round, until timeout; any answer is final. Checks 10,000 zones in about a second."""
    import select
    names = [fqdn(n).lower() for n in names]
    wires = []
    for i, n in enumerate(names):
        q = dns.message.make_query(n, "SOA", use_edns=False)
        q.flags &= ~dns.flags.RD
        q.id = i & 0xFFFF
        wires.append(q.to_wire())
    ok = set()
    todo = list(range(len(names)))
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((addr, port))
        while todo and time.monotonic() < deadline:
            missing = []
            for start in range(0, len(todo), window):
                waiting = {todo[j] & 0xFFFF: todo[j] for j in range(start, min(start + window, len(todo)))}
                for i in waiting.values():
                    s.send(wires[i])
                end = min(deadline, time.monotonic() + 0.5)
                while waiting:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([s], [], [], left)[0]:
                        break
                    try:
                        m = dns.message.from_wire(s.recv(65535))
                    except Exception:
                        continue
                    i = waiting.get(m.id)
                    if i is None or not m.question or m.question[0].name.to_text().lower() != names[i]:
                        continue
                    del waiting[m.id]
                    if (m.rcode() == dns.rcode.NOERROR and m.flags & dns.flags.AA and m.answer and
                            m.answer[0].rdtype == dns.rdatatype.SOA and
                            (want_serial is None or m.answer[0][0].serial == want_serial)):
                        ok.add(names[i])
                missing += list(waiting.values())
            todo = missing
            if todo:
                time.sleep(0.05)
    finally:
        s.close()
    return ok


def refused(server, zone):
    """True when the server does not serve the zone (REFUSED, as an authoritative server without it)."""
    try:
        r = dnsq.ask(server, zone, "SOA", timeout=0.5)
    except Exception:
        return False
    return r.rcode() == dns.rcode.REFUSED


def axfr_names(server, zone, key=KEY, timeout=5.0, source=None):
    """AXFR of a zone (TSIG-signed with key, from source when given): the set of (owner, type, rdata
    text) it holds, names absolute and lower-cased."""
    out = set()
    kw = {"keyring": {dns.name.from_text(key.name): key.dns()}, "keyname": key.name} if key else {}
    for msg in dns.query.xfr(server.addr, fqdn(zone), port=server.port, timeout=timeout, lifetime=timeout,
                             relativize=False, source=source, **kw):
        for rrset in msg.answer:
            for rd in rrset:
                out.add((rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype),
                         rd.to_text().lower()))
    return out


def www(server, zone):
    """The addresses the server answers for www.<zone> A."""
    r = dnsq.ask(server, "www." + fqdn(zone), "A")
    return sorted(rd.address for rrset in r.answer for rd in rrset if rrset.rdtype == dns.rdatatype.A)


# ---------------------------------------------------------------------------------------------- memory

def pss_kib(pid):
    """Proportional set size of a process, in KiB, from /proc/PID/smaps_rollup."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return None


# ---------------------------------------------------------------------------------------------- servers

class Configured(Server):
    """A harness server whose configuration text the test writes: config(server) -> text. Ready when every
    zone of ready_zones answers its SOA with AA, or (none given) when the server answers at all."""

    conf_name = "server.conf"

    def __init__(self, workdir, name, config=None, ready_zones=(), addr="127.0.0.1", port=None):
        super().__init__(workdir, [], name=name, addr=addr, port=port)
        self.config = config
        self.ready_zones = list(ready_zones)

    def write_config(self):
        path = self.dir / self.conf_name
        path.write_text(self.config(self))
        return path

    def rewrite(self, config=None):
        """Writes the configuration again (optionally a new one), without reloading."""
        if config is not None:
            self.config = config
        self.conf_path = self.write_config()

    def ready_check(self, timeout=0.5):
        for z in self.ready_zones:
            r = dnsq.ask(self, z, "SOA", timeout=timeout)
            if r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA) or not r.answer:
                return False
        if not self.ready_zones:
            dnsq.ask(self, ".", "SOA", timeout=timeout)
        return True

    @property
    def pid(self):
        return self.proc.pid


class TandemC(ApiClient, Configured):
    """build/tandemd; config(server) returns a dict written as JSON (a YAML subset tandemd reads). http
    gives the HTTP API a free port (http_section() says it, with the key in api.key; the client is
    harness.ApiClient's)."""

    kind = "tandemd"
    binary = BUILD / "tandemd"
    conf_name = "tandem.yaml"

    def __init__(self, workdir, name, config=None, http=True, **kw):
        super().__init__(workdir, name, config, **kw)
        self.http_port = free_port(host=self.addr) if http else None
        self.key_file = self.dir / "api.key"

    def write_config(self):
        conf = self.config(self)
        path = self.dir / self.conf_name
        path.write_text(json.dumps(conf, indent=1) + "\n")
        return path

    def server_section(self, source=False, workers=2):
        s = {"listen": ["%s@%d" % (self.addr, self.port)], "data-dir": "var", "workers": workers}
        if source:
            s["source-address"] = self.addr
        return s

    def http_section(self):
        return {"listen": self.api_addr, "api-key-file": self.key_file.name}

    def argv(self):
        return [self.binary, "-c", self.conf_path]

    def db(self):
        return self.dir / "var" / "tandem.db"

    def stored_zones(self):
        """Zone names held in the SQLite store (read-only, while it runs: WAL readers do not block it)."""
        import sqlite3
        c = sqlite3.connect("file:%s?mode=ro" % self.db(), uri=True, timeout=5)
        try:
            zones = {r[0] for r in c.execute("SELECT name FROM zone")}
            members = {r[0] for r in c.execute("SELECT zone FROM catalog_member")}
            rrs = {r[0] for r in c.execute("SELECT z.name FROM zone z JOIN rr_chunk c ON c.zone_id = z.id")}
            return zones, members, rrs
        finally:
            c.close()


class KnotC(Configured):
    """knotd with a configuration the test writes (text); knotc through its socket."""

    kind = "knotd"
    binary = Path("/usr/sbin/knotd")
    conf_name = "knot.conf"

    def argv(self):
        return [self.binary, "-c", self.conf_path]

    def head(self, keys=(KEY,)):
        """server:, database:, control:, log: and key: sections, 2 workers each way."""
        d = self.dir
        (d / "storage").mkdir(exist_ok=True)
        lines = ["server:", "    rundir: %s" % d, "    listen: %s@%d" % (self.addr, self.port),
                 "    udp-workers: 2", "    tcp-workers: 2", "    background-workers: 2",
                 "    tcp-reuseport: on",
                 "database:", "    storage: %s" % (d / "storage"),
                 "control:", "    listen: %s" % (d / "knot.sock"),
                 "log:", "  - target: stderr", "    any: info"]
        if keys:
            lines.append("key:")
            for k in keys:
                lines += ["  - id: %s" % k.name, "    algorithm: %s" % k.algorithm, "    secret: %s" % k.secret]
        return lines

    def knotc(self, *args, timeout=30):
        r = subprocess.run(["knotc", "-s", str(self.dir / "knot.sock")] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout)
        assert r.returncode == 0, "knotc %s: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr)
        return r.stdout


class BindC(Configured):
    """named -g with a configuration the test writes (text)."""

    kind = "named"
    binary = Path("/usr/sbin/named")
    conf_name = "named.conf"

    def argv(self):
        return [self.binary, "-g", "-n", "2", "-c", self.conf_path]

    def options(self, extra=()):
        d = self.dir
        return (["options {",
                 '    directory "%s";' % d,
                 '    pid-file "%s";' % (d / "named.pid"),
                 '    session-keyfile "%s";' % (d / "session.key"),
                 '    managed-keys-directory "%s";' % d,
                 "    listen-on port %d { %s; };" % (self.port, self.addr),
                 "    listen-on-v6 { none; };",
                 "    recursion no;", "    dnssec-validation no;", "    notify no;",
                 "    allow-transfer { none; };"] + ["    " + e for e in extra] +
                ["};", "controls { };",
                 'key "%s" { algorithm %s; secret "%s"; };' % (KEY.name, KEY.algorithm, KEY.secret)])
