"""Overrides staff set on a line (snow day, fire drill), kept across restarts.

``<data>/overrides.json`` holds one entry per attendant that is overridden now::

    {"version": 1,
     "overrides": {"main": {"name": "closed", "set_at": "2026-12-08T14:02:11+00:00",
                            "until": "2026-12-09T08:00:00+00:00", "by": "cli"}}}

``attendant override set|clear`` and a phone (the ``override`` action, after a PIN) write
it; ``attendant serve`` reads it again whenever it changed, before each call starts, so
a change takes effect on the next call without a reload. Writers hold a lock on
``overrides.lock`` for the read-modify-write and replace the file whole (temporary
file, fsync, rename), so a crash leaves the old file or the new one.

An entry whose ``until`` has passed is no longer active (and is dropped at the next
write). A file that cannot be read, or is not in this form, is an error that names it
and the entry at fault: the CLI refuses to go on, the server logs it once and keeps the
overrides it last read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from attendant.errors import AttendantError
from attendant.storage._common import (
    file_lock,
    iso,
    json_section,
    parse_iso,
    replace_json,
    to_utc,
)
from attendant.storage.control_files import ControlFileError, read_state_file

FILE_NAME = "overrides.json"
LOCK_NAME = "overrides.lock"
VERSION = 1
_FIELDS = ("name", "set_at", "until", "by")


class OverrideFileError(AttendantError):
    """The overrides file cannot be used; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Override:
    """One attendant's override: which flow, since when, until when, set by whom."""

    name: str
    set_at: datetime
    until: datetime | None = None
    #: ``cli``, or ``phone:<user>``.
    by: str = "cli"

    def active(self, now: datetime) -> bool:
        """Still in force at ``now`` (no end, or an end still ahead)."""
        return self.until is None or now < self.until

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "set_at": iso(self.set_at),
                "until": iso(self.until) if self.until else None, "by": self.by}

    def describe(self) -> str:
        """``closed (since 2026-12-08 14:02 UTC, until 2026-12-09 08:00 UTC, by cli)``."""
        until = f", until {self.until:%Y-%m-%d %H:%M %Z}" if self.until else ""
        return f"{self.name} (since {self.set_at:%Y-%m-%d %H:%M %Z}{until}, by {self.by})"


def parse(text: str, path: Path) -> dict[str, Override]:
    """The overrides in a file's text; OverrideFileError naming what is wrong."""
    try:
        entries = json_section(text, path, "overrides", VERSION)
    except ValueError as exc:
        raise OverrideFileError(f"{exc}; fix it, or delete it to clear every override"
                                ) from None
    found: dict[str, Override] = {}
    for attendant, entry in entries.items():
        where = f"{path}: overrides.{attendant}"
        if not isinstance(entry, dict) or set(entry) - set(_FIELDS):
            raise OverrideFileError(f"{where} must be an object with {', '.join(_FIELDS)}")
        name, by = entry.get("name"), entry.get("by", "cli")
        if not isinstance(name, str) or not name or not isinstance(by, str):
            raise OverrideFileError(f"{where}: name and by must be text")
        set_at: datetime | None
        until: datetime | None
        try:
            set_at = parse_iso(str(entry.get("set_at")))
            until = parse_iso(entry["until"]) if entry.get("until") is not None else None
        except (ValueError, TypeError, AttributeError):
            set_at = until = None
        if set_at is None or set_at.tzinfo is None or (until is not None
                                                       and until.tzinfo is None):
            raise OverrideFileError(f"{where}: set_at and until must be ISO 8601 times with "
                                    "a UTC offset (2026-12-08T14:00:00Z)")
        found[attendant] = Override(name, set_at, until, by)
    return found


class OverrideFile:
    """``<data>/overrides.json``: read it (again when it changed), change it under a lock."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock_path = data_dir / LOCK_NAME
        self._seen: tuple[int, int, int] | None = None  # (mtime_ns, size, inode) last read
        self._last: dict[str, Override] = {}

    def read(self) -> dict[str, Override]:
        """Every entry in the file ({} without one); OverrideFileError when it is bad."""
        try:
            text = read_state_file(self.path)
        except ControlFileError as exc:
            raise OverrideFileError(str(exc)) from None
        return parse(text, self.path) if text is not None else {}

    def current(self) -> tuple[dict[str, Override], OverrideFileError | None]:
        """The entries, read again only when the file changed; with a bad file, the entries
        last read and the error (for the caller to log once)."""
        try:
            info = os.stat(self.path)
            seen: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
        except FileNotFoundError:
            seen = None
        except OSError as exc:
            return self._last, OverrideFileError(f"{self.path}: cannot stat it: {exc.strerror}")
        if seen == self._seen:
            return self._last, None
        self._seen = seen
        try:
            self._last = self.read() if seen is not None else {}
        except OverrideFileError as exc:
            return self._last, exc
        return self._last, None

    def active(self, now: datetime) -> dict[str, Override]:
        """The entries still in force at ``now`` (a bad file raises)."""
        return {key: o for key, o in self.read().items() if o.active(now)}

    def set(self, attendant: str, override: Override, now: datetime) -> None:
        """Put ``attendant`` under ``override`` (replacing its earlier one)."""
        with file_lock(self._lock_path):
            entries = self._live(now)
            entries[attendant] = override
            self._write(entries)

    def clear(self, attendant: str, now: datetime) -> Override | None:
        """End ``attendant``'s override; the one that was active, if any."""
        with file_lock(self._lock_path):
            entries = self._live(now)
            was = entries.pop(attendant, None)
            self._write(entries)
        return was

    def _live(self, now: datetime) -> dict[str, Override]:
        now = to_utc(now, "now")
        return {key: o for key, o in self.read().items() if o.active(now)}

    def _write(self, entries: Mapping[str, Override]) -> None:
        doc = {"version": VERSION,
               "overrides": {key: entries[key].to_json() for key in sorted(entries)}}
        replace_json(self.path, doc)
