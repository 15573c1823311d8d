"""Ports: the interfaces adapters implement around the pure core.

Each is a Protocol, so the SIP endpoint, the simulator and the unit tests can supply
their own implementation; :mod:`attendant.twins` holds in-memory ones for the tests.

* :class:`PromptAudio`: what the engine wants said, as WAV files (the prompt store).
* :class:`Clock`, :class:`Scheduler`, :class:`TimerHandle`: time, and work later on
  the one thread that runs calls (the pjsip worker; a manual clock in the twins).
* :class:`Leg` and :class:`QueuedCall`: an outgoing call and a caller, as the queue
  runner drives them.
* :class:`QueueHost`: what the queue runner needs from the server: the callers, dialling
  and joining legs, delivering events to calls, the call log and the storage writer.

The pjsua2 objects behind :class:`Leg` and :class:`QueuedCall` are
:class:`attendant.sip.legs.OutboundLeg` and :class:`attendant.sip.call.InboundCall`;
nothing here imports pjsua2, so what is written against these ports (the queue runner)
runs and is unit-tested without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from attendant.engine.actions import Say
from attendant.engine.events import Event
from attendant.engine.state import CallState
from attendant.queues.actions import QueueLog


class PromptAudio(Protocol):
    """Turns what the engine wants said into audio files the media endpoint can play."""

    @property
    def clock_rate(self) -> int:
        """Sample rate of every file this store returns (8000 or 16000)."""
        ...

    def wav_for(self, say: Say) -> Path:
        """A mono 16-bit PCM WAV at :attr:`clock_rate` holding ``say``.

        Pre-rendered prompts are looked up by ``say.prompt_id`` and language;
        anything else (names, digits read back) is rendered on first use and cached.
        Raises :class:`attendant.errors.PromptError` when it cannot be rendered.
        """
        ...


class Clock(Protocol):
    """Monotonic seconds (``time.monotonic`` on a real server)."""

    def __call__(self) -> float: ...


class TimerHandle(Protocol):
    """A pending :meth:`Scheduler.call_later`."""

    def cancel(self) -> None:
        """Do not run it (nothing when it ran already)."""


class Scheduler(Protocol):
    """Work later on the thread that runs the calls."""

    def call_later(self, seconds: float, fn: Callable[[], None]) -> TimerHandle:
        """Run ``fn`` on that thread after ``seconds``."""
        ...


class Leg(Protocol):
    """An outgoing call (an agent's phone, a callback to a caller)."""

    serial: int
    ended: bool

    def cancel_ringing(self) -> None:
        """Hang it up, ringing or answered."""

    def rtp_counts(self) -> tuple[int, int]:
        """RTP packets received and sent so far."""
        ...


class RtpCounts(Protocol):
    """RTP packet counts of a caller's stream."""

    caller_tx: int


class QueuedCall(Protocol):
    """A caller, as the queue runner sees one."""

    session: int
    caller: str
    ended: bool
    state: CallState

    @property
    def stats(self) -> RtpCounts:
        """RTP counts so far (status shows what reached the caller)."""
        ...

    def join(self, leg: Any, who: str) -> None:
        """Bridge this caller with an answered leg (``mode: bridge``)."""

    def refer_to(self, leg: Any) -> bool:
        """Hand this caller to an answered leg's party (``mode: refer``); False if it
        cannot be sent."""
        ...

    def hang_up(self) -> None:
        """Hang up from our side."""


class QueueHost(Protocol):
    """What the queue runner needs from the server."""

    @property
    def worker(self) -> Scheduler: ...

    @property
    def calls(self) -> Mapping[int, QueuedCall]: ...

    def deliver(self, session: int, event: Event) -> None:
        """Feed ``event`` to the call with this session number, if it is still up."""

    def dial(self, session: int, destination: str) -> Leg | None:
        """Ring ``destination`` for call ``session`` (0: none); None when it cannot be
        dialled (its leg state changes reach the runner's ``leg_event``)."""
        ...

    def callback_given_up(self, queue: str, number: str, attempts: int) -> None:
        """Every try of a callback went unanswered: tell whoever the queue names."""
        ...

    def can_ring(self, destination: str) -> bool:
        """Whether :meth:`dial` has a way to ``destination`` (a trunk or proxy carries it)."""
        ...

    def connect_legs(self, first: Leg, second: Leg) -> bool:
        """Join two answered legs' audio both ways (a callback); False until both have
        media."""
        ...

    def call_id_of(self, session: int) -> str:
        """The call id (``<run>-<n>``) of call ``session``; "" when unknown."""
        ...

    def queue_log(self, line: QueueLog) -> None:
        """Write a queue core log line to the call log."""

    def queues_changed(self) -> None:
        """The queue snapshot changed: rewrite ``status.json`` (soon)."""

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        """Run a storage job off the call thread, in order, retried while it raises."""
