"""RFC 4475's torture messages against a real ``attendant serve`` on 127.0.0.1.

Each of the 49 messages in ``rfc4475.py`` leaves as one UDP datagram from a
socket of its own, so whatever reaches that socket is the server's answer to that
message and to nothing else. The final answer (or the silence a response must
meet) has to be one the RFC allows for a UAS that is neither proxy nor registrar;
a call the message set up is acknowledged and hung up, so that none outlives its
test; and the server must still answer OPTIONS from another peer afterwards, since
a torture message that takes the server down fails whatever status came first.

Each message leaves from its own socket, so its top Via (rewritten to that socket)
is its own even where the RFC reuses a branch (z9hG4bKkdjuw in 22 messages): RFC
3261 17.2.3 makes them distinct transactions, and pjsip does so since patch 0006
(``scripts/pjsua2/patches/0006-sip_transaction-match-sent-by.patch``). One server
therefore takes all 49.

Where the server answers otherwise, the test fails with the RFC's reason, the
datagram sent and the answer received: nothing here is marked xfail.
"""

from __future__ import annotations

import random
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from rawsip import CRLF, RawPeer, SipMessage, parse
from rfc4475 import MESSAGES, NO_ANSWER, Torture
from sip_harness import Serve

pytestmark = pytest.mark.sip

LOOPBACK = "127.0.0.1"
#: Longest wait for a final answer; the server answers in milliseconds when it answers.
ANSWER_S = 5.0
#: How long a message that must go unanswered is listened for.
SILENCE_S = 2.0
#: pjsip logs its refusals and drops at level 4: a failure here is read in that log.
PJ_LOG = ("--pj-log-level", "4")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    serve = Serve(tmp_path_factory.mktemp("rfc4475"), 0)
    try:
        yield serve.start(*PJ_LOG)
    finally:
        serve.stop()


@pytest.fixture
def prober(server: Serve) -> Iterator[RawPeer]:
    """A well-behaved peer that asks, after the message, whether the server still answers."""
    with RawPeer(LOOPBACK, server.port, user="prober") as peer:
        yield peer


class Sender:
    """The UDP socket one torture message is sent from, and everything that reached it."""

    def __init__(self, server_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.port: int = self.sock.getsockname()[1]
        self.server = (LOOPBACK, server_port)
        self.received: list[SipMessage] = []

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def wait(self, wanted: Callable[[SipMessage], bool], timeout: float) -> SipMessage | None:
        """The first response ``wanted`` accepts within ``timeout`` seconds, else None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                break
            message = parse(data, source)
            if message is None:
                continue
            self.received.append(message)
            if not message.is_request and wanted(message):
                return message
        return None

    def responses(self) -> list[SipMessage]:
        return [m for m in self.received if not m.is_request]


def _answers(response: SipMessage, torture: Torture) -> bool:
    # insuf has no Call-ID at all: on this socket, any final answer is its answer.
    return response.status >= 200 and (not torture.call_ids
                                       or response.header("call-id") in torture.call_ids)


def exchange(sender: Sender, torture: Torture) -> SipMessage | None:
    """Send ``torture`` and return the answer it got, or None for silence."""
    sender.send(torture.datagram(LOOPBACK, sender.port))
    if torture.expect == {NO_ANSWER}:
        # Any response at all, even a 100, breaks the silence a response must meet.
        return sender.wait(lambda _response: True, SILENCE_S)
    answer = sender.wait(lambda response: _answers(response, torture), ANSWER_S)
    if answer is None:
        # A final answer with a rewritten Call-ID is still the only answer this socket gets.
        answer = next((m for m in sender.responses() if m.status >= 200), None)
    return answer


_REQUEST_LINE = re.compile(r"INVITE [A-Za-z][A-Za-z0-9+.-]*:\S+ SIP/2\.0")


def _request(method: str, uri: str, via: str, cseq: int, answer: SipMessage) -> bytes:
    # From, To (with the server's tag) and Call-ID as the server echoed them, so the
    # request finds the transaction or dialog whatever the torture message looked like.
    return CRLF.join([
        f"{method} {uri} SIP/2.0", f"Via: {via}", f"From: {answer.header('from')}",
        f"To: {answer.header('to')}", f"Call-ID: {answer.header('call-id')}",
        f"CSeq: {cseq} {method}", "Max-Forwards: 70", "Content-Length: 0", "", ""]).encode()


def end_call(sender: Sender, torture: Torture, answer: SipMessage) -> int | None:
    """ACK an INVITE's final answer and hang up a call it set up: the BYE's status, or
    None when there was no call (NO_ANSWER when the BYE went unanswered)."""
    if torture.start_line.split(" ", 1)[0] != "INVITE" or answer.method != "INVITE":
        return None
    cseq = int(answer.header("cseq").split()[0])
    request_uri = torture.start_line.split()[1]
    if answer.status >= 300:
        # The same transaction (top Via as echoed, so the same branch): stops the
        # retransmissions of a refusal that was sent statefully. An INVITE whose request
        # line pjsip could not parse was refused statelessly, and an ACK copying that
        # line would only be dropped the same way.
        if _REQUEST_LINE.fullmatch(torture.start_line):
            sender.send(_request("ACK", request_uri, answer.header("via"), cseq, answer))
        return None
    contact = re.search(r"<([^>]+)>", answer.header("contact"))
    target = contact.group(1) if contact else request_uri
    for method, number in (("ACK", cseq), ("BYE", cseq + 1)):
        via = f"SIP/2.0/UDP {LOOPBACK}:{sender.port};branch=z9hG4bK{random.getrandbits(48):x}"
        sender.send(_request(method, target, via, number, answer))
    bye = sender.wait(lambda response: response.method == "BYE" and response.status >= 200,
                      ANSWER_S)
    return bye.status if bye is not None else NO_ANSWER


def _outcome(status: int) -> str:
    return "silence" if status == NO_ANSWER else str(status)


def _explain(torture: Torture, outcome: int, sender: Sender) -> str:
    sent = torture.datagram(LOOPBACK, sender.port).decode("utf-8", "backslashreplace")
    received = "\n".join(m.raw[:600] for m in sender.received) or "(nothing)"
    allowed = ", ".join(_outcome(status) for status in sorted(torture.expect))
    return (f"RFC 4475 {torture.section} {torture.name} ({torture.title}): got "
            f"{_outcome(outcome)}, allowed {allowed}. {torture.why}\n"
            f"--- sent ---\n{sent[:1500]}\n--- received ---\n{received}")


def test_the_corpus_is_the_49_messages_of_rfc_4475() -> None:
    names = [torture.name for torture in MESSAGES]
    assert len(set(names)) == len(names) == 49
    groups = Counter(".".join(t.section.split(".")[:3 if t.section.startswith("3.1") else 2])
                     for t in MESSAGES)
    assert groups == {"3.1.1": 13, "3.1.2": 19, "3.2": 1, "3.3": 15, "3.4": 1}


@pytest.mark.parametrize("torture", MESSAGES, ids=[torture.name for torture in MESSAGES])
def test_a_torture_message_gets_an_answer_rfc_4475_allows_and_the_server_stays_up(
        server: Serve, prober: RawPeer, torture: Torture,
        record_property: Callable[[str, object], None]) -> None:
    with Sender(server.port) as sender:
        answer = exchange(sender, torture)
        bye = end_call(sender, torture, answer) if answer is not None else None
        outcome = answer.status if answer is not None else NO_ANSWER
        record_property("outcome", _outcome(outcome))
        record_property("answer", answer.start if answer is not None else "")
        explanation = _explain(torture, outcome, sender)
    try:
        alive = prober.options(timeout=10)
    except TimeoutError:
        pytest.fail(f"the server no longer answers OPTIONS after {torture.name}\n"
                    f"{explanation}\n{server.logs()}")
    assert alive == 200, explanation
    assert outcome in torture.expect, explanation
    if bye is not None:
        # The call this message set up must end when asked, like any other.
        assert bye == 200, f"BYE answered {_outcome(bye)}\n{explanation}"
