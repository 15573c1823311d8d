"""The SIP queue runner without SIP: agents' states across restarts, the service level,
agents' legs, callbacks.

:class:`attendant.sip.queues.QueueRunner` is written against the ports, so it runs here on
their in-memory twins (:mod:`attendant.twins`): a scheduler whose timers fire only when
the test moves the clock on, callers and agents' legs as plain objects, no pjsua2. The
agents' state file is a real file in ``tmp_path``: a "restart" is a new runner on the
same data folder, as a new ``attendant serve`` process would build. The SIP tests
(``tests/sip/test_queues_sip.py``) check the same on a real server.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from queue_harness import BASE, make_flow

from attendant import compile_path
from attendant.engine.actions import AgentCommand, EnqueueCall, QueueKey
from attendant.engine.events import QueueOutcome
from attendant.model import Flow
from attendant.sip import queues as sq
from attendant.storage.agents import FILE_NAME
from attendant.twins import MemoryCall, MemoryLeg, MemoryQueueHost


@pytest.fixture
def host() -> MemoryQueueHost:
    return MemoryQueueHost()


@pytest.fixture
def legs(host: MemoryQueueHost) -> list[MemoryLeg]:
    """Every agent's leg the runner dials (no call is placed)."""
    return host.legs


def runner(flow: Flow, data: Path, host: MemoryQueueHost | None = None) -> sq.QueueRunner:
    """A started runner: what ``attendant serve`` builds when it starts."""
    host = host or MemoryQueueHost()
    run = sq.QueueRunner(host, flow, data, host.clock)
    run.start()
    return run


def states(run: sq.QueueRunner, queue: str = "q") -> dict[str, str]:
    """Agent -> state, as ``attendant queues`` shows them (the status.json snapshot)."""
    [found] = [q for q in run.snapshot()["queues"] if q["queue"] == queue]
    return {a["agent"]: a["state"] for a in found["agents"]}


def saved(data: Path) -> dict[str, Any]:
    agents: dict[str, Any] = json.loads((data / FILE_NAME).read_text())["agents"]
    return agents


def flow_without_c(tmp_path: Path) -> Flow:
    """The harness's menus with user c taken out of the queue (still in the directory)."""
    path = tmp_path / "without-c.yaml"
    path.write_text(BASE.format(extra="").replace(", {user: c}]", "]"), encoding="utf-8")
    result = compile_path(path)
    assert result.flow is not None, [d.format() for d in result.errors]
    return result.flow


def join(run: sq.QueueRunner, host: MemoryQueueHost, session: int) -> MemoryCall:
    call = MemoryCall(session, f"+1555000{session}")
    host.calls[session] = call
    run.call_action(session, EnqueueCall("q"))  # as the server posts it from the call
    return call


# --- agents' states across restarts ---------------------------------------------------------


def test_sign_out_opt_out_and_pause_survive_a_restart(tmp_path: Path, host: MemoryQueueHost,
                                                      legs: list[MemoryLeg]) -> None:
    flow, data = make_flow(tmp_path, miss_limit=1), tmp_path / "data"
    first = runner(flow, data, host)
    assert states(first) == {"a": "available", "b": "available", "c": "available"}
    assert first.apply_command("a", "signout", None) == ""
    first.feature_code("call-9", AgentCommand("b", "opt_out", "q"))  # from b's phone
    join(first, host, 1)  # rings c, the only free agent, who does not answer: paused (miss_limit 1)
    [leg] = legs
    assert leg.destination == "sip:c@x"
    first.leg_event(leg.serial, "ended", 480)
    assert states(first) == {"a": "signed out", "b": "opted out", "c": "paused"}
    assert saved(data) == {
        "a": {"signed_in": False, "paused": False, "opted_out": []},
        "b": {"signed_in": True, "paused": False, "opted_out": ["q"]},
        "c": {"signed_in": True, "paused": True, "opted_out": []}}
    # Every write went through the server's storage writer, none ran on the SIP worker.
    assert set(host.stored) == {"saving the queue agents' states"}

    again = runner(flow, data)  # a new process on the same data folder
    assert states(again) == {"a": "signed out", "b": "opted out", "c": "paused"}
    assert again.state.agents["c"].activity == "idle"  # the miss's rest is not remembered
    # Signing in still ends a pause, and the change is saved at once.
    assert again.apply_command("c", "signin", None) == ""
    assert saved(data)["c"] == {"signed_in": True, "paused": False, "opted_out": []}
    assert states(runner(flow, data))["c"] == "available"


def test_first_start_writes_every_agent_signed_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = runner(make_flow(tmp_path), data)
    assert set(states(run).values()) == {"available"}
    assert saved(data) == {k: {"signed_in": True, "paused": False, "opted_out": []}
                           for k in ("a", "b", "c")}


def test_an_agent_gone_from_the_menus_is_ignored_and_kept_for_a_return(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    flow, data = make_flow(tmp_path), tmp_path / "data"
    first = runner(flow, data)
    first.apply_command("c", "signout", None)
    with caplog.at_level(logging.INFO, "attendant.sip.queues"):
        smaller = runner(flow_without_c(tmp_path), data)
    assert states(smaller) == {"a": "available", "b": "available"}
    assert "c" not in smaller.state.agents
    [line] = [r.getMessage() for r in caplog.records if "no agent of any queue" in r.getMessage()]
    assert line.startswith("queue agents: c in "), line
    assert line.endswith("signed out)"), line
    smaller.apply_command("a", "signout", None)  # a change rewrites the file: c stays in it
    assert saved(data)["c"]["signed_in"] is False
    assert saved(data)["a"]["signed_in"] is False
    # A reload that brings c back gives c the saved state, not a fresh sign-in.
    smaller.set_flow(flow)
    assert states(smaller) == {"a": "signed out", "b": "available", "c": "signed out"}
    assert smaller.agents.absent == {}


def test_a_corrupt_file_does_not_stop_the_start_and_is_kept_aside(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / FILE_NAME).write_text('{"version": 1, "agents": {"a": {"signed_in": fa')
    with caplog.at_level(logging.ERROR, "attendant.storage.agents"):
        run = runner(make_flow(tmp_path), data)
    assert set(states(run).values()) == {"available"}
    [aside] = data.glob(f"{FILE_NAME}.bad-*")
    assert aside.read_text().startswith('{"version": 1')
    [record] = caplog.records
    assert str(data / FILE_NAME) in record.getMessage()
    assert aside.name in record.getMessage()
    assert saved(data)["a"]["signed_in"] is True  # a fresh file, with the defaults


def test_commands_written_while_the_server_was_down_apply_after_the_restore(
        tmp_path: Path) -> None:
    flow, data = make_flow(tmp_path), tmp_path / "data"
    runner(flow, data).apply_command("a", "signout", None)
    control = data / sq.CONTROL_DIR
    (control / "1-1.json").write_text(json.dumps({"agent": "a", "command": "signin",
                                                  "queue": None}))
    host = MemoryQueueHost()
    run = runner(flow, data, host)
    assert states(run)["a"] == "signed out"  # restored; the command is read at the first poll
    host.worker.advance(sq.CONTROL_POLL_S)
    assert states(run)["a"] == "available"
    assert saved(data)["a"]["signed_in"] is True


# --- the service level --------------------------------------------------------------------


def test_service_level_counts_answers_within_the_queues_threshold(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    clock = host.clock
    run = runner(make_flow(tmp_path, service_level_seconds=30), tmp_path / "data", host)
    join(run, host, 1)  # rings a, b and c at once (routing: attendant)
    join(run, host, 2)  # waits: nobody is free
    clock.now += 25
    first = next(leg for leg in legs if leg.destination == "sip:a@x")
    run.leg_event(first.serial, "confirmed", 200)  # caller 1 answered after 25 s: in time
    clock.now += 10
    second = next(leg for leg in legs[3:] if leg.destination == "sip:b@x")
    run.leg_event(second.serial, "confirmed", 200)  # caller 2 answered after 35 s: late
    [queue] = run.snapshot()["queues"]
    assert (queue["answered"], queue["answered_within"]) == (2, 1), queue
    assert queue["service_level_seconds"] == 30.0
    assert queue["service_level"] == 50.0


def test_service_level_threshold_defaults_to_20_seconds(tmp_path: Path, host: MemoryQueueHost,
                                                         legs: list[MemoryLeg]) -> None:
    clock = host.clock
    flow = make_flow(tmp_path)
    assert flow.queues["q"].service_level_seconds == 20
    run = runner(flow, tmp_path / "data", host)
    join(run, host, 1)
    clock.now += 21
    run.leg_event(legs[0].serial, "confirmed", 200)
    [queue] = run.snapshot()["queues"]
    assert queue["service_level_seconds"] == 20.0
    assert (queue["answered"], queue["answered_within"], queue["service_level"]) == (1, 0, 0.0)


def test_service_level_longer_than_max_wait_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    text = BASE.format(extra="    max_wait: 60\n    service_level_seconds: 90")
    path.write_text(text, encoding="utf-8")
    result = compile_path(path)
    assert result.flow is not None  # a warning: the menus still load
    line = text.splitlines().index("    service_level_seconds: 90") + 1
    [warning] = [d.format() for d in result.diagnostics if "service_level_seconds" in d.format()]
    assert warning.startswith(f"{path}:{line}:28: warning: service_level_seconds 90 is longer "
                              "than max_wait 60: every answered caller would count"), warning
    assert "hint: use a value below 60" in warning


# --- agents' legs, timers and callbacks on the twins ------------------------------------------


def outcomes(host: MemoryQueueHost, session: int) -> list[QueueOutcome]:
    return [e for s, e in host.delivered if s == session and isinstance(e, QueueOutcome)]


def test_the_first_agent_to_answer_is_bridged_and_the_others_stop_ringing(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = runner(make_flow(tmp_path), tmp_path / "data", host)
    call = join(run, host, 1)
    assert sorted(leg.destination for leg in legs) == ["sip:a@x", "sip:b@x", "sip:c@x"]
    assert {leg.session for leg in legs} == {1}
    answered = next(leg for leg in legs if leg.destination == "sip:b@x")
    run.leg_event(answered.serial, "confirmed", 200)
    assert call.joined_with == "b"
    assert outcomes(host, 1) == [QueueOutcome("connected", agent="b")]
    assert [leg.destination for leg in legs if leg.cancelled] == ["sip:a@x", "sip:c@x"]
    # The caller hanging up ends the agent's call: b is free for the next caller.
    run.call_ended(1, "call-1")
    join(run, host, 2)
    assert "sip:b@x" in [leg.destination for leg in legs[3:]]


def test_a_refer_queue_hands_the_caller_over_and_bridges_when_refer_fails(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = runner(make_flow(tmp_path, mode="refer", routing="serial"), tmp_path / "data", host)
    referred = join(run, host, 1)
    run.leg_event(legs[0].serial, "confirmed", 200)
    assert (referred.referred_to, referred.joined_with) == (legs[0].serial, None)
    host.calls[2] = MemoryCall(2, "+15550002", refer_works=False)
    run.enqueue(host.calls[2], "call-2", EnqueueCall("q"))
    run.leg_event(legs[-1].serial, "confirmed", 200)
    assert host.calls[2].joined_with is not None  # REFER could not be sent: bridged instead


def test_an_agent_that_cannot_be_dialled_counts_as_unreachable_and_the_next_rings(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    host.unreachable.add("sip:a@x")
    run = runner(make_flow(tmp_path, routing="serial"), tmp_path / "data", host)
    join(run, host, 1)
    assert [leg.destination for leg in legs] == ["sip:b@x"]


def test_max_wait_routes_the_caller_when_its_timer_fires_and_stops_the_ringing(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = runner(make_flow(tmp_path, max_wait=30, on_timeout="operator"), tmp_path / "data",
                 host)
    join(run, host, 1)
    host.worker.advance(29)
    assert outcomes(host, 1) == []
    host.worker.advance(1)
    [outcome] = outcomes(host, 1)
    assert outcome.kind == "route"
    assert all(leg.cancelled for leg in legs)


def test_a_caller_hanging_up_while_agents_ring_cancels_their_legs(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = runner(make_flow(tmp_path), tmp_path / "data", host)
    join(run, host, 1)
    run.call_ended(1, "call-1")
    assert len(legs) == 3
    assert all(leg.cancelled for leg in legs)
    [queue] = run.snapshot()["queues"]
    assert (queue["waiting"], queue["abandoned"]) == (0, 1), queue


def _asks_for_a_callback(tmp_path: Path, host: MemoryQueueHost) -> sq.QueueRunner:
    """A runner with every agent signed out and +15550001111 waiting, who presses 2."""
    run = runner(make_flow(tmp_path, routing="serial", callback_key="2"), tmp_path / "data",
                 host)
    for agent in ("a", "b", "c"):
        run.apply_command(agent, "signout", None)
    host.calls[1] = MemoryCall(1, "+15550001111")
    run.enqueue(host.calls[1], "call-1", EnqueueCall("q"))
    run.call_action(1, QueueKey("2"))
    return run


def test_no_callback_is_promised_or_rung_for_a_number_the_server_cannot_reach(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    host.unreachable.add("+15550001111")  # allowed, but no trunk or proxy carries it
    run = _asks_for_a_callback(tmp_path, host)
    assert QueueOutcome("callback") not in outcomes(host, 1)
    assert any("no trunk or proxy that carries that number" in line for line in host.logged)
    run.apply_command("a", "signin", None)  # the caller still waits; nobody rings for a
    assert all(leg.destination != "+15550001111" for leg in legs)  # callback


def test_a_callback_dials_the_caller_and_joins_the_two_legs_when_both_have_audio(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = runner(make_flow(tmp_path, routing="serial", callback_key="2"), tmp_path / "data",
                 host)
    run.apply_command("a", "signout", None)
    run.apply_command("b", "signout", None)
    run.apply_command("c", "signout", None)
    host.calls[1] = MemoryCall(1, "+15550001111")  # on the directory's allow-list
    run.enqueue(host.calls[1], "call-1", EnqueueCall("q"))
    run.call_action(1, QueueKey("2"))
    assert outcomes(host, 1) == [QueueOutcome("callback")]
    run.call_ended(1, "call-1")  # the caller hangs up, as told: the place is kept
    run.apply_command("a", "signin", None)
    agent_leg = legs[-1]
    run.leg_event(agent_leg.serial, "confirmed", 200)
    caller_leg = legs[-1]
    assert (caller_leg.destination, caller_leg.session) == ("+15550001111", 0)
    caller_leg.has_media = False
    run.leg_event(caller_leg.serial, "confirmed", 200)
    assert host.connected == []  # no audio on the caller's leg yet
    caller_leg.has_media = True
    run.leg_event(caller_leg.serial, "media", 0)
    assert host.connected == [(agent_leg.serial, caller_leg.serial)]
    run.leg_event(caller_leg.serial, "ended", 200)  # the conversation ends: both hang up
    assert agent_leg.cancelled
    assert run.state.callers == {}


def test_a_callback_nobody_answers_is_reported_to_the_host_when_given_up(
        tmp_path: Path, host: MemoryQueueHost, legs: list[MemoryLeg]) -> None:
    run = _asks_for_a_callback(tmp_path, host)
    run.call_ended(1, "call-1")
    run.apply_command("a", "signin", None)
    run.leg_event(legs[-1].serial, "confirmed", 200)  # the agent answers
    caller_leg = legs[-1]
    assert caller_leg.destination == "+15550001111"
    run.leg_event(caller_leg.serial, "ended", 486)  # busy: never answered
    assert host.given_up == [("q", "+15550001111", 1)]


def test_the_queue_runner_loads_on_a_machine_without_pjsua2() -> None:
    code = ("import sys; sys.modules['pjsua2'] = None  # any 'import pjsua2' now fails\n"
            "import attendant.sip.queues, attendant.twins, attendant.sip.failures")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
