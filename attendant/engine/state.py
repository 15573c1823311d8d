"""The call's state: where a call is (:class:`Phase`) and what the engine knows of it.

:class:`CallState` is a frozen value; every step returns a new one through
:func:`update`, the engine's hottest helper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

from attendant.engine import actions as act
from attendant.engine.events import StoredMessage
from attendant.engine.outcomes import Outcome
from attendant.model import (
    NO_OVERRIDES,
    AgentFeature,
    DialByName,
    ExtensionEntry,
    Flow,
    Route,
    SetOverride,
)


class Phase(StrEnum):
    """Where a call is."""

    NEW = "new"
    MENU = "menu"
    ANNOUNCE = "announce"
    NAME_ENTRY = "name_entry"
    NAME_CHOICE = "name_choice"
    EXTENSION_ENTRY = "extension_entry"
    TRANSFERRING = "transferring"
    QUEUED = "queued"
    VOICEMAIL_GREETING = "voicemail_greeting"
    VOICEMAIL_BEEP = "voicemail_beep"
    RECORDING = "recording"
    PIN_ENTRY = "pin_entry"
    PIN_CHECK = "pin_check"
    #: In the mailbox menu (``CallState.mailbox`` says where in it).
    MAILBOX = "mailbox"
    GOODBYE = "goodbye"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class MailboxSession:
    """Where a caller is in the mailbox menu (:mod:`attendant.engine.mailbox`).

    ``step`` is one of ``number``, ``pin``, ``checking`` (waiting for the PIN check),
    ``menu``, ``envelope``, ``audio``, ``options`` (a message), ``new_pin``,
    ``confirm_pin``, ``saving_pin`` and the greeting steps of
    :mod:`attendant.engine.mailbox_greetings`. ``listing`` holds the ids of the folder being
    listened to, as it was when entered (deleting a message does not renumber them).
    """

    box: str = ""
    number: str = ""
    step: str = "number"
    #: The mailbox number was asked (the caller is not its owner's phone).
    asked_number: bool = False
    #: The PIN was right: the box is open for the rest of the call.
    open: bool = False
    messages: tuple[StoredMessage, ...] = ()
    folder: str = "new"
    listing: tuple[int, ...] = ()
    index: int = 0
    #: The new PIN's first entry, until it is confirmed.
    new_pin: str = field(default="", repr=False)
    #: Prompts replayed for want of a key, in a row.
    quiet: int = 0
    #: Recording a greeting by phone: its kind, and the take's file once recorded.
    greeting_kind: str = ""
    greeting_take: str = ""


#: No recorded greetings (a shared, read-only empty mapping).
NO_GREETINGS: Mapping[str, Mapping[str, str]] = MappingProxyType({})


class CallState(NamedTuple):
    """Everything the engine knows about one call. Immutable; ``step`` returns a new one.

    A NamedTuple rather than a frozen dataclass: ``_replace`` is several times
    faster than ``dataclasses.replace``, and the engine replaces state on every step.
    """

    phase: Phase = Phase.NEW
    attendant: str = ""
    language: str = "en-US"
    flow_label: str = ""
    started: datetime | None = None
    caller: str = ""
    entry: Route | None = None
    menu: str | None = None
    stack: tuple[str, ...] = ()
    buffer: str = ""
    invalid: int = 0
    timeouts: int = 0
    token: int = 0
    playing: int | None = None
    barge_in: bool = True
    timer: str | None = None
    timer_seq: int = 0
    pending: Route | None = None
    candidates: tuple[str, ...] = ()
    dial: DialByName | ExtensionEntry | None = None
    handover: Route | None = None
    failed_transfers: int = 0
    box: str | None = None
    outcome: str = ""
    #: The outcome as a label from a closed set (``outcome`` is its wording).
    ending: Outcome = Outcome.NOT_STARTED
    #: In a queue: music on hold plays (again) whenever a prompt ends.
    queue_music: bool = False
    #: From a trusted source (``CallStarted.trusted``): feature codes need no PIN.
    trusted: bool = False
    #: The overrides staff had set when the call started, by attendant
    #: (``CallStarted.overrides``): a transfer to another attendant obeys its own.
    overrides: Mapping[str, str] = NO_OVERRIDES
    #: The feature code waiting for its PIN, and the wrong PINs entered so far.
    feature: AgentFeature | SetOverride | None = None
    pin_tries: int = 0
    #: In the mailbox menu: the box, its messages and where the owner is.
    mailbox: MailboxSession | None = None
    #: The greetings owners recorded, by box then kind (``CallStarted.greetings``).
    greetings: Mapping[str, Mapping[str, str]] = NO_GREETINGS
    #: Why the last transfer failed (``busy``, ``no_answer``...): a box's busy greeting.
    transfer_reason: str = ""


Result = tuple[CallState, list[act.Action]]


Handler = Callable[[Flow, CallState, Any], Result]


#: Where each field sits in the tuple, for :func:`update`.
_FIELD_INDEX = {name: i for i, name in enumerate(CallState._fields)}


def update(state: CallState, **changes: Any) -> CallState:
    """``state._replace(**changes)``, about twice as fast.

    Replacing the state is the engine's main cost (several times a step), and
    ``_replace`` pops each of the 25 fields from a dict; this copies the tuple into a
    list and sets only the fields that change.
    """
    values = list(state)
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return tuple.__new__(CallState, values)


def initial_state() -> CallState:
    """The state of a call before :class:`CallStarted`."""
    return CallState()
