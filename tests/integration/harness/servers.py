"""harness/servers.py -- one class per DNS server implementation: Tandem, Knot, NSD, BIND.

A test says what it wants ("Tandem serving example.com and example.net, identity ns1.test") and the class
writes that server's own configuration in a private folder, copies the zone files in, starts the daemon in
the foreground on a free loopback port, and waits (bounded) until every zone answers its SOA. Everything the
daemon prints goes to a log file in that folder; conftest.py prints its tail when a test fails.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from .ports import free_port, have_ipv6

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data"
ZONES = DATA / "zones"
BUILD = Path(os.environ.get("TANDEM_BUILD", REPO / "build"))

# Servers started and not yet stopped, so that a failing test can show their logs.
RUNNING = []


class ServerError(Exception):
    """A server did not start, did not become ready, or died."""


class Zone:
    """A zone to serve: its name and the zone file it is loaded from (copied into each server's folder)."""

    def __init__(self, name, source=None):
        self.name = name if name.endswith(".") else name + "."
        self.source = Path(source) if source else ZONES / (self.name.rstrip(".") + ".zone")
        self.filename = self.name.rstrip(".") + ".zone"

    def __repr__(self):
        return "Zone(%s)" % self.name


def zones(*names):
    """Zone objects for test zones in tests/data/zones, by name."""
    return [Zone(n) for n in names]


class Server:
    """What every implementation shares: folders, process, readiness, logs, queries."""

    kind = "server"
    binary = None
    ready_timeout = 10.0
    stop_timeout = 5.0

    def __init__(self, workdir, zone_list, ipv6=False, identity=None, tcp_idle_timeout=None, name=None):
        self.dir = Path(workdir) / (name or self.kind)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.zone_dir = self.dir / "zones"
        self.zone_dir.mkdir(exist_ok=True)
        self.zones = list(zone_list)
        self.ipv6 = bool(ipv6) and have_ipv6()
        self.port = free_port(ipv6=self.ipv6)
        self.identity = identity
        self.tcp_idle_timeout = tcp_idle_timeout
        self.log_path = self.dir / (self.kind + ".log")
        self.conf_path = None
        self.proc = None
        self._log = None

    # ---- things a subclass provides
    def write_config(self):
        """Writes the server's configuration file and returns its path."""
        raise NotImplementedError

    def argv(self):
        raise NotImplementedError

    # ---- lifecycle
    @property
    def addr(self):
        return "127.0.0.1"

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
            if not dst.exists():
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
        self.proc = subprocess.Popen([str(a) for a in self.argv()], stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=self.dir)
        RUNNING.append(self)
        return self

    def ready_check(self, timeout=0.5):
        """True when every zone answers its SOA authoritatively over UDP."""
        for z in self.zones:
            q = dns.message.make_query(z.name, "SOA")
            q.flags &= ~dns.flags.RD
            r = dns.query.udp(q, self.addr, port=self.port, timeout=timeout)
            if r.rcode() != dns.rcode.NOERROR or not (r.flags & dns.flags.AA) or not r.answer:
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

    def signal(self, sig):
        if not self.alive():
            raise ServerError("%s is not running\n%s" % (self.kind, self.log_tail()))
        self.proc.send_signal(sig)

    def reload(self):
        """Asks the server to reload configuration and zone files (SIGHUP)."""
        self.signal(signal.SIGHUP)

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

    def __enter__(self):
        self.start()
        try:
            self.wait_ready()
        except Exception:
            self.stop()
            raise
        return self

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

    def __repr__(self):
        return "%s(127.0.0.1@%d)" % (self.kind, self.port)


def _listen_list(server, fmt):
    out = [fmt % ("127.0.0.1", server.port)]
    if server.ipv6:
        out.append(fmt % ("::1", server.port))
    return out


class Tandem(Server):
    """build/tandemd with a generated YAML configuration (relative paths, as an operator writes them)."""

    kind = "tandemd"
    binary = BUILD / "tandemd"

    def __init__(self, workdir, zone_list, workers=2, extra_server=None, **kw):
        super().__init__(workdir, zone_list, **kw)
        self.workers = workers
        self.extra_server = dict(extra_server or {})

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
        lines.append("zones:")
        for z in self.zones:
            lines += ["  - name: %s" % z.name, "    type: primary", "    file: zones/%s" % z.filename]
        path = self.dir / "tandem.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def argv(self):
        return [self.binary, "-c", self.conf_path]

    def check(self, conf=None, timeout=30):
        """Runs `tandemd --check -c FILE` and returns the CompletedProcess (text output)."""
        conf = conf or self.conf_path or self.prepare()
        return subprocess.run([str(self.binary), "--check", "-c", str(conf)], capture_output=True,
                              text=True, timeout=timeout, cwd=self.dir)


class Knot(Server):
    """knotd 3.x: 2 UDP and 2 TCP workers, tcp-reuseport, everything it keeps inside its own folder."""

    kind = "knotd"
    binary = Path("/usr/sbin/knotd")

    def write_config(self):
        d = self.dir
        listen = ", ".join(_listen_list(self, "%s@%d"))
        lines = ["server:",
                 "    rundir: %s" % d,
                 "    listen: [%s]" % listen,
                 "    udp-workers: 2",
                 "    tcp-workers: 2",
                 "    background-workers: 1",
                 "    tcp-reuseport: on"]
        if self.identity:
            lines += ["    identity: %s" % self.identity, "    nsid: %s" % self.identity]
        if self.tcp_idle_timeout:
            lines.append("    tcp-idle-timeout: %ds" % self.tcp_idle_timeout)
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
                  "zone:"]
        for z in self.zones:
            lines += ["  - domain: %s" % z.name, "    file: %s" % (self.zone_dir / z.filename)]
        path = d / "knot.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def argv(self):
        return [self.binary, "-c", self.conf_path]


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
        for z in self.zones:
            lines += ["zone:", "    name: \"%s\"" % z.name, "    zonefile: \"%s\"" % z.filename]
        path = d / "nsd.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

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
        opts.append("};")
        opts.append("controls { };")
        for z in self.zones:
            opts.append("zone \"%s\" { type primary; file \"%s\"; };" % (z.name, self.zone_dir / z.filename))
        path = d / "named.conf"
        path.write_text("\n".join(opts) + "\n")
        return path

    def argv(self):
        return [self.binary, "-g", "-n", "2", "-c", self.conf_path]


IMPLEMENTATIONS = {"tandem": Tandem, "knot": Knot, "nsd": Nsd, "bind": Bind}
