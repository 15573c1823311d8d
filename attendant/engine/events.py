"""Events: what happened on a call, fed to :func:`attendant.engine.machine.step`.

A closed set of frozen dataclasses. Adapters (the SIP endpoint, the simulator)
translate what they see into these; the engine never looks at a clock or a
socket. Time passing is an event too (:class:`TimerFired`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from attendant.model import Route, frozen_map

DTMF_KEYS = frozenset("0123456789*#")


@dataclass(frozen=True, slots=True)
class CallStarted:
    """A call was answered. ``at`` is when (a naive time is read as the attendant's local time)."""

    at: datetime
    caller: str = ""
    called: str = ""
    language: str | None = None
    #: The call came from a trusted source (``serve --trusted-source``): its caller ID is
    #: believed, so agent feature codes need no PIN.
    trusted: bool = False
    #: The overrides staff have set, by attendant (``closed``, ``open``, a name of its
    #: ``overrides``), read by the adapter from the data folder; the others follow their
    #: schedules. The call keeps them for an attendant it is sent on to.
    overrides: Mapping[str, str] = field(default_factory=frozen_map)
    #: The greetings mailbox owners recorded, by box then kind (``unavailable``, ``busy``,
    #: ``temporary``, ``name``): the audio file of each, read by the adapter from the data
    #: folder (:mod:`attendant.storage.greetings`).
    greetings: Mapping[str, Mapping[str, str]] = field(default_factory=frozen_map)


@dataclass(frozen=True, slots=True)
class Digit:
    """The caller pressed a key (0-9, * or #; anything else is treated as an invalid entry)."""

    key: str


@dataclass(frozen=True, slots=True)
class PromptFinished:
    """The playback started by the :class:`~attendant.engine.actions.Play` with this token ended."""

    token: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    """The timer started by :class:`~attendant.engine.actions.StartTimer` with this name expired."""

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
    """The voicemail recorder stopped on its own.

    ``error`` is empty when it reached its end normally, else what went wrong (the
    disk is full, the voicemail store is unavailable); ``seconds`` is how much audio
    was kept before it (0: no message at all). ``box_full``: no recording started
    because the box holds its ``max_messages`` or ``max_mb`` already.
    """

    seconds: float = 0.0
    error: str = ""
    box_full: bool = False


@dataclass(frozen=True, slots=True)
class Hangup:
    """The caller hung up."""


@dataclass(frozen=True, slots=True)
class QueueAnnouncement:
    """The queue core has something to say to this waiting caller, then music on hold.

    ``parts`` are (kind, number) pairs: ``("greeting", 0)``, ``("position", 3)``,
    ``("wait", 4)`` (about 4 minutes), ``("wait_more", 2)`` (more than 2 minutes),
    ``("callback_refused", 0)``. No parts: just the music.
    """

    parts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """The queue core is done with this caller.

    ``connected``: ``agent`` took the call. ``route``: the caller leaves the queue to
    ``route`` (overflow, timeout, no agents, a leave key). ``callback``: the caller will be
    called back; the call ends with a confirmation.
    """

    kind: Literal["connected", "route", "callback"]
    route: Route | None = None
    agent: str = ""


@dataclass(frozen=True, slots=True)
class PinChecked:
    """The answer to ``VerifyPin``: whether the digits were the user's PIN."""

    ok: bool


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A voicemail message as the mailbox menu sees it (a row of the voicemail store).

    ``status`` is ``new``, ``read``, ``archived`` or ``deleted``; ``deleted_from`` is
    the status a deleted message had. ``received`` is timezone-aware.
    """

    id: int
    status: str
    received: datetime
    caller: str
    seconds: float
    deleted_from: str = ""

    @property
    def folder(self) -> str:
        """``new``, ``saved`` (read or archived) or ``deleted``."""
        return {"new": "new", "deleted": "deleted"}.get(self.status, "saved")

    def filed(self, status: str) -> StoredMessage:
        """This message marked ``status`` (``undelete``: back to what it was deleted from),
        as the voicemail store files it."""
        if status == "undelete":
            return replace(self, status=self.deleted_from or "read", deleted_from="")
        if status == "deleted":
            return replace(self, status="deleted", deleted_from=self.status)
        return replace(self, status=status)


@dataclass(frozen=True, slots=True)
class MailboxOpened:
    """The answer to ``OpenMailbox``. ``ok``: the PIN was right, and ``messages`` are the
    box's (every folder, oldest first). Else ``refusal`` says why: ``wrong`` (a wrong PIN
    or no such mailbox, told apart nowhere), ``no_pin`` (the box has no PIN yet),
    ``locked`` (too many wrong PINs from this source lately) or ``failed`` (the store
    could not be read)."""

    ok: bool
    messages: tuple[StoredMessage, ...] = ()
    refusal: Literal["", "wrong", "no_pin", "locked", "failed"] = ""


@dataclass(frozen=True, slots=True)
class MailboxPinSet:
    """The answer to ``SetMailboxPin``: whether the new PIN was stored."""

    ok: bool


@dataclass(frozen=True, slots=True)
class GreetingRecorded:
    """The greeting recorder stopped (``StopRecording``, or on its own): ``seconds`` of
    audio in ``path`` (a take, not the greeting yet), or ``error``."""

    seconds: float
    path: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class GreetingSaved:
    """The answer to ``SaveGreeting``: whether the take is now the box's greeting."""

    ok: bool
    reason: str = ""


Event = (
    CallStarted | Digit | PromptFinished | TimerFired | TransferResult | RecordingFinished | Hangup
    | QueueAnnouncement | QueueOutcome | PinChecked | MailboxOpened | MailboxPinSet
    | GreetingRecorded | GreetingSaved
)
