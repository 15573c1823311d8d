"""Every SIP request gets an answer (issue 27): RFC 3261 8.2.1, 12.2.2 and 15.1.2.

Silence makes a carrier's SBC or a phone retransmit for 32 s and then mark the
attendant dead. A request no part of the server handles is answered 481 when the
dialog or transaction it needs does not exist, 405 with Allow for a method we know
but do not serve, 501 with Allow for a method we do not know
(scripts/pjsua2/patches/0003-sip_endpoint-answer-unhandled-requests.patch).
"""

from __future__ import annotations

import queue
import re
from collections.abc import Callable, Iterator

import pytest
from rawsip import RawPeer, sdp
from sip_harness import Serve, scrape, wait_for

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    serve = Serve(tmp_path_factory.mktemp("sip-answers"), 0)
    try:
        serve.start("--metrics-port", "0")
        yield serve
    finally:
        serve.stop()


@pytest.fixture
def peer(server: Serve) -> Iterator[RawPeer]:
    with RawPeer("127.0.0.1", server.port) as caller:
        yield caller


@pytest.mark.parametrize(("method", "status"), [
    ("BYE", 481), ("INFO", 481), ("UPDATE", 481), ("PRACK", 481), ("NOTIFY", 481),
    ("CANCEL", 481), ("REFER", 481),
    ("REGISTER", 405), ("PUBLISH", 405),
    ("NEWMETHOD", 501), ("newmethod", 501),  # methods are case-sensitive
])
def test_a_request_outside_any_dialog_is_answered(server: Serve, peer: RawPeer, method: str,
                                                  status: int) -> None:
    headers = ("Event: dialog", "Subscription-State: active") if method == "NOTIFY" else ()
    if method == "REFER":
        headers = ("Refer-To: <sip:+19005550123@127.0.0.1:9>",)
    call_id = peer.out_of_dialog(method, headers=headers)
    answer = peer.wait_response(call_id, method, timeout=10)
    assert answer.status == status, answer.raw
    if status in (405, 501):
        allowed = {m.strip() for m in answer.header("allow").split(",")}
        assert {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"} <= allowed, answer.raw
        assert method not in allowed


def test_a_retransmitted_request_gets_the_same_answer(server: Serve, peer: RawPeer) -> None:
    call_id = peer.out_of_dialog("REGISTER")
    request = peer.last_sent
    first = peer.wait_response(call_id, "REGISTER", timeout=10)
    peer.send(request)  # a retransmission: same branch, same everything
    again = peer.wait_response(call_id, "REGISTER", timeout=10)
    assert (first.status, again.status) == (405, 405), request
    assert peer.options(timeout=10) == 200


def test_an_ack_outside_any_transaction_gets_no_answer(server: Serve, peer: RawPeer) -> None:
    call_id = peer.out_of_dialog("ACK")
    with pytest.raises(TimeoutError):
        peer.wait_response(call_id, "ACK", timeout=2, final=False)
    assert peer.options(timeout=10) == 200


def test_an_offer_whose_address_pjmedia_rejects_gets_488_and_one_log_line(
        server: Serve, peer: RawPeer) -> None:
    refused = server.status()["refused_requests"]
    body = sdp(peer.ip, 40000).replace(f"c=IN IP4 {peer.ip}", "c=IN IP4 999.1.1.1")
    for _ in range(3):  # anyone could fill the log this way: one line each, no traceback
        dialog = peer.invite(body=body)
        assert peer.wait_answer(dialog, timeout=10).status == 488
    wait_for("the refusals counted", lambda: server.status()["refused_requests"] >= refused + 3,
             context=server.logs)
    wait_for("no call left", lambda: server.status()["active_calls"] == 0, context=server.logs)
    log = server.log.read_text()
    assert "Traceback" not in log
    assert log.count("its SDP offer cannot be used") == 1  # one line a minute per source
    assert peer.options(timeout=10) == 200


@pytest.mark.parametrize(("change", "status"), [
    (lambda text: " " + text, 400),  # whitespace before the method
    (lambda text: text.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nTo: <sip:x@h>"), 400),
    (lambda text: re.sub(r"Content-Length: \d+", "Content-Length: 9999", text), 400),
    (lambda text: text.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nRequire: 100rel, foo"),
     420),
    (lambda text: text.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nAccept: text/plain"),
     406),
], ids=["leading-space", "two-to", "content-length", "require", "accept"])
def test_a_malformed_invite_is_refused_and_sets_up_no_call(
        server: Serve, peer: RawPeer, change: Callable[[str], str], status: int) -> None:
    answered = server.status()["answered"]
    dialog = peer.invite(send=False)
    peer.send(change(dialog.invite))
    answer = peer.wait_answer(dialog, timeout=10)
    assert answer.status == status, answer.raw
    if status == 420:
        assert answer.header("unsupported") == "foo"
    assert server.status()["answered"] == answered
    assert peer.options(timeout=10) == 200


def test_an_invite_whose_cseq_names_another_method_gets_400_and_sets_up_no_call(
        server: Serve, peer: RawPeer) -> None:
    answered = server.status()["answered"]
    dialog = peer.invite(send=False)
    peer.send(dialog.invite.replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS"))
    answer = peer.wait_response(dialog.call_id, "OPTIONS", timeout=10)
    assert answer.status == 400, answer.raw
    assert server.status()["answered"] == answered


# Requests pjsip's parser cannot read
# (scripts/pjsua2/patches/0004-sip_transport-answer-unparsable-requests.patch).
@pytest.mark.parametrize(("change", "status", "reason"), [
    (lambda text: text.replace(" SIP/2.0\r\n", " SIP/7.0\r\n", 1), 505, ""),
    (lambda text: re.sub(r"^INVITE sip:", "INVITE nosuchscheme:", text), 416, ""),
    (lambda text: text.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nContact: <sip:a@b"),
     400, "Contact"),
    (lambda text: text.replace("Max-Forwards: 70", "Max-Forwards: seventy"), 400,
     "Max-Forwards"),
    (lambda text: re.sub(r"^INVITE sip:\S+", "INVITE <sip:frontdesk@127.0.0.1>", text), 400,
     "Request Line"),
], ids=["version", "uri-scheme", "bad-contact", "bad-max-forwards", "uri-in-brackets"])
def test_an_invite_the_parser_cannot_read_is_answered_when_the_answer_can_be_addressed(
        server: Serve, peer: RawPeer, change: Callable[[str], str], status: int,
        reason: str) -> None:
    answered = server.status()["answered"]
    dialog = peer.invite(send=False)
    bad = change(dialog.invite)
    assert bad != dialog.invite
    peer.send(bad)
    answer = peer.wait_answer(dialog, timeout=10)
    assert answer.status == status, answer.raw
    assert reason in answer.start, answer.start
    assert answer.header("call-id") == dialog.call_id
    assert f"tag={dialog.from_tag}" in answer.header("from")
    assert server.status()["answered"] == answered


def test_a_bad_last_header_still_gets_400(server: Serve, peer: RawPeer) -> None:
    # pjsip's parser throws the whole message away when the header that fails is the last
    call_id = peer.out_of_dialog("OPTIONS", headers=("Expires: never",))
    request = peer.last_sent.replace("\r\nContent-Length: 0", "")
    peer.send(request.replace("Expires: never", "Content-Length: 0\r\nExpires: never"))
    assert peer.wait_response(call_id, "OPTIONS", timeout=10).status == 400


@pytest.mark.parametrize(("change", "reason"), [
    (lambda text: re.sub(r"(From: <sip:[^>]*)>", r"\1", text), "malformed From"),
    (lambda text: re.sub(r"(Via: [^\r]*)", r"\1;;,;,,", text), "malformed Via"),
    (lambda text: re.sub(r"CSeq: 1 ", "CSeq: 99999999999999 ", text), "malformed CSeq"),
    (lambda text: re.sub(r"(From|To): .*\r\n", "", text), "missing headers"),
], ids=["unreadable-from", "unreadable-via", "cseq-too-large", "no-from-or-to"])
def test_a_request_whose_answer_headers_are_unreadable_gets_400_made_of_its_own_lines(
        server: Serve, peer: RawPeer, change: Callable[[str], str], reason: str) -> None:
    call_id = peer.out_of_dialog("OPTIONS")
    peer.wait_response(call_id, "OPTIONS", timeout=10)
    bad = change(peer.last_sent.replace(call_id, call_id + "u"))
    assert call_id + "u" in bad
    peer.send(bad)
    answer = peer.received.get(timeout=10)  # sent back to where the request came from
    assert answer.status == 400, answer.raw
    assert reason in answer.start, answer.start
    assert answer.header("call-id") == call_id + "u"
    sent_via = re.search(r"Via: ([^\r]*)", bad)
    assert sent_via is not None
    assert answer.headers["via"] == [sent_via.group(1)]
    assert peer.options(timeout=10) == 200


@pytest.mark.parametrize("change", [
    lambda text: re.sub(r"Via: .*\r\n", "", text).replace("Max-Forwards: 70",
                                                          "Max-Forwards: x"),
    lambda text: text.replace("OPTIONS sip:", "ACK sip:").replace("1 OPTIONS", "1 ACK")
    .replace("SIP/2.0\r\n", "SIP/3.0\r\n", 1),
    lambda text: "SIP/2.0 999 Nonsense\r\n" + text.split("\r\n", 1)[1],
    lambda text: "SIP/2.0 2x0 OK\r\n" + text.split("\r\n", 1)[1],
], ids=["no-via", "ack", "response", "unreadable-response"])
def test_an_unreadable_message_that_cannot_be_answered_is_dropped_and_harms_nothing(
        server: Serve, peer: RawPeer, change: Callable[[str], str]) -> None:
    call_id = peer.out_of_dialog("OPTIONS")
    peer.wait_response(call_id, "OPTIONS", timeout=10)
    bad = change(peer.last_sent)
    assert bad != peer.last_sent
    peer.send(bad)
    with pytest.raises(queue.Empty):  # nothing at all comes back
        print(peer.received.get(timeout=2).raw)
    assert peer.options(timeout=10) == 200


@pytest.mark.parametrize(("extra", "status", "header"), [
    ("Require: timer, nosuchextension", 420, "nosuchextension"),
    ("Content-Length: 5", 400, "more than one Content-Length"),
    ("t: <sip:other@127.0.0.1>", 400, "more than one To"),
], ids=["require", "two-content-lengths", "two-to"])
def test_a_request_pjsua_answers_itself_gets_the_checks_rfc_3261_asks_of_every_request(
        server: Serve, peer: RawPeer, extra: str, status: int, header: str) -> None:
    for method in ("OPTIONS", "REGISTER", "BYE"):
        call_id = peer.out_of_dialog(method, headers=(extra,))
        answer = peer.wait_response(call_id, method, timeout=10)
        assert answer.status == status, answer.raw
        if status == 420:
            assert answer.header("unsupported") == header
        else:
            assert header in answer.start


def test_an_authorization_scheme_pjsip_does_not_know_fails_nothing(
        server: Serve, peer: RawPeer) -> None:
    call_id = peer.out_of_dialog("OPTIONS", headers=("Authorization: Bearer eyJhbGciOi.x.y",))
    assert peer.wait_response(call_id, "OPTIONS", timeout=10).status == 200


def test_two_peers_reusing_one_branch_get_a_transaction_each(server: Serve) -> None:
    # RFC 3261 17.2.3: the top Via's sent-by is part of what names a server transaction
    with RawPeer("127.0.0.1", server.port) as first, RawPeer("127.0.0.1", server.port) as second:
        call_id = first.out_of_dialog("REGISTER")
        assert first.wait_response(call_id, "REGISTER", timeout=10).status == 405
        branch = re.search(r"branch=(\S+?);", first.last_sent)
        assert branch is not None
        call_id = second.out_of_dialog("REGISTER")
        second.send(re.sub(r"branch=\S+?;", f"branch={branch.group(1)};", second.last_sent)
                    .replace("CSeq: 1 ", "CSeq: 2 "))
        assert second.wait_response(call_id, "REGISTER", timeout=10).status == 405


def test_unreadable_messages_are_counted_in_the_metrics(server: Serve, peer: RawPeer) -> None:
    def unreadable() -> tuple[float, float]:
        values = scrape(server.status()["metrics_port"])
        return (values['attendant_sip_unreadable_total{outcome="answered"}'],
                values['attendant_sip_unreadable_total{outcome="dropped"}'])

    answered, dropped = unreadable()
    for _ in range(2):
        call_id = peer.out_of_dialog("OPTIONS")
        peer.wait_response(call_id, "OPTIONS", timeout=10)
        peer.send(peer.last_sent.replace(call_id, call_id + "v").replace("SIP/2.0\r\n",
                                                                         "SIP/3.0\r\n", 1))
        assert peer.wait_response(call_id + "v", "OPTIONS", timeout=10).status == 505
    peer.send("SIP/2.0 2x0 OK\r\n" + peer.last_sent.split("\r\n", 1)[1])
    peer.send(re.sub(r"Via: .*\r\n", "", peer.last_sent))  # no Via: no way to answer
    assert peer.options(timeout=10) == 200
    assert unreadable() == (answered + 2, dropped + 2)


LONG_HOST = "a" * 300  # past pjlib's 254-character host names


@pytest.mark.parametrize("change", [
    lambda body: body.replace("c=IN IP4 127.0.0.1", f"c=IN IP4 {LONG_HOST}"),
    lambda body: body.replace("a=sendrecv", f"a=rtcp:40001 IN IP4 {LONG_HOST}\r\na=sendrecv"),
], ids=["connection", "rtcp"])
def test_an_offer_naming_a_host_too_long_for_pjlib_is_refused_and_aborts_nothing(
        server: Serve, peer: RawPeer, change: Callable[[str], str]) -> None:
    # pjlib asserted on the length, and pjsua2 runs with assertions on: one INVITE
    # aborted the server (scripts/pjsua2/patches/0007-pjlib-long-host-names-are-errors.patch)
    answered = server.status()["answered"]
    dialog = peer.invite(body=change(sdp(peer.ip, 40000)))
    assert peer.wait_answer(dialog, timeout=10).status == 488
    assert server.status()["answered"] == answered
    # In a re-INVITE of a call already up, pjsua accepts the offer but can start no
    # stream to that address: the call has no media, which the server treats as hold
    # (and its --hold-timeout ends the call if the caller never comes back).
    held = server.log.read_text().count("the caller put us on hold")
    call = peer.call()
    peer.in_dialog(call, "INVITE", body=change(sdp(peer.ip, 40000)))
    assert peer.wait_response(call.call_id, "INVITE", timeout=10).status == 200
    wait_for("the call held", lambda: server.log.read_text().count(
        "the caller put us on hold") > held, context=server.logs)
    assert peer.bye(call) == 200
    assert peer.options(timeout=10) == 200


# 100 levels (6 kB) do not fit pjsip's 4,000-byte receive buffer: the cut datagram's
# Content-Length exceeds its body, which is 400 on UDP (RFC 3261 18.3.1).
@pytest.mark.parametrize(("depth", "status"), [(1, 200), (2, 415), (30, 415), (100, 400)])
def test_multipart_offers_one_level_deep_are_taken_and_nested_ones_refused(
        server: Serve, peer: RawPeer, depth: int, status: int) -> None:
    body, content_type = sdp(peer.ip, 40000), "application/sdp"
    for level in range(depth):
        body = (f"--b{level}\r\nContent-Type: {content_type}\r\n\r\n{body}\r\n"
                f"--b{level}--\r\n")
        content_type = f"multipart/mixed;boundary=b{level}"
    dialog = peer.invite(body=body, content_type=content_type)
    answer = peer.wait_answer(dialog, timeout=10)
    assert answer.status == status, answer.raw[:400]
    if status == 200:
        assert peer.bye(dialog) == 200


def test_a_datagram_far_past_the_receive_buffer_gets_400_and_sets_up_no_call(
        server: Serve, peer: RawPeer) -> None:
    answered = server.status()["answered"]
    body = "a=x-padding:" + "z" * 50_000 + "\r\n"  # 55 kB: cut to 4,000 bytes on arrival
    dialog = peer.invite(body=sdp(peer.ip, 40000) + body)
    assert peer.wait_answer(dialog, timeout=10).status == 400
    assert server.status()["answered"] == answered
    assert peer.options(timeout=10) == 200
