"""test_deb.py -- the Debian package (issue 11, `make deb`):

- `make deb` builds tandem_VERSION_ARCH.deb with dpkg-deb; its control names the shared libraries
  (dpkg-shlibdeps) and adduser, /etc/tandem/tandem.yaml is a conffile, it holds the binaries, the man pages,
  the systemd unit and the maintainer scripts; lintian's report is printed when lintian is installed (not a
  pass/fail matter);
- unpacked into a throwaway root (dpkg-deb -x): the unit passes `systemd-analyze verify`, and the packaged
  tandemd, run as an unprivileged user with only CAP_NET_BIND_SERVICE as the unit gives it (ambient), binds
  port 53 of a 127/8 address and answers dig;
- with TANDEM_TEST_DEB_INSTALL=1 or under CI (a throwaway machine, as root): a real `dpkg -i` creates the
  system user tandem and /var/lib/tandem owned by it, the installed tandemd serves as that user, and
  `dpkg --purge` takes the files, the data folder, the user and the group away again. Never on a machine
  where a tandem package or user already exists.
"""

import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import skip_machine
from harness import BUILD, stop_process
from harness import xfr
from harness.servers import REPO

CAPS = ["--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service",
        "--bounding-set=-all,+net_bind_service"]


@pytest.fixture(scope="module")
def deb():
    r = subprocess.run(["make", "-s", "--no-print-directory", "deb", "BUILD=%s" % BUILD], cwd=REPO,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    path = Path(r.stdout.strip().splitlines()[-1])
    if not path.is_absolute():
        path = REPO / path
    assert path.is_file() and path.name.startswith("tandem_") and path.suffix == ".deb", path
    return path


def _field(info, name):
    for line in info.splitlines():
        if line.strip().startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def test_package_metadata_and_contents(deb):
    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True).stdout
    assert _field(info, "Package") == "tandem"
    depends = _field(info, "Depends")
    for lib in ["adduser", "libknot", "libzscanner", "libsqlite3", "libssl", "liburcu", "libevent",
                "libjansson", "libyaml"]:
        assert lib in depends, (lib, depends)
    conffiles = subprocess.run(["dpkg-deb", "-I", str(deb), "conffiles"], capture_output=True, text=True,
                               check=True).stdout.split()
    assert conffiles == ["/etc/tandem/tandem.yaml"]
    for script in ["postinst", "prerm", "postrm"]:
        assert script in info
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                              check=True).stdout
    files = {line.split()[-1].lstrip(".") for line in contents.splitlines()}
    for f in ["/usr/sbin/tandemd", "/usr/bin/tandem", "/usr/share/man/man8/tandemd.8.gz",
              "/usr/share/man/man1/tandem.1.gz", "/usr/share/man/man5/tandem.yaml.5.gz",
              "/etc/tandem/tandem.yaml", "/lib/systemd/system/tandem.service"]:
        assert f in files, f
    assert "/var/lib/tandem/" not in files     # postinst makes it, owned by tandem
    assert all(" root/root " in line for line in contents.splitlines())
    if shutil.which("lintian"):
        lint = subprocess.run(["lintian", "--no-tag-display-limit", str(deb)], capture_output=True, text=True,
                              timeout=600)
        print("lintian (reported, not checked):\n" + lint.stdout + lint.stderr)


def _port53_address():
    """A 127/8 address whose port 53 is free over UDP and TCP."""
    for last in range(1, 60):
        addr = "127.53.%d.1" % last
        ok = True
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((addr, 53))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return addr
    return None


def _serve_as(user, tandemd, workdir, addr):
    """Runs tandemd as user with the unit's one capability, on addr@53; returns the process."""
    pw = pwd.getpwnam(user)
    zone = workdir / "inst.zone"
    zone.write_text(xfr.zone_text("inst.test.", 7))
    conf = workdir / "tandem.yaml"
    conf.write_text("server:\n  listen: [%s@53]\n  data-dir: %s\n  workers: 1\nzones:\n"
                    "  - name: inst.test.\n    file: %s\n" % (addr, workdir / "data", zone))
    for p in [workdir, zone, conf]:
        os.chown(p, pw.pw_uid, pw.pw_gid)
    log = open(workdir / "tandemd.log", "wb")
    proc = subprocess.Popen(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups"]
                            + CAPS + [str(tandemd), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=workdir)
    log.close()
    return proc


def _dig_until(addr, name, timeout=10.0):
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        r = subprocess.run(["dig", "@%s" % addr, "-p", "53", "+short", "+tries=1", "+time=1", name, "SOA"],
                           capture_output=True, text=True, timeout=10)
        out = r.stdout.strip()
        if r.returncode == 0 and out:
            return out
        time.sleep(0.1)
    return out


def _uid_of(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def test_unpacked_package_serves_port_53_without_root(deb):
    if os.geteuid() != 0:
        skip_machine("running as another user and granting CAP_NET_BIND_SERVICE needs root")
    addr = _port53_address()
    if addr is None:
        skip_machine("no 127/8 address with port 53 free")
    # A folder the unprivileged user can traverse (pytest's tmp_path is private to root).
    top = Path(tempfile.mkdtemp(prefix="tandem-deb-", dir="/tmp"))
    try:
        os.chmod(top, 0o755)
        root = top / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=120)
        unit = (root / "lib/systemd/system/tandem.service").read_text()
        for directive in ["Type=notify", "User=tandem", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                          "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "ExecStart=/usr/sbin/tandemd"]:
            assert directive in unit, directive
        check = top / "tandem.service"
        check.write_text(unit.replace("/usr/sbin/tandemd", str(root / "usr/sbin/tandemd")))
        v = subprocess.run(["systemd-analyze", "verify", "--man=no", str(check)], capture_output=True,
                           text=True, timeout=60)
        assert v.returncode == 0 and v.stderr.strip() == "", v.stderr
        work = top / "work"
        work.mkdir()
        user = "tandem" if _has_user("tandem") else "nobody"
        proc = _serve_as(user, root / "usr/sbin/tandemd", work, addr)
        try:
            answer = _dig_until(addr, "inst.test.")
            assert " 7 " in answer, (answer, (work / "tandemd.log").read_text())
            assert _uid_of(proc.pid) == pwd.getpwnam(user).pw_uid
        finally:
            stop_process(proc)
        # Without the capability the same user cannot bind port 53: the capability is what does it.
        conf = work / "tandem.yaml"
        pw = pwd.getpwnam(user)
        r = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups",
                            "--inh-caps=-all", "--bounding-set=-all", str(root / "usr/sbin/tandemd"), "-c",
                            str(conf)], capture_output=True, text=True, timeout=30, cwd=work)
        assert r.returncode != 0 and "53" in r.stdout + r.stderr, r.stdout + r.stderr
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def test_real_install_and_purge(deb):
    if not (os.environ.get("TANDEM_TEST_DEB_INSTALL") == "1" or os.environ.get("CI")):
        skip_machine("not a throwaway machine: a real dpkg -i runs only with TANDEM_TEST_DEB_INSTALL=1 or "
                     "under CI (docs/testing.md); the unpacked package is tested above")
    if os.geteuid() != 0:
        skip_machine("dpkg -i needs root")
    # Never touch an operator's own installation or user.
    assert not _installed("tandem"), "a tandem package is installed here: not replacing it"
    assert not _has_user("tandem"), "a user tandem exists here: not testing the package's"
    addr = _port53_address()
    if addr is None:
        skip_machine("no 127/8 address with port 53 free")
    work = None
    try:
        r = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert r.returncode == 0, r.stdout + r.stderr
        pw = pwd.getpwnam("tandem")
        assert pw.pw_uid < 1000 and pw.pw_shell.endswith("nologin") and pw.pw_dir == "/var/lib/tandem"
        st = os.stat("/var/lib/tandem")
        assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o750
        conf = os.stat("/etc/tandem/tandem.yaml")
        assert conf.st_gid == pw.pw_gid and stat.S_IMODE(conf.st_mode) == 0o640
        # The configuration is the group's to read: tandemd as tandem (with its group) checks it.
        c = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--init-groups",
                            "/usr/sbin/tandemd", "--check", "-c", "/etc/tandem/tandem.yaml"],
                           capture_output=True, text=True, timeout=30)
        assert c.returncode == 0, c.stdout + c.stderr
        work = Path(tempfile.mkdtemp(prefix="tandem-deb-", dir="/tmp"))
        os.chmod(work, 0o755)
        proc = _serve_as("tandem", Path("/usr/sbin/tandemd"), work, addr)
        try:
            answer = _dig_until(addr, "inst.test.")
            assert " 7 " in answer, (answer, (work / "tandemd.log").read_text())
        finally:
            stop_process(proc)
    finally:
        p = subprocess.run(["dpkg", "--purge", "tandem"], capture_output=True, text=True, timeout=300)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert not _installed("tandem")
    assert not _has_user("tandem")
    assert subprocess.run(["getent", "group", "tandem"], capture_output=True).returncode != 0
    for gone in ["/var/lib/tandem", "/usr/sbin/tandemd", "/usr/bin/tandem", "/etc/tandem",
                 "/lib/systemd/system/tandem.service"]:
        assert not os.path.exists(gone), gone
