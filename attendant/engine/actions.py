"""Actions: what the engine asks an adapter to do.

A closed set of frozen dataclasses returned by :func:`attendant.engine.machine.step`.
The SIP endpoint turns them into pjsua2 calls; the simulator prints them.
``Play`` carries both the prompt ids (to find pre-rendered audio) and the
fragments themselves (to speak or show them when nothing was rendered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from attendant.model import Fragment


@dataclass(frozen=True, slots=True)
class Say:
    """One prompt inside a :class:`Play`: its id, language and fragments."""

    prompt_id: str
    language: str
    fragments: tuple[Fragment, ...]


@dataclass(frozen=True, slots=True)
class Play:
    """Play these prompts one after another; report :class:`PromptFinished` with ``token``."""

    token: int
    items: tuple[Say, ...]
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """Stop whatever is playing (the caller barged in)."""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Start a timer; report :class:`TimerFired` with ``name`` after ``seconds``."""

    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Forget the timer with this name (a late TimerFired for it is ignored anyway)."""

    name: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Ring a person, department or outside number and connect the caller.

    ``destinations`` are SIP URIs or numbers; ``ring`` says whether to ring them
    all at once or one after another, each for ``ring_seconds``.
    """

    kind: Literal["user", "department", "external"]
    key: str
    display: str
    destinations: tuple[str, ...]
    ring: Literal["simultaneous", "serial"] = "simultaneous"
    ring_seconds: int = 30
    mode: Literal["bridge", "refer"] = "bridge"


@dataclass(frozen=True, slots=True)
class EnqueueCall:
    """Hand the caller to a call queue."""

    queue: str
    priority: int = 0


@dataclass(frozen=True, slots=True)
class AgentCommand:
    """An agent's feature code: apply ``command`` for directory user ``user`` to the queues.

    The same as ``attendant queues agent USER signin|signout|optin|optout [QUEUE]``;
    ``queue`` is set for ``opt_in`` and ``opt_out`` only.
    """

    user: str
    command: Literal["sign_in", "sign_out", "opt_in", "opt_out"]
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class SetOverride:
    """Staff ``user`` switched ``attendant`` to override ``name`` (None: cleared it), the
    same as ``attendant override set|clear``."""

    attendant: str
    name: str | None
    user: str


@dataclass(frozen=True, slots=True)
class VerifyPin:
    """Check ``digits`` against ``user``'s PIN hash; answer with ``PinChecked``.

    Off the thread that runs calls: a check costs tens of milliseconds on purpose.
    """

    user: str
    digits: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RecordVoicemail:
    """Start recording a message for ``box`` (the engine times the maximum length)."""

    box: str
    max_seconds: int


@dataclass(frozen=True, slots=True)
class StopRecording:
    """Stop and keep the recording in progress."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Hang up the call."""

    reason: str


@dataclass(frozen=True, slots=True)
class QueueKey:
    """The queued caller pressed ``key``: tell the queue, which decides what it means (its
    leave key, its callback key, or nothing). Whatever plays goes on."""

    key: str


@dataclass(frozen=True, slots=True)
class LeaveQueue:
    """The queued caller hung up: the queue loses them (they abandoned it)."""


@dataclass(frozen=True, slots=True)
class OpenMailbox:
    """Check ``digits`` against voicemail box ``box``'s PIN and, if right, list its
    messages; answer with ``MailboxOpened``. ``box`` is empty when the mailbox number the
    caller typed (``number``) is nobody's: the adapter answers ``wrong`` as for a wrong
    PIN, after as long, and counts it towards the source's lockout."""

    box: str
    number: str
    digits: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PlayMessage:
    """Play stored message ``message_id`` of ``box`` to the caller, from ``offset``
    seconds; report ``PromptFinished`` with ``token`` at its end."""

    token: int
    box: str
    message_id: int
    offset: float = 0.0


@dataclass(frozen=True, slots=True)
class SkipMessage:
    """Move the message playing now ``seconds`` forward (negative: back), within it."""

    seconds: float


@dataclass(frozen=True, slots=True)
class MarkMessage:
    """File message ``message_id``: ``read``, ``archived``, ``deleted``, or ``undelete``
    (back to the status it was deleted from). Nothing answers."""

    message_id: int
    status: Literal["read", "archived", "deleted", "undelete"]


@dataclass(frozen=True, slots=True)
class SetMailboxPin:
    """Store ``digits`` as voicemail box ``box``'s new PIN (hashed); answer with
    ``MailboxPinSet``."""

    box: str
    digits: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RecordGreeting:
    """Record a take of ``box``'s ``kind`` greeting from the caller (the engine times
    ``max_seconds``; ``StopRecording`` ends it); answer with ``GreetingRecorded``."""

    box: str
    kind: str
    max_seconds: int


@dataclass(frozen=True, slots=True)
class SaveGreeting:
    """Make the take in ``path`` the ``kind`` greeting of ``box`` (converted like an
    uploaded one); answer with ``GreetingSaved``."""

    box: str
    kind: str
    path: str


@dataclass(frozen=True, slots=True)
class ClearGreeting:
    """Remove the ``kind`` greeting of ``box``. Nothing answers."""

    box: str
    kind: str


Action = (
    Play | StopPlayback | StartTimer | CancelTimer | Transfer | EnqueueCall | RecordVoicemail
    | StopRecording | Disconnect | AgentCommand | SetOverride | VerifyPin | QueueKey | LeaveQueue
    | OpenMailbox | PlayMessage | SkipMessage | MarkMessage | SetMailboxPin | RecordGreeting
    | SaveGreeting | ClearGreeting
)
