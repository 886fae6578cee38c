"""test_hardening_keys.py -- issue 8 item 9: keys that would silently disable TSIG, or the API key.

A TSIG secret longer than the buffers the transfer, NOTIFY and autoprimary jobs copy it into made them go
out unsigned. Tandem now refuses at load what it cannot use, naming the file and line, and never cuts a
key short: not a TSIG secret, not a BIND key file, not the API key. An API key file that others may read
(or write) is refused, as ssh refuses such a private key.
"""

import base64
import os
import socket
import stat
import time

import dns.message
import dns.opcode

from harness import Key, Remote, Tandem, TandemApi, Zone, zones, tandem_cli
from harness.ports import free_port

TSIG_SECRET_MAX = 1024  # src/tsig/tsig.h
API_KEY_MAX = 511       # src/api/http.h


def b64(n):
    return base64.b64encode(os.urandom(n)).decode()


def wait_exit(t, timeout=10):
    """tandemd must stop by itself (it refused to start); its exit status."""
    try:
        return t.proc.wait(timeout)
    finally:
        t.stop()


# ---- TSIG secrets

def test_a_tsig_secret_longer_than_tandem_can_use_is_refused_with_file_and_line(tmp_path):
    """A 1,100-octet secret used to load fine and then NOTIFY, SOA queries and transfers went out without
    TSIG. It is a configuration error now; 1,024 octets still work."""
    too_long = Key("long.", "hmac-sha256", b64(TSIG_SECRET_MAX + 76))
    secondary = Remote("127.0.0.2", free_port(), key=too_long)
    t = Tandem(tmp_path, [Zone("example.com.", notify=[secondary])])
    t.prepare()
    r = t.check()
    assert r.returncode != 0, r.stdout + r.stderr
    lines = [l for l in (r.stdout + r.stderr).splitlines() if "keys[0].secret" in l]
    assert lines and "tandem.yaml:" in lines[0] and "1100 octets" in lines[0], r.stdout + r.stderr
    # And the server refuses to start with it, rather than send unsigned.
    t.start()
    assert wait_exit(t) != 0
    assert "keys[0].secret" in t.log_text()

    longest = Key("long.", "hmac-sha256", b64(TSIG_SECRET_MAX))
    t2 = Tandem(tmp_path, [Zone("example.com.", notify=[Remote("127.0.0.2", free_port(), key=longest)])],
                name="ok")
    t2.prepare()
    r = t2.check()
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_notify_with_a_1024_octet_secret_goes_out_signed(tmp_path):
    """At the limit the key is used, not dropped: the NOTIFY a fake secondary receives carries TSIG."""
    key = Key("long.", "hmac-sha256", b64(TSIG_SECRET_MAX))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    try:
        fake = Remote("127.0.0.1", sock.getsockname()[1], key=key)
        with Tandem(tmp_path, [Zone("example.com.", notify=[fake])]):
            data, _ = sock.recvfrom(65535)
            keyring = {dns.name.from_text(key.name): key.dns()}
            m = dns.message.from_wire(data, keyring=keyring)  # raises when unsigned or badly signed
            assert m.opcode() == dns.opcode.NOTIFY and m.had_tsig
    finally:
        sock.close()


def key_file_text(name, secret, pad=0):
    return ("# padding %s\n" % ("x" * pad) if pad else "") + \
        'key "%s" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' % (name, secret)


def keys_section(path):
    return "keys:\n  - name: fromfile.\n    file: %s\n" % path


def test_a_bind_key_file_with_a_secret_too_long_names_the_file_and_line(tmp_path):
    kf = tmp_path / "long.key"
    kf.write_text("\n\n" + key_file_text("fromfile", b64(TSIG_SECRET_MAX + 1)))
    t = Tandem(tmp_path, zones("example.com."), extra_config=keys_section(kf))
    t.prepare()
    r = t.check()
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "%s:5:" % kf in out and "longer than %d octets" % TSIG_SECRET_MAX in out, out


def test_a_big_bind_key_file_is_read_whole(tmp_path):
    """The key file was read into 16 KiB and the rest dropped: a key further down was 'not there'."""
    kf = tmp_path / "big.key"
    kf.write_text(key_file_text("other", b64(32), pad=20000) + key_file_text("fromfile", b64(32)))
    t = Tandem(tmp_path, zones("example.com."), extra_config=keys_section(kf))
    t.prepare()
    r = t.check()
    assert r.returncode == 0, r.stdout + r.stderr


# ---- the API key

def start_and_wait_api(t, timeout=10):
    t.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not t.alive():
            return False
        try:
            t.connect(timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def test_an_api_key_longer_than_127_octets_is_used_whole(tmp_path):
    """The key file was read into 128 octets: a 200-character key was cut, and the full key refused."""
    key = "k" * 100 + "K" * 100
    t = TandemApi(tmp_path, zones("example.com."), key_file="api.key")
    t.prepare()
    t.key_file.write_text(key + "\n")
    t.key_file.chmod(0o600)
    try:
        assert start_and_wait_api(t), t.log_tail()
        assert t.call("GET", "status", key=key, timeout=5)[0] == 200
        assert t.call("GET", "status", key=key[:127], timeout=5)[0] == 401
    finally:
        t.stop()


def test_an_api_key_too_long_to_send_is_refused_at_start(tmp_path):
    t = TandemApi(tmp_path, zones("example.com."), key_file="api.key")
    t.prepare()
    t.key_file.write_text("a" * (API_KEY_MAX + 1) + "\n")
    t.key_file.chmod(0o600)
    t.start()
    assert wait_exit(t) != 0
    assert "api.key" in t.log_text() and "longer than %d" % API_KEY_MAX in t.log_text()


def test_an_api_key_file_others_can_read_is_refused(tmp_path):
    """As ssh refuses an unprotected private key: mode 0644 (or any group/other bit) stops the start."""
    t = TandemApi(tmp_path, zones("example.com."), key_file="api.key")
    t.prepare()
    t.key_file.write_text("secret-key-of-the-test\n")
    t.key_file.chmod(0o644)
    t.start()
    assert wait_exit(t) != 0
    log = t.log_text()
    assert "api.key" in log and "0644" in log and "chmod 600" in log, log


def test_the_api_key_file_made_at_first_start_is_private(tmp_path):
    t = TandemApi(tmp_path, zones("example.com."), key_file="api.key")
    try:
        assert start_and_wait_api(t), t.log_tail()
        mode = stat.S_IMODE(os.stat(t.key_file).st_mode)
        assert mode == 0o600
        key = t.key_file.read_text().strip()
        assert t.call("GET", "status", key=key, timeout=5)[0] == 200
    finally:
        t.stop()


def test_the_cli_refuses_a_key_too_long_rather_than_cut_it(tmp_path):
    """TANDEM_API_KEY was copied into 512 octets: a longer key was sent cut, and refused as wrong (401)."""
    port = free_port()
    r = tandem_cli("--server", "127.0.0.1@%d" % port, "status", env={"TANDEM_API_KEY": "a" * (API_KEY_MAX + 1)},
                   timeout=30)
    assert r.returncode != 0
    assert "TANDEM_API_KEY is too long" in r.stderr, r.stderr


def test_a_key_file_under_a_bad_key_name_is_an_error_not_a_crash(tmp_path):
    """Regression (found by fuzz_conf): a key whose name is refused, given with a file, made --check (and a
    start) read the file and compare each statement's name with the missing one: SIGSEGV."""
    kf = tmp_path / "ok.key"
    kf.write_text(key_file_text("a.b", b64(32)))
    t = Tandem(tmp_path, zones("example.com."), extra_config='keys:\n  - name: "a{b."\n    file: %s\n' % kf)
    t.prepare()
    r = t.check()
    out = r.stdout + r.stderr
    assert r.returncode == 1, (r.returncode, out)
    assert "keys[0].name: 'a{b.' is not a valid domain name" in out, out
