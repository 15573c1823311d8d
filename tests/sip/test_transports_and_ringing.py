"""Departments rung one after another or all at once, and the TCP and TLS transports,
on real calls: `attendant serve` and SIPp (or a Python TLS client) over 127.0.0.1.

Department members are SIPp UAS on their own ports. Debian's SIPp has no TLS (its
``-t`` knows u1/un/ui/t1/tn/s1/sn), so the TLS test speaks SIP itself over
:mod:`ssl`: OPTIONS, then a whole INVITE / ACK / BYE call, with a self-signed
certificate the test makes with the ``openssl`` command.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from office import caller_name, dtmf_caller, finished_call, scenario_as
from pcap import write_dtmf_pcap
from sip_harness import ATTENDANT, Serve, Sipp, free_udp_ports, wait_for
from tls_peers import TlsSip, self_signed

pytestmark = pytest.mark.sip

MENU = """\
version: 1
attendants:
  main:
    name: Ring test
    timezone: UTC
    business_hours: {menu: main}
menus:
  main:
    prompt: Menu.
    options:
      "1": {department: inorder, fallback: {disconnect: Nobody answered.}}
      "2": {department: together, fallback: {disconnect: Nobody answered.}}
      "3": {user: ann, fallback: {disconnect: Nobody answered.}}
directory:
  users:
    ann:
      name: Ann Able
      extension: "201"
      sip: sip:ann@127.0.0.1:@ANN@@PARAMS@
    bob:
      name: Bob Baker
      extension: "202"
      sip: sip:bob@127.0.0.1:@BOB@@PARAMS@
  departments:
    inorder: {name: In order, members: [ann, bob], ring: serial, ring_seconds: 20}
    together: {name: Together, members: [ann, bob], ring: simultaneous, ring_seconds: 20}
"""


class Ring:
    """A server on MENU and the ports of its two department members."""

    def __init__(self, tmp: Path, params: str = ""):
        self.serve = Serve(tmp, 0)
        self.ann, self.bob = free_udp_ports(1), free_udp_ports(1)
        self.serve.menu.write_text(MENU.replace("@ANN@", str(self.ann))
                                   .replace("@BOB@", str(self.bob))
                                   .replace("@PARAMS@", params))

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.serve.port}"

    def context(self, sipp: Sipp) -> str:
        return sipp.logs() + self.serve.logs()


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ring]:
    """One UDP server for the ringing tests (each waits until its calls have ended)."""
    server = Ring(tmp_path_factory.mktemp("ring"))
    try:
        server.serve.start()
        yield server
    finally:
        server.serve.stop()


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


def test_serial_department_rings_the_next_member_after_a_busy_one(ring, sipp, me):
    ann = sipp.start(sipp.scenario("uas_busy.xml"), port=ring.ann)  # 486 at once
    bob = sipp.start(sipp.scenario("uas_answer_bye.xml"), "-rtp_echo", "-d", "2000",
                     port=ring.bob)
    caller = dtmf_caller(sipp, ring, me, "main", "1")
    assert sipp.wait(ann) == 0, ring.context(sipp)  # got the INVITE, answered 486, got ACK
    assert sipp.wait(bob) == 0, ring.context(sipp)  # answered, talked 2 s, hung up
    assert sipp.wait(caller) == 0, ring.context(sipp)  # the server hung up the caller too
    call = finished_call(ring, me)
    assert call["outcome"] == "transferred to department inorder", call
    assert call["rtp"]["transfer_rx"] > 0, call  # Bob echoed what he got: bridged
    assert call["rtp"]["transfer_tx"] > 0, call
    logs = ring.serve.logs()
    assert re.search(r"leg \d+ failed with 486 \(busy\)", logs), logs
    assert logs.index(f"127.0.0.1:{ring.ann}") < logs.index(f"127.0.0.1:{ring.bob}"), logs


def test_simultaneous_department_rings_both_and_cancels_the_other(ring, sipp, me):
    ann = sipp.start(sipp.scenario("uas_answer_bye.xml"), "-rtp_echo", "-d", "2000",
                     port=ring.ann)  # answers 0.3 s after the INVITE
    bob = sipp.start(sipp.scenario("uas_ring.xml"), port=ring.bob)  # rings until CANCEL
    caller = dtmf_caller(sipp, ring, me, "main", "2")
    assert sipp.wait(bob) == 0, ring.context(sipp)  # got its INVITE, then the CANCEL
    assert sipp.wait(ann) == 0, ring.context(sipp)
    assert sipp.wait(caller) == 0, ring.context(sipp)
    call = finished_call(ring, me)
    assert call["outcome"] == "transferred to department together", call
    assert call["rtp"]["transfer_rx"] > 0, call
    assert "error in SIP task" not in ring.serve.logs()


def test_tcp_transport_answers_and_a_key_transfers(tmp_path, sipp, me):
    # Ann is reached over TCP too (;transport=tcp): the server has no UDP transport.
    ring = Ring(tmp_path, params=";transport=tcp")
    try:
        ring.serve.start("--transport", "tcp")
        ann = sipp.start(sipp.scenario("uas_answer_bye.xml"), "-t", "t1", "-rtp_echo",
                         "-d", "1000", port=ring.ann)
        pcap = write_dtmf_pcap(tmp_path / "dtmf-3.pcap", "3")
        caller = sipp.start(scenario_as(sipp, "uac_dtmf_hold.xml", me, pcap=str(pcap)),
                            "-s", "main", "-t", "t1", target=ring.target)
        assert sipp.wait(ann) == 0, ring.context(sipp)
        assert sipp.wait(caller) == 0, ring.context(sipp)
        call = finished_call(ring, me)
        assert call["outcome"] == "transferred to user ann", call
        assert call["rtp"]["caller_rx"] > 0, call
        assert call["rtp"]["transfer_rx"] > 0, call
        assert "/tcp" in ring.serve.logs()
    finally:
        ring.serve.stop()


def _request(ua: TlsSip, method: str, port: int, call_id: str, cseq: int, to_tag: str = "",
             body: str = "", ruri: str | None = None) -> str:
    lines = [
        f"{method} {ruri or f'sip:main@127.0.0.1:{port};transport=tls'} SIP/2.0",
        f"Via: SIP/2.0/TLS 127.0.0.1:{ua.local};rport;branch=z9hG4bK{uuid.uuid4().hex}",
        "Max-Forwards: 70",
        f"From: <sip:tlscaller@127.0.0.1>;tag={call_id[:8]}",
        f"To: <sip:main@127.0.0.1:{port}>{f';tag={to_tag}' if to_tag else ''}",
        f"Call-ID: {call_id}", f"CSeq: {cseq} {method}",
        f"Contact: <sip:tlscaller@127.0.0.1:{ua.local};transport=tls>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def _tls_call(ua: TlsSip, port: int, serve: Serve) -> None:
    """OPTIONS, then a whole INVITE / ACK / BYE call over ``ua``'s TLS connection."""
    ua.send(_request(ua, "OPTIONS", port, uuid.uuid4().hex, 1))
    assert ua.response("OPTIONS").startswith("SIP/2.0 200"), serve.logs()
    call_id, rtp = uuid.uuid4().hex, free_udp_ports(2)
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           f"m=audio {rtp} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
    ua.send(_request(ua, "INVITE", port, call_id, 1, body=sdp))
    ok = ua.response("INVITE")
    assert ok.startswith("SIP/2.0 200"), ok
    to_tag = re.search(r"(?im)^To:.*;tag=([^;\s>]+)", ok)
    contact = re.search(r"(?im)^Contact:\s*<?(sip:[^>\s]+)", ok)
    assert to_tag, ok
    assert contact, ok
    assert "transport=tls" in contact.group(1).lower(), ok
    assert f":{port};" in contact.group(1), ok  # the TLS port, not UDP's
    ua.send(_request(ua, "ACK", port, call_id, 1, to_tag.group(1), ruri=contact.group(1)))
    wait_for("the TLS call to be up", lambda: serve.status().get("active_calls", 0) >= 1,
             context=serve.logs)
    ua.send(_request(ua, "BYE", port, call_id, 2, to_tag.group(1), ruri=contact.group(1)))
    assert ua.response("BYE").startswith("SIP/2.0 200"), serve.logs()


def test_tls_transport_answers_options_and_a_call(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    pair = self_signed(tmp_path)
    cert, key = pair.cert, pair.key
    ring = Ring(tmp_path)
    try:
        ring.serve.start("--transport", "tls", "--tls-cert", str(cert), "--tls-key", str(key))
        port = ring.serve.port
        ua = TlsSip(port, cert)  # the handshake verifies the server's certificate
        try:
            _tls_call(ua, port, ring.serve)
        finally:
            ua.close()
        wait_for("the TLS call to end", lambda: ring.serve.status().get("active_calls") == 0,
                 context=ring.serve.logs)
        assert "/tls" in ring.serve.logs()
    finally:
        ring.serve.stop()


def test_tls_transport_needs_a_certificate_and_its_key(tmp_path):
    done = subprocess.run([*ATTENDANT, "serve", "menu.yaml", "--transport", "tls"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert "--tls-cert" in done.stderr, done.stderr
    assert "--tls-key" in done.stderr, done.stderr


def test_udp_tcp_and_tls_callers_reach_one_server(tmp_path, sipp):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    pair = self_signed(tmp_path)
    cert, key = pair.cert, pair.key
    ring = Ring(tmp_path)
    tls_port = free_udp_ports(1)
    try:
        ring.serve.start("--transport", "udp,tcp,tls", "--tls-port", str(tls_port),
                         "--tls-cert", str(cert), "--tls-key", str(key))
        udp = sipp.start(scenario_as(sipp, "uac_hangup.xml", "udpcaller"), "-s", "main",
                         "-d", "1500", target=ring.target)
        tcp = sipp.start(scenario_as(sipp, "uac_hangup.xml", "tcpcaller"), "-s", "main",
                         "-d", "1500", "-t", "t1", target=ring.target)
        ua = TlsSip(tls_port, cert)
        try:
            _tls_call(ua, tls_port, ring.serve)
        finally:
            ua.close()
        assert sipp.wait(udp) == 0, ring.context(sipp)
        assert sipp.wait(tcp) == 0, ring.context(sipp)
        recent = wait_for("three calls", lambda: (s := ring.serve.status()).get(
            "active_calls") == 0 and len(s.get("recent", [])) == 3 and s["recent"],
            context=ring.serve.logs)
        assert sorted(c["caller"] for c in recent) == ["tcpcaller", "tlscaller", "udpcaller"]
        port = ring.serve.port
        assert (f"listening on 127.0.0.1:{port}/udp, 127.0.0.1:{port}/tcp, "
                f"127.0.0.1:{tls_port}/tls") in ring.serve.logs()
    finally:
        ring.serve.stop()
