"""`attendant serve` answering real SIP calls from SIPp over 127.0.0.1.

The menu (conftest.MENU) is open 24/7, so nothing depends on the clock. The
server's ``<data>/status.json`` is how the tests observe it: active calls,
totals, and each finished call's outcome and RTP packet counts.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from pcap import write_dtmf_pcap
from sip_harness import Serve, Sipp, wait_for

pytestmark = pytest.mark.sip


def _last_call(serve: Serve) -> dict[str, object]:
    return wait_for("the call to end", lambda: (s := serve.status()).get("active_calls") == 0
                    and s.get("recent") and s["recent"][-1], context=serve.logs)


def _caller(sipp: Sipp, serve: Serve, tmp_path: Path, digits: str, stay_ms: int):
    pcap = write_dtmf_pcap(tmp_path / f"dtmf-{digits}.pcap", digits)
    scenario = sipp.scenario("uac_dtmf.xml", pcap=str(pcap))
    return sipp.start(scenario, "-s", "frontdesk", "-d", str(stay_ms),
                      target=f"127.0.0.1:{serve.port}")


def _voicemail_files(serve: Serve) -> list[Path]:
    return sorted((serve.data / "messages" / "office").glob("*.wav"))


def test_rfc4733_digit_transfers_to_a_target_that_answers(serve, sipp, maria_port, tmp_path):
    serve.start()
    target = sipp.start(sipp.scenario("uas_answer.xml"), "-rtp_echo", port=maria_port)
    caller = _caller(sipp, serve, tmp_path, "1", stay_ms=4000)
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    assert sipp.wait(target) == 0, sipp.logs() + serve.logs()  # it got the INVITE and a BYE
    call = _last_call(serve)
    assert call["outcome"] == "transferred to user maria", serve.logs()
    rtp = call["rtp"]
    assert isinstance(rtp, dict)
    # The target only echoes what it receives: packets back prove both directions.
    assert rtp["transfer_tx"] > 0, call
    assert rtp["transfer_rx"] > 0, call
    assert rtp["caller_rx"] > 0, call  # the DTMF events reached us


def test_busy_target_sends_the_caller_to_voicemail(serve, sipp, maria_port, tmp_path):
    serve.start()
    target = sipp.start(sipp.scenario("uas_busy.xml"), port=maria_port)
    caller = _caller(sipp, serve, tmp_path, "1", stay_ms=15000)
    wait_for("a voicemail WAV file", lambda: _voicemail_files(serve),
             context=lambda: sipp.logs() + serve.logs())
    assert sipp.wait(target) == 0, sipp.logs()
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    call = _last_call(serve)
    assert call["outcome"] == "voicemail left for office (caller hung up)", call


def test_caller_hanging_up_mid_prompt_frees_the_call(serve, sipp):
    serve.start()
    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "1500",
                        target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    call = _last_call(serve)
    assert call["outcome"] == "caller hung up in menu welcome", call
    assert serve.status()["active_calls"] == 0


def test_calls_past_max_calls_get_503(serve, sipp):
    serve.start("--max-calls", "2", "--grace", "1")
    target = f"127.0.0.1:{serve.port}"
    holders = [sipp.start(sipp.scenario("uac_hold.xml"), "-s", "frontdesk", target=target)
               for _ in range(2)]
    wait_for("2 active calls", lambda: serve.status().get("active_calls") == 2,
             context=lambda: sipp.logs() + serve.logs())
    third = sipp.start(sipp.scenario("uac_503.xml"), "-s", "frontdesk", target=target)
    assert sipp.wait(third) == 0, sipp.logs() + serve.logs()
    # status.json is rewritten within 0.25 s of a change, not at once (docs/serving.md).
    wait_for("the refusal in status.json", lambda: serve.status().get("rejected_busy") == 1,
             timeout=5, context=serve.logs)
    assert serve.status()["active_calls"] == 2
    assert serve.stop() == 0, serve.logs()
    for holder in holders:  # the grace period ended: each got a BYE and answered it
        assert sipp.wait(holder) == 0, sipp.logs()


def test_max_calls_beyond_the_build_is_lowered_at_start_saying_how_to_raise_it(serve):
    serve.start("--max-calls", "1000")  # this build: 1024 calls, a second one per caller
    assert "--max-calls lowered from 1000 to 512" in serve.logs()
    assert "raise PJSUA_MAX_CALLS" in serve.logs()
    assert "max 512 calls" in serve.logs()


def test_sip_info_dtmf_selects_an_option(serve, sipp):
    serve.start()
    scenario = sipp.scenario("uac_info.xml", digit="2")
    caller = sipp.start(scenario, "-s", "frontdesk", "-d", "12000",
                        target=f"127.0.0.1:{serve.port}")
    wait_for("a voicemail WAV file", lambda: _voicemail_files(serve),
             context=lambda: sipp.logs() + serve.logs())
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    call = _last_call(serve)
    assert call["outcome"] == "voicemail left for office (caller hung up)", call


def test_sigterm_drains_then_exits_within_the_grace(serve, sipp):
    serve.start("--grace", "2")
    target = f"127.0.0.1:{serve.port}"
    holder = sipp.start(sipp.scenario("uac_hold.xml"), "-s", "frontdesk", target=target)
    wait_for("1 active call", lambda: serve.status().get("active_calls") == 1,
             context=lambda: sipp.logs() + serve.logs())
    assert serve.proc is not None
    os.kill(serve.proc.pid, signal.SIGTERM)
    wait_for("the server to stop accepting", lambda: serve.status().get("accepting") is False,
             context=serve.logs)
    refused = sipp.start(sipp.scenario("uac_503.xml"), "-s", "frontdesk", target=target)
    assert sipp.wait(refused) == 0, sipp.logs() + serve.logs()
    assert serve.proc.wait(30) == 0, serve.logs()
    assert sipp.wait(holder) == 0, sipp.logs()  # hung up cleanly with a BYE
    final = serve.status()
    assert final["stopped"] is True
    assert final["rejected_draining"] == 1
    assert not (serve.data / "attendant.pid").exists()


def test_reload_keeps_the_old_menus_when_the_new_ones_are_invalid(serve, sipp):
    serve.start()
    assert serve.proc is not None
    serve.menu.write_text("version: 1\nattendants: {}\nmenus: [\n")
    os.kill(serve.proc.pid, signal.SIGHUP)
    wait_for("the failed reload", lambda: serve.status().get("reload_failures") == 1,
             context=serve.logs)
    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "500",
                        target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    assert "error" in serve.logs()
