"""Helpers shared by the stores: the error type, UTC times, SQLite connections, and the
lock and whole-file replacement of the small JSON files (overrides, mailbox PINs).

Both stores keep one SQLite connection guarded by a lock rather than one
connection per thread: pjsua2 calls back on threads we do not own and never
join, so per-thread connections would leak, and our writes are small enough
that a lock costs nothing measurable.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created 0600) while the block runs: the
    read-modify-write of a small file the CLI and the server both change."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def replace_json(path: Path, doc: object) -> None:
    """Write ``doc`` to ``path`` whole (temporary file 0600, fsync, rename): a crash
    leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(doc, indent=1) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def json_section(text: str, path: Path, key: str, version: int) -> dict[str, Any]:
    """The ``key`` object of a small versioned JSON state file; ValueError naming the
    file (and the line of a syntax error)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise ValueError(f"{path}{f':{line}' if line else ''}: not valid JSON ({exc})"
                         ) from None
    if not isinstance(doc, dict) or doc.get("version") != version or not isinstance(
            doc.get(key), dict):
        raise ValueError(f'{path}: not a file of version {version} (a JSON object with '
                         f'"version": {version} and "{key}")')
    found: dict[str, Any] = doc[key]
    return found
