"""What operators see of the queues, and the queue state across a reload: pure functions.

Every driver of the queue core (``serve``, a simulator) keeps the same figures per queue
since it started: answered, answered within the service level, abandoned, sent elsewhere
(by reason), callbacks accepted. :func:`counted` updates them from what the core was told
and what it asked for, so the figures mean the same everywhere; :func:`queue_figures`
turns them into the numbers ``status.json`` shows. :func:`agent_state` words an agent's
state for people; :func:`reinitialise` carries the state over to a reloaded flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from attendant.model import Flow, frozen_map
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues.events import CallerLeft, QueueEvent


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """What one queue has done since the driver started (kept across reloads)."""

    answered: int = 0
    #: Answered within the queue's ``service_level_seconds`` (decided at the answer, so
    #: answers before a reload keep the threshold of their time).
    answered_in_time: int = 0
    abandoned: int = 0
    #: Callers sent elsewhere, by reason (overflow, timeout, no_agents, leave).
    routed: Mapping[str, int] = field(default_factory=frozen_map)
    callbacks: int = 0


Counts = Mapping[str, QueueCounts]


def counted(counts: Counts, flow: Flow, state: core.QueueState, event: QueueEvent,
            actions: Iterable[qa.QueueAction]) -> Counts:
    """``counts`` after the core, in ``state``, was told ``event`` and answered ``actions``.

    ``state`` is the state *before* the event: a caller who leaves while waiting or
    ringing abandons the queue; one who leaves after being connected does not.
    """
    changed: dict[str, QueueCounts] = {}  # only the queues this event counts for

    def bump(queue: str, **deltas: int) -> None:
        old = changed.get(queue) or counts.get(queue, QueueCounts())
        changed[queue] = replace(old, **{k: getattr(old, k) + v for k, v in deltas.items()})

    if isinstance(event, CallerLeft):
        caller = state.callers.get(event.call_id)
        if caller is not None and caller.status in (core.WAITING, core.RINGING):
            bump(caller.queue, abandoned=1)
    for action in actions:
        if isinstance(action, qa.ConnectCaller):
            found = flow.queues.get(action.queue)
            caller = state.callers.get(action.call_id)
            in_time = (found is not None and caller is not None
                       and event.at - caller.joined <= found.service_level_seconds)
            bump(action.queue, answered=1, answered_in_time=int(in_time))
        elif isinstance(action, qa.RouteCaller):
            old = changed.get(action.queue) or counts.get(action.queue, QueueCounts())
            routed = {**old.routed, action.reason: old.routed.get(action.reason, 0) + 1}
            changed[action.queue] = replace(old, routed=frozen_map(routed))
        elif isinstance(action, qa.CallbackAccepted):
            bump(action.queue, callbacks=1)
    # Most events count nothing (rings, timers, announcements): no copy for them.
    return frozen_map({**counts, **changed}) if changed else counts


def queue_figures(counts: QueueCounts, service_level_seconds: float) -> dict[str, object]:
    """The figures ``status.json`` shows for one queue. The service level is the share
    of answered, abandoned and timed-out callers answered in time (None before any)."""
    done = counts.answered + counts.abandoned + counts.routed.get("timeout", 0)
    return {
        "answered": counts.answered, "abandoned": counts.abandoned,
        "timed_out": counts.routed.get("timeout", 0),
        "overflowed": counts.routed.get("overflow", 0),
        "no_agents": counts.routed.get("no_agents", 0),
        "left": counts.routed.get("leave", 0), "callbacks": counts.callbacks,
        "answered_within": counts.answered_in_time,
        "service_level_seconds": float(service_level_seconds),
        "service_level": round(100.0 * counts.answered_in_time / done, 1) if done else None,
    }


def agent_state(agent: core.AgentState | None, queue: str) -> str:
    """An agent's state for operators: available, ringing, busy, wrap-up, resting, paused,
    opted out or signed out."""
    if agent is None or not agent.signed_in:
        return "signed out"
    if agent.paused:
        return "paused"
    busy = {core.AGENT_RINGING: "ringing", core.BUSY: "busy", core.WRAP_UP: "wrap-up"}
    if agent.activity in busy:
        return busy[agent.activity]
    if queue in agent.opted_out:
        return "opted out"
    return "resting" if agent.activity == core.COOLING else "available"


def reinitialise(old: core.QueueState, flow: Flow, now: float) -> core.QueueState:
    """The state for a new flow: agents and callers carried over; agents new to the
    configuration signed in (as at a start); queues new to it get fresh statistics."""
    fresh = core.initial_state(flow, at=now)
    agents = dict(old.agents)
    for key, agent in fresh.agents.items():
        agents.setdefault(key, agent)
    stats = {**fresh.stats, **{k: v for k, v in old.stats.items() if k in flow.queues}}
    return replace(old, agents=frozen_map(agents), stats=frozen_map(stats))
