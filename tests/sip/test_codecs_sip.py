"""Calls that offer one codec only: G.722, Opus, A-law answered; speex (switched off) not.

A hand-made caller (``RawPeer``) offers a single codec and RFC 4733 events; the answer
must choose that codec, the greeting's RTP must arrive with its payload type, and a
key pressed (RFC 4733 on Opus, SIP INFO on G.722) must take the menu's branch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from rawsip import CRLF, Dialog, RawPeer, RtpCounter, SipMessage
from sip_harness import Serve, wait_for

pytestmark = pytest.mark.sip


def offer(ip: str, port: int, payload: int, rtpmap: str, events_rate: int) -> str:
    """An SDP offer of one codec and telephone-event at ``events_rate``."""
    return CRLF.join([
        "v=0", f"o=raw 1 1 IN IP4 {ip}", "s=-", f"c=IN IP4 {ip}", "t=0 0",
        f"m=audio {port} RTP/AVP {payload} 101", f"a=rtpmap:{payload} {rtpmap}",
        f"a=rtpmap:101 telephone-event/{events_rate}", "a=fmtp:101 0-15", "a=sendrecv", ""])


def media_of(answer: SipMessage) -> tuple[tuple[str, int], list[str]]:
    """Where the server's RTP comes from, and the payload types its answer lists."""
    address = re.search(r"c=IN IP4 (\S+)", answer.body)
    media = re.search(r"m=audio (\d+) RTP/AVP ([\d ]+)", answer.body)
    assert address, answer.body
    assert media, answer.body
    return (address.group(1), int(media.group(1))), media.group(2).split()


@pytest.fixture
def server(serve: Serve) -> Serve:
    return serve.start()


@pytest.fixture
def rtp() -> Iterator[RtpCounter]:
    counter = RtpCounter()
    try:
        yield counter
    finally:
        counter.close()


def call_with(server: Serve, rtp: RtpCounter, payload: int, rtpmap: str,
              events_rate: int = 8000) -> tuple[RawPeer, Dialog, SipMessage]:
    caller = RawPeer("127.0.0.1", server.port, user="codec")
    dialog = caller.invite(body=offer("127.0.0.1", rtp.port, payload, rtpmap, events_rate))
    return caller, dialog, caller.wait_answer(dialog, timeout=20)


@pytest.mark.parametrize(("payload", "rtpmap", "events_rate"), [
    (9, "G722/8000", 8000),            # RFC 3551: G.722's RTP clock says 8000
    (111, "opus/48000/2", 48000),
    (8, "PCMA/8000", 8000),
])
def test_a_call_offering_one_codec_gets_it_hears_the_greeting_and_can_press_keys(
        server: Serve, rtp: RtpCounter, payload: int, rtpmap: str, events_rate: int) -> None:
    caller, dialog, answer = call_with(server, rtp, payload, rtpmap, events_rate)
    try:
        assert answer.status == 200, answer.raw
        source, offered = media_of(answer)
        assert offered[0] == str(payload), answer.body
        wait_for("the greeting's RTP", lambda: rtp.payload_types[payload] > 50,
                 context=server.logs)
        # Key 2 (leave a message): RFC 4733 at the codec's event rate, or SIP INFO.
        events = re.search(rf"a=rtpmap:(\d+) telephone-event/{events_rate}", answer.body)
        if payload == 9:
            assert caller.info_digit(dialog, "2") == 200
        else:
            assert events, answer.body
            rtp.send_digit(source, int(events.group(1)), "2", clock_rate=events_rate)
        wait_for("the key to start a message", lambda: "recording a message for office"
                 in server.logs(), context=server.logs)
    finally:
        caller.bye(dialog)
        caller.close()


def test_a_call_offering_only_a_codec_switched_off_is_refused(
        server: Serve, rtp: RtpCounter) -> None:
    caller, _dialog, answer = call_with(server, rtp, 97, "speex/8000")
    caller.close()
    assert answer.status == 488, answer.raw  # Not Acceptable Here: no codec in common
    assert "codecs, best first: pcmu, pcma, g722, opus" in server.logs()


def test_mandatory_srtp_refuses_a_plain_rtp_offer(serve: Serve, rtp: RtpCounter) -> None:
    serve.start("--srtp", "mandatory")
    caller, _dialog, answer = call_with(serve, rtp, 0, "PCMU/8000")
    caller.close()
    assert answer.status == 488, answer.raw  # SRTP or nothing
