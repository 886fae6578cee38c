"""test_console.py -- the web console (docs/console.md): its files served by tandemd at /, and the browser
stories of tests/console/console.mjs (headless Chromium driven by playwright-core) against real servers.

- The files: / and every file of www/ with its Content-Type and a Content-Security-Policy that allows only
  the page's own origin, no key needed; HEAD without the body; an unknown file 404; the API still asks for
  the key; a file request with a body refused.
- replication: a primary tandemd (zone file, NOTIFY to the secondary) and a Tandem secondary, each with
  http.listen. The browser logs in (a wrong key refused beside the field), sees the zone list with its
  badge, opens the replication tab, the zone file is edited and "Reload file" pressed, and the secondary's
  serial follows live on the page; a key the API no longer takes sends back to the login page; log out.
- story: the operator's story through the console: a quick zone on the primary, notify set in its
  properties, the secondary zone made from the secondary's own console, a record added, refused with the
  error beside the field (bad address), edited and deleted in the records window, and the secondary's
  serial followed on the replication page.
- tools: the zone text tab (a broken line refused with its line number and nothing saved; a record added and
  saved), the lookup page finding the record on the primary, the history's revert of that change, and the
  lookup page finding it gone; DNS then agrees.

On a failure the node script keeps a screenshot in tests/console/out/ (gitignored) and the failure message
prints its path. Every wait is bounded (the script's own timeouts, and this file's subprocess timeout).
"""

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import skip_peer
from harness import Acl, Remote, TandemApi, Zone, secondary
from harness import xfr
from harness.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_TESTS = ROOT / "tests" / "console"
CHROMIUM = "/usr/bin/chromium"
PRIMARY, SECONDARY = "127.0.0.1", "127.0.0.2"
ZONE = "example.com."
NODE_TIMEOUT = 240


def get(server, path, method="GET", headers=None, data=None):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(server.url(path), method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A primary (example.com from a file, NOTIFY to the secondary, transfers allowed to it) and a Tandem
    secondary, both with the API; started, the secondary holding serial 1."""
    tmp = tmp_path_factory.mktemp("console")
    src = tmp / "example.com.zone"
    src.write_text(xfr.zone_text(ZONE, 1))
    sec_port = free_port(host=SECONDARY)
    primary = TandemApi(tmp, [Zone(ZONE, src, notify=[Remote(SECONDARY, sec_port)],
                                   acl=[Acl([SECONDARY], allow=["transfer"])])],
                        name="primary", addr=PRIMARY, extra_server={"source-address": PRIMARY})
    second = TandemApi(tmp, [secondary(ZONE, [Remote(PRIMARY, primary.port)])], name="secondary",
                       addr=SECONDARY, port=sec_port, extra_server={"source-address": SECONDARY})
    with primary as p, second as s:
        xfr.wait_serial(s, ZONE, 1, timeout=10)
        p.wait_log(r"example\.com\.: AXFR to 127\.0\.0\.2@\d+ serial 1, ")
        yield p, s


def run_browser(scenario, cfg):
    """Runs the node script for one scenario; fails with its output (and screenshot path) unless it passes."""
    if not os.path.exists(CHROMIUM):
        skip_peer("chromium (%s)" % CHROMIUM)
    if shutil.which("node") is None:
        skip_peer("nodejs")
    if not (CONSOLE_TESTS / "node_modules" / "playwright-core").is_dir():
        skip_peer("playwright-core (npm ci in tests/console: make test runs it) missing")
    cfg = dict(cfg, scenario=scenario, out=str(CONSOLE_TESTS / "out"))
    env = dict(os.environ, CONSOLE_CONFIG=json.dumps(cfg))
    r = subprocess.run(["node", str(CONSOLE_TESTS / "console.mjs")], capture_output=True, text=True,
                       timeout=NODE_TIMEOUT, env=env, cwd=CONSOLE_TESTS)
    assert r.returncode == 0 and "console: PASS" in r.stdout, \
        "browser scenario %s failed (exit %d):\n%s\n%s" % (scenario, r.returncode, r.stdout, r.stderr[-3000:])


# ---- the files

def test_console_files_are_served_with_their_types_and_policy(pair):
    p, _ = pair
    status, h, body = get(p, "/")
    assert status == 200
    assert h["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/js/app.js">' in body
    csp = h["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert get(p, "/index.html")[2] == body
    for path, ctype in (("/js/app.js", "text/javascript; charset=utf-8"),
                        ("/js/records.js", "text/javascript; charset=utf-8"),
                        ("/console.css", "text/css; charset=utf-8")):
        status, h, body = get(p, path)
        assert (status, h["Content-Type"]) == (200, ctype), path
        assert body == (ROOT / "www" / path.lstrip("/")).read_bytes(), "%s differs from www/" % path
    status, h, body = get(p, "/console.css", method="HEAD")
    assert status == 200 and body == b"" and int(h["Content-Length"]) == (ROOT / "www/console.css").stat().st_size


def test_console_unknown_files_and_the_api_behind_it(pair):
    p, _ = pair
    status, h, body = get(p, "/no-such-file.js")
    assert status == 404 and json.loads(body)["error"] == "no such file: /no-such-file.js"
    assert get(p, "/../etc/passwd")[0] in (400, 404)
    assert get(p, "/api/v1/zones")[0] == 401                      # the files open no door to the data
    assert get(p, "/api/v1/zones", headers={"X-API-Key": p.key()})[0] == 200
    assert get(p, "/", method="POST")[0] in (401, 405)            # only GET and HEAD are files


# ---- the browser

def test_console_replication_follows_live(pair):
    p, s = pair
    run_browser("replication", {
        "primary": {"url": p.url(), "key": p.key(), "dns": "%s@%d" % (PRIMARY, p.port)},
        "secondary": {"url": s.url(), "key": s.key(), "address": SECONDARY, "dns": "%s@%d" % (SECONDARY, s.port)},
        "zone": ZONE, "serial": 1, "zonefile": str(p.zone_path(ZONE)),
        "next_text": xfr.zone_text(ZONE, 2, ["console A 192.0.2.99"]), "next_serial": 2})
    xfr.wait_serial(s, ZONE, 2, timeout=10)


def test_console_story_quick_zone_records_and_secondary(pair):
    p, s = pair
    run_browser("story", {
        "primary": {"url": p.url(), "key": p.key(), "dns": "%s@%d" % (PRIMARY, p.port)},
        "secondary": {"url": s.url(), "key": s.key(), "address": SECONDARY, "dns": "%s@%d" % (SECONDARY, s.port)},
        "zone": "shop.test."})
    # What the console did is what DNS serves: the secondary holds the primary's serial.
    xfr.wait_serial(s, "shop.test.", xfr.soa_serial(p, "shop.test."), timeout=10)


def test_console_zone_text_history_revert_and_lookup(pair):
    p, s = pair
    before = xfr.soa_serial(p, ZONE)
    run_browser("tools", {
        "primary": {"url": p.url(), "key": p.key(), "dns": "%s@%d" % (PRIMARY, p.port)},
        "secondary": {"url": s.url(), "key": s.key(), "address": SECONDARY, "dns": "%s@%d" % (SECONDARY, s.port)},
        "zone": ZONE})
    # Two changes went through (the text saved, then reverted), and the record is not served.
    assert xfr.soa_serial(p, ZONE) >= before + 2
    r = dns.query.udp(dns.message.make_query("tooltest." + ZONE, "A"), PRIMARY, port=p.port, timeout=3)
    assert r.rcode() == dns.rcode.NXDOMAIN
