"""conftest.py -- shared fixtures of the integration suite, and server logs on failure.

Servers are started once per test module where the tests only ask questions (most of them), so the whole
suite runs in a few minutes on two cores; tests that change a server's state start their own.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import RUNNING, Knot, Tandem, zones  # noqa: E402

# The zones of the answering, differential and malformed-input tests.
TEST_ZONES = ("example.com.", "example.net.", "child.example.com.")
IDENTITY = "ns1.tandem.test"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, the tail of every running server's log goes into the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for s in list(RUNNING):
            rep.sections.append(("%s log, last lines (%s)" % (s.kind, s.log_path), s.log_tail(60)))


def start_server(cls, workdir, **kw):
    """Starts and waits for a server; stops it again when it does not become ready."""
    s = cls(workdir, zones(*TEST_ZONES), **kw)
    s.start()
    try:
        s.wait_ready()
    except Exception:
        s.stop()
        raise
    return s


@pytest.fixture(scope="module")
def tandem(tmp_path_factory):
    """tandemd serving the test zones on 127.0.0.1 and ::1, identity set, 2 s TCP idle timeout."""
    s = start_server(Tandem, tmp_path_factory.mktemp("tandem"), ipv6=True, identity=IDENTITY,
                     tcp_idle_timeout=2)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def knot(tmp_path_factory):
    """knotd serving the same zones, for the differential tests."""
    s = start_server(Knot, tmp_path_factory.mktemp("knot"), ipv6=True, identity=IDENTITY,
                     tcp_idle_timeout=2)
    yield s
    s.stop()
