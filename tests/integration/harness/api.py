"""harness/api.py -- tandemd's HTTP API as the tests use it: a listener on a free port, the key file, a JSON
client, a bounded wait for the API, and the `tandem` command line pointed at it.

`TandemApi` is the harness's Tandem with `http.listen` on a free port of its own address (`http=` adds more
`http:` settings, `key_file=` moves the key file, relative to the configuration's folder as tandemd reads it).
`ApiClient` is what it adds, as a mixin, for any harness server that runs tandemd with the API (catalog_util's
`TandemC` writes its own configuration and uses it too): it needs `addr`, `dir`, `http_port`, `key_file` and
`log_tail()`. `tandem_cli()` runs build/tandem without a server; `ApiClient.cli()` runs it against this one.
"""

import http.client
import json
import os
import socket
import subprocess
import time

from .ports import free_port
from .servers import BUILD, Tandem

TANDEM_CLI = BUILD / "tandem"
API_WAIT = 10.0


def tandem_cli(*words, env=None, timeout=60, cwd=None):
    """Runs build/tandem with words; the CompletedProcess (text). The caller's TANDEM_API* variables are not
    passed on, so only what the test gives counts."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_API")}
    full.update(env or {})
    return subprocess.run([str(TANDEM_CLI)] + [str(w) for w in words], capture_output=True, text=True,
                          timeout=timeout, env=full, cwd=cwd)


class ApiClient:
    """The API of a running tandemd: "addr@port", URLs, the key, requests, a bounded wait, the CLI."""

    @property
    def api_addr(self):
        """The API's address as tandemd and `tandem --server` write it: "addr@port"."""
        return "%s@%d" % (self.addr, self.http_port)

    def url(self, path="/"):
        host = "[%s]" % self.addr if ":" in self.addr else self.addr
        return "http://%s:%d%s" % (host, self.http_port, path)

    def key(self, timeout=API_WAIT):
        """The admin key tandemd keeps in its key file (made at first start); waits for it, bounded."""
        deadline = time.monotonic() + timeout
        while True:
            if self.key_file.exists() and self.key_file.stat().st_size > 0:
                return self.key_file.read_text().strip()
            if time.monotonic() >= deadline:
                raise AssertionError("no API key in %s within %.0f s\n%s"
                                     % (self.key_file, timeout, self.log_tail()))
            time.sleep(0.05)

    def connect(self, timeout=5):
        """A TCP connection to the API, for tests that speak HTTP byte by byte."""
        return socket.create_connection((self.addr, self.http_port), timeout=timeout)

    def call(self, method, path, body=None, key=None, headers=None, raw=None, timeout=30):
        """One request: (status, body, headers). path "zones/x" is under /api/v1/, "/metrics" is taken as
        it is. body is sent as JSON (with its Content-Type), raw as bytes with only the headers given. key
        None sends the admin key, "" no key at all; headers are added last (they may replace either). The
        body comes back parsed when it is JSON, else as text ("" when empty); headers are case-blind."""
        h = {} if key == "" else {"X-API-Key": key if key is not None else self.key()}
        if body is not None:
            raw = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        if not path.startswith("/"):
            path = "/api/v1/" + path
        c = http.client.HTTPConnection(self.addr, self.http_port, timeout=timeout)
        try:
            c.request(method, path, body=raw, headers=h)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if r.headers.get("Content-Type", "").startswith("application/json") and data:
            return r.status, json.loads(data), r.headers
        return r.status, data.decode(), r.headers

    def get_json(self, path, timeout=10.0):
        """GET path (see call): the parsed JSON; an AssertionError unless 200."""
        st, out, _ = self.call("GET", path, timeout=timeout)
        assert st == 200, "GET %s: %d %r" % (path, st, out)
        return out

    def api_zones(self):
        """The API's zone list: name -> zone object. Fails when a name is listed twice."""
        out = {}
        for z in self.get_json("zones")["zones"]:
            assert z["name"] not in out, "zone %s listed twice by the API" % z["name"]
            out[z["name"]] = z
        return out

    def wait_api(self, timeout=API_WAIT):
        """Until the key file is written and GET status answers 200 with it; bounded."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            if self.key_file.exists() and self.key_file.stat().st_size > 0:
                try:
                    last = self.call("GET", "status", timeout=2)[0]
                    if last == 200:
                        return self
                except OSError as e:    # not listening yet
                    last = e
            if time.monotonic() >= deadline:
                raise AssertionError("API of %r not answering on %s within %.0f s (last: %r, key file %s)\n%s"
                                     % (self, self.api_addr, timeout, last, self.key_file, self.log_tail()))
            time.sleep(0.05)

    def cli(self, *words, env=None, timeout=60, cwd=None):
        """`tandem --server ADDR@PORT --key-file FILE words...` (see tandem_cli)."""
        return tandem_cli("--server", self.api_addr, "--key-file", self.key_file, *words, env=env,
                          timeout=timeout, cwd=cwd)


class TandemApi(ApiClient, Tandem):
    """tandemd with http.listen on a free port of its address and the API key in key_file (var/api.key,
    tandemd's default place, unless told); http is more `http:` settings ({"max-body": 1024}). serve(), and
    so `with`, waits for the API too."""

    def __init__(self, workdir, zone_list, key_file="var/api.key", http=None, **kw):
        super().__init__(workdir, zone_list, **kw)
        self.http_port = free_port(host=self.addr)
        self.key_file_setting = key_file
        self.key_file = self.dir / key_file
        self.http = dict(http or {})

    def write_config(self):
        path = super().write_config()
        lines = ["http:", "  listen: %s" % self.api_addr, "  api-key-file: %s" % self.key_file_setting]
        lines += ["  %s: %s" % kv for kv in self.http.items()]
        path.write_text(path.read_text() + "\n".join(lines) + "\n")
        return path

    def serve(self):
        """Starts it and waits until its zones and its API answer; stopped again when either does not."""
        super().serve()
        try:
            self.wait_api()
        except Exception:
            self.stop()
            raise
        return self
