"""test_backup.py -- the store's backup, restore and upgrade safety (issue 11, "Upgrade safety"):

- `tandem backup FILE` while a stream of UPDATEs runs: the copy is one committed state (the serial it holds
  and exactly the records added up to it), the stream goes on during the copy; an existing FILE is never
  overwritten; `tandemd --restore` is refused while the server runs;
- `tandemd --restore` into a fresh data dir: the restored server serves exactly the backed-up serial and
  records; into a used data dir: the previous store is kept as tandem.db.bak;
- a damaged backup, or one from a newer schema, is refused and the data dir left as it was;
- a store from a newer schema version is refused at start with a message naming both versions and the data
  dir, and its file is not modified (byte for byte).
"""

import hashlib
import shutil
import sqlite3
import subprocess
import threading
import time

import dns.query
import dns.rcode
import dns.update

from harness import BUILD, Acl, TandemApi, Zone
from harness import xfr

ZONE = "dyn.test."
BASE = 10
TANDEMD = BUILD / "tandemd"


def tandemd(*args, cwd, timeout=60):
    return subprocess.run([str(TANDEMD)] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def _primary(tmp_path, name="primary"):
    src = tmp_path / "dyn.zone"
    src.write_text(xfr.zone_text(ZONE, BASE, ["www A 192.0.2.1"]))
    return TandemApi(tmp_path, [Zone(ZONE, src, acl=[Acl(["127.0.0.1"], allow=["update", "transfer"])])],
                     name=name)


class UpdateStream(threading.Thread):
    """Adds u0, u1, ... one UPDATE at a time (each raises the serial by one) until stopped."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.done = 0
        self.error = None
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set() and self.done < 5000:
                u = dns.update.UpdateMessage(ZONE)
                u.add("u%d" % self.done, 300, "A", "192.0.2.%d" % (self.done % 250 + 1))
                r = dns.query.tcp(u, self.server.addr, port=self.server.port, timeout=5)
                if r.rcode() != dns.rcode.NOERROR:
                    raise AssertionError("UPDATE %d: %s" % (self.done, dns.rcode.to_text(r.rcode())))
                self.done += 1
        except Exception as e:   # reported by the test
            self.error = e

    def wait_for(self, n, timeout=30.0):
        deadline = time.monotonic() + timeout
        while self.done < n and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None, self.error
        assert self.done >= n, "only %d UPDATEs in %.0f s" % (self.done, timeout)


def _served(server):
    """(serial, set of names u*) of the zone as an AXFR gives it."""
    records = xfr.axfr(server, ZONE)
    serial = int(next(iter(records[(ZONE, "SOA")][1])).split()[2])
    names = {owner[:-len(ZONE) - 1] for owner, rtype in records if owner.startswith("u") and rtype == "A"}
    return serial, names


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_while_updating_then_restore_serves_the_backed_up_serial(tmp_path):
    primary = _primary(tmp_path)
    backup = tmp_path / "backups" / "tandem-backup.db"
    backup.parent.mkdir()
    with primary:
        stream = UpdateStream(primary)
        stream.start()
        try:
            stream.wait_for(20)
            before = stream.done
            r = primary.cli("backup", backup)
            after = stream.done
            assert r.returncode == 0, r.stderr
            assert str(backup) in r.stdout and "backup written" in r.stdout
            stream.wait_for(after + 20)
        finally:
            stream.stop.set()
            stream.join(10)
        assert stream.error is None, stream.error
        final = stream.done
        assert "backup: %s written" % backup in primary.log_text()

        # Never over an existing file.
        again = primary.cli("backup", backup)
        assert again.returncode == 2 and "exists" in again.stderr
        # The store is open: a restore now is refused and changes nothing.
        db = primary.dir / "var" / "tandem.db"
        busy = tandemd("--restore", backup, "-c", primary.conf_path, cwd=primary.dir)
        assert busy.returncode == 1 and "in use" in busy.stderr, busy.stderr
        assert not (primary.dir / "var" / "tandem.db.bak").exists()
        assert xfr.soa_serial(primary, ZONE) == BASE + final

    # The copy is one committed state: serial BASE + k and exactly u0 .. u(k-1), taken during the call.
    storeonly = Zone(ZONE, acl=[Acl(["127.0.0.1"], allow=["transfer"])])
    storeonly.source = None      # no file: the zone is served from the store
    fresh = TandemApi(tmp_path, [storeonly], name="restored")
    conf = fresh.prepare()
    r = tandemd("--restore", backup, "-c", conf, cwd=fresh.dir)
    assert r.returncode == 0, r.stderr
    assert "restored from %s (1 zones)" % backup in r.stdout
    assert not (fresh.dir / "var" / "tandem.db.bak").exists()
    with fresh:
        serial, names = _served(fresh)
    k = serial - BASE
    assert before <= k <= after, (before, k, after)
    assert k < final
    assert names == {"u%d" % i for i in range(k)}

    # Restoring over a used store keeps it as tandem.db.bak (its WAL folded in: it opens whole).
    old_sha = _sha(primary.dir / "var" / "tandem.db")
    r = tandemd("--restore", backup, "-c", primary.conf_path, cwd=primary.dir)
    assert r.returncode == 0, r.stderr
    bak = primary.dir / "var" / "tandem.db.bak"
    assert _sha(bak) == old_sha
    assert not (primary.dir / "var" / "tandem.db-wal").exists()
    with sqlite3.connect(bak) as c:
        assert c.execute("SELECT serial FROM zone WHERE name = ?", (ZONE,)).fetchone()[0] == BASE + final


def test_a_damaged_or_newer_backup_is_refused_and_nothing_changes(tmp_path):
    primary = _primary(tmp_path)
    good = tmp_path / "good.db"
    with primary:
        assert primary.cli("backup", good).returncode == 0
        relative = primary.cli("backup", "rel.db", cwd=tmp_path)
        assert relative.returncode == 0, relative.stderr
    assert (tmp_path / "rel.db").stat().st_size > 0      # relative to the CLI's folder
    db = primary.dir / "var" / "tandem.db"
    before = _sha(db)

    damaged = tmp_path / "damaged.db"
    data = bytearray(good.read_bytes())
    data[len(data) // 2:] = b"\xff" * (len(data) - len(data) // 2)
    damaged.write_bytes(bytes(data))
    r = tandemd("--restore", damaged, "-c", primary.conf_path, cwd=primary.dir)
    assert r.returncode == 1 and "nothing restored" in r.stderr
    assert "damaged" in r.stderr or "not a store backup" in r.stderr or "cannot open" in r.stderr, r.stderr

    newer = tmp_path / "newer.db"
    shutil.copyfile(good, newer)
    with sqlite3.connect(newer) as c:
        c.execute("PRAGMA user_version = 99")
    r = tandemd("--restore", newer, "-c", primary.conf_path, cwd=primary.dir)
    assert r.returncode == 1 and "schema version 99 is newer" in r.stderr, r.stderr

    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello\n" * 100)
    r = tandemd("--restore", not_db, "-c", primary.conf_path, cwd=primary.dir)
    assert r.returncode == 1

    assert _sha(db) == before
    assert not (primary.dir / "var" / "tandem.db.bak").exists()
    assert not (primary.dir / "var" / "tandem.db.restore").exists()


def test_a_store_from_a_newer_version_is_refused_and_left_untouched(tmp_path):
    primary = _primary(tmp_path)
    with primary:
        pass
    db = primary.dir / "var" / "tandem.db"
    with sqlite3.connect(db) as c:
        version = c.execute("PRAGMA user_version").fetchone()[0]
        c.execute("PRAGMA user_version = %d" % (version + 1))
    c.close()
    assert not (primary.dir / "var" / "tandem.db-wal").exists()
    before = _sha(db)
    stat_before = db.stat()
    primary.start()
    try:
        assert primary.proc.wait(30) == 1
    finally:
        primary.stop()
    log = primary.log_text()
    assert "schema version %d is newer than this program's %d" % (version + 1, version) in log, log
    assert "the data directory %s is left as it is" % (primary.dir / "var") in log
    assert _sha(db) == before
    assert db.stat().st_mtime_ns == stat_before.st_mtime_ns
    assert not (primary.dir / "var" / "tandem.db-wal").exists()
