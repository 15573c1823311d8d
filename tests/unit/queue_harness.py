"""A small driver for queue-core tests: a flow built from YAML, a fake clock, timers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flow_surgery import compile_text

from attendant.model import Flow
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues import events as qe

BASE = """\
version: 1
attendants:
  main:
    name: Test Co
    timezone: UTC
    business_hours: {{menu: main}}
    operator: {{user: op}}
menus:
  main:
    prompt: Hello.
    options:
      "1": {{queue: q}}
      "2": {{queue: q, priority: 5}}
directory:
  users:
    op: {{name: Op Erator, sip: "sip:op@x"}}
    a: {{name: Agent A, sip: "sip:a@x", departments: [team]}}
    b: {{name: Agent B, sip: "sip:b@x", departments: [team]}}
    c: {{name: Agent C, sip: "sip:c@x"}}
  departments:
    team: {{name: Team}}
  external_numbers: ["+15550001111"]
voicemail:
  box: {{name: Box}}
queues:
  q:
    name: Queue
    agents: [{{department: team}}, {{user: c}}]
{extra}
"""


def make_flow(tmp_path: Path, **settings: Any) -> Flow:
    import json
    extra = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in settings.items())
    return compile_text(tmp_path, BASE.format(extra=extra.rstrip("\n")), "menu.yaml")


class Harness:
    """Feeds events with a fake clock and keeps every action, and the live timers."""

    def __init__(self, flow: Flow, signed_in: tuple[str, ...] | None = None) -> None:
        self.flow = flow
        self.state = core.initial_state(flow, signed_in)
        self.now = 0.0
        self.timers: dict[str, float] = {}
        self.log: list[qa.QueueAction] = []

    def send(self, event: qe.QueueEvent) -> list[qa.QueueAction]:
        self.state, actions = core.step(self.flow, self.state, event)
        for action in actions:
            if isinstance(action, qa.QueueStartTimer):
                self.timers[action.name] = self.now + action.seconds
            elif isinstance(action, qa.QueueCancelTimer):
                self.timers.pop(action.name, None)
        self.log += actions
        return actions

    def advance(self, seconds: float) -> list[qa.QueueAction]:
        """Let time pass, firing due timers in order."""
        end = self.now + seconds
        out: list[qa.QueueAction] = []
        while True:
            due = sorted((t, n) for n, t in self.timers.items() if t <= end)
            if not due:
                break
            when, name = due[0]
            del self.timers[name]
            self.now = max(self.now, when)
            out += self.send(qe.QueueTimerFired(name, self.now))
        self.now = end
        return out

    def join(self, call: str, priority: int = 0, caller: str = "") -> list[qa.QueueAction]:
        return self.send(qe.CallerJoined(call, "q", self.now, priority, caller))

    def ring_result(self, agent: str, outcome: qe.RingOutcome) -> list[qa.QueueAction]:
        ring = self.state.agents[agent].ring_id
        assert ring is not None, f"{agent} is not ringing"
        return self.send(qe.AgentRingResult(ring, agent, outcome, self.now))

    def ringing(self) -> dict[str, str]:
        """agent -> call id, for every agent ringing now."""
        return {k: a.call_id or "" for k, a in self.state.agents.items()
                if a.activity == core.AGENT_RINGING}


def of(actions: list[qa.QueueAction], kind: type) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]
