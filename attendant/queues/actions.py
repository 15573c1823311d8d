"""Actions the queue core asks for: ring agents, connect, play, route, time, log.

A closed set of frozen dataclasses returned by :func:`attendant.queues.core.step`.
Actions about a caller (:class:`PlayToCaller`, :class:`ConnectCaller`,
:class:`RouteCaller`, :class:`CallbackAccepted`) become events of that call's
engine (:class:`attendant.engine.events.QueueAnnouncement` and
:class:`attendant.engine.events.QueueOutcome`); see ``docs/queues.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from attendant.model import Route, TransferMode

#: What a :class:`PlayToCaller` piece says: ("greeting", 0), ("position", 3),
#: ("wait", minutes), ("wait_more", minutes), ("callback_refused", 0).
Part = tuple[str, int]
RouteReason = Literal["overflow", "timeout", "no_agents", "leave"]


@dataclass(frozen=True, slots=True)
class RingAgents:
    """Ring these agents (all at once) for the caller ``call_id``; ``destinations`` match
    ``agents`` one for one. ``callback`` says the caller is not on the line: when an
    agent answers, a :class:`PlaceCallback` follows instead of :class:`ConnectCaller`.
    """

    ring_id: int
    call_id: str
    queue: str
    agents: tuple[str, ...]
    destinations: tuple[str, ...]
    alert_seconds: int
    callback: bool = False


@dataclass(frozen=True, slots=True)
class CancelRing:
    """Stop ringing (or drop the answered leg of) these agents of ring ``ring_id``."""

    ring_id: int
    agents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectCaller:
    """``agent`` answered ring ``ring_id``: connect the caller (bridge, or REFER over)."""

    call_id: str
    queue: str
    agent: str
    ring_id: int
    mode: TransferMode = "bridge"


@dataclass(frozen=True, slots=True)
class PlayToCaller:
    """Say these pieces to the waiting caller; music on hold follows."""

    call_id: str
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class RouteCaller:
    """The caller leaves the queue: their call's engine runs ``route`` (why: ``reason``)."""

    call_id: str
    queue: str
    route: Route
    reason: RouteReason


@dataclass(frozen=True, slots=True)
class CallbackAccepted:
    """The caller will be called back at ``number``: say so and end their call."""

    call_id: str
    queue: str
    number: str


@dataclass(frozen=True, slots=True)
class PlaceCallback:
    """``agent`` answered ring ``ring_id`` for a callback: dial ``number`` and connect them;
    report :class:`~attendant.queues.events.CallbackResult`."""

    call_id: str
    queue: str
    agent: str
    ring_id: int
    number: str


@dataclass(frozen=True, slots=True)
class CallbackFailed:
    """A callback to ``number`` went unanswered ``attempts`` times and is given up (for
    the log, the metrics and whoever should know)."""

    call_id: str
    queue: str
    number: str
    attempts: int


@dataclass(frozen=True, slots=True)
class QueueStartTimer:
    """Report :class:`~attendant.queues.events.QueueTimerFired` ``name`` after ``seconds``."""

    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class QueueCancelTimer:
    """Forget the timer ``name`` (a late one is ignored anyway)."""

    name: str


@dataclass(frozen=True, slots=True)
class QueueLog:
    """Something worth a line in the call log and the simulator's transcript."""

    queue: str
    call_id: str
    agent: str
    message: str


QueueAction = (
    RingAgents | CancelRing | ConnectCaller | PlayToCaller | RouteCaller | CallbackAccepted
    | PlaceCallback | CallbackFailed | QueueStartTimer | QueueCancelTimer | QueueLog
)
