"""Staff switch a live line with `attendant override`, and the next real call obeys.

`attendant serve` runs with a menu whose after-hours flow is voicemail; SIPp calls it
over 127.0.0.1. `attendant override set main closed` (the menus taken from the running
server) sends the next call to voicemail in business hours; the override shows in
status.json, the metrics and the call log, survives a restart, and `clear` puts the
line back on its schedule.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from office import scenario_as
from pcap import write_dtmf_pcap
from sip_harness import ATTENDANT, MENU, Serve, Sipp, scrape, wait_for

from attendant.pins import hash_pin

pytestmark = pytest.mark.sip


PIN = "4321"


def _menu(serve: Serve) -> None:
    """The harness's menu, its after-hours flow voicemail, with an override of its own and
    *80 to close the line from a phone (Maria, extension 101, may, with her PIN)."""
    text = serve.menu.read_text()
    for old, new in (
            ("    after_hours: {menu: welcome}\n",
             "    after_hours: {voicemail: office}\n"
             "    overrides:\n      drill: disconnect\n    override_by: [maria]\n"),
            ('      "1": {user: maria}\n',
             '      "1": {user: maria}\n      "*80": {override: closed}\n'),
            ("  welcome:\n", "  welcome:\n    repeat_key: null\n"),
            ("      voicemail: office\n",
             f'      voicemail: office\n      pin: "{hash_pin(PIN)}"\n')):
        assert old in text, old
        text = text.replace(old, new, 1)
    serve.menu.write_text(text)


def _override(serve: Serve, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ATTENDANT, "override", *args, "--data", str(serve.data)],
                          capture_output=True, text=True, timeout=60, check=False)


def _call(sipp: Sipp, serve: Serve) -> dict[str, Any]:
    before = len(serve.status().get("recent") or [])
    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "1500",
                        target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    recent = wait_for("the call to end", lambda: (s := serve.status()).get("active_calls")
                      == 0 and len(s.get("recent") or []) > before and s["recent"],
                      context=serve.logs)
    return recent[-1]  # type: ignore[no-any-return]


def _overridden_starts(serve: Serve) -> list[str]:
    lines = [json.loads(line) for line in (serve.data / "calls.jsonl").read_text().splitlines()]
    return [line["override"] for line in lines if line.get("event") == "CallStarted"
            and "override" in line]


def test_override_set_closes_the_live_line_until_cleared_and_survives_a_restart(
        serve: Serve, sipp: Sipp) -> None:
    assert "after_hours" in MENU
    _menu(serve)
    serve.start("--metrics-port", "0")
    assert "caller hung up in menu welcome" in _call(sipp, serve)["outcome"]

    done = _override(serve, "set", "main", "closed")
    assert done.returncode == 0, done.stderr
    assert "main is now closed" in done.stdout
    entry = wait_for("the override in status.json",
                     lambda: serve.status().get("overrides", {}).get("main"),
                     context=serve.logs)
    assert (entry["name"], entry["by"]) == ("closed", "cli")
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_override_active{attendant="main",override="closed"}'] == 1
    assert "voicemail" in _call(sipp, serve)["outcome"]  # business hours, yet after-hours
    assert _overridden_starts(serve) == ["closed"]
    assert "override: main is now closed" in serve.logs()

    serve.stop()  # the override outlives the process
    serve.start("--metrics-port", "0")
    assert serve.status().get("overrides", {}).get("main", {}).get("name") == "closed"
    assert "voicemail" in _call(sipp, serve)["outcome"]

    done = _override(serve, "clear", "main")
    assert "main is back on its schedule" in done.stdout, done.stderr
    wait_for("the override gone from status.json",
             lambda: serve.status().get("overrides") == {}, context=serve.logs)
    assert "caller hung up in menu welcome" in _call(sipp, serve)["outcome"]
    assert scrape(serve.status()["metrics_port"])[
        'attendant_override_active{attendant="main",override="closed"}'] == 0


def test_a_bad_overrides_file_is_reported_and_calls_go_on(serve: Serve, sipp: Sipp) -> None:
    _menu(serve)
    serve.start()
    (serve.data / "overrides.json").write_text('{"version": 1, "overrides": {"main": 7}}')
    wait_for("the error in the log", lambda: "overrides: " in serve.logs()
             and "overrides.main must be an object" in serve.logs(), context=serve.logs)
    assert "caller hung up in menu welcome" in _call(sipp, serve)["outcome"]
    done = _override(serve, "list")
    assert done.returncode == 1
    assert "overrides.main must be an object" in done.stderr


def test_override_set_refuses_a_name_the_attendant_does_not_have(serve: Serve) -> None:
    _menu(serve)
    serve.start()
    done = _override(serve, "set", "main", "snow-day")
    assert done.returncode == 2
    assert 'attendant "main" has no override "snow-day"; it has closed, open, drill' in (
        done.stderr)
    assert not (Path(serve.data) / "overrides.json").exists()


def test_a_phone_in_override_by_closes_the_line_with_its_pin(serve: Serve, sipp: Sipp,
                                                             tmp_path: Path) -> None:
    _menu(serve)
    serve.start()
    pcap = write_dtmf_pcap(tmp_path / "close.pcap", f"*80{PIN}#")
    phone = sipp.start(scenario_as(sipp, "uac_dtmf.xml", "101", pcap=str(pcap)),
                       "-s", "frontdesk", "-d", "8000", target=f"127.0.0.1:{serve.port}")
    entry = wait_for("the override set by phone",
                     lambda: serve.status().get("overrides", {}).get("main"),
                     timeout=40, context=lambda: serve.logs() + sipp.logs())
    assert (entry["name"], entry["by"]) == ("closed", "phone:maria")
    sipp.wait(phone)
    assert "maria switched main to closed" in serve.logs()
    assert "voicemail" in _call(sipp, serve)["outcome"]  # the next caller


def test_a_wrong_pin_switches_nothing(serve: Serve, sipp: Sipp, tmp_path: Path) -> None:
    _menu(serve)
    serve.start()
    pcap = write_dtmf_pcap(tmp_path / "wrong.pcap", "*809999#")
    phone = sipp.start(scenario_as(sipp, "uac_dtmf.xml", "101", pcap=str(pcap)),
                       "-s", "frontdesk", "-d", "6000", target=f"127.0.0.1:{serve.port}")
    sipp.wait(phone)
    ended = wait_for("the call to end", lambda: (s := serve.status()).get("active_calls") == 0
                     and s.get("recent") and s["recent"][-1], context=serve.logs)
    assert "PIN" in ended["outcome"], ended
    assert "PIN for maria" not in serve.logs()  # the digits are never logged
    assert serve.status().get("overrides") == {}
    assert not (serve.data / "overrides.json").exists()
