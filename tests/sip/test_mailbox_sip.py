"""Voicemail by phone on a real `attendant serve`: a message left in Ann's own mailbox
when she does not answer, Ann listening to it from her phone with ``*98`` (SIPp sending
RFC 4733 digits), wrong PINs, the lockout, and a full box's fallback.

Ann's phone is a SIPp UAS that rings and never answers; her box keeps 2 messages of
at most 5 s (callers send no audio: the recorder keeps 5 s of silence, which is what
her listening call then plays back, RTP and all).
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import subprocess
import wave
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from office import voicemail_list
from pcap import write_call_pcap, write_dtmf_pcap
from sip_harness import ATTENDANT, Serve, Sipp, free_udp_ports, scrape, wait_for

pytestmark = pytest.mark.sip

PIN = "4321"
MENU = """\
version: 1
attendants:
  main:
    name: Main line
    answers: ["main"]
    timezone: UTC
    business_hours: {menu: main}
menus:
  main:
    prompt: Main menu.
    repeat_key: null
    options:
      "1": {user: ann, ring_seconds: 5}
      "*98": {mailbox: self}
directory:
  users:
    ann:
      name: Ann Lee
      extension: "201"
      sip: sip:ann@127.0.0.1:@ANN@
      voicemail: self
voicemail:
  ann:
    name: Ann Lee
    greeting: Message please.
    max_seconds: 5
    max_messages: 2
    when_full: {voicemail: general}
  general: {name: General, greeting: Message please., max_seconds: 5}
prompts:
  voicemail_thanks: Saved.
  goodbye: Goodbye.
"""


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Serve, int]]:
    ann = free_udp_ports(1)
    server = Serve(tmp_path, ann)
    server.menu.write_text(MENU.replace("@ANN@", str(ann)))
    try:
        server.start("--metrics-port", "0")
        subprocess.run([*ATTENDANT, "voicemail", "pin", "ann", "--data", str(server.data),
                        "--menu", str(server.menu)], input=f"{PIN}\n", text=True,
                       capture_output=True, timeout=60, check=True)
        yield server, ann
    finally:
        server.stop()


def call(sipp: Sipp, serve: Serve, me: str, digits: str) -> int:
    """SIPp calling ``main`` as ``me``, sending ``digits`` (``,`` = 1 s) from 1 s in, until
    the server hangs up; returns SIPp's exit status."""
    pcap = write_dtmf_pcap(sipp.tmp / f"dtmf-{me}-{len(list(sipp.tmp.glob('*.pcap')))}.pcap",
                           digits)
    path = sipp.scenario("uac_dtmf_hold.xml", pcap=str(pcap))
    path.write_text(path.read_text().replace("sip:caller@", f"sip:{me}@"))
    return sipp.wait(sipp.start(path, "-s", "main", target=f"127.0.0.1:{serve.port}"),
                     timeout=120)


def ended_call(serve: Serve, me: str, count: int) -> dict[str, Any]:
    """The ``count``-th finished call from ``me`` (status.json)."""
    calls = wait_for(f"call {count} from {me} to end",
                     lambda: (s := serve.status()).get("active_calls") == 0
                     and len(found := [c for c in s.get("recent", []) if c["caller"] == me])
                     >= count and found, context=serve.logs)
    found: dict[str, Any] = calls[count - 1]
    return found


def steps_of(serve: Serve, call_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in (serve.data / "calls.jsonl").read_text().splitlines()]
    return [line for line in lines if line.get("call_id") == call_id
            and line.get("type") == "step"]


def leave_message(sipp: Sipp, serve: Serve, ann_port: int, me: str) -> None:
    """``me`` presses 1 for Ann, who rings 5 s unanswered: her box records 5 s."""
    ring = sipp.start(sipp.scenario("uas_ring.xml"), port=ann_port)
    assert call(sipp, serve, me, "1") == 0, sipp.logs() + serve.logs()
    assert sipp.wait(ring) == 0, sipp.logs()


def test_ann_listens_by_phone_to_the_message_her_no_answer_left(
        office: tuple[Serve, int], sipp: Sipp) -> None:
    serve, ann_port = office
    leave_message(sipp, serve, ann_port, "c1001")
    leave_message(sipp, serve, ann_port, "c1002")
    first, second = wait_for("two messages in Ann's box",
                             lambda: (m := voicemail_list(serve.data, "ann")) and len(m) == 2
                             and all(x["status"] == "new" for x in m) and m,
                             context=serve.logs)
    assert first["duration"] > 4.5, first

    # Ann, from her extension: *98, her PIN, 1 (new messages); the envelope and the 5 s
    # message play out; 2 saves it and the second message's envelope starts; 3 deletes
    # that one; * at the main menu says goodbye.
    digits = "*98," + PIN + "#,,," + "1" + "," * 20 + "2,,," + "3,,," + "*"
    assert call(sipp, serve, "201", digits) == 0, sipp.logs() + serve.logs()
    listened = ended_call(serve, "201", 1)
    assert listened["outcome"] == "listened to mailbox ann", listened
    assert "mailbox ann opened (2 new, 0 saved)" in serve.log.read_text()

    steps = steps_of(serve, listened["call_id"])
    actions = [a for s in steps for a in s["actions"]]
    assert "OpenMailbox(ann)" in actions
    assert any(a.startswith("Play(system.mailbox_you_have,") for a in actions), actions
    assert any(a.startswith("Play(system.mailbox_message,-,system.mailbox_received,")
               for a in actions), actions
    assert f"MarkMessage({first['id']},read)" in actions
    assert f"MarkMessage({first['id']},archived)" in actions
    assert f"MarkMessage({second['id']},deleted)" in actions
    # The message played to its end: from PlayMessage to its PromptFinished took its length.
    started = next(i for i, s in enumerate(steps)
                   if f"PlayMessage(ann,{first['id']})" in s["actions"])
    finished = next(s for s in steps[started + 1:] if s["event"] == "PromptFinished")
    played = (datetime.fromisoformat(finished["ts"]) -
              datetime.fromisoformat(steps[started]["ts"])).total_seconds()
    assert first["duration"] - 0.5 < played < first["duration"] + 3, played
    # ... and its RTP reached the caller: 50 packets a second, with the prompts around it.
    assert listened["rtp"]["caller_tx"] > 50 * first["duration"], listened["rtp"]
    # No PIN digit was written down.
    assert PIN not in (serve.data / "calls.jsonl").read_text()

    statuses = wait_for("the marks on disk", lambda: (
        m := {x["id"]: x["status"] for x in voicemail_list(serve.data, "ann")}
        | {x["id"]: x["status"] for x in json.loads(subprocess.run(
            [*ATTENDANT, "voicemail", "list", "--data", str(serve.data), "--box", "ann",
             "--folder", "deleted", "--format", "json"], capture_output=True, text=True,
            timeout=60, check=True).stdout)})
        and m.get(second["id"]) == "deleted" and m, context=serve.logs)
    assert statuses == {first["id"]: "archived", second["id"]: "deleted"}

    # The box keeps 2 messages; with one deleted a third caller gets in, then it is full
    # and the next caller's message goes to the box's when_full fallback.
    leave_message(sipp, serve, ann_port, "c1003")
    leave_message(sipp, serve, ann_port, "c1004")
    general = wait_for("the message that found Ann's box full",
                       lambda: voicemail_list(serve.data, "general"), context=serve.logs)
    assert [m["caller"] for m in general] == ["c1004"], general
    assert "voicemail box ann is full" in serve.log.read_text()


def test_wrong_pins_end_the_call_and_repeated_ones_lock_the_source_out(
        office: tuple[Serve, int], sipp: Sipp) -> None:
    serve, _ = office
    # From a phone that is nobody's: the mailbox number is asked, then the PIN.
    tries = "*98,201#1111#,,201#2222#,,201#3333#"
    assert call(sipp, serve, "c2001", tries) == 0, sipp.logs() + serve.logs()
    assert ended_call(serve, "c2001", 1)["outcome"] == "mailbox ann: wrong PIN 3 times"
    # Two more wrong PINs from the same address lock it out of Ann's box: then even the
    # right PIN is refused, and the call ends.
    tries = "*98,201#1111#,,201#2222#,,201#" + PIN + "#"
    assert call(sipp, serve, "c2001", tries) == 0, sipp.logs() + serve.logs()
    assert ended_call(serve, "c2001", 2)["outcome"] == "mailbox ann: locked out"
    log = serve.log.read_text()
    assert "wrong PIN for mailbox ann" in log
    assert "locked out of mailbox ann" in log
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_mailbox_logins_total{result="wrong"}'] == 5
    assert metrics['attendant_mailbox_logins_total{result="locked"}'] == 1
    assert metrics["attendant_mailbox_lockouts_total"] == 1


def test_a_greeting_uploaded_while_serving_is_what_the_next_caller_hears(
        office: tuple[Serve, int], sipp: Sipp, tmp_path: Path) -> None:
    serve, ann_port = office
    audio = tmp_path / "away.wav"
    with wave.open(str(audio), "wb") as w:  # 12 s of a 440 Hz tone, as a phone records it
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi / 18.18)))
                               for i in range(8000 * 12)))
    done = subprocess.run([*ATTENDANT, "voicemail", "greeting", "set", "ann", "unavailable",
                           str(audio), "--data", str(serve.data), "--menu", str(serve.menu)],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "unavailable greeting of ann set: 12.0 s" in done.stdout, done.stdout
    leave_message(sipp, serve, ann_port, "c3001")
    heard = ended_call(serve, "c3001", 1)
    steps = steps_of(serve, heard["call_id"])
    started = next(i for i, s in enumerate(steps)
                   if any(a.startswith("Play(") and "greeting.ann.unavailable" in a
                          for a in s["actions"]))
    finished = next(s for s in steps[started + 1:] if s["event"] == "PromptFinished")
    played = (datetime.fromisoformat(finished["ts"]) -
              datetime.fromisoformat(steps[started]["ts"])).total_seconds()
    assert played > 12, played  # "Sorry, nobody is available", then the 12 s greeting
    assert heard["rtp"]["caller_tx"] > 50 * 12, heard["rtp"]
    assert heard["outcome"] == "voicemail left for ann", heard


def test_ann_records_her_greeting_by_phone_and_the_next_caller_hears_it(
        office: tuple[Serve, int], sipp: Sipp) -> None:
    serve, ann_port = office
    # *98, her PIN, 5 (greetings), 1 (unavailable); after the prompt and the beep, 4 s of
    # a 1 kHz tone, #; the take is played back, 1 keeps it; * and * say goodbye.
    plan: list[str | float] = ["*98," + PIN + "#,,,5,,1" + "," * 9, 4.0, "#,,,1,,,,*,*"]
    pcap = write_call_pcap(sipp.tmp / "greeting-by-phone.pcap", plan)
    path = sipp.scenario("uac_dtmf_hold.xml", pcap=str(pcap))
    path.write_text(path.read_text().replace("sip:caller@", "sip:201@"))
    assert sipp.wait(sipp.start(path, "-s", "main", target=f"127.0.0.1:{serve.port}"),
                     timeout=120) == 0, sipp.logs() + serve.logs()
    call = ended_call(serve, "201", 1)
    assert call["outcome"] == "listened to mailbox ann", call
    assert "unavailable greeting of ann recorded by phone" in serve.log.read_text()
    greeting = serve.data / "greetings" / "ann" / "unavailable.wav"
    with wave.open(str(greeting), "rb") as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    seconds = len(samples) / rate
    assert 3.0 < seconds < 4.5, seconds  # the tone, its silence trimmed
    # The audio is the tone the phone sent: about 2,000 sign changes a second at 1 kHz.
    crossings = sum((a < 0) != (b < 0) for a, b in itertools.pairwise(samples))
    assert 1800 < crossings / seconds < 2200, crossings / seconds
    assert not list(greeting.parent.glob(".take-*")), "the take was not tidied away"

    # The next caller nobody answers hears it: the greeting plays for its length.
    leave_message(sipp, serve, ann_port, "c4001")
    heard = ended_call(serve, "c4001", 1)
    steps = steps_of(serve, heard["call_id"])
    started = next(i for i, s in enumerate(steps)
                   if any("greeting.ann.unavailable" in a for a in s["actions"]))
    finished = next(s for s in steps[started + 1:] if s["event"] == "PromptFinished")
    played = (datetime.fromisoformat(finished["ts"]) -
              datetime.fromisoformat(steps[started]["ts"])).total_seconds()
    assert played > seconds, (played, seconds)  # "Sorry, nobody is available", the greeting
