"""Call queues on real calls (issue 5): `attendant serve` runs the queue core, SIPp plays
the callers and the agents.

One server for the module, one attendant and one queue per test (each test calls its
own entry point as its own SIP user). Every agent is a SIPp UAS on its own port, and
the directory's ``sip:`` URIs point there: ``uas_answer_bye.xml`` (answers after a
pause, echoes RTP, hangs up after ``-d`` ms), ``uas_busy.xml`` (486) and
``uas_ring.xml`` (rings until CANCELled). What the queue does is read from
``attendant queues --format json`` (the ``queues`` section of ``status.json``), the
finished calls from ``status.json`` and the queue's lines in ``calls.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from office import caller_name, dtmf_caller, finished_call, saved_messages
from queue_office import (
    QueueOffice,
    agent_command,
    answering_agent,
    context,
    queue_events,
    queue_menu,
    run_office,
    snapshot,
)
from sip_harness import ATTENDANT, free_udp_ports, wait_for

pytestmark = pytest.mark.sip

AGENTS = ("anna", "ben", "carl", "dana", "erin", "fred", "gus", "hal")
ENTRIES = ("ringall", "serial", "overflow", "timeout", "hold", "ringing")

QUEUES = """\
  ringall: {name: Ring all, agents: [{user: anna}, {user: ben}], routing: attendant,
            alert_seconds: 60, announce_interval: 0}
  serial: {name: Serial, agents: [{user: carl}, {user: dana}], routing: serial,
           alert_seconds: 60, announce_interval: 0}
  overflow: {name: Overflow, agents: [{user: erin}], max_callers: 1, max_wait: 15,
             alert_seconds: 60, announce_interval: 0, on_overflow: {voicemail: qbox},
             on_timeout: {disconnect: Sorry.}}
  timeout: {name: Timeout, agents: [{user: fred}], max_wait: 5, alert_seconds: 60,
            announce_interval: 0, on_timeout: {disconnect: Sorry.}}
  ringing: {name: Ringing, agents: [{user: gus}], alert_seconds: 60, announce_interval: 0}
  hold: {name: Hold, agents: [{user: hal}], announce_interval: 0}
"""


def office_menu(ports: dict[str, int]) -> str:
    return queue_menu(ENTRIES, AGENTS, ports, QUEUES, first_extension=200)


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueOffice]:
    ports = {a: free_udp_ports(1) for a in AGENTS}
    with run_office(tmp_path_factory.mktemp("queues"), office_menu(ports), ports=ports) as running:
        yield running


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


def queues_json(office: QueueOffice) -> dict[str, dict[str, Any]]:
    """``attendant queues --format json``, by queue key."""
    done = subprocess.run([*ATTENDANT, "queues", "--data", str(office.serve.data),
                           "--format", "json"], capture_output=True, text=True, timeout=60,
                          check=True)
    return {q["queue"]: q for q in json.loads(done.stdout)}


def queue_lines(office: QueueOffice, call_id: str) -> list[dict[str, Any]]:
    return [e for e in queue_events(office) if e.get("call_id") == call_id]


def test_ring_all_the_answering_agent_gets_the_call_with_music_while_waiting(office, sipp,
                                                                             me):
    anna = answering_agent(sipp, office, "anna", after_ms=8000, talk_ms=2000)
    ben = sipp.start(sipp.scenario("uas_ring.xml"), port=office.ports["ben"])
    caller = dtmf_caller(sipp, office, me, "ringall", "1")
    # While both phones ring, `attendant queues` shows the caller, and music reaches them.
    seen = wait_for("the caller ringing both agents in `attendant queues`",
                    lambda: (q := queues_json(office)["ringall"])["callers"]
                    and q["callers"][0]["status"] == "ringing"
                    and {a["state"] for a in q["agents"]} == {"ringing"} and q,
                    context=lambda: context(sipp, office))
    [waiting] = seen["callers"]
    assert waiting["caller"] == me, seen
    assert waiting["position"] == 1, seen
    assert seen["waiting"] == 1, seen
    first = waiting["rtp_to_caller"]
    more = wait_for("music on hold to the waiting caller",
                    lambda: (c := snapshot(office, "ringall")["callers"])
                    and (c[0]["rtp_to_caller"] or 0) >= first + 50 and c[0],
                    context=lambda: context(sipp, office))
    assert more["status"] == "ringing", more  # still before anna answers
    assert sipp.wait(ben) == 0, context(sipp, office)  # CANCELled when anna answered
    assert sipp.wait(anna) == 0, context(sipp, office)  # answered, talked, hung up
    assert sipp.wait(caller) == 0, context(sipp, office)  # the server hung up the caller
    call = finished_call(office, me)
    assert call["outcome"] == "answered by anna from queue ringall", call
    assert call["rtp"]["transfer_rx"] > 0, call  # anna echoed what the caller sent
    assert call["rtp"]["transfer_tx"] > 0, call
    # Ben's ring was withdrawn (no miss), Anna's call ended (no wrap-up): both available.
    after = wait_for("the queue counts", lambda: (q := snapshot(office, "ringall"))
                     ["answered"] == 1 and not q["callers"]
                     and {a["state"] for a in q["agents"]} == {"available"} and q)
    assert after["abandoned"] == 0, after
    assert after["answered_within"] == 1, after  # anna answered after about 8 s
    assert after["service_level"] == 100.0, after


def test_serial_routing_tries_agents_in_order(office, sipp, me):
    carl = sipp.start(sipp.scenario("uas_busy.xml"), port=office.ports["carl"])
    dana = answering_agent(sipp, office, "dana", after_ms=300, talk_ms=1500)
    caller = dtmf_caller(sipp, office, me, "serial", "1")
    assert sipp.wait(carl) == 0, context(sipp, office)  # rung first: 486
    assert sipp.wait(dana) == 0, context(sipp, office)  # rung second: answered
    assert sipp.wait(caller) == 0, context(sipp, office)
    call = finished_call(office, me)
    assert call["outcome"] == "answered by dana from queue serial", call
    messages = [e["message"] for e in queue_lines(office, "")
                if e["queue"] == "serial"] + [
        e["message"] for e in queue_lines(office, call_id_of(office, me))]
    rings = [m for m in messages if m.startswith("rings ")]
    assert rings[:2] == [f"rings carl for {call['call_id']} (serial, 60 s)",
                         f"rings dana for {call['call_id']} (serial, 60 s)"], messages


def call_id_of(office: QueueOffice, me: str) -> str:
    calls = [c for c in office.serve.status()["recent"] if c["caller"] == me]
    return str(calls[-1]["call_id"])


def test_overflow_sends_the_second_caller_to_voicemail(office, sipp, me):
    erin = sipp.start(sipp.scenario("uas_ring.xml"), port=office.ports["erin"])
    first = dtmf_caller(sipp, office, me + "a", "overflow", "1")  # waits, then max_wait
    wait_for("the first caller in the queue",
             lambda: snapshot(office, "overflow")["waiting"] == 1,
             context=lambda: context(sipp, office))
    second = dtmf_caller(sipp, office, me + "b", "overflow", "1")
    assert sipp.wait(second) == 0, context(sipp, office)  # recorded 5 s, then BYE
    [message] = saved_messages(office, me + "b", "qbox")
    assert Path(message["path"]).is_file(), message
    assert sipp.wait(first) == 0, context(sipp, office)  # max_wait: 15 → disconnect
    assert sipp.wait(erin) == 0, context(sipp, office)  # CANCELled
    found = finished_call(office, me + "b")
    assert found["outcome"].startswith("voicemail left for qbox"), found
    queue = wait_for("the counts", lambda: (q := snapshot(office, "overflow"))
                     ["overflowed"] == 1 and q["timed_out"] == 1 and q)
    assert queue["waiting"] == 0, queue


def test_max_wait_runs_the_timeout_action_on_time(office, sipp, me):
    fred = sipp.start(sipp.scenario("uas_ring.xml"), port=office.ports["fred"])
    caller = dtmf_caller(sipp, office, me, "timeout", "1")
    assert sipp.wait(caller) == 0, context(sipp, office)  # "Sorry." and the server's BYE
    assert sipp.wait(fred) == 0, context(sipp, office)  # CANCELled at the timeout
    call = finished_call(office, me)
    assert call["outcome"] == "disconnected", call
    lines = queue_lines(office, call["call_id"])
    joined = next(e for e in lines if e["message"].endswith(" joins"))
    left = next(e for e in lines if "leaves the queue: waited too long" in e["message"])
    waited = (datetime.fromisoformat(left["ts"]) - datetime.fromisoformat(joined["ts"]))
    assert 4.5 <= waited.total_seconds() <= 30, lines  # max_wait: 5 (a loaded host is late)


def test_caller_hanging_up_while_waiting_and_while_an_agent_rings(office, sipp, me):
    # Waiting with nobody to ring: hal signs out (attendant queues agent), the caller waits.
    assert "applied" in agent_command(office, "hal", "signout")
    wait_for("hal signed out", lambda: snapshot(office, "hold")["agents"][0]["state"]
             == "signed out")
    waiting = dtmf_caller(sipp, office, me + "w", "hold", "1", scenario="uac_dtmf.xml",
                          stay_ms=4000)
    seen = wait_for("the caller waiting", lambda: (q := snapshot(office, "hold"))["callers"]
                    and q, context=lambda: context(sipp, office))
    assert seen["callers"][0]["status"] == "waiting", seen
    assert sipp.wait(waiting) == 0, context(sipp, office)
    call = finished_call(office, me + "w")
    assert call["outcome"] == "caller hung up while waiting in the queue", call
    assert snapshot(office, "hold")["abandoned"] == 1
    assert "applied" in agent_command(office, "hal", "signin")
    wait_for("hal signed in", lambda: snapshot(office, "hold")["agents"][0]["state"]
             == "available")
    # Hanging up while gus's phone rings: his leg is CANCELled, no call is left.
    gus = sipp.start(sipp.scenario("uas_ring.xml"), port=office.ports["gus"])
    ringing = dtmf_caller(sipp, office, me + "r", "ringing", "1", scenario="uac_dtmf.xml",
                          stay_ms=5000)
    assert sipp.wait(ringing) == 0, context(sipp, office)
    assert sipp.wait(gus) == 0, context(sipp, office)  # its INVITE was CANCELled
    call = finished_call(office, me + "r")
    assert call["outcome"] == "caller hung up while waiting in the queue", call
    queue = wait_for("gus free again", lambda: (q := snapshot(office, "ringing"))
                     ["agents"][0]["state"] == "available" and q)
    assert queue["abandoned"] == 1, queue
    assert queue["waiting"] == 0, queue
    assert office.serve.status()["active_calls"] == 0
    assert "error in SIP task" not in office.serve.logs()


RESTART_MENU = """\
version: 1
attendants:
  main:
    name: Main
    timezone: UTC
    business_hours: {menu: main}
menus:
  main:
    prompt: Queue test.
    options:
      "1": {queue: desk}
      "2": {queue: backoffice}
directory:
  users:
    anna: {name: Anna Agent, sip: "sip:anna@127.0.0.1:5999"}
    ben: {name: Ben Agent, sip: "sip:ben@127.0.0.1:5999"}
queues:
  desk: {name: Desk, agents: [{user: anna}, {user: ben}], service_level_seconds: 45}
  backoffice: {name: Back office, agents: [{user: ben}]}
"""


def test_agents_stay_signed_out_and_opted_out_when_the_server_restarts(tmp_path):
    # Its own server (not the module's office): it is stopped and started again on the
    # same data folder, as a new process. Nobody is called; only the agents' states count.
    with run_office(tmp_path, RESTART_MENU) as office:
        assert "applied" in agent_command(office, "anna", "signout")
        assert "applied" in agent_command(office, "ben", "optout", "backoffice")
    saved = json.loads((tmp_path / "data" / "queue-agents.json").read_text())["agents"]
    assert saved["anna"]["signed_in"] is False, saved
    assert saved["ben"]["opted_out"] == ["backoffice"], saved
    with run_office(tmp_path, RESTART_MENU) as office:
        queues = queues_json(office)
        desk = {a["agent"]: a["state"] for a in queues["desk"]["agents"]}
        assert desk == {"anna": "signed out", "ben": "available"}, queues
        assert queues["backoffice"]["agents"] == [{"agent": "ben", "state": "opted out"}], queues
        assert queues["desk"]["service_level_seconds"] == 45.0, queues
        assert queues["backoffice"]["service_level_seconds"] == 20.0, queues
        assert "queue agents restored from" in office.serve.logs()
        # Signing in again is remembered too (the file is rewritten at once).
        assert "applied" in agent_command(office, "anna", "signin")
    saved = json.loads((tmp_path / "data" / "queue-agents.json").read_text())["agents"]
    assert saved["anna"]["signed_in"] is True, saved
