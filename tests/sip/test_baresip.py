"""A real softphone: baresip (driven over ctrl_tcp, tests/sip/baresip.py) calls `attendant serve`.

baresip negotiates its own SDP, sends its keys as RFC 4733 events and its
microphone (a tone from a WAV file) as PCMU, so these tests check what SIPp's
canned messages cannot: a real user agent's call is answered, routed by its key,
recorded with its audio, and hung up from either side. The reload test uses a
live baresip call to press its key only after the reload, which a SIPp script
could only do with a fixed pause.
"""

from __future__ import annotations

import array
import math
import os
import signal
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from baresip import Baresip, available
from office import (
    Office,
    call_started,
    caller_name,
    context,
    dtmf_caller,
    finished_call,
    make_office,
    office_server,
    saved_messages,
)
from sip_harness import wait_for

pytestmark = [pytest.mark.sip,
              pytest.mark.skipif(not available(), reason="baresip is not installed "
                                 "(bash scripts/test.sh installs it)")]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    with office_server(tmp_path_factory.mktemp("office")) as office:
        yield office


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


@pytest.fixture
def phone(tmp_path: Path, me: str) -> Iterator[Baresip]:
    phone = Baresip(tmp_path, me)
    try:
        yield phone.start()
    finally:
        phone.stop()


def _answered(phone: Baresip, office: Office, called: str, me: str) -> None:
    phone.dial(office.url(called))
    phone.wait_event("CALL_ESTABLISHED")
    call_started(office, me)


def _rms(path: Path) -> float:
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def test_baresip_call_is_answered_and_its_key_transfers_it(office, phone, sipp, me):
    tom = sipp.start(sipp.scenario("uas_answer_bye.xml"), "-rtp_echo", "-d", "2000",
                     port=office.tom)
    _answered(phone, office, "open", me)
    phone.send_digits("2")
    assert sipp.wait(tom) == 0, context(sipp, office) + phone.logs()
    phone.wait_event("CALL_CLOSED")  # Tom hung up: the server hung up baresip too
    call = finished_call(office, me)
    assert call["outcome"] == "transferred to user tom", call
    rtp = call["rtp"]
    assert rtp["caller_rx"] > 0, call  # baresip's microphone reached us
    assert rtp["transfer_rx"] > 0, call
    assert rtp["transfer_tx"] > 0, call


def test_baresip_hanging_up_mid_voicemail_keeps_the_message(office, phone, me):
    _answered(phone, office, "open", me)
    phone.send_digits("8")  # box "long": records up to 60 s
    folder = office.serve.data / "messages" / "long"
    # Hang up once at least a second of audio is on disk: the recording is under way.
    wav = wait_for("a voicemail recording with audio",
                   lambda: next((p for p in folder.glob("*.wav")
                                 if p.stat().st_size > 44 + 16000), None),
                   context=lambda: office.serve.logs() + phone.logs())
    phone.hangup()
    phone.wait_event("CALL_CLOSED")
    call = finished_call(office, me)
    assert call["outcome"] == "voicemail left for long (caller hung up)", call
    [message] = saved_messages(office, me, "long")
    assert Path(message["path"]) == wav
    assert message["duration"] >= 1.0, message
    assert _rms(wav) > 200, "the recording is silent: baresip's tone did not reach it"


def test_reload_keeps_the_live_calls_flow_and_gives_new_calls_the_new_one(tmp_path, sipp,
                                                                          phone, me):
    office = make_office(tmp_path)  # its own server: the test changes its menus
    try:
        office.serve.start()
        _answered(phone, office, "open", me)  # a live call on the first menus
        office.write_menu(box6="reloaded")
        assert office.serve.proc is not None
        os.kill(office.serve.proc.pid, signal.SIGHUP)
        wait_for("the reload", lambda: office.serve.status().get("reloads") == 1,
                 context=office.serve.logs)
        newcomer = dtmf_caller(sipp, office, "newcomer", "open", "6")
        phone.send_digits("6")  # pressed after the reload, on the menus the call began with
        phone.wait_event("CALL_CLOSED")  # the server hung up after the 5 s message
        assert sipp.wait(newcomer) == 0, context(sipp, office)
        assert finished_call(office, me)["outcome"].startswith("voicemail left for office")
        assert finished_call(office, "newcomer")["outcome"].startswith(
            "voicemail left for reloaded")
        assert office.serve.status()["reload_failures"] == 0
    finally:
        office.serve.stop()


def test_baresip_with_mandatory_srtp_is_answered_encrypted_and_its_key_works(
        office, tmp_path, me):
    # baresip's srtp-mand offers RTP/SAVP with SDES keys and drops a call that is not
    # encrypted: answered, its key taken and its tone recorded clearly means both
    # directions of SRTP worked (the server's default srtp is optional).
    phone = Baresip(tmp_path, me, mediaenc="srtp-mand").start()
    folder = office.serve.data / "messages" / "long"
    before = set(folder.glob("*.wav"))
    try:
        _answered(phone, office, "open", me)
        phone.send_digits("8")  # box "long"
        wait_for("a second of the encrypted call recorded",
                 lambda: any(p.stat().st_size > 44 + 16000
                             for p in set(folder.glob("*.wav")) - before),
                 context=lambda: office.serve.logs() + phone.logs())
        phone.hangup()
        phone.wait_event("CALL_CLOSED")
    finally:
        phone.stop()
    [message] = saved_messages(office, me, "long")
    assert message["duration"] >= 1.0, message
    assert _rms(Path(message["path"])) > 200, "the recording is silent: SRTP did not decode"
