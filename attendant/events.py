"""Events: what happened on a call, fed to :func:`attendant.engine.step`.

A closed set of frozen dataclasses. Adapters (the SIP endpoint, the simulator)
translate what they see into these; the engine never looks at a clock or a
socket. Time passing is an event too (:class:`TimerFired`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DTMF_KEYS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A call was answered. ``at`` is when (a naive time is read as the attendant's local time)."""

    at: datetime
    caller: str = ""
    called: str = ""
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Digit:
    """The caller pressed a key (0-9, * or #; anything else is treated as an invalid entry)."""

    key: str


@dataclass(frozen=True, slots=True)
class PromptFinished:
    """The playback started by the :class:`~attendant.actions.Play` with this token ended."""

    token: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    """The timer started by :class:`~attendant.actions.StartTimer` with this name expired."""

    name: str


@dataclass(frozen=True, slots=True)
class TransferResult:
    """A transfer (or queue hand-over) was answered, or failed and why.

    ``reason`` is one of ``busy``, ``no_answer``, ``unreachable``, ``rejected``
    (or any short word an adapter finds useful); it is ignored when answered.
    """

    answered: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RecordingFinished:
    """The voicemail recorder stopped on its own (for example the disk is full)."""

    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Hangup:
    """The caller hung up."""


Event = (
    CallStarted | Digit | PromptFinished | TimerFired | TransferResult | RecordingFinished | Hangup
)
