"""conftest.py -- shared fixtures of the integration suite, server logs on failure, and the skip policy.

Servers are started once per test module where the tests only ask questions (most of them), so the whole
suite runs in a few minutes on two cores; tests that change a server's state start their own.

Skips (docs/testing.md "Skips"): every skip is listed with its reason at the end of the run (pytest.ini:
-rfEsxX). A skip is of one of two kinds, told by its reason:

- a peer or tool missing ("... is not installed", "... missing"; skip_peer() says it that way): a FAILURE
  when the environment variable CI is set, or when every package of `scripts/deps.sh test` is installed --
  on such a machine the peer is there, so the skip hides a broken detection or a broken test;
- the machine ("no ::1", "cannot bind ...@53", a descriptor limit; skip_machine()): a FAILURE when CI is set
  (a CI machine is built to run everything: root, ::1), unless TANDEM_ALLOW_MACHINE_SKIPS=1 says that this
  one cannot; elsewhere listed only.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPO, RUNNING, Knot, Tandem, zones  # noqa: E402

# The zones of the answering, differential and malformed-input tests.
TEST_ZONES = ("example.com.", "example.net.", "child.example.com.")
IDENTITY = "ns1.tandem.test"


# ---- skips

PEER_REASON = re.compile(r"not installed|\bmissing\b", re.I)


def _skip(reason):
    """pytest.skip, reported at the test's own location rather than here."""
    try:
        exc = pytest.skip.Exception(reason, _use_item_location=True)
    except TypeError:   # a pytest without that keyword: the location is this file's
        exc = pytest.skip.Exception(reason)
    raise exc


def skip_peer(what):
    """Skips the test because a peer server or tool is not installed (a failure where it should be)."""
    _skip("peer missing: %s is not installed (scripts/deps.sh test installs it)" % what)


def skip_machine(why):
    """Skips the test because of this machine (no ::1, a privileged port): listed, a failure under CI."""
    _skip("machine: %s" % why)


def _env_on(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def deps_test_packages(path=REPO / "scripts" / "deps.sh"):
    """The Debian packages `scripts/deps.sh test` installs, read from the script (None when unreadable)."""
    try:
        text = path.read_text().replace("\\\n", " ")
    except OSError:
        return None
    build = re.search(r'^build="([^"]*)"', text, re.M)
    test = re.search(r'^test="\$build([^"]*)"', text, re.M)
    if not build or not test:
        return None
    return (build.group(1) + " " + test.group(1)).split()


_missing_cache = []


def missing_test_packages():
    """The packages of `scripts/deps.sh test` not installed here (dpkg-query), or None when that cannot be
    told (no dpkg, deps.sh unreadable). Asked once a run."""
    if not _missing_cache:
        pkgs, missing = deps_test_packages(), None
        if pkgs:
            try:
                missing = [p for p in pkgs if "install ok installed" not in subprocess.run(
                    ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True,
                    timeout=30).stdout]
            except (OSError, subprocess.SubprocessError):
                missing = None
        _missing_cache.append(missing)
    return _missing_cache[0]


def skip_not_allowed(reason):
    """Why this skip must count as a failure here, or None when it may stay a skip."""
    peer = bool(PEER_REASON.search(reason))
    if _env_on("CI"):
        if peer:
            return "CI is set: every peer is installed on a CI machine (scripts/deps.sh test)"
        if not _env_on("TANDEM_ALLOW_MACHINE_SKIPS"):
            return ("CI is set: a CI machine runs every test (set TANDEM_ALLOW_MACHINE_SKIPS=1 where it "
                    "truly cannot)")
        return None
    if peer and missing_test_packages() == []:
        return "every package of `scripts/deps.sh test` is installed here, yet the test found a peer missing"
    return None


def _skip_reason(rep):
    if isinstance(rep.longrepr, tuple) and len(rep.longrepr) == 3:
        return str(rep.longrepr[2]).replace("Skipped: ", "", 1)
    return str(rep.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, the tail of every running server's log goes into the report. A skip that the policy
    above does not allow here becomes a failure, with both reasons."""
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        reason = _skip_reason(rep)
        why = skip_not_allowed(reason)
        if why:
            rep.outcome = "failed"
            rep.longrepr = "skipped, which is not allowed here: %s\n  skip reason: %s" % (why, reason)
    if rep.failed and rep.when in ("setup", "call"):
        for s in list(RUNNING):
            rep.sections.append(("%s log, last lines (%s)" % (s.kind, s.log_path), s.log_tail(60)))


# make integration runs the suite in two processes (pytest-xdist, --dist loadgroup): a module's tests stay
# together in one of them, so that its module fixtures (a server, a signed zone set) are made once; the
# two modules that run make in the tree (install, deb) share a process, one after the other.
SAME_PROCESS = {"test_install": "make-in-tree", "test_deb": "make-in-tree"}


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): tests of one group run in one process")


# tryfirst: pytest-xdist reads the group in its own pytest_collection_modifyitems (it appends it to each
# test's node ID, which is what --dist loadgroup distributes by); a mark added after that is ignored, and
# the tests of one module went to both processes (two `make deb` at once in one folder failed a CI run).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__
        item.add_marker(pytest.mark.xdist_group(SAME_PROCESS.get(module, module)))


# Servers left running in the processes of pytest-xdist (make integration runs the suite in two): each
# process stops its own and hands their names to the controlling one, which fails the run.
LEAKED_ELSEWHERE = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist, in the controlling process: a test process ended; what it left running."""
    LEAKED_ELSEWHERE.extend(getattr(node, "workeroutput", {}).get("leaked_servers", []))


def pytest_sessionfinish(session, exitstatus):
    """A server still running when the suite ends was started and never stopped by its test (fixtures
    are torn down by then): it is stopped here, named, and the run fails -- such a process outlived the
    suite and kept its ports and CPU (docs/testing.md)."""
    leaked = ["%s (%s)" % (s.kind, s.log_path) for s in RUNNING if s.alive()]   # one that exited by
    for s in list(RUNNING):                                                      # itself holds nothing
        s.stop()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:   # a test process of pytest-xdist: the controlling one reports them
        workeroutput["leaked_servers"] = leaked
        return
    leaked += LEAKED_ELSEWHERE
    if leaked:
        sys.stderr.write("\nservers left running by their tests (stopped now): %s\n" % ", ".join(leaked))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def start_server(cls, workdir, **kw):
    """Starts and waits for a server; stops it again when it does not become ready."""
    return cls(workdir, zones(*TEST_ZONES), **kw).serve()


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
