"""test_api_meta.py -- issue 10's keys and access, lookup and OpenAPI document, through the HTTP API.

TSIG keys made through the API are kept in the store across restarts and used by the server like
configured keys (a signed question is verified and answered signed; once deleted, BADKEY); configured
keys cannot be deleted there; secrets are shown once, then only to a write key that asks. Named API
keys: a read key that writes gets 403 and nothing changes, a key limited to zones gets 403 elsewhere
and sees only its zones, every write is logged with the key's name, the store keeps no key that could
be shown, keys survive a restart, a deleted key is refused. The lookup tool runs from the server
without holding up the control loop. The OpenAPI document describes exactly the router's routes.
"""

import base64
import json
import re
import socket
import subprocess
import threading
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.tsig
import dns.tsigkeyring
import pytest

from harness import BUILD, Key, TandemApi, zones

REPO = Path(__file__).resolve().parents[2]
CONF_KEY = Key("cfg-key.", "hmac-sha256", base64.b64encode(b"k" * 32).decode())


def signed_query(t, key, name="www.example.com."):
    q = dns.message.make_query(name, "A")
    q.use_tsig(dns.tsigkeyring.from_text({key["name"]: (key["algorithm"], key["secret"])}),
               keyname=key["name"], algorithm=key["algorithm"])
    return dns.query.udp(q, t.addr, port=t.port, timeout=3)


@pytest.fixture
def api(tmp_path):
    # A configured key that no zone names (the harness writes only the keys zones name).
    t = TandemApi(tmp_path, zones("example.com.", "example.net."), extra_config="keys:\n  - name: %s\n"
                  "    algorithm: %s\n    secret: \"%s\"\n" % (CONF_KEY.name, CONF_KEY.algorithm, CONF_KEY.secret))
    with t:
        yield t


def test_tsig_keys_made_listed_used_kept_and_deleted(api):
    st, body, _ = api.call("GET", "keys")
    assert st == 200
    assert body["keys"] == [{"name": "cfg-key.", "algorithm": "hmac-sha256", "source": "config"}]

    st, made, _ = api.call("POST", "keys", {"name": "Made.Key", "algorithm": "hmac-sha512"})
    assert st == 201, made
    assert made["name"] == "made.key." and made["source"] == "api"
    assert len(base64.b64decode(made["secret"])) == 64      # the MAC's size (RFC 8945 6)
    st, given, _ = api.call("POST", "keys", {"name": "given.key.", "secret": CONF_KEY.secret})
    assert st == 201 and given["algorithm"] == "hmac-sha256" and given["secret"] == CONF_KEY.secret

    # Listed without secrets; the server verifies and signs with the new key.
    st, body, _ = api.call("GET", "keys")
    assert [k["name"] for k in body["keys"]] == ["cfg-key.", "given.key.", "made.key."]
    assert all("secret" not in k for k in body["keys"])
    r = signed_query(api, made)
    assert r.rcode() == dns.rcode.NOERROR and r.had_tsig and r.answer
    # A reload (a new configuration in force) keeps the API's keys in use.
    mark = api.log_mark()
    api.reload()
    api.wait_log(r"reloaded: \d+ zones", mark=mark)
    assert signed_query(api, made).rcode() == dns.rcode.NOERROR

    # Kept across a restart.
    api.stop()
    api.serve()
    st, body, _ = api.call("GET", "keys")
    assert [k["name"] for k in body["keys"]] == ["cfg-key.", "given.key.", "made.key."]
    assert signed_query(api, made).rcode() == dns.rcode.NOERROR

    # The file's key stays; bad input changes nothing.
    st, err, _ = api.call("DELETE", "keys/cfg-key.")
    assert st == 409 and "tandem.yaml" in err["error"]
    for bad, field in [({"name": "x..y"}, "name"), ({"name": "k3", "algorithm": "hmac-sha3"}, "algorithm"),
                       ({"name": "k3", "secret": "not base64!"}, "secret"), ({}, "name")]:
        st, err, _ = api.call("POST", "keys", bad)
        assert st == 422 and err["field"] == field, (bad, err)
    st, err, _ = api.call("POST", "keys", {"name": "made.key."})
    assert st == 409
    st, err, _ = api.call("POST", "keys", {"name": "cfg-key."})
    assert st == 409
    assert st == 409 and len(api.call("GET", "keys")[1]["keys"]) == 3

    # Deleted: gone from the list and from the server (BADKEY: NOTAUTH), also after a restart.
    st, _, _ = api.call("DELETE", "keys/made.key")
    assert st == 200
    with pytest.raises(dns.tsig.PeerBadKey):      # NOTAUTH with TSIG error BADKEY
        signed_query(api, made)
    st, _, _ = api.call("DELETE", "keys/made.key")
    assert st == 404
    api.stop()
    api.serve()
    assert [k["name"] for k in api.call("GET", "keys")[1]["keys"]] == ["cfg-key.", "given.key."]


def test_tsig_secrets_only_for_a_write_key_that_asks(api):
    st, rk, _ = api.call("POST", "apikeys", {"name": "reader", "scope": "read"})
    assert st == 201
    st, _, _ = api.call("GET", "keys?secrets=true", key=rk["key"])
    assert st == 403
    st, body, _ = api.call("GET", "keys", key=rk["key"])
    assert st == 200 and all("secret" not in k for k in body["keys"])
    st, body, _ = api.call("GET", "keys?secrets=true")
    assert st == 200 and body["keys"][0]["secret"] == CONF_KEY.secret


def test_api_keys_scopes_zones_log_and_restart(api):
    st, rk, _ = api.call("POST", "apikeys", {"name": "reader", "scope": "read"})
    assert st == 201 and rk["scope"] == "read" and rk["zones"] is None and len(rk["key"]) == 64
    st, zk, _ = api.call("POST", "apikeys", {"name": "net-writer", "scope": "write",
                                             "zones": ["Example.NET"]})
    assert st == 201 and zk["zones"] == ["example.net."]

    # Listed without the keys themselves; the admin key first.
    st, body, _ = api.call("GET", "apikeys")
    assert [(k["name"], k["scope"]) for k in body["apikeys"]] == [
        ("admin", "write"), ("net-writer", "write"), ("reader", "read")]
    assert all("key" not in k for k in body["apikeys"])

    # A read key reads, and its writes are refused before anything happens.
    st, body, _ = api.call("GET", "zones", key=rk["key"])
    assert st == 200 and len(body["zones"]) == 2
    st, err, _ = api.call("POST", "apikeys", {"name": "sneaky", "scope": "write"}, key=rk["key"])
    assert st == 403 and "reader" in err["error"]
    st, err, _ = api.call("POST", "zones/example.com/notify", key=rk["key"])
    assert st == 403
    assert [k["name"] for k in api.call("GET", "apikeys")[1]["apikeys"]] == ["admin", "net-writer", "reader"]

    # A key limited to example.net.: sees only it, writes only it, may not manage keys.
    st, body, _ = api.call("GET", "zones", key=zk["key"])
    assert [z["name"] for z in body["zones"]] == ["example.net."]
    st, err, _ = api.call("POST", "zones/example.com/notify", key=zk["key"])
    assert st == 403 and "example.com." in err["error"]
    st, _, _ = api.call("GET", "zones/example.com", key=zk["key"])
    assert st == 403
    st, _, _ = api.call("POST", "zones/example.net/notify", key=zk["key"])
    assert st == 202
    st, _, _ = api.call("POST", "keys", {"name": "k"}, key=zk["key"])
    assert st == 403
    st, _, _ = api.call("GET", "apikeys", key=zk["key"])
    assert st == 403

    # Every write logged with the key's name and the status.
    api.wait_log(r"API: POST /zones/example.com/notify by key reader from .*: 403")
    api.wait_log(r"API: POST /zones/example.com/notify by key net-writer from .*: 403")
    api.wait_log(r"API: POST /zones/example.net/notify by key net-writer from .*: 202")

    # Authorization: Bearer works as X-API-Key does; a wrong key is 401.
    st, body, _ = api.call("GET", "status", key="", headers={"Authorization": "Bearer " + rk["key"]})
    assert st == 200
    st, _, _ = api.call("GET", "status", key=rk["key"][:-1] + "x")
    assert st == 401
    st, _, _ = api.call("GET", "status", key="", headers={"Authorization": "Bearer wrong"})
    assert st == 401
    st, _, _ = api.call("GET", "status", headers={"Authorization": "Bearer " + rk["key"]})
    assert st == 400      # two keys: which one would count? neither

    # The store holds no key that could be shown.
    db = b"".join(p.read_bytes() for p in (api.dir / "var").iterdir() if p.is_file())
    assert rk["key"].encode() not in db and zk["key"].encode() not in db

    # Kept across a restart; a deleted key is refused at once.
    api.stop()
    api.serve()
    assert api.call("GET", "zones", key=rk["key"])[0] == 200
    st, _, _ = api.call("DELETE", "apikeys/reader")
    assert st == 200
    assert api.call("GET", "zones", key=rk["key"])[0] == 401
    assert api.call("DELETE", "apikeys/reader")[0] == 404
    assert api.call("DELETE", "apikeys/admin")[0] == 409


def test_api_key_bad_input_changes_nothing(api):
    for bad, field in [({"name": "admin", "scope": "read"}, "name"), ({"name": "a b", "scope": "read"}, "name"),
                       ({"name": "x" * 64, "scope": "read"}, "name"), ({"name": "ok", "scope": "all"}, "scope"),
                       ({"name": "ok", "scope": "read", "zones": "example.com."}, "zones"),
                       ({"name": "ok", "scope": "read", "zones": ["example.com.", "bad..name"]}, "zones[1]")]:
        st, err, _ = api.call("POST", "apikeys", bad)
        assert st == 422 and err["field"] == field, (bad, err)
    st, _, _ = api.call("POST", "apikeys", {"name": "ok", "scope": "read"})
    assert st == 201
    st, _, _ = api.call("POST", "apikeys", {"name": "ok", "scope": "write"})
    assert st == 409
    st, err, _ = api.call("POST", "apikeys", None, headers={"Content-Type": "text/plain"})
    assert st == 415
    body = api.call("GET", "apikeys")[1]["apikeys"]
    assert [(k["name"], k["scope"]) for k in body] == [("admin", "write"), ("ok", "read")]


def test_lookup_from_the_server(api):
    st, r, _ = api.call("GET", "lookup?name=www.example.com&type=A")
    assert st == 200, r
    assert r["rcode"] == "NOERROR" and "aa" in r["flags"]
    assert [a["data"] for a in r["sections"]["answer"]] == ["192.0.2.80"]
    st, r, _ = api.call("GET", "lookup?name=example.net&type=SOA&tcp=true&server=%s&port=%d"
                        % (api.addr, api.port))
    assert st == 200 and r["protocol"] == "TCP" and r["sections"]["answer"][0]["type"] == "SOA"
    # Signed with a key the server knows, by name: the reply's TSIG verified by the tool.
    st, r, _ = api.call("GET", "lookup?name=www.example.com&key=cfg-key.")
    assert st == 200 and r["sections"]["additional"][-1]["type"] == "TSIG"
    for q, field in [("name=&type=A", "name"), ("name=x&type=AXFR", "type"), ("name=x&port=0", "port"),
                     ("name=x&timeout=60", "timeout"), ("name=x&type=NOSUCHTYPE", None)]:
        st, err, _ = api.call("GET", "lookup?" + q)
        assert st == 422, (q, err)
        if field:
            assert err["field"] == field
    assert api.call("GET", "lookup?name=x&key=nokey")[0] == 404


def test_lookup_does_not_hold_up_the_control_loop(api):
    # A server that never answers: the lookup waits out its timeout on its own thread.
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.settimeout(10)
    port = silent.getsockname()[1]
    result = {}

    def slow():
        result["first"] = api.call("GET", "lookup?name=x.test&server=127.0.0.1&port=%d&timeout=5&tries=1"
                                   % port, timeout=30)
    th = threading.Thread(target=slow)
    th.start()
    try:
        silent.recvfrom(512)       # the question arrived: the lookup is under way
        # Meanwhile the API answers, and a second lookup is told to come back.
        st, _, _ = api.call("GET", "status")
        assert st == 200
        assert "first" not in result
        st, err, _ = api.call("GET", "lookup?name=y.test")
        assert st == 503 and "one at a time" in err["error"]
        th.join(30)
    finally:
        silent.close()
    st, err, _ = result["first"]
    assert st == 502 and err["status"] == 9
    # The slot is free again.
    assert api.call("GET", "lookup?name=www.example.com")[0] == 200


# Routes of docs/api.md's contract that the zones and records modules add (branches api-zones and
# api-records). Each must be absent from the router today; once a branch is merged its rows must leave
# this list (the test fails until they do), so that the document and the router match exactly.
PENDING = set()   # routes documented before they are routed (none now)


def router_routes():
    out = subprocess.run([str(BUILD / "tandemd"), "--api-routes"], capture_output=True, text=True,
                         timeout=10, check=True).stdout
    routes = set()
    for line in out.splitlines():
        method, path = line.split()
        assert path.startswith("/api/v1/")
        path = path[len("/api/v1"):]
        routes.add((method, re.sub(r"\{zone\}|\*", "{}", path)))
    return routes


def test_openapi_document_matches_the_router(api):
    st, doc, hdrs = api.call("GET", "openapi.json")
    assert st == 200 and doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "/api/v1"}]
    documented = {(m.upper(), re.sub(r"\{[^}]+\}", "{}", p)) for p, ops in doc["paths"].items()
                  for m in ops}
    routes = router_routes()
    assert routes - documented == set(), "routes missing from docs/openapi.json"
    assert routes & PENDING == set(), "merged: remove these from PENDING"
    assert documented - routes == PENDING, "documented but not routed"
    # The file in the repository is what the server serves.
    assert doc == json.loads((REPO / "docs" / "openapi.json").read_text())
    # Every documented operation the router has answers something else than the router's 404/405.
    st, made, _ = api.call("POST", "apikeys", {"name": "probe", "scope": "read"})
    values = {"zone": "example.com.", "action": "notify", "name": "probe", "id": "1"}
    for path, ops in doc["paths"].items():
        for method in ops:
            if (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)) in PENDING:
                continue
            concrete = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)
            query = "?name=www.example.com" if path == "/lookup" else ""
            body = {} if method in ("post", "patch", "put") else None
            st, out, _ = api.call(method.upper(), concrete.lstrip("/") + query, body)
            assert st not in (404, 405) or (isinstance(out, dict) and "no such path" not in out["error"]
                                             and st != 405), (method, path, st, out)


def test_cli_key_and_apikey_commands(api):
    r = api.cli("key", "create", "cli.key", "hmac-sha384")
    assert r.returncode == 0, r.stderr
    secret = re.search(r'secret: "([^"]+)"', r.stdout).group(1)
    assert len(base64.b64decode(secret)) == 48
    r = api.cli("key", "list")
    assert r.returncode == 0
    assert re.search(r"^cfg-key\.\s+hmac-sha256\s+config\s+-$", r.stdout, re.M), r.stdout
    assert re.search(r"^cli\.key\.\s+hmac-sha384\s+api\s+\d{4}-", r.stdout, re.M), r.stdout
    assert secret not in r.stdout
    r = api.cli("key", "list", "--secrets")
    assert "cli.key. secret %s" % secret in r.stdout
    r = api.cli("key", "list", "--json")
    assert [k["name"] for k in json.loads(r.stdout)["keys"]] == ["cfg-key.", "cli.key."]
    r = api.cli("key", "delete", "cfg-key.")
    assert r.returncode == 2 and "tandem.yaml" in r.stderr
    assert api.cli("key", "delete", "cli.key").returncode == 0
    assert api.cli("key", "delete", "cli.key").returncode == 3      # not found

    r = api.cli("apikey", "create", "ops", "write", "example.net")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert api.call("GET", "zones", key=key)[1]["zones"][0]["name"] == "example.net."
    r = api.cli("apikey", "list")
    assert re.search(r"^admin\s+write\s+all\s+-$", r.stdout, re.M), r.stdout
    assert re.search(r"^ops\s+write\s+example\.net\.\s+\d{4}-", r.stdout, re.M), r.stdout
    r = api.cli("apikey", "create", "bad", "all")
    assert r.returncode == 1 and "read or write" in r.stderr
    r = api.cli("apikey", "create", "ops", "read", "--json")
    assert r.returncode == 2 and "exists" in r.stderr
    assert api.cli("apikey", "delete", "ops").returncode == 0
    assert api.call("GET", "zones", key=key)[0] == 401


def test_a_key_made_through_the_api_secures_a_zone_made_through_the_api(api):
    """A TSIG key made through the API can guard an API zone's transfers (inline ACL); while the
    zone names it, the key cannot be deleted."""
    from harness import Key
    from harness.xfr import axfr, xfr_rcode
    st, made, _ = api.call("POST", "keys", {"name": "zone-xfr.", "algorithm": "hmac-sha256"})
    assert st == 201, made
    key = Key(made["name"], made["algorithm"], made["secret"])
    # An unknown key name is refused, naming the field.
    st, err, _ = api.call("POST", "zones", {"name": "keyed.test.", "quick": {
        "nameservers": ["ns1.keyed.test."], "address": "192.0.2.7"},
        "acl": [{"keys": ["nosuch.key."], "allow": ["transfer"]}]})
    assert st == 422 and err["field"] == "acl[0].keys[0]", err
    st, zone, _ = api.call("POST", "zones", {"name": "keyed.test.", "quick": {
        "nameservers": ["ns1.keyed.test."], "address": "192.0.2.7"},
        "acl": [{"keys": ["zone-xfr."], "allow": ["transfer"]}]})
    assert st == 201, zone
    records = axfr(api, "keyed.test.", key=key)
    assert records[("www.keyed.test.", "A")][1] == {"192.0.2.7"}
    assert xfr_rcode(api, "keyed.test.") == dns.rcode.REFUSED
    st, err, _ = api.call("DELETE", "keys/zone-xfr.")
    assert st == 409 and "keyed.test." in err["error"], err
    # Still bound after a restart (keys and zones both come back from the store).
    api.stop()
    api.start()
    api.wait_api()
    assert axfr(api, "keyed.test.", key=key)[("www.keyed.test.", "A")][1] == {"192.0.2.7"}
    st, _, _ = api.call("DELETE", "zones/keyed.test.")
    assert st == 200
    st, _, _ = api.call("DELETE", "keys/zone-xfr.")
    assert st == 200


def test_keys_made_through_the_api_are_bounded(api):
    """Every request without the admin key is compared with every API key, and every TSIG key made
    republishes the key set: both kinds are bounded (APIKEYS_MAX, TSIGKEYS_MAX: 1,000 each). The store
    is filled to the bound while the server is down; one more is refused with 409 and nothing changes;
    after one is deleted, one can be made again."""
    import sqlite3
    api.stop()
    db = sqlite3.connect(str(api.dir / "var" / "tandem.db"))
    try:
        db.executemany("INSERT INTO api_key (name, scope, zones, hash, created) VALUES (?, 'read', NULL, ?, 1)",
                       [("k%d" % i, "%064x" % i) for i in range(1000)])
        db.executemany("INSERT INTO tsig_key (name, algorithm, secret, created) VALUES (?, 'hmac-sha256', ?, 1)",
                       [("t%d.example." % i, CONF_KEY.secret) for i in range(1000)])
        db.commit()
    finally:
        db.close()
    api.start()
    api.wait_api()
    st, err, _ = api.call("POST", "apikeys", {"name": "one-more", "scope": "read"})
    assert st == 409 and "1000 API keys" in err["error"], err
    st, err, _ = api.call("POST", "keys", {"name": "one-more.", "algorithm": "hmac-sha256"})
    assert st == 409 and "1000 TSIG keys" in err["error"], err
    st, body, _ = api.call("GET", "apikeys")
    # the admin key is listed too
    assert len(body["apikeys"]) == 1001 and "one-more" not in {k["name"] for k in body["apikeys"]}
    assert api.call("DELETE", "apikeys/k7")[0] == 200
    assert api.call("DELETE", "keys/t7.example.")[0] == 200
    assert api.call("POST", "apikeys", {"name": "one-more", "scope": "read"})[0] == 201
    assert api.call("POST", "keys", {"name": "one-more.", "algorithm": "hmac-sha256"})[0] == 201
