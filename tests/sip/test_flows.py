"""Issue 4's call flows end to end: `attendant serve` on office.OFFICE, callers and
transfer targets played by SIPp over 127.0.0.1.

Keys are RFC 4733 events from a pcap written per test (tests/sip/pcap.py). Flows
that the server ends (voicemail after its 5 s maximum, disconnect, a target that
hangs up) are observed with SIPp callers that wait for the server's BYE, so no
test depends on how long a prompt takes to say. Outcomes come from
``<data>/status.json``; voicemail from ``attendant voicemail list``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from office import (
    Office,
    caller_name,
    context,
    dtmf_caller,
    finished_call,
    office_server,
    saved_messages,
    scenario_as,
)
from sip_harness import ATTENDANT

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """One server for the module: starting one takes seconds, a test's call does not care.

    Tests run one after another and each waits until its calls have ended, so every
    test starts with an idle server; a test finds its own call by its caller name.
    """
    with office_server(tmp_path_factory.mktemp("office")) as office:
        yield office


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


def test_after_hours_call_leaves_a_listed_voicemail(office, sipp, me):
    caller = dtmf_caller(sipp, office, me, "closed", "1")
    assert sipp.wait(caller) == 0, context(sipp, office)  # the server hung up after 5 s
    call = finished_call(office, me)
    assert call["attendant"] == "closed"
    assert call["outcome"].startswith("voicemail left for afterhours"), call
    [message] = saved_messages(office, me, "afterhours")
    assert message["duration"] > 1.0, message
    wav = Path(message["path"])
    assert wav.is_file(), message
    assert wav.stat().st_size > 8000, message
    assert str(wav) in call["recordings"]


def test_holiday_call_takes_the_holiday_flow(office, sipp, me):
    caller = dtmf_caller(sipp, office, me, "holiday", "1")
    assert sipp.wait(caller) == 0, context(sipp, office)
    call = finished_call(office, me)
    assert call["outcome"].startswith("voicemail left for holiday"), call
    assert len(saved_messages(office, me, "holiday")) == 1


def test_three_invalid_keys_run_on_max_disconnect(office, sipp, me):
    caller = dtmf_caller(sipp, office, me, "open", "999")
    assert sipp.wait(caller) == 0, context(sipp, office)  # it got the BYE and answered it
    call = finished_call(office, me)
    assert call["outcome"] == "disconnected", call
    assert not call["recordings"], call


def test_three_timeouts_run_on_max_disconnect(office, sipp, me):
    holder = sipp.start(scenario_as(sipp, "uac_hold.xml", me), "-s", "quiet",
                        target=office.target)
    assert sipp.wait(holder) == 0, context(sipp, office)  # presses nothing, gets the BYE
    call = finished_call(office, me)
    assert call["attendant"] == "quiet"
    assert call["outcome"] == "disconnected", call


@pytest.mark.parametrize(("how", "digits"), [("extension", "3102"), ("name", "4232#")])
def test_dial_by_extension_and_by_name_reach_the_right_target(office, sipp, me, how, digits):
    # Tom's phone answers, talks 2 s and hangs up; Maria's and Sam's are not even running:
    # ringing either of them would fail the transfer.
    tom = sipp.start(sipp.scenario("uas_answer_bye.xml"), "-rtp_echo", "-d", "2000",
                     port=office.tom)
    caller = dtmf_caller(sipp, office, me, "open", digits)
    assert sipp.wait(tom) == 0, context(sipp, office)
    assert sipp.wait(caller) == 0, context(sipp, office)  # the server ended both sides
    call = finished_call(office, me)
    assert call["outcome"] == "transferred to user tom", call
    assert call["rtp"]["transfer_rx"] > 0, call  # Tom echoed what he got from us
    assert call["rtp"]["transfer_tx"] > 0, call


def test_target_that_never_answers_falls_back_after_ring_seconds(office, sipp, me):
    maria = sipp.start(sipp.scenario("uas_ring.xml"), port=office.maria)  # rings, no answer
    caller = dtmf_caller(sipp, office, me, "open", "1")
    assert sipp.wait(maria) == 0, context(sipp, office)  # CANCELled after ring_seconds: 5
    assert sipp.wait(caller) == 0, context(sipp, office)  # the fallback hung up: BYE
    call = finished_call(office, me)
    assert call["outcome"] == "disconnected", call  # the option's fallback, not Maria's box
    assert not call["recordings"], call


def test_the_simulator_rings_out_a_transfer_like_the_server(office, sipp, me):
    """The same flow, the same key, nobody answering: `attendant simulate` (input ended)
    gives up after ring_seconds and takes the fallback, as the real call above does."""
    maria = sipp.start(sipp.scenario("uas_ring.xml"), port=office.maria)
    caller = dtmf_caller(sipp, office, me, "open", "1")
    assert sipp.wait(caller) == 0, context(sipp, office)
    sipp.wait(maria)
    real = finished_call(office, me)["outcome"]
    simulated = subprocess.run(
        [*ATTENDANT, "simulate", str(office.serve.menu), "--called", "open"], input="1\n",
        capture_output=True, text=True, timeout=60, check=True).stdout
    assert "[00:05.0] Maria Lopez: no answer" in simulated, simulated
    assert f"-- outcome: {real} [" in simulated, (real, simulated)


def test_caller_hanging_up_while_the_target_rings_cancels_it(office, sipp, me):
    sam = sipp.start(sipp.scenario("uas_ring.xml"), port=office.sam)  # rings for 60 s
    # The caller presses 7 at 1 s and hangs up 5 s later: Sam rings from about 1.1 s on
    # and would ring until 60 s, so the hang-up lands in the ringing whatever the load.
    caller = dtmf_caller(sipp, office, me, "open", "7", scenario="uac_dtmf.xml", stay_ms=5000)
    assert sipp.wait(caller) == 0, context(sipp, office)
    assert sipp.wait(sam) == 0, context(sipp, office)  # its INVITE was CANCELled
    call = finished_call(office, me)
    assert call["outcome"] == "caller hung up while the transfer was ringing", call
    assert "error in SIP task" not in office.serve.logs()


def test_blind_refer_reaches_thedtmf_caller(office, sipp, me):
    refer_to = rf"sip:maria@127\.0\.0\.1:{office.maria}"
    caller = dtmf_caller(sipp, office, me, "open", "5", scenario="uac_refer.xml",
                     refer_to=refer_to)
    assert sipp.wait(caller) == 0, context(sipp, office)  # REFER, 202, NOTIFY 200, BYE
    call = finished_call(office, me)
    assert call["outcome"] == "transferred to user maria", call
    assert call["rtp"]["transfer_tx"] == 0, call  # no bridged leg was placed
