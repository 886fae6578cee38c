"""harness -- drives real DNS servers (Tandem, Knot, NSD, BIND, PowerDNS) on free loopback ports for the
integration tests. See docs/testing.md."""

from .api import ApiClient, TandemApi, tandem_cli
from .ports import free_port, have_ipv6
from .servers import (BUILD, DATA, IMPLEMENTATIONS, REPO, RUNNING, ZONES, Acl, Bind, Key, Knot, Nsd,
                      PowerDns, Remote, Server, ServerError, Tandem, Zone, secondary, stop_process,
                      zones)

__all__ = ["ApiClient", "TandemApi", "tandem_cli", "free_port", "have_ipv6", "BUILD", "DATA", "IMPLEMENTATIONS",
           "REPO", "RUNNING", "ZONES", "Acl", "Bind", "Key", "Knot", "Nsd", "PowerDns", "Remote", "Server",
           "ServerError", "Tandem", "Zone", "secondary", "stop_process", "zones"]
