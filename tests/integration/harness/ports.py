"""harness/ports.py -- free loopback ports, picked at run time and free for both UDP and TCP."""

import os
import random
import socket

# Ports already handed out in this run: the kernel may give the same port 0 twice once the probe
# sockets are closed, and two servers of one test must never collide.
_given = set()


def bindable(host, port, family=socket.AF_INET):
    """True when both a UDP and a TCP socket can bind host@port right now."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(family, kind)
        try:
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def have_ipv6():
    """True when ::1 is usable on this machine (containers sometimes lack it)."""
    try:
        return bindable("::1", 0, socket.AF_INET6)
    except OSError:
        return False


def ephemeral_range():
    """The kernel's range for source ports it picks itself (connect without bind, bind to port 0)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999   # Linux's default


_pick = random.Random()


def worker_slice(lo, hi):
    """The part of lo..hi this test process picks from. Under pytest-xdist (make integration runs the
    suite in several processes) each process has a slice of its own, so two processes can never pick
    the same port between one's check and its server's bind; alone, the whole range."""
    try:
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])
    except ValueError:
        return lo, hi
    if count <= 1 or not 0 <= index < count:
        return lo, hi
    width = (hi - lo + 1) // count
    return lo + index * width, lo + (index + 1) * width - 1


def free_port(ipv6=False, attempts=200, host="127.0.0.1"):
    """A port free on host (127.0.0.1 unless told; any 127/8 address works on Linux) and on ::1 when
    ipv6, for UDP and TCP. Bounded: raises after attempts.

    Picked outside the kernel's ephemeral range: a port from that range can be taken, between this
    check and the server's own bind, as the source port of any outgoing connection (a test's client,
    a peer's transfer), and the server then fails to start with "Address already in use"."""
    low, high = ephemeral_range()
    lo, hi = worker_slice(*((10000, low - 1) if low - 10000 >= 2000 else (high + 1, 65535)))
    for _ in range(attempts):
        port = _pick.randint(lo, hi)
        if port in _given:
            continue
        if not bindable(host, port):
            continue
        if ipv6 and not bindable("::1", port, socket.AF_INET6):
            continue
        _given.add(port)
        return port
    raise RuntimeError("no free loopback port found after %d attempts" % attempts)
