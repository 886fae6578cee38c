"""harness/servers.py -- one class per DNS server implementation: Tandem, Knot, NSD, BIND, PowerDNS.

A test says what it wants ("Tandem serving example.com and example.net, identity ns1.test") and the class
writes that server's own configuration in a private folder, copies the zone files in, starts the daemon in
the foreground on a free loopback port, and waits (bounded) until every zone answers its SOA. Everything the
daemon prints goes to a log file in that folder; conftest.py prints its tail when a test fails.

Replication is said the same way for every implementation: a Zone is primary (from a file) or secondary
(primaries=[Remote]), may NOTIFY remotes (notify=[Remote]) and lets ACLs in (acl=[Acl]); a Remote or an Acl
may carry a TSIG Key. Each class writes that in its own dialect (keys, remotes and ACLs for Tandem and Knot,
request-xfr/provide-xfr for NSD, primaries/also-notify/allow-transfer for BIND, the SQLite backend's domain
metadata for PowerDNS).
"""

import base64
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig

from . import dnsq
from .ports import free_port, have_ipv6

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data"
ZONES = DATA / "zones"
BUILD = Path(os.environ.get("TANDEM_BUILD", REPO / "build"))

# Servers started and not yet stopped, so that a failing test can show their logs.
RUNNING = []


class ServerError(Exception):
    """A server did not start, did not become ready, or died."""


class Key:
    """A TSIG key (RFC 8945): its name, algorithm and base64 secret, as every server's config writes it."""

    SIZES = {"hmac-md5": 16, "hmac-sha1": 20, "hmac-sha224": 28, "hmac-sha256": 32, "hmac-sha384": 48,
             "hmac-sha512": 64}

    def __init__(self, name, algorithm, secret):
        self.name = name if name.endswith(".") else name + "."
        self.algorithm = algorithm
        self.secret = secret

    @classmethod
    def generate(cls, name="xfr-key.", algorithm="hmac-sha256"):
        """A fresh random key, as `tandem keygen` or `tsig-keygen` would make."""
        return cls(name, algorithm, base64.b64encode(os.urandom(cls.SIZES[algorithm])).decode())

    def dns(self):
        """The key for dnspython (use_tsig, xfr keyring)."""
        alg = dns.tsig.HMAC_MD5 if self.algorithm == "hmac-md5" else dns.name.from_text(self.algorithm)
        return dns.tsig.Key(self.name, self.secret, alg)

    def __repr__(self):
        return "Key(%s %s)" % (self.name, self.algorithm)


class Remote:
    """Another server, as a zone's primary or a secondary to NOTIFY: address, port and the key to use."""

    def __init__(self, addr, port, key=None):
        self.addr, self.port, self.key = addr, int(port), key

    @classmethod
    def of(cls, server, key=None):
        return cls(server.addr, server.port, key)

    def __repr__(self):
        return "Remote(%s@%d%s)" % (self.addr, self.port, " key " + self.key.name if self.key else "")


class Acl:
    """Who may transfer a primary zone or NOTIFY a secondary one: addresses (or prefixes) and a key."""

    def __init__(self, address=("127.0.0.1",), key=None, allow=("transfer",)):
        self.address = [address] if isinstance(address, str) else list(address)
        self.key = key
        self.allow = [allow] if isinstance(allow, str) else list(allow)

    def __repr__(self):
        return "Acl(%s%s: %s)" % (",".join(self.address), " key " + self.key.name if self.key else "",
                                  ",".join(self.allow))


class Zone:
    """A zone to serve: its name and the zone file it is loaded from (copied into each server's folder).

    role "primary" (the default) loads the file; role "secondary" transfers the zone from primaries. notify
    lists the remotes told of each change; acl lists who may transfer (primary) or NOTIFY (secondary)."""

    def __init__(self, name, source=None, role="primary", primaries=(), notify=(), acl=(), extra=None):
        self.name = name if name.endswith(".") else name + "."
        self.role = role
        if source is None and role == "primary":
            source = ZONES / (self.name.rstrip(".") + ".zone")
        self.source = Path(source) if source else None
        self.filename = self.name.rstrip(".") + ".zone"
        self.primaries = list(primaries)
        self.notify = list(notify)
        self.acl = list(acl)
        self.extra = dict(extra or {})   # more keys of the zone in Tandem's configuration

    @property
    def secondary(self):
        return self.role == "secondary"

    def keys(self):
        """Every key this zone's remotes and ACLs name."""
        return [k for k in [r.key for r in self.primaries + self.notify] + [a.key for a in self.acl] if k]

    def __repr__(self):
        return "Zone(%s%s)" % (self.name, ", secondary" if self.secondary else "")


def secondary(name, primaries, notify=(), acl=()):
    """A secondary zone: transferred from primaries (Remote objects)."""
    return Zone(name, role="secondary", primaries=primaries, notify=notify, acl=acl)


def all_keys(zone_list):
    """The distinct keys of some zones, in order of appearance."""
    out = {}
    for z in zone_list:
        for k in z.keys():
            if k.name in out and out[k.name].secret != k.secret:
                raise ValueError("two keys named %s with different secrets" % k.name)
            out.setdefault(k.name, k)
    return list(out.values())


def zones(*names):
    """Zone objects for test zones in tests/data/zones, by name."""
    return [Zone(n) for n in names]


def stop_process(proc, timeout=10.0):
    """SIGTERM to a process the test started itself, SIGKILL when it has not exited within timeout; its exit
    status. For processes that are no Server (Prometheus, a packaged or hand-configured tandemd)."""
    proc.terminate()
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


class Server:
    """What every implementation shares: folders, process, readiness, logs, queries."""

    kind = "server"
    binary = None
    ready_timeout = 10.0
    stop_timeout = 5.0

    def __init__(self, workdir, zone_list, ipv6=False, identity=None, tcp_idle_timeout=None, name=None,
                 addr="127.0.0.1", port=None):
        self.dir = Path(workdir) / (name or self.kind)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zone_dir = self.dir / "zones"
        self.zone_dir.mkdir(exist_ok=True)
        self.zones = list(zone_list)
        self.ipv6 = bool(ipv6) and have_ipv6()
        self.addr = addr   # any 127/8 address: the seed's "one machine, two addresses"
        self.port = port or free_port(ipv6=self.ipv6, host=addr)
        self.identity = identity
        self.tcp_idle_timeout = tcp_idle_timeout
        self.log_path = self.dir / (self.kind + ".log")
        self.conf_path = None
        self.proc = None
        self.env = {}            # extra environment for the next start (TANDEM_CRASH_AT, ...)
        self._log = None

    # ---- things a subclass provides
    def write_config(self):
        """Writes the server's configuration file and returns its path."""
        raise NotImplementedError

    def argv(self):
        raise NotImplementedError

    # ---- lifecycle
    @property
    def addr6(self):
        return "::1" if self.ipv6 else None

    def zone_path(self, zone_name):
        """Path of the copy of a zone's file that this server reads."""
        zone_name = zone_name if zone_name.endswith(".") else zone_name + "."
        for z in self.zones:
            if z.name == zone_name:
                return self.zone_dir / z.filename
        raise KeyError(zone_name)

    def prepare(self):
        """Copies zone files and writes the configuration (also usable without starting)."""
        for z in self.zones:
            dst = self.zone_dir / z.filename
            if z.source is not None and not dst.exists():
                shutil.copyfile(z.source, dst)
        self.conf_path = self.write_config()
        return self.conf_path

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("%s already running" % self.kind)
        if self.binary is None or not Path(self.binary).exists():
            raise ServerError("%s: binary %s not found" % (self.kind, self.binary))
        self.prepare()
        self._log = open(self.log_path, "ab", buffering=0)
        self._log.write(("==== %s start: %s\n" % (self.kind, " ".join(map(str, self.argv())))).encode())
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen([str(a) for a in self.argv()], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        RUNNING.append(self)
        return self

    def ready_check(self, timeout=0.5):
        """True when every primary zone answers its SOA authoritatively over UDP. Secondary zones have
        no data until transferred (tests wait for them by serial), so a server with only secondaries is
        ready when it answers at all."""
        primaries = [z for z in self.zones if not z.secondary]
        for z in primaries or self.zones[:1]:
            q = dns.message.make_query(z.name, "SOA")
            q.flags &= ~dns.flags.RD
            r = dns.query.udp(q, self.addr, port=self.port, timeout=timeout)
            if primaries and (r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA) or
                              not r.answer):
                return False
        return True

    def wait_ready(self, timeout=None):
        """Polls with SOA queries until every zone answers; bounded by timeout (default ready_timeout)."""
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError("%s exited with status %s before it was ready\n%s"
                                  % (self.kind, self.proc.returncode, self.log_tail()))
            try:
                if self.ready_check():
                    return self
                last = "some zone not answering NOERROR/AA yet"
            except Exception as e:  # timeouts, refused connections while it starts
                last = repr(e)
            time.sleep(0.05)
        raise ServerError("%s not ready within %.0fs (%s)\n%s"
                          % (self.kind, timeout or self.ready_timeout, last, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, as a machine dying would: no clean stop. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        rc = self.proc.wait(5)
        if self in RUNNING:
            RUNNING.remove(self)
        if self._log is not None:
            self._note("killed with SIGKILL by the test")
            self._log.close()
            self._log = None
        return rc

    def signal(self, sig):
        if not self.alive():
            raise ServerError("%s is not running\n%s" % (self.kind, self.log_tail()))
        self.proc.send_signal(sig)

    def reload(self):
        """Asks the server to reload configuration and zone files (SIGHUP)."""
        self.signal(signal.SIGHUP)

    def reload_zone(self, zone_name):
        """Makes the server read a zone's edited file, as its operator would (SIGHUP unless the class
        knows better); a primary then NOTIFYs its secondaries."""
        self.reload()

    def settle(self, zone_name):
        """What this implementation needs after an incoming transfer before it answers from the new
        version (nothing, except for PowerDNS and NSD)."""

    def stop(self):
        """SIGTERM, then SIGKILL after stop_timeout. Returns the exit status (None if never started)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(5)
                self._note("killed after %.0fs without stopping on SIGTERM" % self.stop_timeout)
        if self in RUNNING:
            RUNNING.remove(self)
        if self._log is not None:
            self._log.close()
            self._log = None
        return rc

    def _note(self, text):
        if self._log is not None:
            self._log.write(("==== harness: %s\n" % text).encode())

    def serve(self):
        """Starts the server and waits until it is ready (wait_ready); stops it again when it is not."""
        self.start()
        try:
            self.wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def __enter__(self):
        return self.serve()

    def __exit__(self, *exc):
        self.stop()

    # ---- logs
    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:])

    def log_mark(self):
        """Where the log ends now: pass it to log_since/wait_log to look only at what comes after."""
        return len(self.log_text())

    def log_since(self, mark=0):
        return self.log_text()[mark:]

    def wait_log(self, pattern, timeout=10.0, mark=0):
        """Waits (bounded) until a line matching the regex appears in the log after mark; the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log_since(mark))
            if m:
                return m
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no log line matching %r within %.0fs\n%s"
                                     % (self.kind, pattern, timeout, self.log_tail(30)))
            time.sleep(0.02)

    def __repr__(self):
        return "%s(%s@%d)" % (self.kind, self.addr, self.port)


def _listen_list(server, fmt):
    out = [fmt % (server.addr, server.port)]
    if server.ipv6:
        out.append(fmt % ("::1", server.port))
    return out


class Tandem(Server):
    """build/tandemd with a generated YAML configuration (relative paths, as an operator writes them)."""

    kind = "tandemd"
    binary = BUILD / "tandemd"

    def __init__(self, workdir, zone_list, workers=2, extra_server=None, extra_config="", **kw):
        super().__init__(workdir, zone_list, **kw)
        self.workers = workers
        self.extra_server = dict(extra_server or {})
        self.extra_config = extra_config   # more top-level sections, as YAML text written after zones:

    def write_config(self):
        listen = ", ".join('"%s"' % a for a in _listen_list(self, "%s@%d"))
        lines = ["# written by tests/integration/harness for one test run",
                 "server:",
                 "  listen: [%s]" % listen,
                 "  data-dir: var",
                 "  workers: %d" % self.workers]
        if self.identity:
            lines.append("  identity: %s" % self.identity)
        if self.tcp_idle_timeout:
            lines.append("  tcp-idle-timeout: %d" % self.tcp_idle_timeout)
        for k, v in self.extra_server.items():
            lines.append("  %s: %s" % (k, v))
        lines += self._replication_config()
        lines.append("zones:")
        for z in self.zones:
            lines += ["  - name: %s" % z.name, "    type: %s" % z.role]
            if z.source is not None:
                lines.append("    file: zones/%s" % z.filename)
            if z.primaries:
                lines.append("    primaries: [%s]" % ", ".join(self._remote_names[id(r)] for r in z.primaries))
            if z.notify:
                lines.append("    notify: [%s]" % ", ".join(self._remote_names[id(r)] for r in z.notify))
            if z.acl:
                lines.append("    acl: [%s]" % ", ".join(self._acl_names[id(a)] for a in z.acl))
            for k, v in z.extra.items():
                lines.append("    %s: %s" % (k, v))
        if self.extra_config:
            lines.append(self.extra_config.rstrip("\n"))
        path = self.dir / "tandem.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _replication_config(self):
        """keys:, remotes: and acls: sections for the zones' remotes and ACLs (named r0.., acl0..)."""
        lines = []
        self._remote_names, self._acl_names = {}, {}
        keys = all_keys(self.zones)
        if keys:
            lines.append("keys:")
            for k in keys:
                lines += ["  - name: %s" % k.name, "    algorithm: %s" % k.algorithm,
                          "    secret: \"%s\"" % k.secret]
        remotes = [r for z in self.zones for r in z.primaries + z.notify]
        if remotes:
            lines.append("remotes:")
        for r in remotes:
            if id(r) in self._remote_names:
                continue
            name = self._remote_names[id(r)] = "r%d" % len(self._remote_names)
            lines += ["  - name: %s" % name, "    address: [%s@%d]" % (r.addr, r.port)]
            if r.key:
                lines.append("    key: %s" % r.key.name)
        acls = [a for z in self.zones for a in z.acl]
        if acls:
            lines.append("acls:")
        for a in acls:
            if id(a) in self._acl_names:
                continue
            name = self._acl_names[id(a)] = "acl%d" % len(self._acl_names)
            lines += ["  - name: %s" % name, "    allow: [%s]" % ", ".join(a.allow)]
            if a.address:
                lines.append("    address: [%s]" % ", ".join('"%s"' % x for x in a.address))
            if a.key:
                lines.append("    key: [%s]" % a.key.name)
        return lines

    def argv(self):
        return [self.binary, "-c", self.conf_path]

    def check(self, conf=None, timeout=30):
        """Runs `tandemd --check -c FILE` and returns the CompletedProcess (text output)."""
        conf = conf or self.conf_path or self.prepare()
        return subprocess.run([str(self.binary), "--check", "-c", str(conf)], capture_output=True,
                              text=True, timeout=timeout, cwd=self.dir)


class Knot(Server):
    """knotd 3.x: 2 UDP and 2 TCP workers, tcp-reuseport, everything it keeps inside its own folder.

    policies and zone_options add what the shared Zone does not say (both optional; none changes nothing):
    policies are Knot `policy:` entries, {id: {option: value}}, e.g. a DNSSEC policy
    {"p13": {"algorithm": "ecdsap256sha256", "nsec3": "on"}}; zone_options are more options of one zone's
    entry, {zone name: {option: value}}, e.g. {"sec.test.": {"dnssec-signing": "on", "dnssec-policy": "p13"}},
    replacing any the harness would write itself for the same option. Signing keys live in the KASP
    database under the server's storage folder."""

    kind = "knotd"
    binary = Path("/usr/sbin/knotd")

    def __init__(self, workdir, zone_list, policies=None, zone_options=None, **kw):
        super().__init__(workdir, zone_list, **kw)
        self.policies = {k: dict(v) for k, v in (policies or {}).items()}
        self.zone_options = {(k if k.endswith(".") else k + "."): dict(v) for k, v in (zone_options or {}).items()}

    def write_config(self):
        d = self.dir
        listen = ", ".join(_listen_list(self, "%s@%d"))
        lines = ["server:",
                 "    rundir: %s" % d,
                 "    listen: [%s]" % listen,
                 "    udp-workers: 2",
                 "    tcp-workers: 2",
                 "    background-workers: 1",
                 "    tcp-reuseport: on",
                 # Knot drops a TCP connection whose reader has not taken an answer within this time
                 # (500 ms by default): under the ASan suite's load a test's AXFR reader can lag that
                 # long, and two CI runs failed on an AXFR from Knot cut off mid-message (EOF).
                 "    tcp-io-timeout: 10000"]
        if self.identity:
            lines += ["    identity: %s" % self.identity, "    nsid: %s" % self.identity]
        if self.tcp_idle_timeout:
            lines.append("    tcp-idle-timeout: %ds" % self.tcp_idle_timeout)
        (d / "storage").mkdir(exist_ok=True)   # the journal (IXFR history) lives there
        lines += ["database:",
                  "    storage: %s" % (d / "storage"),
                  "control:",
                  "    listen: %s" % (d / "knot.sock"),
                  "log:",
                  "  - target: stderr",
                  "    any: info",
                  "template:",
                  "  - id: default",
                  "    storage: %s" % self.zone_dir,
                  "    zonefile-sync: -1",
                  "    zonefile-load: whole",
                  "    journal-content: none",
]
        lines += self._replication_config()
        if self.policies:
            lines.append("policy:")
            for pid, options in self.policies.items():
                lines.append("  - id: %s" % pid)
                lines += ["    %s: %s" % (k, v) for k, v in options.items()]
        lines.append("zone:")
        for z in self.zones:
            extra = self.zone_options.get(z.name, {})
            opts = [("file", self.zone_dir / z.filename)]
            if z.primaries:
                opts.append(("master", "[%s]" % ", ".join(self._ids[id(r)] for r in z.primaries)))
            if z.notify:
                opts.append(("notify", "[%s]" % ", ".join(self._ids[id(r)] for r in z.notify)))
            acls = [self._ids[id(a)] for a in z.acl] + [self._ids[("notify", id(r))] for r in z.primaries]
            if acls:
                opts.append(("acl", "[%s]" % ", ".join(acls)))
            if not z.secondary and (z.notify or z.acl):
                # A replicated primary: an edited zone file becomes a journaled change, served by IXFR.
                opts += [("journal-content", "changes"), ("zonefile-load", "difference")]
            opts = [(k, v) for k, v in opts if k not in extra] + list(extra.items())
            lines.append("  - domain: %s" % z.name)
            lines += ["    %s: %s" % (k, v) for k, v in opts]
        path = d / "knot.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _replication_config(self):
        """key:, remote: and acl: sections; a secondary zone accepts NOTIFY from its primaries (as Tandem,
        BIND and PowerDNS do by themselves)."""
        lines, self._ids = [], {}
        keys = all_keys(self.zones)
        if keys:
            lines.append("key:")
        for k in keys:
            lines += ["  - id: %s" % k.name, "    algorithm: %s" % k.algorithm, "    secret: %s" % k.secret]
        remotes = [r for z in self.zones for r in z.primaries + z.notify]
        if remotes:
            lines.append("remote:")
        for r in remotes:
            if id(r) in self._ids:
                continue
            rid = self._ids[id(r)] = "r%d" % len(self._ids)
            lines += ["  - id: %s" % rid, "    address: %s@%d" % (r.addr, r.port)]
            if r.key:
                lines.append("    key: %s" % r.key.name)
        acls = [(id(a), a.address, a.key, a.allow) for z in self.zones for a in z.acl]
        acls += [(("notify", id(r)), [r.addr], r.key, ["notify"]) for z in self.zones for r in z.primaries]
        if acls:
            lines.append("acl:")
        for ident, address, key, allow in acls:
            if ident in self._ids:
                continue
            aid = self._ids[ident] = "acl%d" % len(self._ids)
            lines += ["  - id: %s" % aid, "    action: [%s]" % ", ".join(allow)]
            if address:
                lines.append("    address: [%s]" % ", ".join(address))
            if key:
                lines.append("    key: %s" % key.name)
        return lines

    def argv(self):
        return [self.binary, "-c", self.conf_path]

    def knotc(self, *args):
        return subprocess.run(["knotc", "-s", str(self.dir / "knot.sock")] + [str(a) for a in args],
                              capture_output=True, text=True, timeout=10)

    def reload_zone(self, zone_name):
        """knotc zone-reload: the edited file is read (a replicated primary journals the difference)."""
        r = self.knotc("zone-reload", zone_name)
        if r.returncode != 0:
            raise ServerError("knotc zone-reload %s: %s%s" % (zone_name, r.stdout, r.stderr))


class Nsd(Server):
    """nsd 4.x in the foreground: 2 servers, no rate limiting, no remote control, no database file."""

    kind = "nsd"
    binary = Path("/usr/sbin/nsd")

    def write_config(self):
        d = self.dir
        lines = ["server:"]
        lines += ["    ip-address: %s" % a for a in _listen_list(self, "%s@%d")]
        lines += ["    port: %d" % self.port,
                  "    server-count: 2",
                  "    rrl-ratelimit: 0",
                  "    username: \"\"",
                  "    chroot: \"\"",
                  "    pidfile: \"%s\"" % (d / "nsd.pid"),
                  "    zonesdir: \"%s\"" % self.zone_dir,
                  "    database: \"\"",
                  "    xfrdfile: \"%s\"" % (d / "xfrd.state"),
                  "    xfrdir: \"%s\"" % d,
                  "    zonelistfile: \"%s\"" % (d / "zone.list"),
                  "    logfile: \"%s\"" % (d / "nsd-own.log"),
                  "    verbosity: 1"]
        if self.identity:
            lines += ["    identity: \"%s\"" % self.identity,
                      "    nsid: \"ascii_%s\"" % self.identity]
        if self.tcp_idle_timeout:
            lines.append("    tcp-timeout: %d" % self.tcp_idle_timeout)
        lines += ["remote-control:", "    control-enable: no"]
        for k in all_keys(self.zones):
            lines += ["key:", "    name: \"%s\"" % k.name, "    algorithm: %s" % k.algorithm,
                      "    secret: \"%s\"" % k.secret]

        def key(k):
            return k.name if k else "NOKEY"

        for z in self.zones:
            lines += ["zone:", "    name: \"%s\"" % z.name, "    zonefile: \"%s\"" % z.filename]
            for r in z.primaries:   # NOTIFY from a primary is accepted, as the other servers do
                lines += ["    request-xfr: %s@%d %s" % (r.addr, r.port, key(r.key)),
                          "    allow-notify: %s %s" % (r.addr, key(r.key))]
            for r in z.notify:
                lines.append("    notify: %s@%d %s" % (r.addr, r.port, key(r.key)))
            for a in z.acl:
                for what, option in (("transfer", "provide-xfr"), ("notify", "allow-notify")):
                    if what in a.allow:
                        lines += ["    %s: %s %s" % (option, x, key(a.key)) for x in a.address or ["0.0.0.0/0"]]
            if not z.secondary and (z.notify or z.acl):
                # A replicated primary: IXFR made from the differences when the zone file is read again.
                lines += ["    store-ixfr: yes", "    create-ixfr: yes"]
        path = d / "nsd.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def settle(self, zone_name, connections=6, timeout=10.0):
        """NSD applies a transfer by forking new server processes; the old ones are told to quit but may
        still take a TCP connection for a moment, so an AXFR asked just after UDP shows the new serial can
        come from the old version (seen once in CI: a whole IXFR missing from the AXFR that followed).
        Waits, bounded, until `connections` rounds in a row, each a UDP query and a fresh TCP connection,
        answer the highest serial seen (an old process answers a lower one and starts the count again)."""
        deadline = time.monotonic() + timeout
        agreed, last, top = 0, None, -1
        while agreed < connections:
            if time.monotonic() >= deadline:
                raise AssertionError("nsd: %s over TCP still not the UDP serial after %.0fs (last: %s)"
                                     % (zone_name, timeout, last))
            try:
                serials = [dnsq.ask(self, zone_name, "SOA", tcp=tcp, timeout=1.0).answer[0][0].serial
                           for tcp in (False, True)]
            except Exception as e:  # a timeout or an empty answer while it reloads
                serials = [repr(e)]
            last = serials
            if len(serials) == 2 and serials[0] == serials[1] and serials[0] >= top:
                agreed = agreed + 1 if serials[0] == top else 1
                top = serials[0]
            else:
                agreed = 0
            if agreed < connections:
                time.sleep(0.02)

    def argv(self):
        return [self.binary, "-d", "-c", self.conf_path]

    def log_text(self):
        own = self.dir / "nsd-own.log"
        text = super().log_text()
        if own.exists():
            text += "\n==== nsd logfile\n" + own.read_text(errors="replace")
        return text


class Bind(Server):
    """named 9.x in the foreground (-g): authoritative only, everything inside its own folder."""

    kind = "named"
    binary = Path("/usr/sbin/named")

    def write_config(self):
        d = self.dir
        v6 = ("    listen-on-v6 port %d { ::1; };" % self.port) if self.ipv6 else "    listen-on-v6 { none; };"
        opts = ["options {",
                "    directory \"%s\";" % d,
                "    pid-file \"%s\";" % (d / "named.pid"),
                "    session-keyfile \"%s\";" % (d / "session.key"),
                "    managed-keys-directory \"%s\";" % d,
                "    listen-on port %d { 127.0.0.1; };" % self.port,
                v6,
                "    recursion no;",
                "    dnssec-validation no;",
                "    allow-transfer { none; };",
                "    notify no;",
                # The test zones hold deliberately odd names and targets; serve them as they are.
                "    check-names primary ignore;",
                "    check-integrity no;",
                "    check-mx-cname ignore;",
                "    check-srv-cname ignore;",
                "    check-wildcard no;",
                "    check-sibling no;"]
        if self.identity:
            opts.append("    server-id \"%s\";" % self.identity)
        if self.tcp_idle_timeout:
            opts.append("    tcp-idle-timeout %d;" % (self.tcp_idle_timeout * 10))
        opts.append("    notify-delay 0;")
        opts.append("};")
        opts.append("controls { };")
        for k in all_keys(self.zones):
            opts.append("key \"%s\" { algorithm %s; secret \"%s\"; };" % (k.name, k.algorithm, k.secret))
        for z in self.zones:
            opts += self._zone(z)
        path = d / "named.conf"
        path.write_text("\n".join(opts) + "\n")
        return path

    @staticmethod
    def _match(acl):
        """An address match list element: addresses, a key, or both (BIND's "not not in" idiom)."""
        addrs = "".join(" %s;" % a for a in acl.address)
        if acl.key and acl.address:
            return '!{ !{%s }; any; }; key "%s";' % (addrs, acl.key.name)
        if acl.key:
            return 'key "%s";' % acl.key.name
        return addrs.strip()

    def _zone(self, z):
        def at(r):
            return "%s port %d%s;" % (r.addr, r.port, ' key "%s"' % r.key.name if r.key else "")

        out = ['zone "%s" {' % z.name, '    file "%s";' % (self.zone_dir / z.filename)]
        if z.secondary:
            out += ["    type secondary;", "    primaries { %s };" % " ".join(at(r) for r in z.primaries)]
        else:
            out.append("    type primary;")
            if z.notify or z.acl:
                out.append("    ixfr-from-differences yes;")
        if z.notify:
            out += ["    notify explicit;", "    also-notify { %s };" % " ".join(at(r) for r in z.notify)]
        for what, option in (("transfer", "allow-transfer"), ("notify", "allow-notify")):
            acls = [a for a in z.acl if what in a.allow]
            if acls:
                out.append("    %s { %s };" % (option, " ".join(self._match(a) for a in acls)))
        out.append("};")
        return out

    def argv(self):
        return [self.binary, "-g", "-n", "2", "-c", self.conf_path]


class PowerDns(Server):
    """pdns_server 4.x with the SQLite backend (gsqlite3), in the foreground, everything in its own folder.

    Zones and their replication settings live in the database, not in the configuration file: prepare()
    creates it from Debian's schema and fills it with pdnsutil (load-zone, create-secondary-zone,
    import-tsig-key, activate-tsig-key, ALSO-NOTIFY and IXFR metadata), once; a restart keeps it. Caches are
    off so that a new serial is visible at once."""

    kind = "pdns"
    binary = Path("/usr/sbin/pdns_server")
    # Debian's pdns-backend-sqlite3 ships the schema twice; images that leave out /usr/share/doc (Debian's
    # Docker images do) keep only the first.
    schema = next((p for p in (Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"),
                               Path("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql")) if p.exists()),
                  Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"))

    def write_config(self):
        d = self.dir
        lines = ["launch=gsqlite3",
                 "gsqlite3-database=%s" % (d / "pdns.sqlite3"),
                 "gsqlite3-dnssec=yes",   # its TSIG keys need it
                 "local-address=%s" % self.addr,
                 "local-port=%d" % self.port,
                 "socket-dir=%s" % d,
                 "guardian=no",
                 "daemon=no",
                 "disable-syslog=yes",
                 "loglevel=6",
                 "primary=yes",
                 "secondary=yes",
                 "cache-ttl=0",
                 "query-cache-ttl=0",
                 "negquery-cache-ttl=0",
                 "zone-cache-refresh-interval=0",
                 "distributor-threads=1",
                 "receiver-threads=1",
                 "webserver=no",
                 "api=no"]
        if self.ipv6:
            lines[3] += ", ::1"
        if self.identity:
            lines.append("server-id=%s" % self.identity)
        path = d / "pdns.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def pdnsutil(self, *args):
        r = subprocess.run(["pdnsutil", "--config-dir=%s" % self.dir] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise ServerError("pdnsutil %s: %s%s" % (" ".join(map(str, args)), r.stdout, r.stderr))
        return r.stdout

    def control(self, *args):
        """pdns_control through the server's socket."""
        return subprocess.run(["pdns_control", "--config-dir=%s" % self.dir, "--socket-dir=%s" % self.dir]
                              + [str(a) for a in args], capture_output=True, text=True, timeout=10)

    def prepare(self):
        super().prepare()
        db = self.dir / "pdns.sqlite3"
        if db.exists():
            return self.conf_path
        with sqlite3.connect(str(db)) as c:
            c.executescript(self.schema.read_text())
        for k in all_keys(self.zones):
            self.pdnsutil("import-tsig-key", k.name, k.algorithm, k.secret)
        for z in self.zones:
            if z.secondary:
                self.pdnsutil("create-secondary-zone", z.name, *["%s:%d" % (r.addr, r.port) for r in z.primaries])
                self.pdnsutil("set-meta", z.name, "IXFR", "1")
                for k in {r.key.name for r in z.primaries if r.key}:
                    self.pdnsutil("activate-tsig-key", z.name, k, "secondary")
            else:
                self.pdnsutil("load-zone", z.name, self.zone_dir / z.filename)
                self.pdnsutil("set-kind", z.name, "primary")
            if z.notify:
                self.pdnsutil("set-meta", z.name, "ALSO-NOTIFY", *["%s:%d" % (r.addr, r.port) for r in z.notify])
            for a in z.acl:
                if "transfer" in a.allow and a.key:
                    self.pdnsutil("activate-tsig-key", z.name, a.key.name, "primary")
                if "transfer" in a.allow and a.address:
                    self.pdnsutil("set-meta", z.name, "ALLOW-AXFR-FROM", *a.address)
        return self.conf_path

    def reload_zone(self, zone_name):
        """pdnsutil load-zone from the edited file (contents replaced, settings kept), then pdns_control
        notify: what an operator of the SQLite backend does."""
        self.pdnsutil("load-zone", zone_name, self.zone_path(zone_name))
        r = self.control("notify", zone_name)
        if r.returncode != 0:
            raise ServerError("pdns_control notify %s: %s%s" % (zone_name, r.stdout, r.stderr))

    def settle(self, zone_name):
        """pdnsutil rectify-zone: PowerDNS 4.7 stores the records an IXFR brings with auth=0 in a DNSSEC-capable
        SQL backend and answers them as non-authoritative ("Should not get here ... please run pdnsutil
        rectify-zone"; PowerDNS issue 12756) until the zone is rectified."""
        self.pdnsutil("rectify-zone", zone_name)

    def argv(self):
        return [self.binary, "--config-dir=%s" % self.dir]


IMPLEMENTATIONS = {"tandem": Tandem, "knot": Knot, "nsd": Nsd, "bind": Bind, "pdns": PowerDns}
