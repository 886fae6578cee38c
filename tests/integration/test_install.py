"""test_install.py -- installing Tandem as a real server is installed (issue 11, the parts built so far):

- the man pages tandemd(8), tandem(1), tandem.yaml(5) are what scripts/man.py writes from docs/ (so they never
  drift), render with `man -l` and groff without a warning, and tandem.yaml(5) lists every configuration key
  docs/configuration.md lists;
- `make install DESTDIR=... PREFIX=/usr` puts the binaries, man pages and a default configuration in place; the
  installed tandemd starts from that configuration's shape and answers; a second install keeps an edited
  configuration.
"""

import os
import re
import subprocess
from pathlib import Path

from harness import Tandem, Zone
from harness import dnsq, xfr
from harness.servers import REPO

PAGES = ["man/tandemd.8", "man/tandem.1", "man/tandem.yaml.5"]


def plain(text):
    """man's output without its overstrike (bold and underline as char, backspace, char)."""
    return re.sub(".\x08", "", text)


def test_man_pages_follow_the_docs_and_render():
    r = subprocess.run(["/usr/bin/python3", "scripts/man.py", "--check"], cwd=REPO, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    for page in PAGES:
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
        assert g.returncode == 0 and g.stderr == "", (page, g.stderr)
        m = subprocess.run(["man", "-l", page], cwd=REPO, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, MANWIDTH="100"))
        assert m.returncode == 0 and "NAME" in plain(m.stdout), (page, m.stderr)


def test_every_configuration_key_is_in_tandem_yaml_5():
    doc = (REPO / "docs" / "configuration.md").read_text()
    keys = set()
    for line in doc.splitlines():
        m = re.match(r"\| (`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*) \|", line)
        if m:
            keys.update(re.findall(r"`([a-z0-9-]+)`", m.group(1)))
    assert len(keys) > 40, keys
    text = subprocess.run(["man", "-l", "man/tandem.yaml.5"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, MANWIDTH="200")).stdout
    text = plain(text).replace("\u2010", "-").replace("\u2011", "-")
    missing = sorted(k for k in keys if k not in text)
    assert not missing, "keys of docs/configuration.md missing from tandem.yaml(5): %s" % missing


def test_make_install_into_a_root(tmp_path):
    root = tmp_path / "root"
    r = subprocess.run(["make", "-s", "install", "DESTDIR=%s" % root, "PREFIX=/usr",
                        "BUILD=%s" % Path(os.environ.get("TANDEM_BUILD", REPO / "build"))],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    for f in ["usr/sbin/tandemd", "usr/bin/tandem", "usr/share/man/man8/tandemd.8", "usr/share/man/man1/tandem.1",
              "usr/share/man/man5/tandem.yaml.5", "etc/tandem/tandem.yaml"]:
        assert (root / f).is_file(), f
    assert os.access(root / "usr/sbin/tandemd", os.X_OK)
    assert (root / "var/lib/tandem").is_dir()
    v = subprocess.run([str(root / "usr/sbin/tandemd"), "-V"], capture_output=True, text=True, timeout=30)
    assert v.returncode == 0 and v.stdout.startswith("tandemd ")
    # The default configuration is valid as installed.
    c = subprocess.run([str(root / "usr/sbin/tandemd"), "--check", "-c", str(root / "etc/tandem/tandem.yaml")],
                       capture_output=True, text=True, timeout=30)
    assert c.returncode == 0, c.stdout + c.stderr
    # An operator's edit survives a second install.
    conf = root / "etc/tandem/tandem.yaml"
    conf.write_text(conf.read_text() + "# edited by the operator\n")
    r = subprocess.run(["make", "-s", "install", "DESTDIR=%s" % root, "PREFIX=/usr",
                        "BUILD=%s" % Path(os.environ.get("TANDEM_BUILD", REPO / "build"))],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "edited by the operator" in conf.read_text()


def test_installed_binary_serves(tmp_path):
    """The installed tandemd (not the build folder's) serves a zone."""
    root = tmp_path / "root"
    subprocess.run(["make", "-s", "install", "DESTDIR=%s" % root, "PREFIX=/usr",
                    "BUILD=%s" % Path(os.environ.get("TANDEM_BUILD", REPO / "build"))],
                   cwd=REPO, check=True, capture_output=True, timeout=600)
    t = Tandem(tmp_path, [Zone("inst.test.", _zone(tmp_path))])
    t.binary = root / "usr/sbin/tandemd"
    with t:
        assert xfr.soa_serial(t, "inst.test.") == 3
        assert dnsq.ask(t, "www.inst.test.", "A").answer


def _zone(tmp_path):
    p = tmp_path / "inst.zone"
    p.write_text(xfr.zone_text("inst.test.", 3))
    return p


def _install(root, *targets):
    subprocess.run(["make", "-s"] + list(targets) + ["DESTDIR=%s" % root, "PREFIX=/usr",
                                                      "BUILD=%s" % Path(os.environ.get("TANDEM_BUILD",
                                                                                       REPO / "build"))],
                   cwd=REPO, check=True, capture_output=True, timeout=600)


def test_systemd_unit_verifies_and_is_sandboxed(tmp_path):
    """The unit passes `systemd-analyze verify` (pointed at the binary installed under a throwaway root) and
    `systemd-analyze security` rates its exposure low."""
    root = tmp_path / "root"
    _install(root, "install", "install-systemd")
    unit = root / "lib/systemd/system/tandem.service"
    text = unit.read_text()
    for directive in ["Type=notify", "ExecReload=", "NoNewPrivileges=yes", "ProtectSystem=strict",
                      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                      "User=tandem"]:
        assert directive in text, directive
    check = tmp_path / "tandem.service"
    check.write_text(text.replace("/usr/sbin/tandemd", str(root / "usr/sbin/tandemd")))
    v = subprocess.run(["systemd-analyze", "verify", "--man=no", str(check)], capture_output=True, text=True,
                       timeout=60)
    assert v.returncode == 0 and v.stderr.strip() == "", v.stderr
    s = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(check)], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for tandem.service: ([\d.]+)", s.stdout + s.stderr)
    assert m and float(m.group(1)) <= 3.0, s.stdout[-500:]


def test_sd_notify_ready_reloading_stopping(tmp_path):
    """Run as systemd runs a Type=notify service: READY=1 once the zones are served, RELOADING=1 then READY=1
    around a SIGHUP, STOPPING=1 on SIGTERM (sd_notify(3), to $NOTIFY_SOCKET)."""
    import socket
    import signal
    import time
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    t = Tandem(tmp_path, [Zone("inst.test.", _zone(tmp_path))])
    t.env = {"NOTIFY_SOCKET": path}
    try:
        t.start()
        msg = sock.recv(4096).decode()
        assert "READY=1" in msg and "STATUS=serving 1 zones" in msg, msg
        assert xfr.soa_serial(t, "inst.test.") == 3   # served when READY says so
        t.signal(signal.SIGHUP)
        assert "RELOADING=1" in sock.recv(4096).decode()
        assert "READY=1" in sock.recv(4096).decode()
        t.signal(signal.SIGTERM)
        assert "STOPPING=1" in sock.recv(4096).decode()
        deadline = time.monotonic() + 10
        while t.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        t.stop()
        sock.close()


def _free_privileged_port():
    import socket
    for port in range(900, 1000):
        ok = True
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port below 1024 on 127.0.0.1")


def test_unprivileged_user_binds_a_privileged_port(tmp_path):
    """As the unit runs it: not root, with only CAP_NET_BIND_SERVICE (ambient), on a port below 1024 (picked
    free at run time on 127.0.0.1), the installed tandemd serves."""
    import pytest
    if os.geteuid() != 0:
        pytest.fail("this test needs root to drop to another user (CI runs as root)")
    import shutil
    import tempfile
    # A folder the other user can walk into (pytest's own are root's alone), removed at the end.
    work = Path(tempfile.mkdtemp(prefix="tandem-unpriv-"))
    os.chmod(work, 0o755)
    try:
        root = work / "root"
        _install(root, "install")
        port = _free_privileged_port()
        t = Tandem(work, [Zone("inst.test.", _zone(work))], port=port)
        t.prepare()
        subprocess.run(["chown", "-R", "65534:65534", str(t.dir)], check=True)
        t.binary = root / "usr/sbin/tandemd"
        argv = t.argv

        def dropped():
            return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service", "--"] + argv()
        t.argv = dropped
        with t:
            assert xfr.soa_serial(t, "inst.test.") == 3
            status = Path("/proc/%d/status" % t.proc.pid).read_text()
            uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
            assert uid == "65534", status
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_json_log_format(tmp_path):
    """server.log-format: json: every line the server writes is one JSON object with time, level, message."""
    import json
    t = Tandem(tmp_path, [Zone("inst.test.", _zone(tmp_path))], extra_server={"log-format": "json"})
    with t:
        assert xfr.soa_serial(t, "inst.test.") == 3
    lines = [ln for ln in t.log_text().splitlines() if ln and not ln.startswith("====")]
    assert len(lines) > 3
    levels = set()
    for ln in lines:
        obj = json.loads(ln)
        assert set(obj) == {"time", "level", "message"}, obj
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"])
        levels.add(obj["level"])
    assert "info" in levels
    assert any("serving 1 zones" in json.loads(ln)["message"] for ln in lines)


def test_journal_priorities(tmp_path):
    """Under systemd with stderr on the journal ($JOURNAL_STREAM is stderr's device:inode), each line starts
    with its syslog priority (<6> info, <4> warning, <3> error) and carries no timestamp of its own; a
    $JOURNAL_STREAM naming another file changes nothing."""
    zone = _zone(tmp_path)
    broken = tmp_path / "broken.zone"
    broken.write_text("$ORIGIN broken.test.\n@ SOA this is not a zone file\n")
    t = Tandem(tmp_path, [Zone("inst.test.", zone), Zone("broken.test.", broken)])
    t.log_path.parent.mkdir(parents=True, exist_ok=True)
    t.log_path.touch()
    st = os.stat(t.log_path)
    t.env = {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
    t.start()   # not waited for as ready: the broken zone never answers
    try:
        t.wait_log(r"<6>info: serving 2 zones")
        assert xfr.soa_serial(t, "inst.test.") == 3
    finally:
        t.stop()
    lines = [ln for ln in t.log_text().splitlines() if ln and not ln.startswith("====")]
    assert all(re.match(r"<[3467]>(error|warning|info|debug): ", ln) for ln in lines), lines[:5]
    assert any(re.match(r"<3>error: .*broken.test.zone:2: ", ln) for ln in lines), lines
    assert any(ln.startswith("<3>error: broken.test.: zone file") for ln in lines), lines
    # Another file's device:inode: plain lines.
    t2 = Tandem(tmp_path, [Zone("inst.test.", zone)], name="plain")
    t2.env = {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
    with t2:
        pass
    lines = [ln for ln in t2.log_text().splitlines() if ln and not ln.startswith("====")]
    assert all(re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z (error|warning|info|debug): ", ln) for ln in lines), lines[:3]
