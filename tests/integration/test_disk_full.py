"""test_disk_full.py -- a commit that fails because the disk is full (issue 8): the served version stays,
the failure shows in the status, and the change is stored and served by itself once there is room again,
with the store intact.

The data-dir is a small tmpfs mounted for the test (root is needed to mount it; CI runs as root). It is filled
to the last byte with a file, the zone file changes and the primary reloads: SQLite fails with SQLITE_FULL.
"""

import os
import sqlite3
import subprocess

import pytest

from catalog_util import TandemC, wait_for
from harness import dnsq
from harness.xfr import write_zone

ZONE = "full.test."


def zone_text(serial, n=50):
    lines = ["$ORIGIN %s" % ZONE, "$TTL 300", "@ SOA ns1 hostmaster %d 3600 600 604800 300" % serial,
             "@ NS ns1", "ns1 A 192.0.2.1"]
    lines += ["h%d A 192.0.2.%d" % (i, i % 250 + 1) for i in range(n)]
    lines += ['big%d TXT "%s"' % (i, "x" * 200) for i in range(serial * 20)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs at tmp_path/primary/var, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    var = tmp_path / "primary" / "var"
    var.mkdir(parents=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(var)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        yield var
    finally:
        subprocess.run(["umount", "-l", str(var)], capture_output=True)


def fill(var):
    """Fills the file system to its last block; returns the filler's path."""
    path = var / "filler"
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 1):
            try:
                while os.write(fd, b"\0" * size) > 0:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return path


def serial(server):
    r = dnsq.ask(server, ZONE, "SOA")
    return r.answer[0][0].serial if r.answer else None


def test_a_full_disk_keeps_the_served_version_and_the_change_lands_when_there_is_room(tmp_path, small_disk):
    zfile = tmp_path / "full.test.zone"
    write_zone(zfile, zone_text(1))

    def conf(t):
        return {"server": t.server_section(), "http": t.http_section(),
                "zones": [{"name": ZONE, "type": "primary", "file": str(zfile)}]}

    t = TandemC(tmp_path, "primary", conf, ready_zones=[ZONE])
    with t:
        assert serial(t) == 1
        assert t.get_json("status")["store"]["ok"] is True
        filler = fill(small_disk)
        mark = t.log_mark()
        write_zone(zfile, zone_text(2))
        t.reload()
        t.wait_log(r"full\.test\.: store: .*disk full", mark=mark)
        t.wait_log(r"full\.test\.: the change is not served until it is stored; trying again in 2 s",
                   mark=mark)
        status = t.get_json("status")["store"]
        assert status["ok"] is False and "disk full" in status["last_error"], status
        assert status["last_error_at"] is not None
        assert serial(t) == 1                     # the served version is the stored one
        assert not dnsq.ask(t, "big25.full.test.", "TXT").answer

        # A retry while the disk is still full fails the same way and leaves everything as it was.
        t.wait_log(r"full\.test\.: trying again in 4 s|full\.test\.: the change is not served until it is "
                   r"stored; trying again in 4 s", mark=mark, timeout=15)
        assert serial(t) == 1

        os.unlink(filler)
        wait_for("serial 2 served after room was made", lambda: serial(t) == 2, 30)
        t.wait_log(r"full\.test\.: stored after \d+ failed attempts", mark=mark)
        assert dnsq.ask(t, "big25.full.test.", "TXT").answer
        assert t.get_json("status")["store"]["ok"] is True
    c = sqlite3.connect(str(small_disk / "tandem.db"))
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        c.close()
