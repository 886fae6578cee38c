"""test_xot.py -- zone transfers over TLS (RFC 9103, XoT) with BIND 9.18 both ways, and the checks.

A throwaway PKI is made with the `openssl` command in the test's folder: a CA, the primary's certificate
for primary.test (and one for other.test) from it, a second CA nobody trusts with its own primary.test
certificate, a client certificate for mutual TLS. The stories:

- BIND as a TLS primary (`tls NAME { cert-file; key-file; }`, `listen-on port P tls NAME`), Tandem its
  secondary through a `tls:` profile (hostname + ca-file) with TSIG: the zone arrives, and only over TLS
  (the remote's address is BIND's TLS port, which speaks nothing else).
- Tandem as a TLS primary whose zone requires TLS (ACL `transport: tls`) with TSIG: a plain TCP AXFR is
  REFUSED, kdig +tls gets it, BIND (`primaries { ... key K tls NAME; }`, `tls NAME { ca-file;
  remote-hostname; }`) takes it as a secondary.
- The checks fail as they should: a wrong name, an unknown CA, a wrong pin: no transfer, the zone not
  served (or, for one already held, not updated), the log saying why; the right pin alone transfers.
- Mutual TLS: a client without a certificate from tls-client-ca does not get through the handshake
  (its log names the step and the primary's alert); Tandem with its certificate does.
- Configuration errors name the file and the rule.
"""

import base64
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import skip_peer  # noqa: E402
from harness import Bind, Key, Tandem, Zone  # noqa: E402
from harness import dnsq  # noqa: E402
from harness.ports import free_port  # noqa: E402

KEY = Key("xot-key.", "hmac-sha256", base64.b64encode(b"xot test key, 32 octets long!!!!").decode())


def zone_text(name, serial, tag):
    return ("$TTL 300\n@ SOA ns1.%s admin.%s %d 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n"
            "tag TXT \"%s\"\n" % (name, name, serial, tag))


# ---- PKI ---------------------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


class Pki:
    """CA, certificates and pins in dir, made with the openssl command."""

    def __init__(self, d):
        self.dir = d
        d.mkdir(exist_ok=True)
        self.ca("ca")
        self.ca("rogue")
        self.cert("primary", "ca", "primary.test")
        self.cert("other", "ca", "other.test")
        self.cert("rogue-primary", "rogue", "primary.test")
        self.cert("client", "ca", "secondary.test")

    def path(self, name):
        return str(self.dir / name)

    def ca(self, name):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=%s CA" % name,
                cwd=self.dir)

    def cert(self, name, ca, dns_name):
        (self.dir / (name + ".ext")).write_text("subjectAltName=DNS:%s\n" % dns_name)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                name + ".key", "-out", name + ".csr", "-subj", "/CN=%s" % dns_name, cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext",
                cwd=self.dir)

    def pin(self, name):
        """base64 SHA-256 of the certificate's SubjectPublicKeyInfo (RFC 7469's pin-sha256)."""
        pub = subprocess.run(["openssl", "x509", "-in", self.path(name + ".pem"), "-pubkey", "-noout"],
                             check=True, capture_output=True, timeout=30).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                             capture_output=True, timeout=30).stdout
        import hashlib
        return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not shutil.which("openssl"):
        skip_peer("openssl is not installed")
    return Pki(tmp_path_factory.mktemp("pki"))


# ---- servers with hand-written configurations ----------------------------------------------------

class TandemText(Tandem):
    """Tandem on a configuration the test writes (text after the server section's first lines)."""

    def __init__(self, workdir, zone_list, text, name=None, **kw):
        super().__init__(workdir, zone_list, name=name, **kw)
        self.text = text

    def ready_check(self, timeout=0.5):
        """Up when it answers at all; its primary zone (ready_zone) authoritatively."""
        q = dns.message.make_query(getattr(self, "ready_zone", "."), "SOA")
        r = dns.query.udp(q, self.addr, port=self.port, timeout=timeout)
        return not hasattr(self, "ready_zone") or (r.rcode() == dns.rcode.NOERROR and r.answer)

    def write_config(self):
        path = self.dir / "tandem.yaml"
        path.write_text("server:\n  listen: [\"%s@%d\"]\n  data-dir: var\n  workers: 1\n%s\n"
                        % (self.addr, self.port, self.text))
        return path


class BindText(Bind):
    """named on a configuration the test writes; @PORT@ and @DIR@ filled in."""

    def __init__(self, workdir, zone_list, text, **kw):
        super().__init__(workdir, zone_list, **kw)
        self.text = text

    def write_config(self):
        d = self.dir
        path = d / "named.conf"
        path.write_text(self.text.replace("@PORT@", str(self.port)).replace("@DIR@", str(d)))
        return path


def wait_serial(server, zone, serial, timeout=20.0):
    """Polls the SOA over UDP until the server serves `serial` for zone; bounded."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = dnsq.ask(server, zone, "SOA", timeout=1.0)
            if r.rcode() == dns.rcode.NOERROR and r.answer:
                last = r.answer[0][0].serial
                if last == serial:
                    return
            else:
                last = dns.rcode.to_text(r.rcode())
        except Exception as e:  # a timeout while it starts
            last = repr(e)
        time.sleep(0.1)
    raise AssertionError("%s: %s still at %r, not %d\n%s" % (server.kind, zone, last, serial,
                                                             server.log_tail()))


def soa_rcode(server, zone):
    return dns.rcode.to_text(dnsq.ask(server, zone, "SOA", timeout=2.0).rcode())


def keyring():
    return dns.tsigkeyring.from_text({KEY.name: KEY.secret})


def tls_profile(name, **settings):
    lines = ["  - name: %s" % name]
    lines += ["    %s: \"%s\"" % (k.replace("_", "-"), v) for k, v in settings.items()]
    return "\n".join(lines)


KEYS = ("keys:\n  - name: %s\n    algorithm: %s\n    secret: \"%s\"\n"
        % (KEY.name, KEY.algorithm, KEY.secret))


def tls_primary(tmp_path, pki, zone, serial=1, tag="one", extra="", cert="primary", name="primary"):
    """A Tandem primary of `zone` on a TLS port, transfers only over TLS and with the key."""
    tls_port = free_port()
    text = ("  tls-listen: [\"127.0.0.1@%d\"]\n  tls-certificate: %s\n  tls-key: %s\n%s"
            "%sacls:\n  - name: xot\n    address: [127.0.0.1]\n    key: [%s]\n    allow: [transfer]\n"
            "    transport: tls\nzones:\n  - name: %s\n    file: zones/z.zone\n    acl: [xot]\n"
            % (tls_port, pki.path(cert + ".pem"), pki.path(cert + ".key"), extra, KEYS, KEY.name, zone))
    t = TandemText(tmp_path, [], text, name=name)
    (t.zone_dir / "z.zone").write_text(zone_text(zone, serial, tag))
    t.tls_port = tls_port
    t.ready_zone = zone
    return t


def tls_secondary(tmp_path, zones_profiles, profiles, name="secondary", port=None):
    """A Tandem secondary: zones_profiles is [(zone, primary port, profile name)]."""
    remotes, zones = [], []
    for i, (zone, port_, prof) in enumerate(zones_profiles):
        remotes.append("  - name: p%d\n    address: [\"127.0.0.1@%d\"]\n    key: %s\n    tls: %s"
                       % (i, port_, KEY.name, prof))
        zones.append("  - name: %s\n    type: secondary\n    primaries: [p%d]" % (zone, i))
    text = "%stls:\n%s\nremotes:\n%s\nzones:\n%s\n" % (KEYS, "\n".join(profiles), "\n".join(remotes),
                                                        "\n".join(zones))
    return TandemText(tmp_path, [], text, name=name, port=port)


# ---- BIND as the TLS primary ---------------------------------------------------------------------

BIND_PRIMARY = """
tls xot-cert { cert-file "%(cert)s"; key-file "%(key)s"; };
key "%(kname)s" { algorithm %(alg)s; secret "%(secret)s"; };
options {
    directory "@DIR@";
    pid-file "@DIR@/named.pid";
    session-keyfile "@DIR@/session.key";
    listen-on port @PORT@ { 127.0.0.1; };
    listen-on port %(tls_port)d tls xot-cert { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
zone "bind-primary.test" {
    type primary;
    file "@DIR@/zones/bind-primary.test.zone";
    allow-transfer { key "%(kname)s"; };
};
"""


def bind_installed():
    if not Path("/usr/sbin/named").exists():
        skip_peer("BIND (named) is not installed")


def test_bind_tls_primary_tandem_secondary_with_tsig(tmp_path, pki):
    bind_installed()
    tls_port = free_port()
    b = BindText(tmp_path, [], BIND_PRIMARY % dict(
        cert=pki.path("primary.pem"), key=pki.path("primary.key"), kname=KEY.name, alg=KEY.algorithm,
        secret=KEY.secret, tls_port=tls_port))
    (b.zone_dir / "bind-primary.test.zone").write_text(zone_text("bind-primary.test.", 7, "from bind"))
    prof = tls_profile("bind-tls", hostname="primary.test", ca_file=pki.path("ca.pem"))
    t = tls_secondary(tmp_path, [("bind-primary.test.", tls_port, "bind-tls")], [prof])
    with b:
        b.wait_ready(timeout=20)
        with t:
            wait_serial(t, "bind-primary.test.", 7)
            r = dnsq.ask(t, "tag.bind-primary.test.", "TXT")
            assert r.answer and r.answer[0][0].strings == (b"from bind",)
            # The remote's address is BIND's TLS port, which answers nothing but TLS.
            assert re.search(r"bind-primary\.test\.: AXFR from 127\.0\.0\.1@%d serial" % tls_port,
                             t.log_text()), t.log_tail()


# ---- Tandem as the TLS primary -------------------------------------------------------------------

BIND_SECONDARY = """
tls to-tandem { ca-file "%(ca)s"; remote-hostname "primary.test"; };
key "%(kname)s" { algorithm %(alg)s; secret "%(secret)s"; };
options {
    directory "@DIR@";
    pid-file "@DIR@/named.pid";
    session-keyfile "@DIR@/session.key";
    listen-on port @PORT@ { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
};
controls { };
zone "tandem-primary.test" {
    type secondary;
    file "@DIR@/tandem-primary.test.db";
    primaries { 127.0.0.1 port %(tls_port)d key "%(kname)s" tls to-tandem; };
};
"""


def test_tandem_tls_primary_refuses_plain_and_serves_kdig_and_bind(tmp_path, pki):
    bind_installed()
    p = tls_primary(tmp_path, pki, "tandem-primary.test.", serial=3, tag="from tandem")
    with p:
        p.wait_ready()
        # A zone requiring TLS: a plain TCP AXFR is refused, even with the key.
        q = dns.message.make_query("tandem-primary.test.", "AXFR")
        q.use_tsig(keyring(), keyname=KEY.name, algorithm=KEY.algorithm)
        r = dns.query.tcp(q, "127.0.0.1", port=p.port, timeout=5)
        assert r.rcode() == dns.rcode.REFUSED
        # Over TLS with the key: the zone (kdig checks the certificate against our CA and name).
        if shutil.which("kdig"):
            out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(p.tls_port), "+tls",
                                  "+tls-ca=" + pki.path("ca.pem"), "+tls-hostname=primary.test",
                                  "-y", "%s:%s:%s" % (KEY.algorithm, KEY.name, KEY.secret),
                                  "tandem-primary.test.", "AXFR"], capture_output=True, text=True,
                                 timeout=20)
            assert '"from tandem"' in out.stdout, out.stdout + out.stderr
            # Without the key, over TLS: the ACL names the key.
            out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(p.tls_port), "+tls",
                                  "+tls-ca=" + pki.path("ca.pem"), "+tls-hostname=primary.test",
                                  "tandem-primary.test.", "AXFR"], capture_output=True, text=True,
                                 timeout=20)
            assert "REFUSED" in out.stdout + out.stderr and '"from tandem"' not in out.stdout
        b = BindText(tmp_path, [], BIND_SECONDARY % dict(
            ca=pki.path("ca.pem"), kname=KEY.name, alg=KEY.algorithm, secret=KEY.secret,
            tls_port=p.tls_port))
        with b:
            wait_serial(b, "tandem-primary.test.", 3)
            r = dnsq.ask(b, "tag.tandem-primary.test.", "TXT")
            assert r.answer and r.answer[0][0].strings == (b"from tandem",)
        assert re.search(r"tandem-primary\.test\.: AXFR to 127\.0\.0\.1@\d+ over TLS serial 3",
                         p.log_text()), p.log_tail()


# ---- the checks ----------------------------------------------------------------------------------

def test_wrong_name_unknown_ca_and_wrong_pin_fail_the_right_pin_works(tmp_path, pki):
    good = tls_primary(tmp_path, pki, "good.test.", name="good-primary")
    rogue = tls_primary(tmp_path, pki, "rogue.test.", cert="rogue-primary", name="rogue-primary")
    profiles = [
        tls_profile("right", hostname="primary.test", ca_file=pki.path("ca.pem")),
        tls_profile("wrong-name", hostname="elsewhere.test", ca_file=pki.path("ca.pem")),
        tls_profile("unknown-ca", hostname="primary.test", ca_file=pki.path("ca.pem")),
        tls_profile("wrong-pin", pin=pki.pin("other")),
        tls_profile("right-pin", pin=pki.pin("primary")),
    ]
    with good, rogue:
        good.wait_ready()
        rogue.wait_ready()
        # One secondary per profile, each with the one zone of the primary it asks.
        cases = [("right", good, "good.test.", None),
                 ("wrong-name", good, "good.test.", "certificate rejected: hostname mismatch"),
                 ("unknown-ca", rogue, "rogue.test.", "certificate rejected: unable to get local issuer"),
                 ("wrong-pin", good, "good.test.", "pin mismatch"),
                 ("right-pin", good, "good.test.", None)]
        for prof, primary, zone, why in cases:
            t = tls_secondary(tmp_path, [(zone, primary.tls_port, prof)], profiles, name="sec-" + prof)
            with t:
                if why is None:
                    wait_serial(t, zone, 1)
                    continue
                t.wait_log(re.escape(why), timeout=20)
                assert soa_rcode(t, zone) == "SERVFAIL", prof
                assert not re.search(r"AXFR from \S+ serial", t.log_text()), prof
        assert len(re.findall(r"good\.test\.: AXFR to .* over TLS", good.log_text())) == 2
        assert "AXFR to" not in rogue.log_text()


def test_a_held_zone_is_not_updated_through_a_failing_check(tmp_path, pki):
    p = tls_primary(tmp_path, pki, "held.test.", serial=1, tag="one")
    with p:
        p.wait_ready()
        right = tls_profile("prof", pin=pki.pin("primary"))
        t = tls_secondary(tmp_path, [("held.test.", p.tls_port, "prof")], [right])
        with t:
            wait_serial(t, "held.test.", 1)
            # The pin changes to another key's; the primary moves to serial 2.
            t.text = t.text.replace(pki.pin("primary"), pki.pin("other"))
            t.prepare()
            mark = t.log_mark()
            t.reload()
            t.wait_log("reloaded", mark=mark)
            (p.zone_dir / "z.zone").write_text(zone_text("held.test.", 2, "two"))
            p.reload()
            mark = t.log_mark()
            # Ask for a refresh with a NOTIFY as the primary would (plain UDP: only the transfer is TLS).
            n = dns.message.make_query("held.test.", "SOA")
            n.set_opcode(dns.opcode.NOTIFY)
            n.flags |= dns.flags.AA
            n.use_tsig(keyring(), keyname=KEY.name, algorithm=KEY.algorithm)
            dns.query.udp(n, "127.0.0.1", port=t.port, timeout=5)
            t.wait_log("pin mismatch", mark=mark, timeout=20)
            r = dnsq.ask(t, "tag.held.test.", "TXT")
            assert r.answer[0][0].strings == (b"one",)
            assert dnsq.ask(t, "held.test.", "SOA").answer[0][0].serial == 1


# ---- mutual TLS ----------------------------------------------------------------------------------

def test_a_super_primary_over_tls_is_asked_its_ns_set_over_tls(tmp_path, pki):
    """Autoprimary with a super-primary reached over TLS: a NOTIFY (signed with its key) for a zone we
    lack makes the secondary ask the NS set over TLS -- before, it asked in plain TCP on the TLS port
    and the check failed -- then create the zone and transfer it over TLS."""
    primary = tls_primary(tmp_path, pki, "auto.test.", serial=7)
    with primary:
        primary.wait_ready()
        text = ("%stls:\n%s\nremotes:\n  - name: sp\n    address: [\"127.0.0.1@%d\"]\n    key: %s\n"
                "    tls: right-pin\nautoprimaries:\n  - name: super\n    remote: sp\n"
                "    nameservers: [ns1.auto.test.]\n"
                % (KEYS, tls_profile("right-pin", pin=pki.pin("primary")), primary.tls_port, KEY.name))
        sec = TandemText(tmp_path, [], text, name="auto-secondary")
        with sec:
            sec.wait_ready()
            q = dns.message.make_query("auto.test.", "SOA")
            q.flags = dns.flags.AA
            q.set_opcode(dns.opcode.NOTIFY)   # after the flags: the opcode lives in them
            q.use_tsig(keyring(), keyname=KEY.name, algorithm=KEY.algorithm)
            r = dns.query.udp(q, sec.addr, port=sec.port, timeout=3)
            assert r.rcode() == dns.rcode.NOERROR, r
            wait_serial(sec, "auto.test.", 7)
            assert "NS query failed" not in sec.log_text()
        # The NS query and the transfer both came over TLS: the primary's TLS listener saw the AXFR,
        # and its plain port none.
        assert re.search(r"auto\.test\.: AXFR to .* over TLS", primary.log_text()), primary.log_tail()


def test_mutual_tls_needs_a_client_certificate(tmp_path, pki):
    p = tls_primary(tmp_path, pki, "mtls.test.", extra="  tls-client-ca: %s\n" % pki.path("ca.pem"))
    with p:
        p.wait_ready()
        bare = tls_profile("bare", hostname="primary.test", ca_file=pki.path("ca.pem"))
        t = tls_secondary(tmp_path, [("mtls.test.", p.tls_port, "bare")], [bare], name="bare")
        with t:
            # The step and the primary's alert are in the secondary's log, however the closed
            # connection shows first (the write's reset or the read's alert).
            t.wait_log(r"mtls\.test\.: AXFR from 127\.0\.0\.1@\d+ failed \(TLS: (sending the request|"
                       r"reading the answer): .*alert certificate required\)", timeout=20)
            p.wait_log("TLS connection from 127.0.0.1@\\d+: TLS handshake", timeout=20)
            assert soa_rcode(t, "mtls.test.") == "SERVFAIL"
        mutual = tls_profile("mutual", hostname="primary.test", ca_file=pki.path("ca.pem"),
                             certificate=pki.path("client.pem"), key=pki.path("client.key"))
        t2 = tls_secondary(tmp_path, [("mtls.test.", p.tls_port, "mutual")], [mutual], name="mutual")
        with t2:
            wait_serial(t2, "mtls.test.", 1)


# ---- limits ---------------------------------------------------------------------------------------

def test_a_handshake_flood_fills_the_tls_slots_not_the_workers(tmp_path, pki):
    p = tls_primary(tmp_path, pki, "flood.test.",
                    extra="  tls-max-clients: 3\n  tls-handshake-timeout: 2\n")
    with p:
        p.wait_ready()
        # Five connections that never say a word: three take the slots, two are closed at once.
        socks = [socket.create_connection(("127.0.0.1", p.tls_port), timeout=5) for _ in range(5)]
        try:
            p.wait_log(r"TLS connection from 127\.0\.0\.1@\d+ refused: 3 open \(tls-max-clients\)")
            # Meanwhile UDP and TCP are answered as ever: TLS is not on the workers.
            assert dnsq.ask(p, "flood.test.", "SOA").rcode() == dns.rcode.NOERROR
            q = dns.message.make_query("flood.test.", "SOA")
            assert dns.query.tcp(q, "127.0.0.1", port=p.port, timeout=5).rcode() == dns.rcode.NOERROR
            # The handshake timeout frees the slots.
            p.wait_log("TLS handshake did not finish in time", timeout=10)
        finally:
            for s_ in socks:
                s_.close()
        if shutil.which("kdig"):
            deadline = time.monotonic() + 10
            while True:
                out = subprocess.run(["kdig", "@127.0.0.1", "-p", str(p.tls_port), "+tls",
                                      "+tls-ca=" + pki.path("ca.pem"), "+tls-hostname=primary.test",
                                      "+norec", "flood.test.", "SOA"], capture_output=True, text=True,
                                     timeout=20)
                if "NOERROR" in out.stdout or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert "status: NOERROR" in out.stdout and "flood.test." in out.stdout, out.stdout


# ---- configuration -------------------------------------------------------------------------------

def test_configuration_errors_name_the_file_and_the_rule(tmp_path, pki):
    missing = tmp_path / "missing.pem"
    cases = [
        ("  tls-listen: [\"127.0.0.1@8530\"]\n  tls-certificate: %s\n  tls-key: %s\n"
         % (missing, pki.path("primary.key")), str(missing)),
        ("  tls-listen: [\"127.0.0.1@8530\"]\n  tls-certificate: %s\n  tls-key: %s\n"
         % (pki.path("primary.pem"), pki.path("other.key")), "does not hold the key"),
        ("  tls-listen: [\"127.0.0.1@8530\"]\n", "needs server.tls-certificate"),
        ("tls:\n  - name: loose\n    ca-file: %s\n" % pki.path("ca.pem"), "ca-file needs hostname"),
        ("tls:\n  - name: nothing\n", "give hostname"),
        ("tls:\n  - name: badpin\n    pin: \"abc\"\n", "pin: not the base64"),
        ("tls:\n  - name: half\n    hostname: x.test\n    certificate: %s\n" % pki.path("client.pem"),
         "certificate and key go together"),
    ]
    for i, (text, expect) in enumerate(cases):
        t = TandemText(tmp_path, [], text, name="conf%d" % i)
        out = t.check()
        assert out.returncode != 0, text
        assert expect in out.stdout + out.stderr, out.stdout + out.stderr
