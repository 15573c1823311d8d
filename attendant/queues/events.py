"""Events the queue core is told: callers, agents, ring results and time.

A closed set of frozen dataclasses fed to :func:`attendant.queues.core.step`.
Every event carries ``at``: the adapter's clock, in seconds, monotonic (the
simulator's fake clock or the endpoint's ``time.monotonic()``). The core never
reads a clock; it only compares these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RingOutcome = Literal["answered", "busy", "no_answer", "rejected", "unreachable"]
RING_OUTCOMES: tuple[RingOutcome, ...] = ("answered", "busy", "no_answer", "rejected",
                                          "unreachable")


@dataclass(frozen=True, slots=True)
class CallerJoined:
    """A call's engine said EnqueueCall: the caller joins ``queue``.

    ``caller`` is the caller's number (a callback dials it); ``language`` is for the log.
    ``callable_back``: the adapter has a way to ring ``caller`` (a trunk or proxy that
    carries it); without one no callback is offered, so no agent is rung for a call that
    cannot be placed.
    """

    call_id: str
    queue: str
    at: float
    priority: int = 0
    caller: str = ""
    language: str = ""
    callable_back: bool = True


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """The caller hung up while waiting (ignored once the caller asked for a callback)."""

    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class CallerPressed:
    """The waiting caller pressed a key (the call's engine ignores keys while queued)."""

    call_id: str
    key: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentSignedIn:
    """An agent signs in (or comes back after being paused for missed calls)."""

    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentSignedOut:
    """An agent signs out of every queue; a call they are on carries on."""

    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentOptedIn:
    """An agent takes calls from ``queue`` again."""

    agent: str
    queue: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentOptedOut:
    """An agent stops taking calls from ``queue`` (other queues are unaffected)."""

    agent: str
    queue: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentRingResult:
    """How ringing ``agent`` for the ring ``ring_id`` ended.

    Adapters need not report ``no_answer``: the core times the alert itself.
    """

    ring_id: int
    agent: str
    outcome: RingOutcome
    at: float


@dataclass(frozen=True, slots=True)
class AgentCallEnded:
    """The queue call ``agent`` was on ended (either side hung up)."""

    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """The callback placed for ``call_id`` was answered by the caller, or not."""

    call_id: str
    answered: bool
    at: float


@dataclass(frozen=True, slots=True)
class QueueTimerFired:
    """The timer a :class:`~attendant.queues.actions.QueueStartTimer` ``name`` started expired."""

    name: str
    at: float


QueueEvent = (
    CallerJoined | CallerLeft | CallerPressed | AgentSignedIn | AgentSignedOut | AgentOptedIn
    | AgentOptedOut | AgentRingResult | AgentCallEnded | CallbackResult | QueueTimerFired
)
