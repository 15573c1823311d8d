"""Agents' commands, from a phone's feature code or an operator's control file, as the
queue core's events: one rule for every driver (``serve``, the simulator).

A feature code arrives from the call engine as ``AgentCommand`` with ``sign_in``,
``sign_out``, ``opt_in`` or ``opt_out``; a control file (``attendant queues agent``)
says ``signin``, ``signout``, ``optin`` or ``optout``. Both mean the same and become
the same event, after the same checks.
"""

from __future__ import annotations

from attendant.model import Flow
from attendant.queues import core
from attendant.queues.events import (
    AgentOptedIn,
    AgentOptedOut,
    AgentSignedIn,
    AgentSignedOut,
    QueueEvent,
)

#: The commands as operators write them (``attendant queues agent ...``).
COMMANDS = ("signin", "signout", "optin", "optout")


def agent_event(flow: Flow, agent: str, command: str, queue: object,
                at: float) -> QueueEvent | str:
    """The queue core's event for ``agent``'s ``command`` (either spelling; ``queue`` for
    opting in or out), or why it cannot be applied, in words for the operator."""
    command = command.replace("_", "")  # sign_in (a feature code) -> signin
    agents = core.all_agents(flow)
    if agent not in agents:
        return f"unknown agent {agent!r}; agents: {', '.join(agents)}"
    if command == "signin":
        return AgentSignedIn(agent, at)
    if command == "signout":
        return AgentSignedOut(agent, at)
    if command not in ("optin", "optout"):
        return f"unknown command {command!r}; use {', '.join(COMMANDS)}"
    if not isinstance(queue, str) or queue not in flow.queues:
        return f"unknown queue {queue!r}; queues: {', '.join(flow.queues)}"
    if command == "optin":
        return AgentOptedIn(agent, queue, at)
    return AgentOptedOut(agent, queue, at)
