"""Helpers shared by the stores: the error type, UTC times and SQLite connections.

Both stores keep one SQLite connection guarded by a lock rather than one
connection per thread: pjsua2 calls back on threads we do not own and never
join, so per-thread connections would leak, and our writes are small enough
that a lock costs nothing measurable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from attendant.errors import AttendantError


class StorageError(AttendantError):
    """A voicemail or call-log operation cannot be carried out; the message says why."""


def printable(text: str) -> str:
    """``text`` with every character a terminal or a log reader could act on written as
    a Python escape: control characters (ESC, CR, LF...), bidi overrides, zero-width
    marks. Caller-supplied text goes through this before it is logged, stored or shown.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime, what: str) -> datetime:
    """``value`` in UTC; naive times are refused because their zone would be a guess."""
    if not isinstance(value, datetime):
        raise StorageError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(f"{what} must be timezone-aware (got naive {value.isoformat()}); "
                           "pass datetime.now(UTC) or attach the attendant's zone")
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix and millisecond precision."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """The inverse of :func:`iso`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def connect(path: Path, *, synchronous: str) -> sqlite3.Connection:
    """Open ``path`` in WAL mode, shareable between threads under the caller's lock.

    WAL lets ``attendant voicemail list`` read while ``attendant serve`` writes;
    ``busy_timeout`` makes a second process wait for a lock instead of failing.
    """
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back if the block raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
