"""Agents' commands (a phone's feature code or a control file) become the same queue
event after the same checks (attendant.queues.agent_commands)."""

from __future__ import annotations

from pathlib import Path

import pytest
from queue_harness import make_flow

from attendant.queues import events as qe
from attendant.queues.agent_commands import agent_event


@pytest.mark.parametrize(("command", "queue", "event"), [
    ("signin", None, qe.AgentSignedIn("a", 5.0)),
    ("sign_in", None, qe.AgentSignedIn("a", 5.0)),  # a feature code says it so
    ("signout", None, qe.AgentSignedOut("a", 5.0)),
    ("sign_out", None, qe.AgentSignedOut("a", 5.0)),
    ("optin", "q", qe.AgentOptedIn("a", "q", 5.0)),
    ("opt_in", "q", qe.AgentOptedIn("a", "q", 5.0)),
    ("optout", "q", qe.AgentOptedOut("a", "q", 5.0)),
    ("opt_out", "q", qe.AgentOptedOut("a", "q", 5.0)),
])
def test_both_spellings_give_the_same_event(tmp_path: Path, command: str, queue: str | None,
                                            event: qe.QueueEvent) -> None:
    assert agent_event(make_flow(tmp_path), "a", command, queue, 5.0) == event


@pytest.mark.parametrize(("agent", "command", "queue", "why"), [
    ("zed", "signin", None, "unknown agent 'zed'; agents: a, b, c"),
    ("a", "dance", None, "unknown command 'dance'; use signin, signout, optin, optout"),
    ("a", "optin", "nope", "unknown queue 'nope'; queues: q"),
    ("a", "optout", None, "unknown queue None; queues: q"),
])
def test_a_command_that_cannot_apply_says_why(tmp_path: Path, agent: str, command: str,
                                              queue: str | None, why: str) -> None:
    assert agent_event(make_flow(tmp_path), agent, command, queue, 5.0) == why
