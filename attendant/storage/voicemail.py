"""The voicemail store: recorded messages on disk, their metadata in SQLite.

Layout under ``root`` (see docs/voicemail-and-logs.md)::

    root/voicemail.sqlite3                          messages + notification outbox (WAL)
    root/messages/<box>/<YYYYmmdd-HHMMSS>-<id>.wav  one file per message (UTC start time)

Life of a message, as ``attendant serve`` drives it:

1. ``RecordVoicemail`` → :meth:`VoicemailStore.plan` gives the message its id and
   path without touching SQLite (the SIP worker calls it: a locked database must not
   hold up every call), and the recorder starts at once. :meth:`register` then
   inserts the row with status ``recording`` on the storage writer's thread,
   retried until the database takes it. A crash before the row exists leaves only
   the WAV: :meth:`recover` adopts such files by their name (the id is in it).
   :meth:`begin` is both steps at once, for callers that may wait.
2. ``#``, the maximum length or the caller hanging up → the adapter destroys the
   pjsua2 recorder, then calls :meth:`finish` (off the pjsip thread: it may block
   for ``settle_timeout`` seconds). ``finish`` waits for the file to stop changing,
   repairs the WAV header if the recorder did not complete it
   (:mod:`attendant.storage.wavfile`), measures the audio and sets status ``new``.
   Nothing is ever discarded: a message shorter than ``min_seconds`` is kept with
   ``flag="short"``; a missing or unreadable file keeps its row with a flag and error.
3. At startup, :meth:`recover` finishes every row a crash left ``recording``.

Ids: the store hands them out itself (the next after the highest in the database or
in a file name under ``messages/``), so that :meth:`plan` needs no database; only
one process records into a data folder (``serve`` keeps a pid file).

Thread safety: one SQLite connection behind a re-entrant lock, so any thread
(pjsip callbacks, the notifier's worker) may call any method. Two ``finish``
calls for the same recording (a ``#`` racing a hang-up) are serialised and
the second returns the first one's result.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attendant.storage._common import (
    StorageError,
    connect,
    iso,
    parse_iso,
    to_utc,
    transaction,
    utc_now,
)
from attendant.storage.wavfile import WavError, header_complete, repair

#: Statuses :meth:`VoicemailStore.mark` may set. ``recording`` is set only by ``begin``.
#: ``deleted`` hides a message from the default listing but keeps its file until the
#: box's retention for deleted messages ends (:meth:`VoicemailStore.purge`).
STATUSES = ("new", "read", "archived", "deleted")
ALL_STATUSES = ("recording", *STATUSES)
#: The folders a mailbox shows its owner (by phone and ``voicemail list --folder``) and
#: the statuses in each: a message heard (``read``) or kept on purpose (``archived``) is
#: saved.
FOLDERS: dict[str, tuple[str, ...]] = {
    "new": ("new",), "saved": ("read", "archived"), "deleted": ("deleted",)}
#: Same rule as voicemail box names in the menu language (schema ``$defs/name``):
#: the name becomes a folder, so no slashes, no leading dot.
BOX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: A message's file name: its UTC start time and its id.
FILE_NAME = re.compile(r"(?P<start>\d{8}-\d{6})-(?P<id>\d{1,18})\.wav")
DB_NAME = "voicemail.sqlite3"
MESSAGES_DIR = "messages"
#: 2 added ``status_at`` (when the message entered its folder, for retention) and
#: ``deleted_from`` (the status an undelete restores).
_SCHEMA_VERSION = 2

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    box        TEXT    NOT NULL,
    caller     TEXT    NOT NULL,
    call_id    TEXT    NOT NULL,
    started_at TEXT    NOT NULL,
    ended_at   TEXT,
    duration   REAL    NOT NULL DEFAULT 0,
    path       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN {ALL_STATUSES!r}),
    reason     TEXT,
    flag       TEXT,
    error      TEXT,
    notified   INTEGER NOT NULL DEFAULT 0,
    status_at  TEXT,
    deleted_from TEXT
);
CREATE INDEX IF NOT EXISTS messages_box_status ON messages (box, status);
"""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long a box keeps saved and deleted messages, in days (None: for ever)."""

    saved_days: int | None = None
    deleted_days: int | None = None


@dataclass(slots=True)
class Purged:
    """What :meth:`VoicemailStore.purge` did."""

    #: Saved messages past their retention, now deleted.
    moved: builtins.list[Message] = field(default_factory=builtins.list)
    #: Deleted messages past their retention, file and row removed.
    removed: builtins.list[Message] = field(default_factory=builtins.list)
    #: Deleted messages whose file could not be removed, and why (they stay deleted).
    failed: builtins.list[tuple[Message, str]] = field(default_factory=builtins.list)


class MessageNotFound(StorageError):
    """No message has this id."""


@dataclass(frozen=True, slots=True)
class Recording:
    """A message being recorded: the recorder writes audio to ``path``."""

    id: int
    box: str
    caller: str
    call_id: str
    started_at: datetime
    path: Path


@dataclass(frozen=True, slots=True)
class Message:
    """One voicemail message as stored.

    ``flag`` is ``None`` for a normal message, else ``short`` (less than the store's
    ``min_seconds`` of audio), ``missing`` (the recorder wrote no file) or
    ``unreadable`` (not a WAV file we could repair; ``error`` says why).
    """

    id: int
    box: str
    caller: str
    call_id: str
    started_at: datetime
    duration: float
    path: Path
    status: str
    notified: bool
    ended_at: datetime | None = None
    reason: str | None = None
    flag: str | None = None
    error: str | None = None
    #: When the message entered its folder (finished, heard, saved or deleted).
    status_at: datetime | None = None
    #: For a deleted message: the status it had (what :meth:`VoicemailStore.undelete`
    #: restores).
    deleted_from: str | None = None

    @property
    def folder(self) -> str:
        """``new``, ``saved`` or ``deleted`` (``recording`` while it is recorded)."""
        return next((f for f, statuses in FOLDERS.items() if self.status in statuses),
                    self.status)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601 UTC, the path as a string)."""
        out = asdict(self)
        out["started_at"] = iso(self.started_at)
        out["ended_at"] = iso(self.ended_at) if self.ended_at else None
        out["status_at"] = iso(self.status_at) if self.status_at else None
        out["folder"] = self.folder
        out["path"] = str(self.path)
        return out


class VoicemailStore:
    """Voicemail messages under ``root``; see the module docstring.

    Args:
        root: data folder; created unless ``create`` is false.
        create: when false, a missing database is a :class:`StorageError` (the CLI
            uses this so a mistyped ``--data`` is reported, not silently created).
        settle_timeout: longest :meth:`finish` waits for the recorder to finalise the file.
        quiet_period: how long a complete file must stay unchanged to count as final.
        min_seconds: messages shorter than this are flagged ``short`` (still kept).
    """

    def __init__(self, root: Path, *, create: bool = True, settle_timeout: float = 2.0,
                 quiet_period: float = 0.25, min_seconds: float = 0.5) -> None:
        self.root = Path(root)
        self.db_path = self.root / DB_NAME
        self.messages_dir = self.root / MESSAGES_DIR
        self.settle_timeout = settle_timeout
        self.quiet_period = quiet_period
        self.min_seconds = min_seconds
        if not create and not self.db_path.is_file():
            raise StorageError(f"no voicemail database at {self.db_path}; point --data (or "
                               "$ATTENDANT_DATA) at the folder attendant serve writes to")
        try:
            self.messages_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {self.messages_dir}: {exc}") from exc
        self._lock = threading.RLock()
        self._finishing: dict[int, threading.Lock] = {}
        self._conn: sqlite3.Connection | None = connect(self.db_path, synchronous="FULL")
        self._migrate()
        #: Never held while SQLite works: plan() and usage() take only this one.
        self._ids_lock = threading.Lock()
        self._next_id = self._first_free_id()
        #: Per box: messages kept (not deleted) and their bytes, for quotas; see usage().
        self._usage: dict[str, tuple[int, int]] = {}
        #: Planned messages not registered yet (id -> box): counted by refresh_usage().
        self._unregistered: dict[int, str] = {}

    # --- plumbing ---------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            conn = self._connection()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise StorageError(f"{self.db_path} was written by a newer attendant (schema "
                                   f"{version}, this one knows {_SCHEMA_VERSION}); upgrade")
            if version == _SCHEMA_VERSION:
                return
            with transaction(conn):
                if version == 1:
                    # Retention starts at the upgrade for messages already filed: none
                    # is purged sooner than its box's retention after it.
                    conn.execute("ALTER TABLE messages ADD COLUMN status_at TEXT")
                    conn.execute("ALTER TABLE messages ADD COLUMN deleted_from TEXT")
                    conn.execute("UPDATE messages SET status_at = ?", (iso(utc_now()),))
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def _first_free_id(self) -> int:
        """One past the highest id the database (deleted rows too) or a file name used."""
        with self._lock:
            conn = self._connection()
            top = conn.execute("SELECT max(id) FROM messages").fetchone()[0] or 0
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'"
                               ).fetchone()
        top = max(top, seq[0] if seq else 0)
        for _, name, _ in self._message_files():
            top = max(top, int(name["id"]))
        return int(top) + 1

    def _message_files(self) -> Iterator[tuple[str, re.Match[str], Path]]:
        """(box, its :data:`FILE_NAME` match, path) of every file under ``messages/``
        named like a message."""
        try:
            folders = [f for f in self.messages_dir.iterdir() if BOX_NAME.fullmatch(f.name)]
        except OSError:
            return
        for folder in folders:
            try:
                paths = list(folder.iterdir())
            except OSError:  # not a folder, or unreadable: nothing of ours in it
                continue
            for path in paths:
                name = FILE_NAME.fullmatch(path.name)
                if name is not None:
                    yield folder.name, name, path

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"the voicemail store at {self.root} is closed")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the store's lock and run one SQLite transaction.

        For :mod:`attendant.ops.notify`, which keeps its outbox in this database; do no
        network I/O inside it.
        """
        with self._lock, transaction(self._connection()) as conn:
            yield conn

    def close(self) -> None:
        """Close the database. Idempotent; later calls to other methods raise."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> VoicemailStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _row(self, message_id: int) -> sqlite3.Row:
        with self._lock:
            row = self._connection().execute("SELECT * FROM messages WHERE id = ?",
                                             (message_id,)).fetchone()
        if row is None:
            raise MessageNotFound(f"no voicemail message with id {message_id}; "
                                  "`attendant voicemail list` shows the ids")
        return row  # type: ignore[no-any-return]

    def _message(self, row: sqlite3.Row) -> Message:
        return Message(
            id=row["id"], box=row["box"], caller=row["caller"], call_id=row["call_id"],
            started_at=parse_iso(row["started_at"]), duration=row["duration"],
            path=self.root / row["path"], status=row["status"], notified=bool(row["notified"]),
            ended_at=parse_iso(row["ended_at"]) if row["ended_at"] else None,
            reason=row["reason"], flag=row["flag"], error=row["error"],
            status_at=parse_iso(row["status_at"]) if row["status_at"] else None,
            deleted_from=row["deleted_from"])

    # --- recording ----------------------------------------------------------------------

    def begin(self, box: str, caller: str, call_id: str,
              started_at: datetime | None = None) -> Recording:
        """Register a message about to be recorded; the recorder writes to ``.path``.

        :meth:`plan` then :meth:`register`: the row exists when this returns.

        Args:
            box: voicemail box key (letters, digits, ``_.-``; it names a folder).
            caller: the caller's number or SIP URI, as shown to the box owners.
            call_id: the call's id, to join with the call log.
            started_at: timezone-aware start time; default now.

        Raises:
            StorageError: a bad box name, a naive ``started_at``, or a disk/database error.
        """
        recording = self.plan(box, caller, call_id, started_at)
        self.register(recording)
        return recording

    def plan(self, box: str, caller: str, call_id: str,
             started_at: datetime | None = None) -> Recording:
        """A new message's id and path, its box folder created; no SQLite is touched.

        Call :meth:`register` (on a thread that may wait) before :meth:`finish`.

        Raises:
            StorageError: a bad box name or caller, a naive ``started_at``, or the box
                folder cannot be created.
        """
        if not isinstance(box, str) or not BOX_NAME.fullmatch(box):
            raise StorageError(f"voicemail box name {box!r} is not valid: use letters, digits, "
                               "'_', '.' and '-', starting with a letter or digit")
        if not isinstance(caller, str) or not isinstance(call_id, str):
            raise StorageError("caller and call_id must be strings")
        start = to_utc(started_at, "started_at") if started_at is not None else utc_now()
        folder = self.messages_dir / box
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create {folder}: {exc}") from exc
        with self._ids_lock:
            message_id, self._next_id = self._next_id, self._next_id + 1
            self._unregistered[message_id] = box
            count, size = self._usage.get(box, (0, 0))
            self._usage[box] = (count + 1, size)
        path = folder / f"{start:%Y%m%d-%H%M%S}-{message_id}.wav"
        return Recording(message_id, box, caller, call_id, start, path)

    def register(self, recording: Recording) -> None:
        """Insert the row of a planned message (status ``recording``); idempotent.

        Raises:
            StorageError: the id is another message's, or a database error.
        """
        rel = recording.path.relative_to(self.root).as_posix()
        try:
            with self.transaction() as conn:
                row = conn.execute("SELECT path FROM messages WHERE id = ?",
                                   (recording.id,)).fetchone()
                if row is not None and row[0] != rel:
                    raise StorageError(f"voicemail id {recording.id} is already "
                                       f"{row[0]}, not {rel}")
                if row is None:
                    conn.execute(
                        "INSERT INTO messages (id, box, caller, call_id, started_at, path, "
                        "status) VALUES (?, ?, ?, ?, ?, ?, 'recording')",
                        (recording.id, recording.box, recording.caller, recording.call_id,
                         iso(recording.started_at), rel))
        except sqlite3.Error as exc:
            raise StorageError(f"cannot register voicemail {recording.id} in "
                               f"{self.db_path}: {exc}") from exc
        with self._ids_lock:
            self._unregistered.pop(recording.id, None)

    # --- quotas -------------------------------------------------------------------------

    def usage(self, box: str) -> tuple[int, int]:
        """Messages ``box`` keeps (all but deleted ones, those being recorded included) and
        their bytes, from memory: no SQLite, so the SIP worker may ask.

        Exact after :meth:`refresh_usage`; between refreshes, messages planned here are
        counted at once and their bytes when finished. Messages another process deletes
        (``attendant voicemail delete``) count until the next refresh.
        """
        with self._ids_lock:
            return self._usage.get(box, (0, 0))

    def refresh_usage(self) -> None:
        """Recount :meth:`usage` from the database and the files' sizes."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT box, path FROM messages WHERE status != 'deleted'").fetchall()
        usage: dict[str, tuple[int, int]] = {}
        for box, rel in rows:
            try:
                size = (self.root / rel).stat().st_size
            except OSError:
                size = 0
            count, total = usage.get(box, (0, 0))
            usage[box] = (count + 1, total + size)
        with self._ids_lock:
            for box in self._unregistered.values():
                count, total = usage.get(box, (0, 0))
                usage[box] = (count + 1, total)
            self._usage = usage

    def _counted(self, box: str, size: int) -> None:
        with self._ids_lock:
            count, total = self._usage.get(box, (0, 0))
            self._usage[box] = (count, total + size)

    def finish(self, recording_id: int, reason: str) -> Message:
        """Finalise a recording: settle, repair, measure, and set status ``new``.

        Call it after destroying the recorder; it blocks up to ``settle_timeout``
        while the recorder finishes writing the header. Calling it again for a
        finished message returns that message unchanged.

        Args:
            recording_id: :attr:`Recording.id`.
            reason: why recording stopped: ``hash``, ``max_length``, ``hangup``,
                ``recorder_stopped``, ``recovered``... (free text, kept in the row).

        Raises:
            MessageNotFound: unknown id.
            StorageError: an empty reason, or a database error.
        """
        return self._finish(recording_id, reason, settle=True)

    def _finish(self, recording_id: int, reason: str, *, settle: bool) -> Message:
        if not isinstance(reason, str) or not reason.strip():
            raise StorageError("finish() needs a reason such as 'hash', 'max_length' or "
                               "'hangup'")
        with self._lock:
            gate = self._finishing.setdefault(recording_id, threading.Lock())
        with gate:
            row = self._row(recording_id)
            if row["status"] != "recording":
                return self._message(row)
            path = self.root / row["path"]
            if settle:
                self._settle(path)
            duration, flag, error = self._measure(path)
            with contextlib.suppress(OSError):
                self._counted(row["box"], path.stat().st_size)
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE messages SET status = 'new', ended_at = ?, status_at = ?, "
                    "duration = ?, reason = ?, flag = ?, error = ? WHERE id = ?",
                    (iso(utc_now()), iso(utc_now()), duration, reason.strip(), flag, error,
                     recording_id))
            message = self._message(self._row(recording_id))
        with self._lock:
            self._finishing.pop(recording_id, None)
        return message

    def _settle(self, path: Path) -> None:
        """Wait until the file is complete and unchanged for ``quiet_period``, or time out."""
        deadline = time.monotonic() + self.settle_timeout
        last: tuple[int, int] | None = None
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            try:
                st = path.stat()
                seen: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
            except FileNotFoundError:
                seen = None
            now = time.monotonic()
            if seen != last:
                last, quiet_since = seen, now
            elif seen is not None and now - quiet_since >= self.quiet_period \
                    and header_complete(path):
                return
            time.sleep(min(0.05, self.quiet_period / 2 or 0.01))

    def _measure(self, path: Path) -> tuple[float, str | None, str | None]:
        if not path.exists():
            return 0.0, "missing", f"the recorder wrote no file at {path}"
        try:
            info = repair(path)
        except WavError as exc:
            return 0.0, "unreadable", str(exc)
        except OSError as exc:
            return 0.0, "unreadable", f"{path}: {exc}"
        flag = "short" if info.duration < self.min_seconds else None
        return info.duration, flag, None

    def recover(self) -> builtins.list[Message]:
        """Finish every message a crash left ``recording``; return them.

        Call once at startup, before taking calls (no recorder can be writing then,
        so there is no settling wait). The caller should notify the box owners of
        the returned messages like any other.
        """
        self._adopt_orphans()
        with self._lock:
            ids = [r[0] for r in self._connection().execute(
                "SELECT id FROM messages WHERE status = 'recording' ORDER BY id")]
        return [self._finish(i, "recovered", settle=False) for i in ids]

    def _adopt_orphans(self) -> None:
        """Give a row to each message file a crash left without one (caller unknown)."""
        with self._lock:
            known = {r[0] for r in self._connection().execute("SELECT id FROM messages")}
        for box, name, path in self._message_files():
            message_id = int(name["id"])
            if message_id in known:
                continue
            try:
                start = datetime.strptime(name["start"], "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                start = utc_now()
            self.register(Recording(message_id, box, "", "", start, path))
            known.add(message_id)

    # --- reading and managing -------------------------------------------------------------

    def get(self, message_id: int) -> Message:
        """The message with this id. Raises :class:`MessageNotFound`."""
        return self._message(self._row(message_id))

    def list(self, box: str | None = None, status: str | None = None,
             folder: str | None = None) -> builtins.list[Message]:
        """Messages, oldest first, optionally for one box, one status and/or one folder
        (:data:`FOLDERS`).

        Without ``status`` or ``folder``, ``deleted`` messages are left out; ask for them
        by name.
        """
        if status is not None and status not in ALL_STATUSES:
            raise StorageError(f"unknown status {status!r}; use one of "
                               f"{', '.join(ALL_STATUSES)}")
        if folder is not None and folder not in FOLDERS:
            raise StorageError(f"unknown folder {folder!r}; use one of {', '.join(FOLDERS)}")
        sql = "SELECT * FROM messages WHERE 1=1"
        args: builtins.list[str] = []
        if box is not None:
            sql += " AND box = ?"
            args.append(box)
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if folder is not None:
            sql += f" AND status IN ({', '.join('?' for _ in FOLDERS[folder])})"
            args.extend(FOLDERS[folder])
        if status is None and folder is None:
            sql += " AND status != 'deleted'"
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY id", args).fetchall()
        return [self._message(r) for r in rows]

    def mark(self, message_id: int, status: str, now: datetime | None = None) -> Message:
        """Set a finished message's status (``new``, ``read``, ``archived``, ``deleted``).

        ``deleted`` keeps the file until :meth:`purge` removes it; :meth:`undelete`
        brings it back. Marking a message with the status it has changes nothing (its
        retention does not start again).
        """
        if status not in STATUSES:
            raise StorageError(f"cannot mark a message {status!r}; use one of "
                               f"{', '.join(STATUSES)}")
        when = iso(to_utc(now, "now") if now is not None else utc_now())
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
            if row is None:
                raise MessageNotFound(f"no voicemail message with id {message_id}")
            if row[0] == "recording":
                raise StorageError(f"message {message_id} is still being recorded")
            if row[0] != status:
                conn.execute(
                    "UPDATE messages SET status = ?, status_at = ?, deleted_from = ? "
                    "WHERE id = ?",
                    (status, when, row[0] if status == "deleted" else None, message_id))
        return self.get(message_id)

    def undelete(self, message_id: int, now: datetime | None = None) -> Message:
        """Bring a deleted message back to the status it was deleted from (``read`` if
        that is unknown). Raises :class:`StorageError` if it is not deleted."""
        message = self.get(message_id)
        if message.status != "deleted":
            raise StorageError(f"message {message_id} is not deleted (it is "
                               f"{message.status}); nothing to undelete")
        back = message.deleted_from if message.deleted_from in STATUSES else "read"
        return self.mark(message_id, back or "read", now)

    def purge(self, retention: Mapping[str, Retention], now: datetime | None = None
              ) -> Purged:
        """Apply each box's retention: saved messages older than ``saved_days`` are
        deleted (kept ``deleted_days`` more, so it can be undone), and deleted messages
        older than ``deleted_days`` lose their file and their row.

        Ages count from when the message entered its folder (``status_at``). Boxes not
        in ``retention`` are left alone. A file that cannot be removed keeps its row and
        is reported in :attr:`Purged.failed`; the others are still purged.
        """
        moment = to_utc(now, "now") if now is not None else utc_now()
        done = Purged()
        for box, rule in retention.items():
            if rule.saved_days is not None:
                cutoff = iso(moment - timedelta(days=rule.saved_days))
                for message in self._older(box, FOLDERS["saved"], cutoff):
                    done.moved.append(self.mark(message.id, "deleted", moment))
            if rule.deleted_days is not None:
                cutoff = iso(moment - timedelta(days=rule.deleted_days))
                for message in self._older(box, FOLDERS["deleted"], cutoff):
                    try:
                        if self._remove(message):
                            done.removed.append(message)
                    except StorageError as exc:
                        done.failed.append((message, str(exc)))
        return done

    def _older(self, box: str, statuses: tuple[str, ...], cutoff: str
               ) -> builtins.list[Message]:
        marks = ", ".join("?" for _ in statuses)
        with self._lock:
            rows = self._connection().execute(
                f"SELECT * FROM messages WHERE box = ? AND status IN ({marks}) "
                "AND COALESCE(status_at, ended_at, started_at) < ? ORDER BY id",
                (box, *statuses, cutoff)).fetchall()
        return [self._message(r) for r in rows]

    def _remove(self, message: Message) -> bool:
        """Forget a deleted message, row and file together: an undelete racing the
        purge wins, and a file that cannot be removed keeps its row."""
        with self.transaction() as conn:
            gone = conn.execute("DELETE FROM messages WHERE id = ? AND status = 'deleted'",
                                (message.id,)).rowcount
            if not gone:
                return False
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                            "AND name = 'outbox'").fetchone():
                conn.execute("DELETE FROM outbox WHERE message_id = ?", (message.id,))
            try:
                message.path.unlink(missing_ok=True)
            except OSError as exc:  # rolls the transaction back
                raise StorageError(f"cannot remove {message.path}: {exc}") from exc
        return True

    def set_notified(self, message_id: int, notified: bool = True) -> None:
        """Record that the box owners were (or were not) told about a message."""
        with self.transaction() as conn:
            conn.execute("UPDATE messages SET notified = ? WHERE id = ?",
                         (int(notified), message_id))

    def export(self, message_id: int, dest_dir: Path) -> Path:
        """Copy a message's WAV to ``dest_dir`` with a ``.json`` sidecar; return the WAV path.

        Files are named ``<box>-<YYYYmmdd-HHMMSS>-<id>.wav/.json``; each is written to a
        temporary name and renamed, so an interrupted export leaves no half file.

        Raises:
            MessageNotFound: unknown id.
            StorageError: still recording, the audio file is missing, or a write error.
        """
        message = self.get(message_id)
        if message.status == "recording":
            raise StorageError(f"message {message_id} is still being recorded; export it "
                               "after it finishes")
        if not message.path.is_file():
            raise StorageError(f"the audio of message {message_id} is missing: "
                               f"{message.path} does not exist")
        dest = Path(dest_dir)
        stem = f"{message.box}-{message.path.stem}"
        wav, sidecar = dest / f"{stem}.wav", dest / f"{stem}.json"
        try:
            dest.mkdir(parents=True, exist_ok=True)
            _atomic_copy(message.path, wav)
            _atomic_write(sidecar, json.dumps(message.as_dict() | {"path": wav.name},
                                              indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise StorageError(f"cannot export message {message_id} to {dest}: {exc}") from exc
        return wav


def _atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(dst.name + ".part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _atomic_write(dst: Path, text: str) -> None:
    tmp = dst.with_name(dst.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, dst)
