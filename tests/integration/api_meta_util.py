"""api_meta_util.py -- a tandemd with its HTTP API, and a small JSON client for it (test_api_meta.py,
test_metrics.py)."""

import json
import time
import urllib.error
import urllib.request

from harness import Tandem
from harness.ports import free_port


class TandemApi(Tandem):
    """tandemd with the API on a free port, its admin key in api.key."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.http_port = free_port(host=self.addr)

    def write_config(self):
        path = super().write_config()
        path.write_text(path.read_text() + "http:\n  listen: %s@%d\n  api-key-file: api.key\n"
                        % (self.addr, self.http_port))
        return path

    def key(self):
        deadline = time.monotonic() + 10
        f = self.dir / "api.key"
        while time.monotonic() < deadline:
            if f.exists() and f.stat().st_size > 0:
                return f.read_text().strip()
            time.sleep(0.05)
        raise AssertionError("no API key file\n" + self.log_tail())

    def url(self, path):
        return "http://%s:%d%s" % (self.addr, self.http_port, path)

    def call(self, method, path, body=None, key=None, headers=None, timeout=15):
        """(status, parsed JSON or text, headers) of one request; key None is the admin key, "" none."""
        h = {} if key == "" else {"X-API-Key": key if key is not None else self.key()}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if not path.startswith("/"):
            path = "/api/v1/" + path
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), e.headers
        ctype = hdrs.get("Content-Type", "")
        out = json.loads(raw) if ctype.startswith("application/json") and raw else raw.decode()
        return status, out, hdrs

    def wait_api(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                st, _, _ = self.call("GET", "status")
                if st == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, self.log_tail()
            time.sleep(0.05)
