"""test_lookup_tsig.py -- `tandem lookup +key=...` signs its query and verifies the answer: an operator
checking that a secondary's key really opens the zone transfer, and that a wrong secret does not."""

import base64
import os
import subprocess
import time
from pathlib import Path

import pytest

from harness.ports import free_port

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TANDEM_BUILD", REPO / "build"))
SECRET = base64.b64encode(b"tandem-lookup-tsig-test-secret-3").decode()
WRONG = base64.b64encode(b"not-the-secret-of-this-key-at-al").decode()


@pytest.fixture
def primary(tmp_path):
    port = free_port()
    (tmp_path / "z.zone").write_text("$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
                                     "www A 192.0.2.8\n")
    (tmp_path / "t.yaml").write_text(f"""server:
  listen: [127.0.0.1@{port}]
  data-dir: var
  workers: 1
keys:
  - name: xfr-key.
    algorithm: hmac-sha256
    secret: "{SECRET}"
acls:
  - name: signed
    address: [127.0.0.0/8]
    key: [xfr-key.]
    allow: [transfer]
zones:
  - name: tsig.test.
    file: z.zone
    acl: [signed]
""")
    proc = subprocess.Popen([str(BUILD / "tandemd"), "-c", "t.yaml"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "log", "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "serving" not in (tmp_path / "log").read_text():
        time.sleep(0.05)
    if "serving" not in (tmp_path / "log").read_text():
        proc.kill()
        proc.wait(5)
        pytest.fail("tandemd not serving within 10 s:\n" + (tmp_path / "log").read_text())
    yield port
    proc.terminate()
    proc.wait(10)


def lookup(*args):
    return subprocess.run([str(BUILD / "tandem"), "lookup", *args], capture_output=True, text=True,
                           timeout=30)


def test_signed_transfer_and_query(primary):
    at = "@127.0.0.1@%d" % primary
    ok = lookup("tsig.test", "AXFR", at, "+key=hmac-sha256:xfr-key.:" + SECRET)
    assert ok.returncode == 0, ok.stderr
    assert "www.tsig.test." in ok.stdout and "192.0.2.8" in ok.stdout
    # The algorithm defaults to hmac-sha256; a plain query is signed and its answer verified too.
    q = lookup("www.tsig.test", "A", at, "+key=xfr-key.:" + SECRET)
    assert q.returncode == 0, q.stderr
    assert "TSIG" in q.stdout and "192.0.2.8" in q.stdout


def test_transfer_without_or_with_a_wrong_key_fails(primary):
    at = "@127.0.0.1@%d" % primary
    plain = lookup("tsig.test", "AXFR", at)
    assert "REFUSED" in plain.stdout + plain.stderr
    wrong = lookup("tsig.test", "AXFR", at, "+key=xfr-key.:" + WRONG)
    assert wrong.returncode != 0
    assert "TSIG" in wrong.stdout + wrong.stderr
    bad = lookup("tsig.test", "AXFR", at, "+key=xfr-key.")
    assert bad.returncode == 1 and "+key wants" in bad.stderr
