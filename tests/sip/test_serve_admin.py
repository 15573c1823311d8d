"""`attendant serve` as an admin runs it: prompts built at startup, call log, metrics, e-mail.

Each test starts the server on a fresh data folder with no ``--prompts``, so the
prompts are built at startup, and places real calls with SIPp over 127.0.0.1.
Outside observers only: ``<data>/status.json``, the call log files, the metrics
endpoint, an SMTP server (aiosmtpd) in this process, and ``attendant voicemail list``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pcap import write_dtmf_pcap
from sip_harness import ATTENDANT, Serve, Sipp, scrape, wait_for

pytestmark = pytest.mark.sip

#: A short greeting, so a call can hear it to the end in a few seconds.
MENU = """\
version: 1
attendants:
  main:
    name: Harbor Dental
    answers: ["frontdesk"]
    timezone: UTC
    hours:  # every hour of every day, so the tests do not depend on the clock
      monday: ["00:00-24:00"]
      tuesday: ["00:00-24:00"]
      wednesday: ["00:00-24:00"]
      thursday: ["00:00-24:00"]
      friday: ["00:00-24:00"]
      saturday: ["00:00-24:00"]
      sunday: ["00:00-24:00"]
    business_hours: {menu: welcome}
    after_hours: {menu: welcome}
@SPEECH@menus:
  welcome:
    prompt: "@GREETING@"
    options:
      "1": {user: maria}
      "3": {announcement: We are at 200 Harbor Drive., then: repeat}
directory:
  users:
    maria:
      name: Maria Lopez
      extension: "101"
      sip: sip:maria@127.0.0.1:@MARIA_PORT@
      voicemail: office
      email: maria@example.com
voicemail:
  office:
    name: Front desk
    greeting: Leave a message.
    owners: [maria]
    email: [frontdesk@example.com]
"""
GREETING = "Harbor Dental. For Maria, press 1."


def write_menu(serve: Serve, maria_port: int, greeting: str = GREETING,
               speech: str = "") -> None:
    serve.menu.write_text(MENU.replace("@MARIA_PORT@", str(maria_port))
                          .replace("@GREETING@", greeting).replace("@SPEECH@", speech))


def manifest(serve: Serve) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((serve.data / "prompts" / "manifest.json").read_text())
    return found


def log_lines(serve: Serve) -> list[dict[str, Any]]:
    try:
        text = (serve.data / "calls.jsonl").read_text()
    except OSError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def call_rows(serve: Serve) -> list[dict[str, Any]]:
    with sqlite3.connect(serve.data / "calls.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM calls ORDER BY started_at")]


def last_call(serve: Serve) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        "the call to end", lambda: (s := serve.status()).get("active_calls") == 0
        and s.get("recent") and s["recent"][-1], context=serve.logs)
    return found


def dtmf_caller(sipp: Sipp, serve: Serve, tmp_path: Path, digits: str, stay_ms: int):
    pcap = write_dtmf_pcap(tmp_path / f"dtmf-{digits}.pcap", digits)
    return sipp.start(sipp.scenario("uac_dtmf.xml", pcap=str(pcap)), "-s", "frontdesk",
                      "-d", str(stay_ms), target=f"127.0.0.1:{serve.port}")


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.rcpts: list[list[str]] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.rcpts.append(sorted(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_prompts_are_built_at_startup_and_the_caller_hears_them(serve, sipp, maria_port):
    write_menu(serve, maria_port)
    assert not serve.data.exists()
    serve.start()
    built = manifest(serve)
    assert built["rate"] == 8000
    ids = {entry["id"] for entry in built["prompts"]}
    assert "menus.welcome.prompt" in ids
    assert "voicemail.office.greeting" in ids
    assert (serve.data / "prompts" / built["music_on_hold"]).is_file()
    for entry in built["prompts"]:
        assert (serve.data / "prompts" / entry["file"]).is_file(), entry

    # The greeting lasts a few seconds; the caller stays long enough to hear all of it.
    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "7000",
                        target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    call = last_call(serve)
    assert call["outcome"] == "caller hung up in menu welcome", call
    assert call["rtp"]["caller_tx"] > 0, call
    events = [line["event"] for line in log_lines(serve)
              if line["call_id"] == call["call_id"] and line["type"] == "step"]
    # A PromptFinished only comes from the player reaching the end of the built file.
    assert events[0] == "CallStarted", events
    assert "PromptFinished" in events, [*events, serve.logs()]
    assert "cannot render" not in serve.logs()


def test_call_log_and_metrics_follow_a_call(serve, sipp, maria_port, tmp_path):
    write_menu(serve, maria_port)
    serve.start("--metrics-port", "0")
    port = serve.status()["metrics_port"]
    before = scrape(port)
    assert before["attendant_active_calls"] == 0
    assert before['attendant_calls_total{outcome="caller_hangup"}'] == 0

    caller = dtmf_caller(sipp, serve, tmp_path, "3", stay_ms=2500)
    wait_for("1 active call in the metrics",
             lambda: scrape(port)["attendant_active_calls"] == 1, context=serve.logs)
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    call = last_call(serve)
    assert call["outcome"] == "caller hung up in menu welcome", call

    lines = [line for line in log_lines(serve) if line["call_id"] == call["call_id"]]
    kinds = [line["type"] for line in lines]
    assert kinds[0] == "start", kinds
    assert kinds[-1] == "end", kinds
    assert lines[0]["called"] == "frontdesk", lines[0]
    assert lines[0]["attendant"] == "main", lines[0]
    digits = [line for line in lines if line.get("event") == "Digit"]
    assert [d["digit"] for d in digits] == ["3"], lines
    assert any(a.startswith("Play(") for a in digits[0]["actions"]), digits
    assert lines[-1]["outcome_kind"] == "caller_hangup", lines[-1]

    # The storage writer commits rows off the SIP thread, at most 0.5 s after the line.
    rows = wait_for("the call's row to be closed",
                    lambda: (r := call_rows(serve)) and r[0]["ended_at"] and r,
                    context=serve.logs)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["call_id"] == call["call_id"]
    assert row["outcome"] == "caller hung up in menu welcome"
    assert row["outcome_kind"] == "caller_hangup"
    assert row["ended_at"] is not None
    assert row["steps"] == kinds.count("step")

    after = wait_for("the ended call in the metrics", lambda: (
        m := scrape(port))['attendant_calls_total{outcome="caller_hangup"}'] == 1 and m)
    assert after["attendant_active_calls"] == 0
    assert after["attendant_dtmf_total"] == 1
    assert after["attendant_dtmf_to_action_seconds_count"] == 1
    assert after["attendant_call_setup_seconds_count"] == 1
    assert sum(v for k, v in after.items() if k.startswith("attendant_calls_total")) == 1


def test_voicemail_is_emailed_with_the_wav_and_listed(serve, sipp, maria_port, tmp_path):
    write_menu(serve, maria_port)
    with smtp_server() as (inbox, smtp_port):
        serve.start("--metrics-port", "0", "--smtp-host", "127.0.0.1",
                    "--smtp-port", str(smtp_port), "--smtp-from", "pbx@example.com")
        target = sipp.start(sipp.scenario("uas_busy.xml"), port=maria_port)
        caller = dtmf_caller(sipp, serve, tmp_path, "1", stay_ms=8000)
        assert sipp.wait(target) == 0, sipp.logs()
        assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
        call = last_call(serve)
        assert call["outcome"] == "voicemail left for office (caller hung up)", call
        wait_for("the voicemail e-mail", lambda: inbox.mails,
                 context=serve.logs)
    mail = inbox.mails[0]
    assert inbox.rcpts[0] == ["frontdesk@example.com", "maria@example.com"]
    assert mail["From"] == "pbx@example.com"
    assert mail["Subject"].startswith("Voicemail for office from caller"), mail["Subject"]
    attachments = list(mail.iter_attachments())
    assert len(attachments) == 1
    wav = attachments[0]
    assert wav.get_content_type() == "audio/wav"
    payload = wav.get_content()
    assert payload[:4] == b"RIFF"
    assert payload[8:12] == b"WAVE"
    assert len(payload) > 8000  # more than half a second of 8 kHz 16-bit audio

    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_transfers_total{result="busy"}'] == 1
    assert metrics['attendant_voicemails_total{box="office"}'] == 1
    assert metrics['attendant_calls_total{outcome="voicemail"}'] == 1

    def listed() -> list[dict[str, Any]]:
        done = subprocess.run([*ATTENDANT, "voicemail", "list", "--data", str(serve.data),
                               "--format", "json"], capture_output=True, text=True,
                              timeout=60, check=True)
        found: list[dict[str, Any]] = json.loads(done.stdout)
        return found if found and found[0]["notified"] else []

    messages = wait_for("the message marked as notified", listed, context=serve.logs)
    assert len(messages) == 1, messages
    assert messages[0]["box"] == "office"
    assert messages[0]["call_id"] == call["call_id"]
    table = subprocess.run([*ATTENDANT, "voicemail", "list", "--data", str(serve.data)],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "1 voicemail message(s)" in table, table
    assert "office" in table, table


def test_reload_rebuilds_the_prompts_and_a_failed_build_keeps_the_old_menus(serve, sipp,
                                                                              maria_port):
    write_menu(serve, maria_port)
    serve.start()
    assert serve.proc is not None
    old = {e["id"]: e["hash"] for e in manifest(serve)["prompts"]}

    write_menu(serve, maria_port, greeting="Welcome to Harbor Dental, new hours.")
    os.kill(serve.proc.pid, signal.SIGHUP)
    wait_for("the reload", lambda: serve.status().get("reloads") == 1, context=serve.logs)
    new = {e["id"]: e["hash"] for e in manifest(serve)["prompts"]}
    assert new["menus.welcome.prompt"] != old["menus.welcome.prompt"]
    assert new["voicemail.office.greeting"] == old["voicemail.office.greeting"]

    # Valid menus whose prompts cannot be built: the reload fails, nothing changes.
    write_menu(serve, maria_port, greeting="Something else entirely.",
               speech="speech:\n  voices: {en-US: no-such-voice}\n")
    os.kill(serve.proc.pid, signal.SIGHUP)
    wait_for("the failed reload", lambda: serve.status().get("reload_failures") == 1,
             context=serve.logs)
    assert {e["id"]: e["hash"] for e in manifest(serve)["prompts"]} == new
    assert "no-such-voice" in serve.logs()
    assert serve.status()["reloads"] == 1

    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "500",
                        target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()
    assert last_call(serve)["outcome"] == "caller hung up in menu welcome"
