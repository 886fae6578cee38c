"""test_tour.py -- README.md's five-minute tour, as a newcomer follows it.

The shipped etc/ (tandem.yaml and its zones) is copied to a temporary folder so the tour can edit the zone
file; only the ports change (a free one instead of 5300, and for HTTP instead of 8053), so a `make run`
already going on this machine is not disturbed. Then: start tandemd, ask with `build/tandem lookup`,
add a record, check, reload, ask again, stop with Ctrl-C, start again and find the record still there.
"""

import re
import shutil
import signal
import subprocess
import time

import pytest

from harness import BUILD, REPO, Tandem, Zone, free_port

ETC = REPO / "etc"
LOOKUP = BUILD / "tandem"


class TourTandem(Tandem):
    """tandemd on a copy of the shipped etc/tandem.yaml, ports changed, everything else as shipped."""

    def __init__(self, workdir):
        self.home = workdir
        text = (ETC / "tandem.yaml").read_text()
        names = re.findall(r"^\s*-\s*name:\s*(\S+)\s*$", text, re.M)
        files = re.findall(r"^\s*file:\s*(\S+)\s*$", text, re.M)
        super().__init__(workdir, [Zone(n, ETC / f) for n, f in zip(names, files)], name="run")
        self.http_port = free_port()

    def prepare(self):
        etc = self.home / "etc"
        conf = etc / "tandem.yaml"
        if etc.exists():               # a restart: the copy is already made and edited
            self.conf_path = conf
            return conf
        shutil.copytree(ETC, etc)
        text = conf.read_text()
        assert "127.0.0.1@5300" in text, "etc/tandem.yaml no longer listens on 127.0.0.1@5300 as README says"
        text = text.replace("127.0.0.1@5300", "127.0.0.1@%d" % self.port)
        text = text.replace("127.0.0.1@8053", "127.0.0.1@%d" % self.http_port)
        conf.write_text(text)
        self.conf_path = conf
        return conf

    def zone_path(self, zone_name):
        return self.home / "etc" / "zones" / (zone_name.rstrip(".") + ".zone")


def lookup(server, *args, timeout=15):
    """Runs `build/tandem lookup ARGS @127.0.0.1@PORT` and returns (exit status, output)."""
    argv = [str(LOOKUP), "lookup", *args, "@127.0.0.1@%d" % server.port]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return res.returncode, res.stdout + res.stderr


def record_lines(output):
    """The RR lines of a dig-like output: 'owner ttl class type rdata' with whitespace collapsed."""
    out = []
    for line in output.splitlines():
        if line.startswith(";") or not line.strip():
            continue
        out.append(" ".join(line.split()))
    return out


def has_record(output, owner, rdtype, rdata):
    pat = re.compile(r"^%s \d+ IN %s %s$" % (re.escape(owner), rdtype, re.escape(rdata)), re.I)
    return any(pat.match(line) for line in record_lines(output))


@pytest.fixture
def need_cli():
    if not LOOKUP.exists():
        pytest.fail("build/tandem is missing: `make all` builds it")


def test_the_readme_tour(tmp_path, need_cli):
    t = TourTandem(tmp_path)
    t.start()
    try:
        t.wait_ready()
        # 2. ask it something
        rc, out = lookup(t, "www.example.com", "A")
        assert rc == 0 and "NOERROR" in out, out
        assert has_record(out, "www.example.com.", "A", "192.0.2.10"), out
        rc, out = lookup(t, "example.com", "MX")
        assert rc == 0 and has_record(out, "example.com.", "MX", "10 mail.example.com."), out
        assert "ADDITIONAL SECTION" in out and has_record(out, "mail.example.com.", "A", "192.0.2.25"), out
        rc, out = lookup(t, "anything.dev.example.com")
        assert rc == 0 and has_record(out, "anything.dev.example.com.", "A", "192.0.2.80"), out
        rc, out = lookup(t, "host.sub.example.com")
        assert rc == 0 and "AUTHORITY SECTION" in out, out
        assert has_record(out, "sub.example.com.", "NS", "ns1.sub.example.com."), out
        assert has_record(out, "ns1.sub.example.com.", "A", "203.0.113.53"), out
        rc, out = lookup(t, "www.example.com", "+tcp")
        assert rc == 0 and has_record(out, "www.example.com.", "A", "192.0.2.10") and "TCP" in out, out

        # 3. change the zone: add ftp, raise the serial, check, reload, ask again
        zone = t.zone_path("example.com.")
        text = zone.read_text()
        serial = re.search(r"(\d+)\s*;\s*serial", text)
        assert serial, "no '; serial' comment in the shipped zone file"
        text = text.replace(serial.group(1), str(int(serial.group(1)) + 1), 1)
        zone.write_text(text + "ftp             IN A     192.0.2.21\n")
        res = t.check()
        assert res.returncode == 0, res.stdout + res.stderr
        t.reload()
        deadline = time.monotonic() + 10
        while True:
            rc, out = lookup(t, "ftp.example.com")
            if has_record(out, "ftp.example.com.", "A", "192.0.2.21") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert has_record(out, "ftp.example.com.", "A", "192.0.2.21"), out

        # 4. stop with Ctrl-C
        t.signal(signal.SIGINT)
        assert t.proc.wait(10) == 0, "tandemd did not exit 0 on SIGINT\n%s" % t.log_tail()
    finally:
        t.stop()

    # ... and the next start serves the changed zone from the store
    t.start()
    try:
        t.wait_ready()
        rc, out = lookup(t, "ftp.example.com")
        assert has_record(out, "ftp.example.com.", "A", "192.0.2.21"), out
    finally:
        t.stop()


def test_lookup_says_clearly_when_nobody_answers(tmp_path, need_cli):
    """A closed TCP port is refused at once: the lookup says so rather than wait (bounded: a lookup
    that waits out its retries instead fails the test by the subprocess timeout)."""
    port = free_port()         # nothing listens here
    res = subprocess.run([str(LOOKUP), "lookup", "www.example.com", "@127.0.0.1@%d" % port, "+tcp"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert "refused" in (res.stdout + res.stderr).lower(), res.stdout + res.stderr
