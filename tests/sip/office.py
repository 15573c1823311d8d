"""The menu the flow tests serve: one configuration, one attendant per entry point.

Each test picks its flow by the user it calls (SIPp ``-s``, baresip's URI):

* ``open``: open 24/7, the ``main`` menu (transfers, dial by extension and by name,
  blind REFER, voicemail, invalid keys).
* ``quiet``: a menu with a 1 s timeout whose ``on_max`` says goodbye its own way.
* ``closed``: open only on the weekday two days from today (UTC, computed when the
  test writes the file), so a call now gets the after-hours flow whatever the
  time; two days so that midnight passing during the test changes nothing.
* ``holiday``: open 24/7 but today and tomorrow are a holiday.

Every transfer target is a SIPp UAS on its own port (``sip:`` URIs point there).
Voicemail boxes other than ``long`` stop recording after 5 s so a flow ends by
itself with the server's BYE; prompts are short to keep the suite quick.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pcap import write_dtmf_pcap
from sip_harness import ATTENDANT, Serve, Sipp, free_udp_ports, wait_for

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

OFFICE = """\
version: 1
attendants:
  open:
    name: Open line
    answers: ["open"]
    timezone: UTC
    business_hours: {menu: main}
  quiet:
    name: Quiet line
    answers: ["quiet"]
    timezone: UTC
    business_hours: {menu: quiet}
  closed:
    name: Closed line
    answers: ["closed"]
    timezone: UTC
    hours:
      @OPEN_DAY@: ["00:00-24:00"]
    business_hours: {menu: main}
    after_hours: {menu: closed}
  holiday:
    name: Holiday line
    answers: ["holiday"]
    timezone: UTC
    business_hours: {menu: main}
    holidays:
      - name: Test holiday
        dates: ["@TODAY@..@TOMORROW@"]
        flow: {menu: holiday}
menus:
  main:
    prompt: Main menu.
    max_invalid: 3
    on_max: disconnect
    options:
      "1": {user: maria, ring_seconds: 5, fallback: {disconnect: Nobody answered.}}
      "2": {user: tom}
      "3": {dial_by_extension: {length: 3}}
      "4": {dial_by_name: {match: last, min_digits: 3}}
      "5": {user: maria, mode: refer}
      "6": {voicemail: @BOX6@}
      "7": {user: sam, ring_seconds: 60}
      "8": {voicemail: long}
  quiet:
    prompt: Press a key.
    timeout: 1
    max_timeouts: 3
    on_max: {disconnect: Nothing pressed. Goodbye.}
    options:
      "1": disconnect
  closed:
    prompt: We are closed. For a message, press 1.
    options:
      "1": {voicemail: afterhours}
    on_max: {voicemail: afterhours}
  holiday:
    prompt: Happy holiday. For a message, press 1.
    options:
      "1": {voicemail: holiday}
    on_max: {voicemail: holiday}
directory:
  users:
    maria:
      name: Maria Lopez
      extension: "101"
      sip: sip:maria@127.0.0.1:@MARIA@
      voicemail: office
    tom:
      name: Tom Becker
      extension: "102"
      sip: sip:tom@127.0.0.1:@TOM@
      voicemail: office
    sam:
      name: Sam Wilson
      extension: "103"
      sip: sip:sam@127.0.0.1:@SAM@
      voicemail: office
voicemail:
  office: {name: Office, greeting: Message please., max_seconds: 5}
  afterhours: {name: After hours, greeting: Message please., max_seconds: 5}
  holiday: {name: Holiday, greeting: Message please., max_seconds: 5}
  reloaded: {name: Reloaded, greeting: Message please., max_seconds: 5}
  long: {name: Long, greeting: Message please., max_seconds: 60}
prompts:
  voicemail_thanks: Saved.
  goodbye: Goodbye.
"""


@dataclass
class Office:
    """A server on the OFFICE menu and the ports its transfer targets listen on."""

    serve: Serve
    maria: int
    tom: int
    sam: int

    def write_menu(self, box6: str = "office", today: date | None = None) -> None:
        """(Re)write the menu file; ``box6`` is where key 6 of ``main`` takes messages."""
        today = today or datetime.now(UTC).date()
        text = OFFICE
        for key, value in {
            "OPEN_DAY": WEEKDAYS[(today + timedelta(days=2)).weekday()],
            "TODAY": today.isoformat(), "TOMORROW": (today + timedelta(days=1)).isoformat(),
            "BOX6": box6, "MARIA": str(self.maria), "TOM": str(self.tom), "SAM": str(self.sam),
        }.items():
            text = text.replace(f"@{key}@", value)
        self.serve.menu.write_text(text)

    def url(self, user: str) -> str:
        """The SIP URI a softphone dials to reach ``user`` on this server."""
        return f"sip:{user}@127.0.0.1:{self.serve.port}"

    @property
    def target(self) -> str:
        """SIPp's remote host argument for this server."""
        return f"127.0.0.1:{self.serve.port}"


def make_office(tmp: Path) -> Office:
    """An Office whose menu is written (the server is not started)."""
    office = Office(Serve(tmp, 0), *(free_udp_ports(1) for _ in range(3)))
    office.write_menu()
    return office


def voicemail_list(data: Path, box: str | None = None) -> list[dict[str, Any]]:
    """``attendant voicemail list --data DATA --format json`` (optionally one box)."""
    cmd = [*ATTENDANT, "voicemail", "list", "--data", str(data), "--format", "json",
           *(["--box", box] if box else [])]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


@contextlib.contextmanager
def office_server(tmp: Path) -> Iterator[Office]:
    """A running server on the OFFICE menu, stopped by PID at the end."""
    office = make_office(tmp)
    try:
        office.serve.start()
        yield office
    finally:
        office.serve.stop()


def caller_name(test_name: str) -> str:
    """A SIP user name for a test's calls (its From user): unique on a shared server."""
    return "c" + re.sub(r"[^0-9A-Za-z]", "", test_name)[-40:]


def context(sipp: Sipp, office: Office) -> str:
    """SIPp's and the server's logs, for assertion messages."""
    return sipp.logs() + office.serve.logs()


def scenario_as(sipp: Sipp, name: str, me: str, **replace: str) -> Path:
    """A scenario whose caller is ``me`` (``sip:caller@`` in the file becomes ``sip:me@``)."""
    path = sipp.scenario(name, **replace)
    path.write_text(path.read_text().replace("sip:caller@", f"sip:{me}@"))
    return path


def dtmf_caller(sipp: Sipp, office: Office, me: str, called: str, digits: str,
                scenario: str = "uac_dtmf_hold.xml", stay_ms: int | None = None,
                **replace: str) -> subprocess.Popen[bytes]:
    """SIPp calling ``called`` as ``me``, pressing ``digits`` (a pcap of its own) 1 s in."""
    pcap = write_dtmf_pcap(sipp.tmp / f"dtmf-{me}-{digits.replace('#', 'h')}.pcap", digits)
    path = scenario_as(sipp, scenario, me, pcap=str(pcap), **replace)
    extra = ["-d", str(stay_ms)] if stay_ms is not None else []
    return sipp.start(path, "-s", called, *extra, target=office.target)


def finished_call(office: Office, me: str) -> dict[str, Any]:
    """``me``'s finished call (status.json), once no call is active on the server."""
    serve = office.serve
    calls = wait_for(f"the call from {me} to end",
                     lambda: (s := serve.status()).get("active_calls") == 0
                     and [c for c in s.get("recent", []) if c["caller"] == me],
                     context=serve.logs)
    assert len(calls) == 1, calls
    call: dict[str, Any] = calls[0]
    return call


def saved_messages(office: Office, me: str, box: str) -> list[dict[str, Any]]:
    """``me``'s messages in ``box`` once `attendant voicemail list` shows them saved."""
    def saved() -> list[dict[str, Any]]:
        mine = [m for m in voicemail_list(office.serve.data, box) if m["caller"] == me]
        return mine if mine and all(m["status"] == "new" for m in mine) else []
    found: list[dict[str, Any]] = wait_for(f"a saved message from {me} in box {box}", saved,
                                           context=office.serve.logs)
    return found


def call_started(office: Office, me: str) -> str:
    """Wait until the engine has started ``me``'s call (the call log's CallStarted step).

    Keys pressed before that are not for any menu yet: a softphone that sends them as
    soon as it sees 200 OK could lose them, a person would wait for the greeting.
    """
    log = office.serve.data / "calls.jsonl"

    def started() -> str:
        try:
            lines = [json.loads(line) for line in log.read_text().splitlines() if line]
        except (OSError, ValueError):
            return ""
        ids = {e.get("call_id") for e in lines if e.get("type") == "start"
               and e.get("caller") == me}
        return next((str(e["call_id"]) for e in lines if e.get("call_id") in ids
                     and e.get("event") == "CallStarted"), "")
    found: str = wait_for(f"the call from {me} to start", started, context=office.serve.logs)
    return found
