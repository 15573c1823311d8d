"""The steps a call posts to itself through the worker queue, besides engine events.

pjsua2 callbacks that run on other threads, or inside pjsip's own processing, only post
one of these naming the call by its session number; :meth:`InboundCall.feed` acts on it
on the worker thread, if the call is still up.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from attendant.engine.events import Event


@dataclass(frozen=True, slots=True)
class Answer:
    """Send 200 OK (a turn after 180 Ringing)."""


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The caller's ACK arrived: the engine's call starts."""


@dataclass(frozen=True, slots=True)
class HangUp:
    """Hang up from our side (after a REFER the target accepted)."""


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A key as the DTMF callback saw it, with its arrival time (for the latency metric)."""

    key: str
    at: float


@dataclass(frozen=True, slots=True)
class Rendered:
    """The renderer pool has made (or failed) a prompt's files."""

    token: int
    done: Future[list[Path]]


@dataclass(frozen=True, slots=True)
class RingTimeout:
    """The call's transfer rang for ``ring_seconds``."""


Internal = Answer | Confirmed | HangUp | Rendered | RingTimeout | Dtmf
#: What a call's feed() takes: an engine event, or one of its own steps.
Deliverable = Event | Internal
