"""Mailboxes for the simulator: each box's PIN and messages, as a scenario gives them.

``attendant serve`` keeps PINs in ``mailbox-pins.json`` and messages in the voicemail
store; a scenario writes them down instead::

    mailboxes:
      ann:
        pin: "1234"
        messages:
          - {from: "+15551230001", at: 2026-12-07T15:42, seconds: 12}
          - {from: "+15551230002", at: 2026-12-06T09:05, seconds: 31, status: read}

``greetings: [busy, name]`` lists the greetings the owner recorded (their files are
named as ``serve`` keeps them). ``at`` is the attendant's local time (or carries an
offset); ``status`` is ``new``
(default), ``read``, ``archived`` or ``deleted``. Ids are 1, 2, ... in the order written.
The simulator answers the engine's mailbox actions from these and changes them as the
caller saves, deletes and changes the PIN, like the real store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from attendant.engine import actions as act
from attendant.engine.events import MailboxOpened, StoredMessage
from attendant.errors import ScenarioError
from attendant.pins import PinError, check_digits
from attendant.storage.greetings import KINDS

STATUSES = ("new", "read", "archived", "deleted")


@dataclass
class SimMailbox:
    """One box in a simulation: its PIN (None: not set) and its messages."""

    pin: str | None = None
    messages: list[StoredMessage] = field(default_factory=list)
    #: Kinds of greeting the owner recorded (unavailable, busy, temporary, name).
    greetings: tuple[str, ...] = ()

    def counts(self) -> str:
        new = sum(m.folder == "new" for m in self.messages)
        saved = sum(m.folder == "saved" for m in self.messages)
        return f"{new} new, {saved} saved"


def parse_mailboxes(raw: Any, where: Callable[..., str],
                    local: Callable[[datetime], datetime]) -> dict[str, SimMailbox]:
    """A scenario's ``mailboxes:``; ``local`` makes a written time the attendant's."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where()}: mailboxes: maps voicemail box names to "
                            "{pin: ..., messages: [...]}")
    boxes: dict[str, SimMailbox] = {}
    next_id = 1
    for name, spec in raw.items():
        if not isinstance(spec, dict) or set(spec) - {"pin", "messages", "greetings"}:
            raise ScenarioError(f"{where(name)}: a mailbox has pin:, messages: and greetings:")
        greetings = spec.get("greetings") or []
        if not isinstance(greetings, list) or set(map(str, greetings)) - set(KINDS):
            raise ScenarioError(f'{where(name, "greetings")}: greetings: lists the kinds the '
                                f"owner recorded: {', '.join(KINDS)}")
        pin = None if spec.get("pin") is None else str(spec["pin"])
        if pin is not None:
            try:
                check_digits(pin)
            except PinError as exc:
                raise ScenarioError(f'{where(name, "pin")}: {exc} (quote it: "0123")') from None
        messages = []
        for i, item in enumerate(spec.get("messages") or []):
            here = where(name, "messages", i)
            if not isinstance(item, dict) or "at" not in item or set(item) - {
                    "from", "at", "seconds", "status"}:
                raise ScenarioError(f"{here}: a message has at: and may have from:, "
                                    "seconds:, status:")
            status = str(item.get("status", "new"))
            if status not in STATUSES:
                raise ScenarioError(f'{here}: status "{status}" is not one of '
                                    f"{', '.join(STATUSES)}")
            seconds = item.get("seconds", 10)
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
                raise ScenarioError(f"{here}: seconds: takes the message's length in seconds")
            try:
                when = datetime.fromisoformat(str(item["at"]))
            except ValueError:
                raise ScenarioError(f'{here}: "{item["at"]}" is not a date and time; write '
                                    "it like 2026-12-07T15:42") from None
            messages.append(StoredMessage(next_id, status, local(when),
                                          str(item.get("from") or ""), float(seconds)))
            next_id += 1
        boxes[str(name)] = SimMailbox(pin, messages, tuple(map(str, greetings)))
    return boxes


def greeting_files(boxes: dict[str, SimMailbox]) -> dict[str, dict[str, str]]:
    """``CallStarted.greetings`` for these boxes: where ``serve`` would keep each file."""
    return {name: {kind: f"greetings/{name}/{kind}.wav" for kind in box.greetings}
            for name, box in boxes.items() if box.greetings}


def open_mailbox(boxes: dict[str, SimMailbox], known: bool,
                 action: act.OpenMailbox) -> tuple[MailboxOpened, str]:
    """The answer to ``OpenMailbox`` and how the transcript words it; ``known``: the
    flow has the box."""
    box = boxes.get(action.box) if known and action.box else None
    label = f"mailbox {action.box or action.number or '?'}"
    if known and action.box and (box is None or box.pin is None):
        return MailboxOpened(False, refusal="no_pin"), f"{label}: no PIN set"
    if box is None or box.pin != action.digits:
        return MailboxOpened(False, refusal="wrong"), f"PIN for {label}: wrong"
    return (MailboxOpened(True, tuple(box.messages)),
            f"PIN for {label}: right ({box.counts()})")


def mark(boxes: dict[str, SimMailbox], box: str, action: act.MarkMessage) -> str:
    """File a message as the store would; the transcript line."""
    found = boxes.get(box)
    for i, message in enumerate(found.messages if found else []):
        if message.id == action.message_id:
            assert found is not None
            changed = found.messages[i] = message.filed(action.status)
            return f"message {message.id} is now {changed.status}"
    return f"message {action.message_id}: not in mailbox {box}"
