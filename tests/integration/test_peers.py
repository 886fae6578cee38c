"""test_peers.py -- the harness itself: each implementation starts on a free port from its generated
configuration, serves the test zones, answers the same basic question, and stops on SIGTERM."""

import shutil

import dns.rcode
import pytest

from conftest import IDENTITY, TEST_ZONES
from harness import Bind, Knot, Nsd, Tandem, zones
from harness import dnsq


@pytest.mark.parametrize("cls", [Tandem, Knot, Nsd, Bind], ids=lambda c: c.kind)
def test_each_server_starts_answers_and_stops(cls, tmp_path):
    if cls is not Tandem and not shutil.which(str(cls.binary)):
        pytest.skip("%s is not installed" % cls.binary)
    with cls(tmp_path, zones(*TEST_ZONES), identity=IDENTITY) as s:
        r = dnsq.ask(s, "www.example.com.", "A")
        assert r.rcode() == dns.rcode.NOERROR
        assert [rd.address for rd in r.answer[0]] == ["192.0.2.80"]
        assert s.alive()
    assert not s.alive()
    assert s.log_path.exists()
