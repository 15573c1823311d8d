"""Hostile callers against a real `attendant serve` on 127.0.0.1 (issue 10).

Each test sends what an attacker on the SIP port would (tests/sip/rawsip.py), then
checks the four things that must always hold: the server still answers OPTIONS
within a bound, it has no call it does not account for, it dialled nothing it was
not told to (a ``Trap`` stands for a premium-rate number), and it kept every call.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rawsip import Dialog, RawPeer, RtpCounter, Trap, sdp
from sip_harness import ATTENDANT, Serve, scrape, wait_for

from attendant.storage.voicemail import Message, VoicemailStore

pytestmark = pytest.mark.sip

#: OPTIONS must be answered within this (generous: CI is a loaded 2-core machine).
OPTIONS_BOUND_S = 10.0
#: An answer slower than this means the SIP worker waited on something (a lock, a disk):
#: far above a loaded machine's jitter, far below SQLite's 10 s busy timeout.
SLOW_ANSWER_S = 4.0


@pytest.fixture
def trap() -> Iterator[Trap]:
    number = Trap()
    try:
        yield number
    finally:
        number.close()


@pytest.fixture
def peer(serve: Serve) -> Iterator[RawPeer]:
    if serve.proc is None:
        serve.start("--metrics-port", "0")
    caller = RawPeer("127.0.0.1", serve.port)
    try:
        yield caller
    finally:
        caller.close()


def still_healthy(serve: Serve, peer: RawPeer, trap: Trap | None = None) -> None:
    """The invariants every hostile test ends with."""
    assert peer.options(timeout=OPTIONS_BOUND_S) == 200, serve.logs()
    if trap is not None:
        assert trap.hits == [], f"the server dialled {trap.hits}"
    serve.status()  # fails the test if the server died


def wait_active(serve: Serve, calls: int, timeout: float = 60.0) -> None:
    """Wait until status.json shows ``calls`` active calls (its writes are coalesced)."""
    wait_for(f"{calls} active call(s)", lambda: serve.status().get("active_calls") == calls,
             timeout=timeout, context=serve.logs)


def wait_idle(serve: Serve, timeout: float = 60.0) -> None:
    wait_active(serve, 0, timeout)


def test_refer_from_a_caller_is_refused_and_nothing_is_dialled(
        serve: Serve, peer: RawPeer, trap: Trap) -> None:
    dialog = peer.call()
    peer.in_dialog(dialog, "REFER", headers=(
        f"Refer-To: <sip:+19005550123@127.0.0.1:{trap.port}>",
        f"Referred-By: <sip:mallory@{peer.ip}>"))
    answer = peer.wait_response(dialog.call_id, "REFER", timeout=20)
    assert answer.status == 603, answer.raw
    time.sleep(3)  # a dial would have reached the trap by now
    still_healthy(serve, peer, trap)
    wait_active(serve, 1, timeout=10)
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_sip_refused_total{reason="refer"}'] == 1
    assert f"refused from {peer.ip}" in serve.log.read_text()
    assert peer.bye(dialog) == 200
    wait_idle(serve)
    still_healthy(serve, peer, trap)


def test_refer_to_a_busy_target_does_not_crash_the_server(
        serve: Serve, peer: RawPeer, trap: Trap) -> None:
    # The crash of issue 10: the REFERred leg got 486 and pjsua2 segfaulted.
    busy = RawPeer("127.0.0.1", serve.port, user="busy")
    try:
        for _ in range(3):
            dialog = peer.call()
            peer.in_dialog(dialog, "REFER", headers=(
                f"Refer-To: <sip:busy@127.0.0.1:{busy.port}>",))
            assert peer.wait_response(dialog.call_id, "REFER", timeout=20).status == 603
            assert peer.bye(dialog) == 200
        assert busy.server_requests("INVITE") == []
    finally:
        busy.close()
    wait_idle(serve)
    still_healthy(serve, peer, trap)


def test_refer_outside_a_dialog_dials_nothing(serve: Serve, peer: RawPeer, trap: Trap) -> None:
    call_id = peer.out_of_dialog("REFER", headers=(
        f"Refer-To: <sip:+19005550123@127.0.0.1:{trap.port}>",))
    assert peer.wait_response(call_id, "REFER", timeout=10).status == 481  # no such dialog
    time.sleep(2)
    still_healthy(serve, peer, trap)
    wait_active(serve, 0, timeout=10)


def test_invite_with_replaces_naming_another_call_is_refused(
        serve: Serve, peer: RawPeer, trap: Trap) -> None:
    victim = peer.call()
    wait_active(serve, 1)
    answered = serve.status()["answered"]
    mallory = RawPeer("127.0.0.2", serve.port, user="mallory")
    try:
        replacing = mallory.invite(extra=(
            f"Replaces: {victim.call_id};to-tag={victim.to_tag};from-tag={victim.from_tag}",
            "Supported: replaces"))
        answer = mallory.wait_answer(replacing, timeout=20)
        assert answer.status == 403, answer.raw
        time.sleep(2)
        assert not peer.got_bye(victim), "the replaced call was hung up"
        wait_active(serve, 1, timeout=10)
        status = serve.status()
        assert status["answered"] == answered
        metrics = scrape(status["metrics_port"])
        assert metrics['attendant_sip_refused_total{reason="replaces"}'] == 1
        still_healthy(serve, mallory, trap)
    finally:
        mallory.close()
    assert peer.bye(victim) == 200  # the BYE that segfaulted the old server
    wait_idle(serve)
    still_healthy(serve, peer, trap)


def test_subscribe_is_refused_and_nothing_is_notified(serve: Serve, peer: RawPeer) -> None:
    for event in ("presence", "message-summary", "dialog", "x-made-up"):
        call_id = peer.out_of_dialog("SUBSCRIBE", headers=(f"Event: {event}", "Expires: 3600"))
        status = peer.wait_response(call_id, "SUBSCRIBE", timeout=20).status
        assert status in (403, 489), f"SUBSCRIBE for {event} answered {status}"
    time.sleep(3)  # pjsua's presence server sent its first NOTIFY at once
    assert peer.server_requests("NOTIFY") == []
    still_healthy(serve, peer)
    assert "refused from 127.0.0.1" in serve.log.read_text()


def test_message_is_refused_not_silently_dropped(serve: Serve, peer: RawPeer) -> None:
    call_id = peer.out_of_dialog("MESSAGE", body="call me back on +19005550123")
    answer = peer.wait_response(call_id, "MESSAGE", timeout=20)
    assert answer.status == 405, answer.raw
    assert "INVITE" in answer.header("allow"), answer.raw
    dialog = peer.call()
    peer.in_dialog(dialog, "MESSAGE", body="hello", content_type="text/plain")
    assert peer.wait_response(dialog.call_id, "MESSAGE", timeout=20).status == 405
    still_healthy(serve, peer)
    wait_active(serve, 1, timeout=10)
    assert peer.bye(dialog) == 200
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_sip_refused_total{reason="message"}'] == 2, serve.logs()


#: dtmf-relay bodies pjsua 2.17 parsed past their end (the first aborted the server).
MALFORMED_DTMF_RELAY = ["Signal=", "Signal", "Signal=\r\n", "=", "Signal=55\r\n",
                        "Signal=5\r\nDuration=abc\r\n", "Signal=5\r\nSignal=6\r\n",
                        "Duration=100\r\n", "\r\n", "Signal=\x00", "Signal=Z"]


def test_malformed_dtmf_relay_info_gets_400_and_the_call_goes_on(
        serve: Serve, peer: RawPeer) -> None:
    dialog = peer.call()
    for body in MALFORMED_DTMF_RELAY:
        peer.in_dialog(dialog, "INFO", body=body, content_type="application/dtmf-relay")
        answer = peer.wait_response(dialog.call_id, "INFO", timeout=20)
        assert answer.status == 400, f"{body!r}: {answer.raw}"
    # The body that aborted pjsua: valid, only without a line end. Now a key like any other.
    peer.in_dialog(dialog, "INFO", body="Signal=5", content_type="application/dtmf-relay")
    assert peer.wait_response(dialog.call_id, "INFO", timeout=20).status == 200
    assert peer.info_digit(dialog, "#") == 200
    still_healthy(serve, peer)
    wait_active(serve, 1, timeout=10)
    assert not peer.got_bye(dialog)
    assert peer.bye(dialog) == 200
    wait_idle(serve)


@contextlib.contextmanager
def patient_server(tmp_path: Path, maria_port: int, *args: str) -> Iterator[Serve]:
    """A server whose menu waits an hour for a key: only a safety limit ends its calls."""
    server = Serve(tmp_path, maria_port)
    server.menu.write_text(server.menu.read_text().replace(
        "    options:\n", "    timeout: 3600\n    options:\n", 1))
    try:
        yield server.start("--metrics-port", "0", *args)
    finally:
        server.stop()


def ended_because(serve: Serve, reason: str, why: str) -> None:
    """The last call's record, log line and metrics say a safety limit ended it."""
    last = serve.status()["recent"][-1]
    assert last["outcome"].startswith("caller gone: "), last
    assert why in last["outcome"], last
    assert why in serve.log.read_text()
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics[f'attendant_safety_hangups_total{{reason="{reason}"}}'] == 1
    assert metrics['attendant_calls_total{outcome="caller_gone"}'] >= 1


def test_an_unacked_invite_is_torn_down_within_seconds(tmp_path: Path, maria_port: int) -> None:
    with patient_server(tmp_path, maria_port) as server:
        talker = RawPeer("127.0.0.1", server.port)  # an ordinary call keeps pjmedia's clock busy
        victim = RtpCounter()
        spoofer = RawPeer("127.0.0.1", server.port, user="spoofed")
        try:
            talker.call()
            dialog = spoofer.invite(rtp_port=victim.port)
            assert spoofer.wait_answer(dialog, timeout=20, ack=False).status == 200
            wait_active(server, 1, timeout=30)  # the talker's call only
            time.sleep(5)
            # 50 packets a second while the call is up: pjsip's own 64 s were ~2,000.
            assert victim.packets < 100, f"{victim.packets} RTP packets to a spoofed address"
            ended_because(server, "no_ack", "no ACK")
            still_healthy(server, talker)
        finally:
            talker.close()
            spoofer.close()
            victim.close()


def test_a_call_on_hold_that_sends_nothing_still_runs_its_menu_timers(
        serve: Serve, peer: RawPeer) -> None:
    # a=inactive from the start: no media flows either way, and the caller never
    # presses anything. The menu must time out and hang up as it would with audio.
    dialog = peer.call(direction="inactive")
    assert peer.wait_bye(dialog, timeout=120), serve.logs()
    wait_idle(serve)
    still_healthy(serve, peer)


def test_a_caller_who_goes_on_hold_mid_prompt_is_still_hung_up_by_the_menu(
        serve: Serve, peer: RawPeer) -> None:
    dialog = peer.call()
    time.sleep(1)
    assert peer.reinvite(dialog, "sendonly").status == 200
    assert peer.wait_bye(dialog, timeout=120), serve.logs()
    wait_idle(serve)
    still_healthy(serve, peer)


def test_a_caller_whose_rtp_stops_is_hung_up_after_the_rtp_timeout(
        tmp_path: Path, maria_port: int) -> None:
    with patient_server(tmp_path, maria_port, "--rtp-timeout", "8") as server, \
            RawPeer("127.0.0.1", server.port) as caller:
        dialog = caller.call()  # RawPeer never sends RTP
        assert caller.wait_bye(dialog, timeout=60), server.logs()
        wait_idle(server)
        ended_because(server, "no_rtp", "no RTP")
        still_healthy(server, caller)


def test_a_caller_held_longer_than_the_hold_timeout_is_hung_up(
        tmp_path: Path, maria_port: int) -> None:
    with patient_server(tmp_path, maria_port, "--hold-timeout", "8",
                        "--rtp-timeout", "3600") as server, \
            RawPeer("127.0.0.1", server.port) as caller:
        dialog = caller.call()
        assert caller.reinvite(dialog, "inactive").status == 200
        assert caller.wait_bye(dialog, timeout=60), server.logs()
        wait_idle(server)
        ended_because(server, "held", "on hold")
        still_healthy(server, caller)


def test_session_timers_end_a_vanished_caller_and_keep_one_that_refreshes(
        tmp_path: Path, maria_port: int) -> None:
    with patient_server(tmp_path, maria_port, "--session-expires", "90",
                        "--rtp-timeout", "3600") as server, \
            RawPeer("127.0.0.1", server.port, user="alive") as alive, \
            RawPeer("127.0.0.2", server.port, user="gone") as gone:
        # Too small an interval is refused with our minimum (RFC 4028 422 + Min-SE).
        small = gone.invite(extra=("Supported: timer", "Session-Expires: 30"))
        answer = gone.wait_answer(small, timeout=20)
        assert answer.status == 422, answer.raw
        assert answer.header("min-se").startswith("90"), answer.raw
        kept = alive.call()
        lost = gone.call()
        for dialog in (kept, lost):
            assert dialog.responses[-1].header("session-expires"), dialog.responses[-1].raw
        gone.deaf = True  # this phone vanished without a BYE
        # We refresh at half the interval (45 s); the deaf one's refresh times out (32 s).
        wait_active(server, 1, timeout=150)
        assert alive.server_requests("INVITE") or alive.server_requests("UPDATE"), \
            "the live caller's session was never refreshed"
        time.sleep(max(0.0, 95 - (time.monotonic() - kept.started)))
        wait_active(server, 1, timeout=5)  # the refreshed call is still up past 90 s
        assert not alive.got_bye(kept)
        ended_because(server, "session_expired", "session refresh")
        still_healthy(server, alive)
        assert alive.bye(kept) == 200


def test_one_source_cannot_take_every_call_slot(tmp_path: Path, maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    server.start("--max-calls", "10", "--max-calls-per-source", "3")
    flood = RawPeer("127.0.0.3", server.port)
    other = RawPeer("127.0.0.4", server.port)
    try:
        dialogs = [flood.invite() for _ in range(6)]
        statuses = [flood.wait_answer(d, timeout=20).status for d in dialogs]
        assert sorted(statuses) == [200, 200, 200, 503, 503, 503], statuses
        assert other.wait_answer(other.invite(), timeout=20).status == 200
        wait_active(server, 4)
        assert server.status()["refused_source"] == 3
        assert "per-source" in server.log.read_text()
        still_healthy(server, other)
    finally:
        flood.close()
        other.close()
        server.stop()


def test_an_invite_flood_from_one_source_is_rate_limited(tmp_path: Path,
                                                        maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    server.start("--invite-rate", "2", "--invite-burst", "5", "--max-calls-per-source", "100")
    flood = RawPeer("127.0.0.5", server.port)
    other = RawPeer("127.0.0.6", server.port)
    try:
        dialogs = [flood.invite() for _ in range(20)]
        statuses = [flood.wait_answer(d, timeout=30).status for d in dialogs]
        assert statuses.count(200) < 10, statuses
        assert statuses.count(503) >= 10, statuses
        assert other.wait_answer(other.invite(), timeout=20).status == 200
        wait_for("the refusals in status.json",
                 lambda: server.status()["refused_source"] >= 10, context=server.logs)
        still_healthy(server, other)
    finally:
        flood.close()
        other.close()
        server.stop()


def test_a_trusted_source_is_not_limited(tmp_path: Path, maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    server.start("--max-calls-per-source", "1", "--trusted-source", "127.0.0.7")
    trunk = RawPeer("127.0.0.7", server.port)
    try:
        dialogs = [trunk.invite() for _ in range(4)]
        assert [trunk.wait_answer(d, timeout=20).status for d in dialogs] == [200] * 4
        still_healthy(server, trunk)
    finally:
        trunk.close()
        server.stop()


# --- what already holds and must keep holding -------------------------------------------

def test_garbage_truncated_and_oversized_datagrams_are_survived(
        serve: Serve, peer: RawPeer) -> None:
    rng = random.Random(23)
    invite = peer.invite(extra=("X-Padding: 1",))  # a well-formed INVITE to cut up
    assert peer.wait_answer(invite).status == 200
    datagrams = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
                 for _ in range(30)]
    datagrams += [invite.invite.encode()[:n] for n in (1, 10, 60, 200, 400)]
    datagrams += [b"\x00" * 1200, b"\r\n\r\n", b"INVITE sip:x SIP/2.0\r\n\r\n",
                  b"SIP/2.0 200 OK\r\n\r\n",
                  invite.invite.replace("X-Padding: 1", "X-Padding: " + "A" * 60000).encode(),
                  ("INVITE sip:frontdesk@127.0.0.1 SIP/2.0\r\n" + "Via: x\r\n" * 3000).encode()]
    for data in datagrams:
        peer.sock.sendto(data[:65000], peer.server)
    still_healthy(serve, peer)
    assert peer.bye(invite) == 200
    wait_idle(serve)


def test_bad_sdp_is_refused_without_a_call(serve: Serve, peer: RawPeer) -> None:
    cases = [
        ("application/sdp", "this is not SDP\r\n", {400, 488}),
        ("application/sdp", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n", {400, 488}),
        ("application/sdp", sdp(peer.ip, 40000).replace("RTP/AVP 0 101", "RTP/AVP 98")
         .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:98 X-NOTHING/8000"), {488}),
        ("text/plain", "hello", {415}),
    ]
    answered = serve.status()["answered"]
    for content_type, body, expected in cases:
        dialog = peer.invite(body=body, content_type=content_type)
        answer = peer.wait_answer(dialog, timeout=20)
        assert answer.status in expected, f"{content_type} {body!r}: {answer.raw}"
    still_healthy(serve, peer)
    status = serve.status()
    assert status["active_calls"] == 0
    assert status["answered"] == answered


def test_reinvites_keep_the_call_up(serve: Serve, peer: RawPeer) -> None:
    dialog = peer.call()
    for direction, port in (("sendrecv", 40010), ("sendrecv", 40020), ("recvonly", 40020),
                            ("sendrecv", 40030)):
        assert peer.reinvite(dialog, direction, rtp_port=port).status == 200
    # An offer with no codec in common is refused, and the call keeps its media. (pjsua
    # answers 500 where RFC 3261 asks 488: issue 27.)
    peer.in_dialog(dialog, "INVITE", body=sdp(peer.ip, 40040).replace(
        "RTP/AVP 0 101", "RTP/AVP 98").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:98 X/8000"))
    assert peer.wait_response(dialog.call_id, "INVITE", timeout=20).status in (488, 500)
    still_healthy(serve, peer)
    wait_active(serve, 1, timeout=10)
    assert peer.bye(dialog) == 200
    wait_idle(serve)


def test_invite_cancel_races_leave_no_call_behind(serve: Serve, peer: RawPeer) -> None:
    for delay in (0.0, 0.0, 0.01, 0.05, 0.2):
        dialog = peer.invite()
        time.sleep(delay)
        peer.send("\r\n".join([
            f"CANCEL {dialog.request_uri} SIP/2.0", peer._via(dialog.branch),
            f"From: <sip:{peer.user}@{peer.ip}>;tag={dialog.from_tag}", f"To: {dialog.to_uri}",
            f"Call-ID: {dialog.call_id}", "CSeq: 1 CANCEL", "Max-Forwards: 70",
            "Content-Length: 0", "", ""]))
        answer = peer.wait_answer(dialog, timeout=20)
        assert answer.status in (200, 487), answer.raw
        if answer.status == 200:  # the answer crossed the CANCEL: hang up as a phone would
            assert peer.bye(dialog) == 200
    wait_idle(serve)
    still_healthy(serve, peer)
    wait_active(serve, 0, timeout=10)


def test_bye_for_an_unknown_dialog_gets_481(serve: Serve, peer: RawPeer) -> None:
    dialog = peer.call()
    forged = Dialog(call_id="no-such-call", from_tag="x", request_uri=dialog.request_uri,
                    to_uri=dialog.to_uri, to_tag="y", remote_target=dialog.remote_target)
    assert peer.bye(forged) == 481
    wrong_tag = Dialog(call_id=dialog.call_id, from_tag=dialog.from_tag,
                       request_uri=dialog.request_uri, to_uri=dialog.to_uri,
                       to_tag="not-the-tag", remote_target=dialog.remote_target, cseq=10)
    assert peer.bye(wrong_tag) == 481
    wait_active(serve, 1, timeout=10)
    assert peer.bye(dialog) == 200
    wait_idle(serve)
    still_healthy(serve, peer)


def test_sql_shell_and_crlf_text_in_caller_ids_is_kept_as_text(
        serve: Serve, peer: RawPeer, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = [
        f"\"'; DROP TABLE calls; --\" <sip:$(touch%20{marker})@{peer.ip}>",
        f"\"`touch {marker}`\" <sip:robert');DELETE%20FROM%20calls;--@{peer.ip}>",
        f"<sip:evil%0D%0AX-Injected:%201@{peer.ip}>",
    ]
    for sender in evil:
        dialog = peer.invite(from_header=sender)
        assert peer.wait_answer(dialog, timeout=20).status == 200
        assert peer.bye(dialog) == 200
    # A raw CRLF inside the display name breaks the From header: refused or ignored.
    broken = peer.invite(from_header="\"evil\r\nX-Injected: 1\" <sip:evil@127.0.0.1>")
    with contextlib.suppress(TimeoutError):
        assert peer.wait_answer(broken, timeout=5).status >= 400
    wait_idle(serve)
    still_healthy(serve, peer)
    assert not marker.exists()
    # status.json's writes are coalesced: the three calls show up within a write or two
    wait_for("the calls in status.json", lambda: len(serve.status()["recent"]) >= 3,
             context=serve.logs)
    recent = serve.status()["recent"]
    assert any("$(touch" in r["caller"] for r in recent), recent
    for line in (serve.data / "calls.jsonl").read_text().splitlines():
        json.loads(line)  # every record still one JSON line

    def rows() -> int:
        with contextlib.closing(sqlite3.connect(serve.data / "calls.sqlite3")) as conn:
            return int(conn.execute("SELECT count(*) FROM calls").fetchone()[0])

    wait_for("the rows (committed off the SIP thread)", lambda: rows() >= 3,
             context=serve.logs)
    assert "\nX-Injected" not in serve.log.read_text()


def test_a_display_name_that_looks_like_an_extension_is_not_taken_as_the_caller(
        serve: Serve, peer: RawPeer) -> None:
    spoof = peer.invite(from_header=f'"sip:101@{peer.ip}" <sip:evil@{peer.ip}>',
                        extra=("P-Asserted-Identity: <sip:101@127.0.0.1>",))  # untrusted
    assert peer.wait_answer(spoof, timeout=20).status == 200
    assert peer.bye(spoof) == 200
    wait_for("the call in status.json", lambda: serve.status()["recent"], context=serve.logs)
    assert serve.status()["recent"][-1]["caller"] == "evil"
    starts = [json.loads(line) for line in (serve.data / "calls.jsonl").read_text().splitlines()
              if '"type":"start"' in line]
    assert [line["caller"] for line in starts] == ["evil"]
    still_healthy(serve, peer)


def test_terminal_escapes_in_caller_ids_are_shown_escaped_everywhere(
        serve: Serve, peer: RawPeer) -> None:
    senders = [  # BEL rings the admin's terminal, ESC [31m turns its text red
        f'"sip:\x07\x1b[31mboss@x" <sip:red@{peer.ip}>',
        f"<sip:%1B%5B31mred@{peer.ip}>"]  # escaped in the URI: pjsip keeps it escaped
    for sender in senders:
        dialog = peer.invite(from_header=sender)
        assert peer.wait_answer(dialog, timeout=20).status == 200
        time.sleep(0.5)
        assert peer.info_digit(dialog, "2") == 200  # leave a message: the caller is stored
        wait_for("the recording to start", lambda: "recording a message" in serve.log.read_text(),
                 context=serve.logs)
        assert peer.info_digit(dialog, "#") == 200
        assert peer.wait_bye(dialog, timeout=60), serve.logs()
    wait_idle(serve)
    listed = subprocess.run([*ATTENDANT, "voicemail", "list", "--data", str(serve.data)],
                            capture_output=True, text=True, check=True, timeout=60).stdout
    dumped = subprocess.run([*ATTENDANT, "voicemail", "list", "--format", "json", "--data",
                             str(serve.data)], capture_output=True, text=True, check=True,
                            timeout=60).stdout
    for text in (serve.log.read_text(errors="replace"), listed, dumped,
                 (serve.data / "calls.jsonl").read_text(), json.dumps(serve.status())):
        assert "\x1b" not in text
        assert "\x07" not in text
    assert [m["caller"] for m in json.loads(dumped)] == ["red", "%1b%5b31mred"]
    still_healthy(serve, peer)


# --- the data folder ------------------------------------------------------------------

def test_a_fifo_in_the_control_folder_does_not_stall_the_server(
        serve: Serve, peer: RawPeer) -> None:
    control = serve.data / "queue-control"
    wait_for("the control folder", control.is_dir, context=serve.logs)
    fifo = control / "stall.json"
    os.mkfifo(fifo)
    (control / "link.json").symlink_to("/dev/zero")
    time.sleep(2)  # several polls of the folder
    for _ in range(3):
        still_healthy(serve, peer)
    dialog = peer.call()
    assert peer.bye(dialog) == 200
    log = serve.log.read_text()
    assert "stall.json: not a regular file (a FIFO)" in log
    assert "link.json: a symbolic link" in log
    assert not fifo.exists()


def _timed(what: list[float], request: Callable[[], int]) -> int:
    began = time.monotonic()
    status = request()
    what.append(time.monotonic() - began)
    return status


def test_a_locked_call_log_database_stalls_no_call_and_loses_no_row(
        serve: Serve, peer: RawPeer) -> None:
    waits: list[float] = []
    dialogs = [peer.call()]
    lock = sqlite3.connect(serve.data / "calls.sqlite3", timeout=1, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # a backup or an admin's query, past the busy timeout
    try:
        began = time.monotonic()
        while time.monotonic() - began < 15:
            assert _timed(waits, lambda: peer.options(timeout=OPTIONS_BOUND_S)) == 200
            if len(dialogs) < 4:
                dialogs.append(peer.call())  # answered while the database is locked
            time.sleep(0.5)
        for dialog in dialogs:
            assert _timed(waits, lambda d=dialog: peer.bye(d, timeout=OPTIONS_BOUND_S)) == 200
        wait_idle(serve)
        assert _timed(waits, lambda: peer.options(timeout=OPTIONS_BOUND_S)) == 200
    finally:
        lock.rollback()
        lock.close()
    # The worker never waited on SQLite: no answer was slow (the old code took 10 s).
    assert max(waits) < SLOW_ANSWER_S, waits
    wanted = {d.call_id for d in dialogs}

    def ended_rows() -> int:
        with contextlib.closing(sqlite3.connect(serve.data / "calls.sqlite3")) as conn:
            return conn.execute("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL "
                                "AND outcome LIKE 'caller hung up%'").fetchone()[0]

    wait_for("every call's row once the lock is gone", lambda: ended_rows() == len(wanted),
             timeout=30, context=serve.logs)
    still_healthy(serve, peer)
    log = serve.log.read_text()
    assert "committing the call log rows" in log
    assert "succeeded after" in log


def _leave_message(server: Serve, caller: RawPeer) -> Dialog:
    """Call, choose voicemail (key 2 of the harness menu) and wait for the server's BYE."""
    dialog = caller.call()
    time.sleep(0.5)
    assert caller.info_digit(dialog, "2") == 200
    assert caller.wait_bye(dialog, timeout=60), server.logs()
    wait_idle(server)
    return dialog


def _start_message(server: Serve, caller: RawPeer) -> Dialog:
    """Call, choose voicemail and wait until its WAV file exists."""
    dialog = caller.call()
    time.sleep(0.5)
    assert caller.info_digit(dialog, "2") == 200
    messages = server.data / "messages"
    wait_for("the recording to start", lambda: any(messages.rglob("*.wav")),
             context=server.logs)
    return dialog


@pytest.mark.parametrize(("args", "blocker", "why"), [
    (("--min-free-mb", "10000000"), None, "disk nearly full"),
    ((), "messages/office", "voicemail store unavailable"),  # a file where the folder goes
], ids=["disk-nearly-full", "box-folder-blocked"])
def test_a_message_that_cannot_be_recorded_gets_an_apology_not_a_false_thank_you(
        tmp_path: Path, maria_port: int, args: tuple[str, ...], blocker: str | None,
        why: str) -> None:
    server = Serve(tmp_path, maria_port)
    try:
        server.start("--metrics-port", "0", *args)
        if blocker is not None:
            (server.data / blocker).write_text("not a folder\n")
        with RawPeer("127.0.0.1", server.port) as caller:
            _leave_message(server, caller)
            last = server.status()["recent"][-1]
            assert last["outcome"].startswith(f"voicemail failed for office: {why}"), last
            assert last["recordings"] == []
            metrics = scrape(server.status()["metrics_port"])
            assert metrics["attendant_voicemail_failures_total"] == 1
            assert "saved" not in server.log.read_text()
            still_healthy(server, caller)
    finally:
        server.stop()


def test_a_locked_voicemail_store_stalls_nothing_and_keeps_the_message(
        tmp_path: Path, maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    waits: list[float] = []
    try:
        server.start()
        with RawPeer("127.0.0.1", server.port) as caller:
            lock = sqlite3.connect(server.data / "voicemail.sqlite3", timeout=1,
                                   isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")  # an admin's long query, a backup...
            try:
                began = time.monotonic()
                dialog = _start_message(server, caller)
                while time.monotonic() - began < 13:  # past SQLite's 10 s busy timeout
                    assert _timed(waits, lambda: caller.options(OPTIONS_BOUND_S)) == 200
                    time.sleep(0.5)
                assert _timed(waits, lambda: caller.info_digit(dialog, "#")) == 200
                assert caller.wait_bye(dialog, timeout=60), server.logs()
                wait_idle(server)
                assert _timed(waits, lambda: caller.options(OPTIONS_BOUND_S)) == 200
            finally:
                lock.rollback()
                lock.close()
            assert max(waits) < SLOW_ANSWER_S, waits
            last = server.status()["recent"][-1]
            assert last["outcome"].startswith("voicemail left for office"), last

            def stored() -> list[Message]:
                with VoicemailStore(server.data, create=False) as store:
                    return store.list(status="new")

            wait_for("the message in the store once the lock is gone", stored,
                     timeout=30, context=server.logs)
            (message,) = stored()
            assert (message.box, message.caller) == ("office", "mallory")
            assert message.duration > 5
            assert message.path == Path(last["recordings"][0])
            still_healthy(server, caller)
    finally:
        server.stop()


def test_a_message_still_waiting_for_a_locked_store_at_shutdown_is_stored_before_exit(
        tmp_path: Path, maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    try:
        server.start()
        with RawPeer("127.0.0.1", server.port) as caller:
            lock = sqlite3.connect(server.data / "voicemail.sqlite3", timeout=1,
                                   isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            try:
                dialog = _start_message(server, caller)
                time.sleep(1)
                assert caller.info_digit(dialog, "#") == 200
                assert caller.wait_bye(dialog, timeout=60), server.logs()
                wait_idle(server)
                assert server.proc is not None
                server.proc.send_signal(signal.SIGTERM)  # the message waits for its row
                time.sleep(3)
                assert server.proc.poll() is None, "the server left before storing it"
            finally:
                lock.rollback()
                lock.close()
            assert server.proc.wait(60) == 0, server.logs()
        with VoicemailStore(server.data, create=False) as store:
            assert [(m.box, m.status) for m in store.list(status="new")] == [("office", "new")]
            assert store.list(status="recording") == []  # nothing left for a recovery
        assert "voicemail 1 for office saved" in server.log.read_text()
    finally:
        server.stop()


def test_everything_serve_writes_is_private_to_its_account(serve: Serve, peer: RawPeer) -> None:
    dialog = _start_message(serve, peer)
    assert peer.info_digit(dialog, "#") == 200
    assert peer.wait_bye(dialog, timeout=60), serve.logs()
    wait_idle(serve)
    wait_for("the message to be saved", lambda: "saved" in serve.log.read_text(),
             context=serve.logs)
    modes = {p.relative_to(serve.data).as_posix(): p.stat().st_mode & 0o777
             for p in [serve.data, *serve.data.rglob("*")]}
    wavs = [name for name in modes if name.endswith(".wav") and name.startswith("messages/")]
    assert len(wavs) == 1, modes
    assert {"calls.jsonl", "calls.sqlite3", "voicemail.sqlite3", "status.json"} <= set(modes)
    assert {name: mode for name, mode in modes.items()
            if mode != (0o700 if (serve.data / name).is_dir() else 0o600)} == {}


def test_a_full_box_tells_the_next_caller_and_keeps_its_messages(
        tmp_path: Path, maria_port: int) -> None:
    server = Serve(tmp_path, maria_port)
    greeting = "    greeting: Leave a message.\n"
    server.menu.write_text(server.menu.read_text().replace(
        greeting, greeting + "    max_messages: 1\n"))
    try:
        server.start("--metrics-port", "0")
        with RawPeer("127.0.0.1", server.port) as caller:
            first = _start_message(server, caller)
            assert caller.info_digit(first, "#") == 200
            assert caller.wait_bye(first, timeout=60), server.logs()
            wait_idle(server)
            assert server.status()["recent"][-1]["outcome"].startswith("voicemail left")
            _leave_message(server, caller)  # the box holds its one message now
            last = server.status()["recent"][-1]
            assert last["outcome"] == ("voicemail box office full (1 message(s), its "
                                       "max_messages is 1)"), last
            assert last["recordings"] == []
            metrics = scrape(server.status()["metrics_port"])
            assert metrics['attendant_voicemail_box_full_total{box="office"}'] == 1
            with VoicemailStore(server.data, create=False) as store:
                assert len(store.list()) == 1
            still_healthy(server, caller)
    finally:
        server.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs of its own, so filling it touches nothing else (needs root)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_disk_filling_up_while_recording_keeps_the_audio_and_tells_the_caller(
        small_disk: Path, maria_port: int) -> None:
    server = Serve(small_disk, maria_port)
    try:
        server.start("--min-free-mb", "2")
        with RawPeer("127.0.0.1", server.port) as caller:
            dialog = _start_message(server, caller)
            time.sleep(1)
            free = shutil.disk_usage(small_disk).free
            (small_disk / "filler").write_bytes(b"\0" * (free - 1_000_000))
            assert caller.wait_bye(dialog, timeout=30), server.logs()
            wait_idle(server)
            last = server.status()["recent"][-1]
            assert last["outcome"].startswith("voicemail left for office (cut short: disk "
                                              "nearly full"), last
            wav = Path(last["recordings"][0])
            assert wav.stat().st_size > 44 + 8000  # header and at least half a second kept
            still_healthy(server, caller)
    finally:
        server.stop()
