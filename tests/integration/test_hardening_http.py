"""test_hardening_http.py -- issue 8 item 3: the HTTP API before authentication.

libevent's evhttp read a whole body of up to 64 MiB before the API key was looked at, let headers grow
without bound and took any number of connections. Now the key is checked from the headers, before a
single octet of body is read (401, connection closed); headers are capped (431), bodies too (413), as are
connections (503 beyond http.max-clients) and the time a request may take to arrive (408, then closed).
Every error is a JSON object with the right status. Each attack below measures the server (RSS, open
descriptors) while it runs, and checks that a client with the key is still served meanwhile.
"""

import json
import selectors
import socket
import time

import pytest

from hardening_util import fds, rss_kib
from harness import TandemApi, zones

MAX_CLIENTS = 8          # http.max-clients in these tests
MAX_BODY = 64 * 1024     # http.max-body in these tests
TIMEOUT = 3              # http.timeout in these tests
HEADER_MAX = 8192        # src/api/http_parse.h API_HEADER_MAX


def read_response(sock, limit=1 << 20):
    """One HTTP response: (status, headers dict lowercased, body bytes). Reads until Content-Length or EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        assert len(data) < limit
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), lines[0]
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if 100 <= status < 200:  # an interim response has no body
        return status, headers, body
    want = int(headers.get("content-length", "-1"))
    while want < 0 or len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def request(t, method="GET", path="/api/v1/status", key=None, body=b"", extra=""):
    with t.connect() as s:
        hdr = "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\nConnection: close\r\n%s\r\n" % (
            method, path, "X-API-Key: %s\r\n" % key if key is not None else "", len(body), extra)
        s.sendall(hdr.encode() + body)
        return read_response(s)


def json_error(status_headers_body, status):
    st, headers, body = status_headers_body
    assert st == status, (st, body)
    assert headers.get("content-type", "").startswith("application/json")
    assert "error" in json.loads(body)
    return json.loads(body)["error"]


def served(t):
    """A client with the key gets its answer (after a few 503s at most, while the server sheds the
    connections an attack left in its backlog: 503 says "try again")."""
    for _ in range(50):
        st, _, body = request(t, key=t.key())
        if st != 503:
            break
        time.sleep(0.1)
    assert st == 200 and json.loads(body)["zones"] == 1


@pytest.fixture
def api(tmp_path):
    t = TandemApi(tmp_path, zones("example.com."),
                   http={"max-clients": MAX_CLIENTS, "max-body": MAX_BODY, "timeout": TIMEOUT})
    with t:
        yield t


def test_a_wrong_key_is_refused_before_the_body_is_read(api):
    """A client announcing a 60 MiB body without the key: 401 from the headers alone, and the server never
    buffers the body (it sends 2 MiB of it, which the server throws away, and RSS does not grow by it)."""
    pid = api.proc.pid
    rss0 = rss_kib(pid)
    with api.connect() as s:
        s.sendall(b"POST /api/v1/zones HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong\r\n"
                  b"Content-Length: 62914560\r\nContent-Type: application/json\r\n\r\n")
        s.settimeout(5)
        st, headers, body = read_response(s)
        assert st == 401 and headers.get("connection") == "close"
        assert "X-API-Key" in json.loads(body)["error"]
        sent = 0
        try:
            for _ in range(32):
                s.sendall(b"x" * 65536)
                sent += 65536
        except OSError:
            pass  # the server closed after its answer: fine
    served(api)
    grown = rss_kib(pid) - rss0
    print("announced 60 MiB without the key, sent %d KiB: RSS grew %d KiB" % (sent // 1024, grown))
    assert grown < 1024


def test_expect_100_continue_without_the_key_gets_401_and_no_continue(api):
    with api.connect() as s:
        s.sendall(b"PUT /api/v1/zones/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        st, _, _ = read_response(s)
        assert st == 401


def test_expect_100_continue_with_the_key_is_continued(api):
    with api.connect() as s:
        s.sendall(("POST /api/v1/zones/example.com/notify HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n"
                   "Content-Length: 2\r\nExpect: 100-continue\r\n\r\n" % api.key()).encode())
        st, _, _ = read_response(s)
        assert st == 100
        s.sendall(b"{}")
        st, _, body = read_response(s)
        assert st == 202, body


def test_headers_are_capped(api):
    """Endless headers: 431 once they pass the cap, whatever the key; memory stays flat."""
    pid = api.proc.pid
    rss0 = rss_kib(pid)
    with api.connect() as s:
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
        try:
            for i in range(2000):
                s.sendall(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000))
        except OSError:
            pass
        s.settimeout(5)
        st, _, body = read_response(s)
    assert st == 431, body
    assert "error" in json.loads(body)
    served(api)
    assert rss_kib(pid) - rss0 < 1024


def test_a_body_over_the_cap_is_413_with_the_key(api):
    err = json_error(request(api, "POST", "/api/v1/zones/example.com/notify", key=api.key(),
                             body=b"x" * (MAX_BODY + 1)), 413)
    assert str(MAX_BODY) in err
    st, _, _ = request(api, "POST", "/api/v1/zones/example.com/notify", key=api.key(), body=b"x" * MAX_BODY)
    assert st == 202


def test_errors_are_json(api):
    json_error(request(api, key=None), 401)
    json_error(request(api, key="wrong"), 401)
    json_error(request(api, path="/nowhere", key=api.key()), 404)
    json_error(request(api, "TRACE", key=api.key()), 405)
    with api.connect() as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        json_error(read_response(s), 400)
    with api.connect() as s:
        s.sendall(("POST /api/v1/status HTTP/1.1\r\nX-API-Key: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                   % api.key()).encode())
        json_error(read_response(s), 411)


def test_connections_are_capped_and_others_get_503(api):
    """Idle connections up to max-clients are held; past it new ones are told 503 and closed (a few at a
    time; beyond those the server stops accepting for a while, so the kernel's backlog holds the rest);
    descriptors stay bounded while 60 more connections are attempted; a slot frees when one goes."""
    pid = api.proc.pid
    fds0 = fds(pid)
    held = [api.connect() for _ in range(MAX_CLIENTS)]
    time.sleep(0.2)
    extra = []
    try:
        for _ in range(60):
            try:
                extra.append(api.connect(timeout=2))
            except OSError:
                pass
        time.sleep(0.5)
        peak = fds(pid)
        refused = 0
        sel = selectors.DefaultSelector()
        for c in extra:
            sel.register(c, selectors.EVENT_READ)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and sel.get_map():
            for key, _ in sel.select(timeout=max(0.01, deadline - time.monotonic())):
                c = key.fileobj
                sel.unregister(c)
                c.settimeout(2)
                try:
                    st, _, body = read_response(c)
                    if st == 503:
                        refused += 1
                        assert "error" in json.loads(body)
                except (OSError, AssertionError):
                    pass
        sel.close()
        print("%d held, %d more: %d told 503, descriptors %d -> %d" % (MAX_CLIENTS, len(extra), refused,
                                                                        fds0, peak))
        assert refused > 0
        assert peak - fds0 <= MAX_CLIENTS + 16 + 2
    finally:
        for c in extra:
            c.close()
    held.pop().close()
    served(api)  # a freed slot serves a client with the key
    for c in held:
        c.close()


def test_a_slow_client_is_cut_off_and_its_slot_freed(api):
    """Slowloris: a request trickling in a byte at a time gets 408 after http.timeout, and the slots all
    such clients hold come back."""
    pid = api.proc.pid
    socks = [api.connect() for _ in range(MAX_CLIENTS)]
    try:
        for s in socks:
            s.sendall(b"GET /api/v1/status HTTP/1.1\r\n")
        deadline = time.monotonic() + TIMEOUT + 5
        statuses = []
        for s in socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                while True:  # keep trickling until the server answers or closes
                    s.sendall(b"X")
                    s.settimeout(0.5)
                    try:
                        statuses.append(read_response(s)[0])
                        break
                    except socket.timeout:
                        assert time.monotonic() < deadline
            except OSError:
                statuses.append("closed")
        assert statuses.count(408) >= 1, statuses
    finally:
        for s in socks:
            s.close()
    time.sleep(0.2)
    served(api)
    assert fds(pid) < 40


def test_idle_keepalive_connections_are_closed(api):
    """A connection that asked once and then says nothing is closed after http.timeout."""
    with api.connect(timeout=TIMEOUT + 5) as s:
        s.sendall(("GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n\r\n" % api.key()).encode())
        st, headers, _ = read_response(s)
        assert st == 200 and headers.get("connection", "keep-alive") == "keep-alive"
        # The same connection serves a second request.
        s.sendall(("GET /api/v1/zones HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\n\r\n" % api.key()).encode())
        assert read_response(s)[0] == 200
        assert s.recv(1) == b""  # closed by the server after the idle timeout, not by us


def test_limits_are_configuration_errors_when_out_of_range(tmp_path):
    t = TandemApi(tmp_path, zones("example.com."), http={"max-clients": 0, "max-body": 10})
    t.prepare()
    r = t.check()
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "http.max-clients" in out and "http.max-body" in out, out
