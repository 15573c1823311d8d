"""Mailbox PINs: who may listen to a voicemail box by phone, kept as scrypt hashes.

A mailbox's PIN changes by phone and by ``attendant voicemail pin``, so it lives in the
data folder, not in the menus: ``<data>/mailbox-pins.json``, mode 0600, replaced whole
under a lock (``mailbox-pins.lock``) like the overrides file::

    {"version": 1, "pins": {"ann": {"hash": "scrypt$16384$8$1$...", "set_at": "...Z",
                                     "by": "cli"}}}

Only the hash is stored (:mod:`attendant.pins`: scrypt, checked in constant time). A
file that cannot be read is an error naming it; nothing here logs a PIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from attendant.errors import AttendantError
from attendant.pins import hash_pin, hash_problem, verify_pin
from attendant.storage._common import file_lock, iso, json_section, parse_iso, replace_json
from attendant.storage.control_files import ControlFileError, read_state_file

FILE_NAME = "mailbox-pins.json"
LOCK_NAME = "mailbox-pins.lock"
VERSION = 1


class MailboxPinError(AttendantError):
    """The PIN file cannot be used; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class MailboxPin:
    """A box's PIN hash, when it was set and by whom (``cli``, ``phone``)."""

    hash: str
    set_at: datetime
    by: str = "cli"


def parse(text: str, path: Path) -> dict[str, MailboxPin]:
    """The PINs of a file's text; MailboxPinError saying what is wrong with it."""
    try:
        entries = json_section(text, path, "pins", VERSION)
    except ValueError as exc:
        raise MailboxPinError(str(exc)) from None
    found: dict[str, MailboxPin] = {}
    for box, entry in entries.items():
        where = f"{path}: pins.{box}"
        if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
            raise MailboxPinError(f"{where} must be an object with a hash")
        problem = hash_problem(entry["hash"])
        if problem is not None:
            raise MailboxPinError(f"{where}.hash: {problem}; set the PIN again with "
                                  f"attendant voicemail pin {box}")
        try:
            set_at = parse_iso(str(entry.get("set_at")))
        except ValueError:
            raise MailboxPinError(f"{where}.set_at is not an ISO 8601 time") from None
        found[box] = MailboxPin(entry["hash"], set_at, str(entry.get("by", "cli")))
    return found


class MailboxPins:
    """``<data>/mailbox-pins.json``: read, check, set and clear mailbox PINs."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock_path = data_dir / LOCK_NAME

    def read(self) -> dict[str, MailboxPin]:
        """Every box's PIN ({} without a file); MailboxPinError when the file is bad."""
        try:
            text = read_state_file(self.path)
        except ControlFileError as exc:
            raise MailboxPinError(str(exc)) from None
        return parse(text, self.path) if text is not None else {}

    def has_pin(self, box: str) -> bool:
        return box in self.read()

    def check(self, box: str, pin: str) -> bool:
        """Whether ``pin`` is ``box``'s PIN (False for a box without one). Costs tens of
        milliseconds on purpose: call it off the SIP thread."""
        found = self.read().get(box)
        return found is not None and verify_pin(found.hash, pin)

    def set(self, box: str, pin: str, now: datetime, by: str = "cli") -> None:
        """Make ``pin`` (4-12 digits, else PinError) ``box``'s PIN."""
        entry = MailboxPin(hash_pin(pin), now, by)
        with file_lock(self._lock_path):
            pins = self.read()
            pins[box] = entry
            self._write(pins)

    def clear(self, box: str) -> bool:
        """Forget ``box``'s PIN; whether it had one."""
        with file_lock(self._lock_path):
            pins = self.read()
            had = pins.pop(box, None) is not None
            self._write(pins)
        return had

    def _write(self, pins: dict[str, MailboxPin]) -> None:
        doc: dict[str, Any] = {"version": VERSION, "pins": {
            box: {"hash": p.hash, "set_at": iso(p.set_at), "by": p.by}
            for box, p in sorted(pins.items())}}
        replace_json(self.path, doc)
