"""harness/notifysink.py -- a UDP socket standing where a secondary would, recording the NOTIFYs it gets."""

import socket
import threading
import time

import dns.message
import dns.opcode
import dns.rcode


class NotifySink:
    """Records every NOTIFY sent to addr@port as (id, qname, serial). With answer=False it answers none, so
    the primary sees a secondary that is down and sends again; with answer=True each gets a NOERROR answer
    (RFC 1996 4.7), as a secondary that is up would give, and is not sent again."""

    def __init__(self, addr, port, answer=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.1)
        self.answer = answer
        self.seen = []                  # (id, qname, serial) of each NOTIFY, in the order received
        self.times = []                 # time.monotonic() of each, the same order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                wire, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                m = dns.message.from_wire(wire)
            except Exception:   # not a DNS message: nothing a primary sends
                continue
            if m.opcode() != dns.opcode.NOTIFY or not m.question:
                continue
            self.times.append(time.monotonic())
            self.seen.append((m.id, m.question[0].name.to_text(), m.answer[0][0].serial if m.answer else None))
            if self.answer:
                r = dns.message.make_response(m)
                r.set_rcode(dns.rcode.NOERROR)
                try:
                    self.sock.sendto(r.to_wire(), peer)
                except OSError:
                    pass

    def serials(self, zone):
        """The serials of the distinct NOTIFYs for zone, in order. A retry keeps its ID and serial; IDs alone
        do not tell NOTIFYs apart, since a new one draws a random 16-bit ID that, among 60 NOTIFYs, repeats
        an earlier one about once in a thousand runs (which once hid a stream's last change)."""
        out, seen = [], set()
        for i, name, serial in self.seen:
            if name == zone and (i, serial) not in seen:
                seen.add((i, serial))
                out.append(serial)
        return out

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
