"""INVITEs refused before they become calls (RFC 3261; RFC 4475's torture messages)."""

from __future__ import annotations

import pytest

pytest.importorskip("pjsua2")  # attendant.sip's package imports it

from attendant.sip.invite_checks import invite_problem

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" \
      "m=audio 40000 RTP/AVP 0\r\n"


def invite(*extra: str, body: str = SDP, length: int | None = None, first: str = "",
           cseq: str = "1 INVITE") -> str:
    size = len(body.encode()) if length is None else length
    return "\r\n".join([
        f"{first}INVITE sip:frontdesk@127.0.0.1 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1",
        "From: <sip:anna@127.0.0.1>;tag=1", "To: <sip:frontdesk@127.0.0.1>",
        "Call-ID: c1", f"CSeq: {cseq}", "Max-Forwards: 70",
        "Contact: <sip:anna@127.0.0.1:5070>", *extra,
        "Content-Type: application/sdp", f"Content-Length: {size}", "", body])


def test_a_well_formed_invite_passes() -> None:
    assert invite_problem(invite()) is None
    assert invite_problem("\r\n\r\n" + invite()) is None  # leading CRLFs are allowed
    assert invite_problem(invite("Require: timer", "Accept: application/sdp, text/plain")) is None


@pytest.mark.parametrize(("message", "status", "why"), [
    (invite(first=" "), 400, "whitespace before the request line"),
    (invite(cseq="1 ACK"), 400, "CSeq 1 ACK does not match the request line's INVITE"),
    (invite("From: <sip:eve@127.0.0.1>;tag=2"), 400, "2 From headers"),
    (invite("t: <sip:other@127.0.0.1>"), 400, "2 To headers"),  # the compact form counts
    (invite(length=9999), 400, "Content-Length 9999 but"),
    (invite("Require: 100rel, timer, foo, bar"), 420, "Require: bar, foo is not supported"),
    (invite("Accept: text/plain"), 406, "Accept does not include application/sdp"),
])
def test_what_must_be_refused_is_refused_with_the_rfc_answer(message: str, status: int,
                                                             why: str) -> None:
    refusal = invite_problem(message)
    assert refusal is not None
    assert refusal.status == status
    assert refusal.why.startswith(why), refusal.why


def test_420_names_the_unsupported_extensions() -> None:
    refusal = invite_problem(invite("Require: x-secret", "Require: foo, timer"))
    assert refusal is not None
    assert refusal.headers == (("Unsupported", "foo, x-secret"),)


def multipart(depth: int) -> tuple[str, str]:
    """A body of ``depth`` nested multipart/mixed levels around the SDP; its Content-Type."""
    body, content_type = SDP, "application/sdp"
    for level in range(depth):
        boundary = f"b{level}"
        body = (f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n{body}\r\n"
                f"--{boundary}--\r\n")
        content_type = f"multipart/mixed;boundary={boundary}"
    return body, content_type


@pytest.mark.parametrize("depth", [2, 53, 100, 850])
def test_nested_multipart_bodies_are_refused_at_any_depth(depth: int) -> None:
    body, content_type = multipart(depth)
    message = invite(body=body).replace("Content-Type: application/sdp",  # the INVITE's own
                                        f"Content-Type: {content_type}", 1)
    refusal = invite_problem(message)
    assert refusal is not None
    assert refusal.status == 415


def test_one_multipart_level_around_the_sdp_is_fine() -> None:
    body, content_type = multipart(1)
    message = invite(body=body).replace("Content-Type: application/sdp",  # the INVITE's own
                                        f"Content-Type: {content_type}", 1)
    assert invite_problem(message) is None
