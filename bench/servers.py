"""bench/servers.py -- start Tandem, NSD and Knot with equivalent settings, probe them, measure them.

Each server runs in the foreground as a child of the benchmark in its own process group, with every file it
writes inside its own directory under the run's temp dir, listening on 127.0.0.1 on a free port (UDP and TCP).
Equivalent settings: 2 query workers (Tandem `workers: 2`; NSD `server-count: 2`, `reuseport: yes`,
`rrl-ratelimit: 0`,
`minimal-responses: yes` so its answers carry what Knot's and Tandem's do rather than NS and glue in every
positive answer; Knot `udp-workers: 2`, `tcp-workers: 2`, `tcp-reuseport: on`). Nothing else is tuned.

CPU time and memory are read from /proc for the whole process tree of the server (NSD forks its servers and
xfrd; Knot and Tandem use threads, which /proc/PID/stat already sums).
"""

import os
import random
import select
import signal
import socket
import struct
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------- /proc

def _stat_fields(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read()
    # the command name is in parentheses and may hold spaces; fields restart after the last ')'
    return data[data.rindex(b")") + 2:].split()


def tree_pids(root):
    """The root and all its descendants that are alive now."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry))[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def tree_cpu(root):
    """utime+stime in seconds of the whole process tree (all threads of each process)."""
    total = 0
    for pid in tree_pids(root):
        try:
            f = _stat_fields(pid)
            total += int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


def tree_cpu_ns(root):
    """CPU time in seconds of the whole process tree from each thread's /proc/PID/task/TID/schedstat (time on
    a CPU, in nanoseconds): finer than tree_cpu's clock ticks (10 ms), for figures of a few hundred
    microseconds per operation. Threads that ended are not counted: for servers whose threads live on."""
    total = 0
    for pid in tree_pids(root):
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


def tree_mem(root):
    """(PSS, RSS, peak RSS) in KiB summed over the process tree."""
    pss = rss = hwm = 0
    for pid in tree_pids(root):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return pss, rss, hwm


# ---------------------------------------------------------------------------------------------- DNS probe

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28}


def _query(qname, qtype, qid):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in qname.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack("!HH", QTYPES[qtype], 1)


def wait_answer(port, qname, qtype, timeout, proc=None, interval=0.005):
    """Poll 127.0.0.1@port over UDP for qname/qtype every `interval` s; return seconds waited.

    Success is a NOERROR answer with AA set and at least one answer record. Returns None on timeout or when
    `proc` exits first.
    """
    start = time.monotonic()
    deadline = start + timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.connect(("127.0.0.1", port))
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return None
            qid = random.getrandbits(16)
            try:
                sock.send(_query(qname, qtype, qid))
            except OSError:
                time.sleep(interval)
                continue
            end = time.monotonic() + interval
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([sock], [], [], left)
                if not r:
                    break
                try:
                    data = sock.recv(4096)
                except OSError:  # ICMP port unreachable: nobody listening yet
                    time.sleep(max(0.0, end - time.monotonic()))
                    break
                if len(data) < 12:
                    continue
                rid, flags, _, ancount = struct.unpack("!HHHH", data[:8])
                if rid == qid and flags & 0x8000 and flags & 0x0400 and flags & 0xF == 0 and ancount > 0:
                    return time.monotonic() - start
        return None
    finally:
        sock.close()


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(200):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


# ---------------------------------------------------------------------------------------------- servers

class Server:
    name = "?"

    def __init__(self, workdir, zone_file, origin, port, workers=2):
        self.dir = workdir
        self.zone_file = os.path.abspath(zone_file)
        self.origin = origin
        self.port = port
        self.workers = workers
        self.proc = None
        self.log_path = None
        self.starts = 0
        os.makedirs(self.dir, exist_ok=True)

    def config(self):  # returns (argv, config text, config path)
        raise NotImplementedError

    def version(self):
        return "?"

    def start(self):
        argv, text, path = self.config()
        with open(path, "w") as f:
            f.write(text)
        self.starts += 1
        self.log_path = os.path.join(self.dir, "server-%d.log" % self.starts)
        log = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True, cwd=self.dir)
        log.close()
        return t0

    def wait_ready(self, timeout, qname=None, qtype="SOA"):
        return wait_answer(self.port, qname or self.origin, qtype, timeout, self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, wait, then SIGKILL the server's process group (which we created)."""
        p = self.proc
        if p is None:
            return None
        rc = p.poll()
        if rc is None:
            try:
                p.send_signal(signal.SIGTERM)
                rc = p.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
            except OSError:
                pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # leftovers (NSD children) and a server that ignored SIGTERM
        except OSError:
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
        return rc

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except (OSError, TypeError):
            return ""


def _first_line(argv):
    try:
        out = subprocess.run(argv, capture_output=True, timeout=10, text=True)
        return ((out.stdout or "") + (out.stderr or "")).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


class Tandem(Server):
    name = "tandem"

    def __init__(self, *a, binary="build/tandemd", data_dir=None, extra_server=None, **kw):
        super().__init__(*a, **kw)
        self.binary = os.path.abspath(binary)
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        self.extra_server = dict(extra_server or {})   # more `server:` keys (bench/rrl.py)

    def config(self):
        path = os.path.join(self.dir, "tandem.yaml")
        text = ("server:\n"
                "  listen: [\"127.0.0.1@%d\"]\n"
                "  data-dir: %s\n"
                "  workers: %d\n"
                "%s"
                "zones:\n"
                "  - name: %s\n"
                "    type: primary\n"
                "    file: %s\n") % (self.port, self.data_dir, self.workers,
                                    "".join("  %s: %s\n" % kv for kv in self.extra_server.items()),
                                    self.origin, self.zone_file)
        return [self.binary, "-c", path], text, path

    def version(self):
        try:
            out = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                                 timeout=10, cwd=os.path.dirname(os.path.dirname(self.binary)))
            return "tandemd " + (out.stdout.strip() or "(no commit)")
        except (OSError, subprocess.SubprocessError):
            return "tandemd"


class NSD(Server):
    name = "nsd"

    def config(self):
        path = os.path.join(self.dir, "nsd.conf")
        d = self.dir
        text = ("server:\n"
                "  ip-address: 127.0.0.1\n"
                "  port: %d\n"
                "  do-ip6: no\n"
                "  server-count: %d\n"
                "  reuseport: yes\n"
                "  rrl-ratelimit: 0\n"
                "  minimal-responses: yes\n"
                "  username: \"\"\n"
                "  chroot: \"\"\n"
                "  zonesdir: \"%s\"\n"
                "  database: \"\"\n"
                "  zonelistfile: \"%s/zone.list\"\n"
                "  xfrdfile: \"%s/xfrd.state\"\n"
                "  xfrdir: \"%s\"\n"
                "  pidfile: \"%s/nsd.pid\"\n"
                "  logfile: \"%s/nsd.log\"\n"
                "  verbosity: 1\n"
                "  zonefiles-write: 0\n"
                "remote-control:\n"
                "  control-enable: no\n"
                "zone:\n"
                "  name: %s\n"
                "  zonefile: \"%s\"\n") % (self.port, self.workers, d, d, d, d, d, d, self.origin, self.zone_file)
        return ["nsd", "-d", "-c", path], text, path

    def version(self):
        return _first_line(["nsd", "-v"])


class Knot(Server):
    name = "knot"

    def config(self):
        path = os.path.join(self.dir, "knot.conf")
        d = self.dir
        text = ("server:\n"
                "  rundir: \"%s\"\n"
                "  listen: 127.0.0.1@%d\n"
                "  udp-workers: %d\n"
                "  tcp-workers: %d\n"
                "  background-workers: 1\n"
                "  tcp-reuseport: on\n"
                "database:\n"
                "  storage: \"%s/db\"\n"
                "log:\n"
                "  - target: stderr\n"
                "    any: info\n"
                "zone:\n"
                "  - domain: %s\n"
                "    file: \"%s\"\n"
                "    zonefile-sync: -1\n"
                "    journal-content: none\n") % (d, self.port, self.workers, self.workers, d, self.origin,
                                                   self.zone_file)
        return ["knotd", "-c", path], text, path

    def version(self):
        return _first_line(["knotd", "-V"])


KINDS = {"tandem": Tandem, "nsd": NSD, "knot": Knot}
