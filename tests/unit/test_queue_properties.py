"""Properties of the queue core under any sequence of events (Hypothesis).

Whatever callers and agents do, in any order and at any time:

* no caller is lost: every caller who joined is still in a queue, or was connected,
  called back, sent elsewhere, or hung up while waiting;
* no caller is served twice: at most one of ConnectCaller, PlaceCallback or RouteCaller
  per call, and a caller who got one is no longer waiting;
* the queue never offers a call to an agent who is signed out, paused, opted out of that
  queue, or already busy (ringing for someone else, on a call, in wrap-up).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from queue_harness import Harness, make_flow

from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues import events as qe
from attendant.queues.routing import METHODS

AGENTS = ("a", "b", "c")
STEP = st.one_of(
    st.tuples(st.just("join"), st.sampled_from([0, 0, 5])),
    st.tuples(st.just("leave"), st.integers(0, 9)),
    st.tuples(st.just("press"), st.integers(0, 9), st.sampled_from("0129")),
    st.tuples(st.just("sign_in"), st.sampled_from(AGENTS)),
    st.tuples(st.just("sign_out"), st.sampled_from(AGENTS)),
    st.tuples(st.just("opt_in"), st.sampled_from(AGENTS)),
    st.tuples(st.just("opt_out"), st.sampled_from(AGENTS)),
    st.tuples(st.just("ring"), st.sampled_from(AGENTS),
              st.sampled_from(["answered", "answered", "busy", "no_answer", "rejected",
                               "unreachable"])),
    st.tuples(st.just("stale_ring"), st.integers(0, 60), st.sampled_from(AGENTS)),
    st.tuples(st.just("end_call"), st.sampled_from(AGENTS)),
    st.tuples(st.just("callback"), st.integers(0, 9), st.booleans()),
    st.tuples(st.just("time"), st.sampled_from([0.5, 3, 5, 15, 30, 61, 200])),
)


@pytest.fixture(scope="module", params=METHODS)
def flow(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp(request.param)
    return make_flow(tmp, routing=request.param, max_callers=4, max_wait=120,
                     alert_seconds=15, wrap_up_seconds=10, miss_limit=2, leave_key="0",
                     callback_key="2", callback_numbers=["+1"], announce_interval=20)


class Checker:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.joined: list[str] = []
        self.finished: dict[str, str] = {}  # call -> how it left the queue
        self.busy: dict[str, str] = {}  # agent -> call, from ConnectCaller/PlaceCallback

    def apply(self, step: tuple) -> None:
        h, kind = self.h, step[0]
        if kind == "join":
            call = f"c{len(self.joined)}"
            self.joined.append(call)
            self.check(h.send(qe.CallerJoined(call, "q", h.now, step[1], "+15550000000")))
        elif kind in ("leave", "press", "callback"):
            if not self.joined:
                return
            call = self.joined[step[1] % len(self.joined)]
            if kind == "leave":
                waiting = h.state.callers.get(call)
                out = h.send(qe.CallerLeft(call, h.now))
                if waiting is not None and waiting.status in (core.WAITING, core.RINGING):
                    self.finish(call, "left")
                self.check(out)
            elif kind == "press":
                self.check(h.send(qe.CallerPressed(call, step[2], h.now)))
            else:
                caller = h.state.callers.get(call)
                out = h.send(qe.CallbackResult(call, step[2], h.now))
                if caller is not None and caller.status == core.CALLBACK_DIALING and not step[2]:
                    self.busy.pop(caller.agent or "", None)
                self.check(out)
        elif kind in ("sign_in", "sign_out"):
            event = qe.AgentSignedIn if kind == "sign_in" else qe.AgentSignedOut
            self.check(h.send(event(step[1], h.now)))
        elif kind in ("opt_in", "opt_out"):
            event = qe.AgentOptedIn if kind == "opt_in" else qe.AgentOptedOut
            self.check(h.send(event(step[1], "q", h.now)))
        elif kind == "ring":
            if h.state.agents[step[1]].activity == core.AGENT_RINGING:
                self.check(h.ring_result(step[1], step[2]))
        elif kind == "stale_ring":
            self.check(h.send(qe.AgentRingResult(step[1], step[2], "answered", h.now)))
        elif kind == "end_call":
            if step[1] in self.busy:
                del self.busy[step[1]]
                self.check(h.send(qe.AgentCallEnded(step[1], h.now)))
        else:
            end = h.now + step[1]
            while True:
                due = sorted((t, n) for n, t in h.timers.items() if t <= end)
                if not due:
                    break
                when, name = due[0]
                del h.timers[name]
                h.now = max(h.now, when)
                self.check(h.send(qe.QueueTimerFired(name, h.now)))
            h.now = end

    def finish(self, call: str, how: str) -> None:
        assert call not in self.finished, f"{call} left the queue twice: " \
                                          f"{self.finished[call]} then {how}"
        self.finished[call] = how

    def check(self, actions: list[qa.QueueAction]) -> None:
        state = self.h.state
        for action in actions:
            if isinstance(action, qa.RingAgents):
                for agent in action.agents:
                    a = state.agents[agent]
                    assert agent not in self.busy, f"{agent} offered a call while on one"
                    assert a.signed_in
                    assert not a.paused
                    assert "q" not in a.opted_out
                    assert a.activity == core.AGENT_RINGING
                    assert a.ring_id == action.ring_id
                assert len(set(action.agents)) == len(action.agents)
            elif isinstance(action, qa.ConnectCaller | qa.PlaceCallback):
                assert action.agent not in self.busy
                self.busy[action.agent] = action.call_id
                self.finish(action.call_id, type(action).__name__)
            elif isinstance(action, qa.RouteCaller):
                self.finish(action.call_id, f"route {action.reason}")
        # no caller lost: everyone who joined is waiting or has left the queue exactly once
        for call in self.joined:
            waiting = call in state.callers
            if waiting:
                status = state.callers[call].status
                assert call not in self.finished or status == core.CALLBACK_DIALING
            else:
                assert call in self.finished, f"{call} vanished"
        # an agent is never ringing for two callers, and rings match the state
        for ring in state.rings.values():
            for agent in ring.agents:
                assert state.agents[agent].ring_id == ring.ring_id
        for agent, a in state.agents.items():
            if a.activity == core.BUSY:
                assert agent in self.busy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=60), seed=st.integers(0, 2**32))
def test_no_caller_lost_or_served_twice_and_no_busy_agent_offered(flow, steps, seed) -> None:
    h = Harness(flow)
    h.state = core.QueueState(h.state.agents, h.state.callers, h.state.rings, h.state.stats,
                              h.state.timers, h.state.counter, seed)
    checker = Checker(h)
    for step in steps:
        checker.apply(step)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=40))
def test_time_always_ends_every_wait(flow, steps) -> None:
    """Whatever happened, once agents stop answering the phone, max_wait empties the queue
    of callers on the line within max_wait seconds (callbacks may wait longer)."""
    h = Harness(flow)
    checker = Checker(h)
    for step in steps:
        checker.apply(step)
    checker.apply(("time", 200))
    assert all(c.status in (core.CALLBACK, core.CALLBACK_RINGING, core.CALLBACK_DIALING)
               for c in h.state.callers.values())
