"""A small hand-made SIP user agent over UDP for the hostile-caller tests.

SIPp follows scripts and baresip behaves; an attacker does neither. ``RawPeer``
sends exactly the requests a test writes (REFER to a premium number, INVITE
with Replaces, an INVITE it never ACKs, hold with ``a=inactive``) and records
everything the server sends back. A background thread answers the server's
own requests (BYE, re-INVITE/UPDATE session refreshes, OPTIONS) with 200 OK
unless the peer is ``deaf``, so a test can model a caller that vanished.

``RtpCounter`` is a UDP socket that counts the RTP packets sent to it (by payload
type), and
``Trap`` a SIP socket that records any request sent to it (a number the server
must never dial); ``Registrar`` a carrier's registrar that counts keep-alives, and
``StunServer`` one that reports a public address of the test's choosing. Every wait
has a deadline; nothing here blocks for ever.
"""

from __future__ import annotations

import queue
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

CRLF = "\r\n"


def _token() -> str:
    return f"{random.getrandbits(48):012x}"


@dataclass
class SipMessage:
    """One SIP message as received: start line, headers (lower-case names) and body."""

    start: str
    headers: dict[str, list[str]]
    body: str
    source: tuple[str, int]
    raw: str

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        if self.is_request:
            return self.start.split(" ", 1)[0]
        return self.header("cseq").split()[-1]

    @property
    def status(self) -> int:
        return int(self.start.split()[1]) if not self.is_request else 0

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
            "l": "content-length", "c": "content-type", "k": "supported",
            "x": "session-expires", "r": "refer-to"}


def parse(data: bytes, source: tuple[str, int]) -> SipMessage | None:
    """Parse one datagram (None for keep-alives and junk)."""
    text = data.decode("utf-8", "replace")
    if "\r\n\r\n" not in text:
        return None
    head, body = text.split("\r\n\r\n", 1)
    lines = head.split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if ":" not in line:
            continue
        name, value = line.split(":", 1)
        key = name.strip().lower()
        headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    return SipMessage(lines[0], headers, body, source, text)


def sdp(ip: str, rtp_port: int, direction: str = "sendrecv") -> str:
    """An audio offer/answer with PCMU and RFC 4733 events."""
    return CRLF.join([
        "v=0", f"o=raw 1 1 IN IP4 {ip}", "s=-", f"c=IN IP4 {ip}", "t=0 0",
        f"m=audio {rtp_port} RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15", f"a={direction}", ""])


@dataclass
class Dialog:
    """The caller side of one INVITE dialog."""

    call_id: str
    from_tag: str
    request_uri: str
    to_uri: str
    cseq: int = 1
    to_tag: str = ""
    remote_target: str = ""
    branch: str = ""
    invite: str = ""
    responses: list[SipMessage] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)  #: when the INVITE was sent
    #: The route set: the answer's Record-Route, reversed (a call through a proxy).
    routes: list[str] = field(default_factory=list)


class _UdpListener:
    """A UDP socket on ``ip`` read by a daemon thread; subclasses say what a datagram does."""

    def __init__(self, ip: str, port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)

    def _start(self) -> None:
        """Start reading (call it once the subclass's own state is set up)."""
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._datagram(data, source)

    def _datagram(self, data: bytes, source: tuple[str, int]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class RawPeer(_UdpListener):
    """A SIP peer on ``ip`` (any 127.0.0.0/8 address) that talks to one server port."""

    def __init__(self, ip: str, server_port: int, user: str = "mallory",
                 server_ip: str = "127.0.0.1") -> None:
        super().__init__(ip)
        self.ip = ip
        self.user = user
        self.server = (server_ip, server_port)
        self.deaf = False  #: True: answer none of the server's requests (a vanished phone)
        self.last_sent = ""  #: the last datagram sent, for a test that retransmits it
        self.received: queue.Queue[SipMessage] = queue.Queue()
        self.requests: list[SipMessage] = []  #: every request the server sent us
        self._lock = threading.Lock()
        self._start()

    # --- plumbing -------------------------------------------------------------------

    def __enter__(self) -> RawPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, text: str) -> None:
        self.last_sent = text
        self.sock.sendto(text.encode(), self.server)

    def _datagram(self, data: bytes, source: tuple[str, int]) -> None:
        message = parse(data, source)
        if message is None:
            return
        if not message.is_request:
            self.received.put(message)
            return
        with self._lock:
            self.requests.append(message)
        if not self.deaf and message.method != "ACK":
            self._answer(message)

    def _answer(self, request: SipMessage) -> None:
        """200 OK to a request from the server (with our SDP for a re-INVITE)."""
        body = ""
        if request.method == "INVITE":
            body = sdp(self.ip, 40000)
        to = request.header("to")
        if ";tag=" not in to:
            to += f";tag={_token()}"
        lines = ["SIP/2.0 200 OK"]
        lines += [f"Via: {via}" for via in request.headers.get("via", [])]
        lines += [f"From: {request.header('from')}", f"To: {to}",
                  f"Call-ID: {request.header('call-id')}", f"CSeq: {request.header('cseq')}",
                  f"Contact: <sip:{self.user}@{self.ip}:{self.port}>"]
        if request.header("session-expires"):
            lines.append(f"Session-Expires: {request.header('session-expires')}")
            lines.append("Require: timer")
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send(CRLF.join(lines) + CRLF + CRLF + body)

    def _via(self, branch: str) -> str:
        return f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch=z9hG4bK{branch};rport"

    def wait_response(self, call_id: str, method: str, timeout: float = 30.0,
                      final: bool = True) -> SipMessage:
        """The next response to ``method`` in dialog ``call_id`` (final only by default)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.received.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if message.header("call-id") != call_id or message.method != method:
                continue
            if final and message.status < 200:
                continue
            return message
        raise TimeoutError(f"no {'final ' if final else ''}response to {method} in {timeout} s")

    def server_requests(self, method: str, call_id: str | None = None) -> list[SipMessage]:
        with self._lock:
            return [r for r in self.requests if r.method == method
                    and (call_id is None or r.header("call-id") == call_id)]

    # --- requests -------------------------------------------------------------------

    def options(self, timeout: float = 10.0) -> int:
        """Send OPTIONS; the final status (raises TimeoutError if the server is silent)."""
        call_id = _token()
        self.send(CRLF.join([
            f"OPTIONS sip:{self.server[0]}:{self.server[1]} SIP/2.0", self._via(_token()),
            f"From: <sip:{self.user}@{self.ip}>;tag={_token()}",
            f"To: <sip:{self.server[0]}:{self.server[1]}>", f"Call-ID: {call_id}",
            "CSeq: 1 OPTIONS", "Max-Forwards: 70", "Content-Length: 0", "", ""]))
        return self.wait_response(call_id, "OPTIONS", timeout).status

    def out_of_dialog(self, method: str, headers: tuple[str, ...] = (), body: str = "",
                      content_type: str = "text/plain", called: str = "frontdesk") -> str:
        """Send a request outside any dialog; returns its Call-ID for :meth:`wait_response`."""
        host = f"{self.server[0]}:{self.server[1]}"
        call_id = _token()
        lines = [f"{method} sip:{called}@{host} SIP/2.0", self._via(_token()),
                 f"From: <sip:{self.user}@{self.ip}>;tag={_token()}",
                 f"To: <sip:{called}@{host}>", f"Call-ID: {call_id}", f"CSeq: 1 {method}",
                 "Max-Forwards: 70", f"Contact: <sip:{self.user}@{self.ip}:{self.port}>",
                 *headers]
        if body:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send(CRLF.join(lines) + CRLF + CRLF + body)
        return call_id

    def invite(self, called: str = "frontdesk", rtp_port: int = 40000,
               direction: str = "sendrecv", extra: tuple[str, ...] = (),
               from_header: str | None = None, body: str | None = None,
               content_type: str = "application/sdp", send: bool = True) -> Dialog:
        """Send an INVITE (no wait); answer with :meth:`wait_answer`. ``body`` replaces
        the SDP offer (a bad one, or none with ""). ``send=False``: only build it
        (``dialog.invite``), for a test that sends it altered."""
        host = f"{self.server[0]}:{self.server[1]}"
        dialog = Dialog(call_id=_token(), from_tag=_token(), request_uri=f"sip:{called}@{host}",
                        to_uri=f"<sip:{called}@{host}>", branch=_token())
        if body is None:
            body = sdp(self.ip, rtp_port, direction)
        sender = from_header or f"<sip:{self.user}@{self.ip}>"
        dialog.invite = CRLF.join([
            f"INVITE {dialog.request_uri} SIP/2.0", self._via(dialog.branch),
            f"From: {sender};tag={dialog.from_tag}", f"To: {dialog.to_uri}",
            f"Call-ID: {dialog.call_id}", "CSeq: 1 INVITE", "Max-Forwards: 70",
            f"Contact: <sip:{self.user}@{self.ip}:{self.port}>", *extra,
            f"Content-Type: {content_type}", f"Content-Length: {len(body.encode())}", "",
            body])
        if send:
            self.send(dialog.invite)
        return dialog

    def wait_answer(self, dialog: Dialog, timeout: float = 30.0, ack: bool = True) -> SipMessage:
        """The INVITE's final response; ACKs a 2xx unless ``ack`` is False."""
        response = self.wait_response(dialog.call_id, "INVITE", timeout)
        dialog.responses.append(response)
        tag = re.search(r";tag=([^;>\s]+)", response.header("to"))
        dialog.to_tag = tag.group(1) if tag else ""
        contact = re.search(r"<([^>]+)>", response.header("contact"))
        dialog.remote_target = contact.group(1) if contact else dialog.request_uri
        if 200 <= response.status < 300:
            dialog.routes = [r.strip() for value in reversed(
                response.headers.get("record-route", [])) for r in reversed(value.split(","))]
        if ack:
            self.ack(dialog, response.status)
        return response

    def call(self, called: str = "frontdesk", rtp_port: int = 40000,
             direction: str = "sendrecv") -> Dialog:
        """INVITE, wait for 200 and ACK it: an established call."""
        dialog = self.invite(called, rtp_port, direction)
        response = self.wait_answer(dialog)
        assert response.status == 200, response.raw
        return dialog

    def ack(self, dialog: Dialog, status: int = 200) -> None:
        # A 2xx ACK is a new transaction to the remote target; a non-2xx ACK reuses the branch.
        target = dialog.remote_target if 200 <= status < 300 else dialog.request_uri
        branch = _token() if 200 <= status < 300 else dialog.branch
        self.send(CRLF.join([
            f"ACK {target} SIP/2.0", self._via(branch),
            f"From: <sip:{self.user}@{self.ip}>;tag={dialog.from_tag}",
            f"To: {dialog.to_uri};tag={dialog.to_tag}", f"Call-ID: {dialog.call_id}",
            *(f"Route: {r}" for r in (dialog.routes if 200 <= status < 300 else [])),
            "CSeq: 1 ACK", "Max-Forwards: 70", "Content-Length: 0", "", ""]))

    def in_dialog(self, dialog: Dialog, method: str, headers: tuple[str, ...] = (),
                  body: str = "", content_type: str = "") -> str:
        """Send a request inside ``dialog``; returns its Call-ID for :meth:`wait_response`."""
        dialog.cseq += 1
        lines = [f"{method} {dialog.remote_target} SIP/2.0", self._via(_token()),
                 f"From: <sip:{self.user}@{self.ip}>;tag={dialog.from_tag}",
                 f"To: {dialog.to_uri};tag={dialog.to_tag}", f"Call-ID: {dialog.call_id}",
                 f"CSeq: {dialog.cseq} {method}", "Max-Forwards: 70",
                 *(f"Route: {r}" for r in dialog.routes),
                 f"Contact: <sip:{self.user}@{self.ip}:{self.port}>", *headers]
        if body:
            lines.append(f"Content-Type: {content_type or 'application/sdp'}")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send(CRLF.join(lines) + CRLF + CRLF + body)
        return dialog.call_id

    def reinvite(self, dialog: Dialog, direction: str, rtp_port: int = 40000) -> SipMessage:
        """A re-INVITE changing the media direction (hold: sendonly/inactive); ACKed."""
        self.in_dialog(dialog, "INVITE", body=sdp(self.ip, rtp_port, direction))
        response = self.wait_response(dialog.call_id, "INVITE")
        if 200 <= response.status < 300:
            self.send(CRLF.join([
                f"ACK {dialog.remote_target} SIP/2.0", self._via(_token()),
                f"From: <sip:{self.user}@{self.ip}>;tag={dialog.from_tag}",
                f"To: {dialog.to_uri};tag={dialog.to_tag}", f"Call-ID: {dialog.call_id}",
                f"CSeq: {dialog.cseq} ACK", "Max-Forwards: 70", "Content-Length: 0", "", ""]))
        return response

    def bye(self, dialog: Dialog, timeout: float = 30.0) -> int:
        self.in_dialog(dialog, "BYE")
        return self.wait_response(dialog.call_id, "BYE", timeout).status

    def info_digit(self, dialog: Dialog, key: str) -> int:
        """One key as SIP INFO (application/dtmf-relay)."""
        self.in_dialog(dialog, "INFO", body=f"Signal={key}\r\nDuration=160\r\n",
                       content_type="application/dtmf-relay")
        return self.wait_response(dialog.call_id, "INFO").status

    def got_bye(self, dialog: Dialog) -> bool:
        return bool(self.server_requests("BYE", dialog.call_id))

    def wait_bye(self, dialog: Dialog, timeout: float) -> bool:
        """True once the server hung up ``dialog`` (BYE received) within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.got_bye(dialog):
                return True
            time.sleep(0.2)
        return self.got_bye(dialog)


class RtpCounter(_UdpListener):
    """Counts RTP datagrams arriving at a UDP port on ``ip``."""

    def __init__(self, ip: str = "127.0.0.1") -> None:
        super().__init__(ip)
        if self.port % 2:  # RTP wants an even port
            even = self.port - 1
            self.sock.close()
            super().__init__(ip, even)
        self.packets = 0
        self.last_at = 0.0
        #: RTP payload type → packets of it
        self.payload_types: Counter[int] = Counter()
        self._start()

    def _datagram(self, data: bytes, _source: tuple[str, int]) -> None:
        self.packets += 1
        self.last_at = time.monotonic()
        if len(data) >= 12:
            self.payload_types[data[1] & 0x7F] += 1

    def send_digit(self, to: tuple[str, int], payload_type: int, key: str,
                   clock_rate: int = 8000) -> None:
        """Press ``key`` as RFC 4733 events from this port (where the SDP said our media
        is): 100 ms of updates, then the end packet three times, as phones send it."""
        event = "0123456789*#".index(key)
        ssrc, stamp = random.getrandbits(32), random.getrandbits(31)
        step = clock_rate // 50  # 20 ms
        for n in range(8):
            end = n >= 5
            duration = step * min(n + 1, 5)
            seq = (1000 + n).to_bytes(2, "big")
            packet = (bytes([0x80, (0x80 if n == 0 else 0) | payload_type]) + seq
                      + stamp.to_bytes(4, "big") + ssrc.to_bytes(4, "big")
                      + bytes([event, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big"))
            self.sock.sendto(packet, to)
            time.sleep(0.02)


class Trap(_UdpListener):
    """A SIP address the server must never call: records whatever arrives."""

    def __init__(self, ip: str = "127.0.0.1") -> None:
        super().__init__(ip)
        self.hits: list[str] = []
        self._start()

    def _datagram(self, data: bytes, _source: tuple[str, int]) -> None:
        if data.strip():
            self.hits.append(data.decode("utf-8", "replace").split("\r\n", 1)[0])


class Registrar(_UdpListener):
    """A UDP registrar that answers every REGISTER 200 and counts the keep-alives (bare
    CRLF datagrams) sent to it: Kamailio drops those without a trace, so a test that
    checks a trunk's keep-alives needs to see the datagrams themselves."""

    def __init__(self, ip: str = "127.0.0.1") -> None:
        super().__init__(ip)
        self.registers = 0
        self.contacts: list[str] = []  #: each REGISTER's Contact
        self.keepalives: list[float] = []  #: when each keep-alive arrived
        self._start()

    def _datagram(self, data: bytes, source: tuple[str, int]) -> None:
        if not data.strip():
            self.keepalives.append(time.monotonic())
            return
        message = parse(data, source)
        if message is None or message.method != "REGISTER":
            return
        self.registers += 1
        self.contacts.append(message.header("contact"))
        to = message.header("to")
        lines = ["SIP/2.0 200 OK", *(f"Via: {v}" for v in message.headers.get("via", [])),
                 f"From: {message.header('from')}",
                 f"To: {to}" + ("" if ";tag=" in to else f";tag={_token()}"),
                 f"Call-ID: {message.header('call-id')}", f"CSeq: {message.header('cseq')}",
                 f"Contact: {message.header('contact')};expires=300", "Content-Length: 0"]
        self.sock.sendto((CRLF.join(lines) + CRLF + CRLF).encode(), source)


class StunServer(_UdpListener):
    """A STUN server (RFC 5389 binding) that tells every asker it is seen at ``public``,
    with its own source port: on loopback the only way to see what a server behind NAT
    does with the public address STUN reports. Counts the binding requests answered."""

    MAGIC = 0x2112A442

    def __init__(self, public: str, ip: str = "127.0.0.1") -> None:
        super().__init__(ip)
        self.public = public
        self.requests = 0
        self._start()

    def _datagram(self, data: bytes, source: tuple[str, int]) -> None:
        if len(data) < 20 or int.from_bytes(data[0:2], "big") != 0x0001:  # binding request
            return
        self.requests += 1
        transaction = data[4:20]  # cookie and id; RFC 3489 clients put 16 id bytes here
        address = socket.inet_aton(self.public)
        port = source[1]
        # MAPPED-ADDRESS for RFC 3489 clients (pjsua's SIP socket), XOR-MAPPED-ADDRESS for
        # RFC 5389 ones (its media sockets).
        mapped = b"\x00\x01" + port.to_bytes(2, "big") + address
        xor_port = port ^ (self.MAGIC >> 16)
        xor_ip = int.from_bytes(address, "big") ^ self.MAGIC
        xor_mapped = b"\x00\x01" + xor_port.to_bytes(2, "big") + xor_ip.to_bytes(4, "big")
        attributes = (b"\x00\x01\x00\x08" + mapped + b"\x00\x20\x00\x08" + xor_mapped)
        header = b"\x01\x01" + len(attributes).to_bytes(2, "big") + transaction
        self.sock.sendto(header + attributes, source)
