"""The SIP queue runner without SIP: agents' states across restarts, and the service level.

:class:`attendant.sip.queues.QueueRunner` is driven through a fake server (a worker whose
timers never fire unless a test calls them, calls and agents' legs as plain objects, a
fake clock). The agents' state file is a real file in ``tmp_path``: a "restart" is a new
runner on the same data folder, as a new ``attendant serve`` process would build.
The SIP tests (``tests/sip/test_queues_sip.py``) check the same on a real server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from queue_harness import BASE, make_flow

from attendant import compile_path
from attendant.engine.actions import AgentCommand, EnqueueCall
from attendant.model import Flow
from attendant.storage.agents import FILE_NAME

pytest.importorskip("pjsua2")  # attendant.sip imports it; the runner needs no endpoint here

from attendant.sip import queues as sq


class _Handle:
    def cancel(self) -> None:
        pass


@dataclass
class _Worker:
    later: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def call_later(self, seconds: float, fn: Callable[[], None]) -> _Handle:
        self.later.append((seconds, fn))
        return _Handle()


@dataclass
class _Leg:
    serial: int
    destination: str
    ended: bool = False
    cancelled: bool = False

    def cancel_ringing(self) -> None:
        self.cancelled = True


@dataclass
class _Call:
    session: int
    caller: str
    ended: bool = False
    joined_with: str | None = None
    state: Any = field(default_factory=lambda: SimpleNamespace(language="en-US"))
    stats: Any = field(default_factory=lambda: SimpleNamespace(caller_tx=0))

    def join(self, leg: _Leg, agent: str) -> None:
        assert not leg.cancelled
        self.joined_with = agent

    def hang_up(self) -> None:
        self.ended = True


@dataclass
class _Host:
    """The server as the runner sees it (``QueueHost``), with nothing behind it."""

    worker: _Worker = field(default_factory=_Worker)
    calls: dict[int, _Call] = field(default_factory=dict)
    delivered: list[tuple[int, Any]] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def call_id_of(self, session: int) -> str:
        return f"call-{session}"

    def queue_log(self, line: Any) -> None:
        self.logged.append(line.message)

    def queues_changed(self) -> None:
        pass

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        self.stored.append(what)
        job()  # the server's storage writer runs it on its thread; here, at once

    def deliver(self, session: int, event: Any) -> None:
        self.delivered.append((session, event))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def legs(monkeypatch: pytest.MonkeyPatch) -> list[_Leg]:
    """Every agent's leg the runner "dials" (no pjsua2 call is placed)."""
    placed: list[_Leg] = []

    def dial(host: Any, session: int, destination: str) -> _Leg:
        placed.append(_Leg(100 + len(placed), destination))
        return placed[-1]

    monkeypatch.setattr(sq, "dial", dial)
    return placed


def runner(flow: Flow, data: Path, clock: _Clock | None = None) -> sq.QueueRunner:
    """A started runner: what ``attendant serve`` builds when it starts."""
    run = sq.QueueRunner(_Host(), flow, data, clock or _Clock())  # type: ignore[arg-type]
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


def join(run: sq.QueueRunner, session: int) -> None:
    call = _Call(session, f"+1555000{session}")
    run.host.calls[session] = call  # type: ignore[index]
    run.enqueue(call, f"call-{session}", EnqueueCall("q"))  # type: ignore[arg-type]


# --- agents' states across restarts ---------------------------------------------------------


def test_sign_out_opt_out_and_pause_survive_a_restart(tmp_path: Path, legs: list[_Leg]) -> None:
    flow, data = make_flow(tmp_path, miss_limit=1), tmp_path / "data"
    first = runner(flow, data)
    assert states(first) == {"a": "available", "b": "available", "c": "available"}
    assert first.apply_command("a", "signout", None) == ""
    first.feature_code("call-9", AgentCommand("b", "opt_out", "q"))  # from b's phone
    join(first, 1)  # rings c, the only free agent, who does not answer: paused (miss_limit 1)
    [leg] = legs
    assert leg.destination == "sip:c@x"
    first.leg_event(leg.serial, "ended", 480)
    assert states(first) == {"a": "signed out", "b": "opted out", "c": "paused"}
    assert saved(data) == {
        "a": {"signed_in": False, "paused": False, "opted_out": []},
        "b": {"signed_in": True, "paused": False, "opted_out": ["q"]},
        "c": {"signed_in": True, "paused": True, "opted_out": []}}
    # Every write went through the server's storage writer, none ran on the SIP worker.
    assert set(first.host.stored) == {"saving the queue agents' states"}  # type: ignore[attr-defined]

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
    assert smaller.absent_agents == {}


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
    run = runner(flow, data)
    assert states(run)["a"] == "signed out"  # restored; the command is read at the first poll
    [(_, tick)] = [(s, fn) for s, fn in run.host.worker.later  # type: ignore[attr-defined]
                   if getattr(fn, "__name__", "") == "_control_tick"]
    tick()
    assert states(run)["a"] == "available"
    assert saved(data)["a"]["signed_in"] is True


# --- the service level --------------------------------------------------------------------


def test_service_level_counts_answers_within_the_queues_threshold(
        tmp_path: Path, legs: list[_Leg]) -> None:
    clock = _Clock()
    run = runner(make_flow(tmp_path, service_level_seconds=30), tmp_path / "data", clock)
    join(run, 1)  # rings a, b and c at once (routing: attendant)
    join(run, 2)  # waits: nobody is free
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


def test_service_level_threshold_defaults_to_20_seconds(tmp_path: Path, legs: list[_Leg]) -> None:
    clock = _Clock()
    flow = make_flow(tmp_path)
    assert flow.queues["q"].service_level_seconds == 20
    run = runner(flow, tmp_path / "data", clock)
    join(run, 1)
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
