"""What operators see of the queues (attendant.queues.report): counts, service level,
agents' states, the state across a reload. Pure functions, driven with the queue core."""

from __future__ import annotations

from pathlib import Path

from flow_surgery import compile_text
from queue_harness import BASE, Harness, make_flow

from attendant.model import Flow, frozen_map
from attendant.queues import core
from attendant.queues import events as qe
from attendant.queues.report import (
    Counts,
    QueueCounts,
    agent_state,
    counted,
    queue_figures,
    reinitialise,
)


class Counted(Harness):
    """The harness, counting as a driver does: from the state before each event."""

    def __init__(self, flow: Flow, signed_in: tuple[str, ...] | None = None) -> None:
        super().__init__(flow, signed_in)
        self.counts: Counts = frozen_map()

    def send(self, event: qe.QueueEvent) -> list:  # type: ignore[type-arg]
        before = self.state
        actions = super().send(event)
        self.counts = counted(self.counts, self.flow, before, event, actions)
        return actions

    @property
    def q(self) -> QueueCounts:
        return self.counts.get("q", QueueCounts())


def test_answers_count_in_time_up_to_the_service_level(tmp_path: Path) -> None:
    h = Counted(make_flow(tmp_path, service_level_seconds=20))
    h.join("x")
    h.now = 10.0
    h.ring_result("a", "answered")
    h.send(qe.AgentCallEnded("a", h.now))
    h.join("y")
    h.now = 40.0
    h.ring_result("b", "answered")
    assert (h.q.answered, h.q.answered_in_time) == (2, 1)


def test_leaving_while_waiting_abandons_but_hanging_up_after_the_answer_does_not(
        tmp_path: Path) -> None:
    h = Counted(make_flow(tmp_path))
    h.join("x")
    h.ring_result("a", "answered")
    h.send(qe.CallerLeft("x", h.now))  # connected: not abandoned
    h.join("y")
    h.send(qe.CallerLeft("y", h.now))  # ringing agents: abandoned
    assert (h.q.answered, h.q.abandoned) == (1, 1)


def test_callers_sent_elsewhere_are_counted_by_reason(tmp_path: Path) -> None:
    h = Counted(make_flow(tmp_path, max_callers=1, max_wait=30), ())
    h.join("x")
    h.join("y")  # full: overflow
    h.advance(31)  # x waited too long
    assert dict(h.q.routed) == {"overflow": 1, "timeout": 1}


def test_the_service_level_is_the_share_answered_in_time_of_those_done() -> None:
    counts = QueueCounts(answered=3, answered_in_time=2, abandoned=1,
                         routed=frozen_map({"timeout": 1, "overflow": 4}), callbacks=2)
    figures = queue_figures(counts, 20)
    assert figures["service_level"] == 40.0  # 2 of 3 answered + 1 abandoned + 1 timed out
    assert (figures["overflowed"], figures["timed_out"], figures["callbacks"]) == (4, 1, 2)
    assert queue_figures(QueueCounts(), 20)["service_level"] is None


def test_agent_states_are_worded_for_operators(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path), ("a", "b"))
    assert agent_state(h.state.agents.get("c"), "q") == "signed out"
    assert agent_state(None, "q") == "signed out"
    assert agent_state(h.state.agents["a"], "q") == "available"
    h.send(qe.AgentOptedOut("b", "q", h.now))
    assert agent_state(h.state.agents["b"], "q") == "opted out"
    h.join("x")
    assert agent_state(h.state.agents["a"], "q") == "ringing"
    h.ring_result("a", "answered")
    assert agent_state(h.state.agents["a"], "q") == "busy"


def test_a_reload_keeps_agents_and_callers_and_signs_in_the_new_agents(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path), ("a",))
    h.join("x")
    text = BASE.format(extra="").replace(
        '    c: {name: Agent C, sip: "sip:c@x"}\n',
        '    c: {name: Agent C, sip: "sip:c@x"}\n'
        '    d: {name: Agent D, sip: "sip:d@x", departments: [team]}\n')
    new_flow = compile_text(tmp_path, text, "new.yaml")
    state = reinitialise(h.state, new_flow, 5.0)
    assert state.agents["a"].activity == core.AGENT_RINGING  # carried over, mid-ring
    assert not state.agents["b"].signed_in  # kept as it was: signed out
    assert state.agents["d"].signed_in  # new to the configuration: signed in, as at a start
    assert "x" in state.callers
    assert set(state.stats) == set(new_flow.queues)
