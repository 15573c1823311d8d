"""The call log: one JSON line per engine step, and one SQLite row per call.

Files under ``root`` (see docs/voicemail-and-logs.md for every field)::

    root/calls.jsonl      append-only; a "start" line, one "step" line per engine step,
                          an "end" line; each line is written and flushed before the
                          method returns, so killing the process loses nothing already
                          logged; fsynced every ``fsync_interval`` seconds and on close;
                          rotated to calls-<UTC time>.jsonl past ``rotate_bytes`` or
                          ``rotate_days`` (its start time in .calls.jsonl.began), the
                          newest ``keep_rotated`` of those kept
    root/calls.sqlite3    table ``calls``: one row per call, inserted on start, updated
                          on every step (count, last menu) and on end (WAL mode); with
                          ``defer_rows`` the start and step updates wait for
                          :meth:`CallLog.flush_rows` (or the call's end) and are committed
                          together, one transaction instead of one per step

The adapter calls :meth:`CallLog.call_started` when it answers,
:meth:`CallLog.record_step` after every ``engine.step`` with the event it fed,
the resulting state and actions, and :meth:`CallLog.call_ended` when the call
is gone. At startup :meth:`CallLog.recover` closes rows a crash left open;
on SIGTERM the shutdown path calls :meth:`CallLog.close` (idempotent).

Thread safety: three locks, so that the thread writing lines never waits on SQLite.
The file lock keeps lines from concurrent calls whole and in order; the rows lock
guards only the list of deferred row writes (held for an append); the database lock
is held while SQLite works, which may be seconds when another process holds the
database (``busy_timeout``). With ``defer_rows``, ``serve``'s SIP worker takes only
the first two, and :class:`attendant.storage.writer.StorageWriter` commits the rows
and fsyncs the file on its own thread. Prefer calling :meth:`close` from the
shutdown path over from inside a signal handler: a handler that interrupts a write
on the same thread can only close the log under it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from attendant.engine import actions as act
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    MailboxOpened,
    PinChecked,
    PromptFinished,
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase
from attendant.storage._common import (
    StorageError,
    connect,
    iso,
    parse_iso,
    to_utc,
    transaction,
    utc_now,
)

log = logging.getLogger("attendant.storage.calllog")

JSONL_NAME = "calls.jsonl"
#: When the current calls.jsonl was started (Unix seconds), for rotation by age.
BEGAN_NAME = ".calls.jsonl.began"
#: calls.jsonl is rotated past this size ...
ROTATE_BYTES = 64 * 1024 * 1024
#: ... or this age (days), ...
ROTATE_DAYS = 7.0
#: ... and this many rotated files are kept (older ones deleted).
KEEP_ROTATED = 8
DB_NAME = "calls.sqlite3"
_SCHEMA_VERSION = 1
#: Deferred row writes kept while SQLite fails (the oldest are dropped past this).
MAX_PENDING_ROWS = 50_000
#: Row writes a failed commit could not keep in memory, replayed by recover().
SPOOL_NAME = "calls.pending.jsonl"
_INSERT_STARTED = (
    "INSERT INTO calls (call_id, caller, called, attendant, started_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET "
    "caller = excluded.caller, called = excluded.called, "
    "attendant = excluded.attendant, started_at = excluded.started_at")
_UPSERT_STEP = (
    "INSERT INTO calls (call_id, caller, attendant, started_at, last_step_at, "
    "steps, last_menu, last_phase, outcome) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) "
    "ON CONFLICT (call_id) DO UPDATE SET steps = steps + 1, "
    "last_step_at = excluded.last_step_at, "
    "last_menu = coalesce(excluded.last_menu, last_menu), "
    "last_phase = excluded.last_phase, "
    "attendant = CASE WHEN excluded.attendant != '' THEN excluded.attendant "
    "ELSE attendant END, "
    "outcome = CASE WHEN ended_at IS NULL THEN excluded.outcome ELSE outcome END")
_UPSERT_ENDED = (
    "INSERT INTO calls (call_id, started_at, ended_at, outcome, outcome_kind) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET "
    "ended_at = excluded.ended_at, outcome = excluded.outcome, "
    "outcome_kind = excluded.outcome_kind")
#: The only statements the spool file may name.
_SPOOLABLE = {"started": _INSERT_STARTED, "step": _UPSERT_STEP, "ended": _UPSERT_ENDED}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id      TEXT PRIMARY KEY,
    caller       TEXT NOT NULL DEFAULT '',
    called       TEXT NOT NULL DEFAULT '',
    attendant    TEXT NOT NULL DEFAULT '',
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    last_step_at TEXT,
    outcome      TEXT NOT NULL DEFAULT '',
    outcome_kind TEXT NOT NULL DEFAULT '',
    steps        INTEGER NOT NULL DEFAULT 0,
    last_menu    TEXT,
    last_phase   TEXT
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);
"""


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as summarised in ``calls.sqlite3``."""

    call_id: str
    caller: str
    called: str
    attendant: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    outcome_kind: str
    steps: int
    last_menu: str | None
    last_phase: str | None


def action_name(action: act.Action) -> str:
    """A short, human-readable name for an action, as written in the log."""
    if isinstance(action, act.Play):
        return f"Play({','.join(s.prompt_id or '-' for s in action.items)})"
    if isinstance(action, act.StartTimer):
        return f"StartTimer({action.name},{action.seconds:g}s)"
    if isinstance(action, act.CancelTimer):
        return f"CancelTimer({action.name})"
    if isinstance(action, act.Transfer):
        return f"Transfer({action.kind}:{action.key})"
    if isinstance(action, act.EnqueueCall):
        return f"EnqueueCall({action.queue})"
    if isinstance(action, act.AgentCommand):
        queue = f",{action.queue}" if action.queue else ""
        return f"AgentCommand({action.user},{action.command}{queue})"
    if isinstance(action, act.RecordVoicemail):
        return f"RecordVoicemail({action.box},{action.max_seconds}s)"
    if isinstance(action, act.Disconnect):
        return f"Disconnect({action.reason})"
    if isinstance(action, act.OpenMailbox):
        return f"OpenMailbox({action.box or '?'})"  # never the digits
    if isinstance(action, act.PlayMessage):
        return f"PlayMessage({action.box},{action.message_id})"
    if isinstance(action, act.MarkMessage):
        return f"MarkMessage({action.message_id},{action.status})"
    if isinstance(action, act.SkipMessage):
        return f"SkipMessage({action.seconds:+g}s)"
    if isinstance(action, act.SetMailboxPin):
        return f"SetMailboxPin({action.box})"  # never the digits
    if isinstance(action, act.RecordGreeting | act.SaveGreeting | act.ClearGreeting):
        return f"{type(action).__name__}({action.box},{action.kind})"
    return type(action).__name__


#: What the log shows for each key of a PIN being entered.
PIN_HIDDEN = "x"


def _typing_pin(state: CallState) -> bool:
    """Whether the keys of this step are (part of) a PIN: a feature code's, a mailbox's,
    or a mailbox's new PIN."""
    if state.phase is Phase.PIN_ENTRY:
        return True
    session = state.mailbox
    return (state.phase is Phase.MAILBOX and session is not None
            and session.step in ("pin", "new_pin", "confirm_pin"))


def _event_detail(event: Event) -> str | None:
    if isinstance(event, Digit):
        return event.key
    if isinstance(event, PinChecked):
        return "right" if event.ok else "wrong"
    if isinstance(event, MailboxOpened):
        return "opened" if event.ok else event.refusal
    if isinstance(event, TimerFired):
        return event.name
    if isinstance(event, PromptFinished):
        return str(event.token)
    if isinstance(event, TransferResult):
        return "answered" if event.answered else (event.reason or "failed")
    if isinstance(event, RecordingFinished):
        return f"{event.seconds:g}s" + (f" ({event.error})" if event.error else "")
    if isinstance(event, CallStarted):
        return event.called or None
    return None


class CallLog:
    """The JSON-lines log and per-call SQLite summary under ``root``.

    Args:
        root: data folder (created if missing).
        fsync_interval: at most this many seconds between fsyncs of ``calls.jsonl``
            while steps are being written (flushes happen on every line regardless);
            ``None``: never on a write, the owner calls :meth:`sync` (``serve``'s
            storage writer does, so the SIP worker never waits for the disk).
        defer_rows: keep the SQLite writes of :meth:`call_started` and
            :meth:`record_step` until :meth:`flush_rows` (or :meth:`call_ended`,
            :meth:`recover`, :meth:`recent`, :meth:`close`), which commits them in one
            transaction, on the thread that calls it; :meth:`call_ended` commits
            nothing either. ``serve`` flushes from its storage writer a few times a
            second. The JSON lines are never deferred.
    """

    def __init__(self, root: Path, *, fsync_interval: float | None = 1.0,
                 defer_rows: bool = False, rotate_bytes: int = ROTATE_BYTES,
                 rotate_days: float = ROTATE_DAYS, keep_rotated: int = KEEP_ROTATED,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.jsonl_path = self.root / JSONL_NAME
        self._began_path = self.root / BEGAN_NAME
        self.db_path = self.root / DB_NAME
        self.spool_path = self.root / SPOOL_NAME
        self.fsync_interval = fsync_interval
        self.rotate_bytes, self.rotate_days = rotate_bytes, rotate_days
        self.keep_rotated = keep_rotated
        self._clock = clock
        self._file_lock = threading.RLock()
        self._rows_lock = threading.Lock()
        self._db_lock = threading.RLock()
        self._file: IO[str] | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot open the call log {self.jsonl_path}: {exc}") from exc
        self._open_jsonl()
        self._conn: sqlite3.Connection | None = connect(self.db_path, synchronous="NORMAL")
        self._conn.executescript(_SCHEMA + f"PRAGMA user_version={_SCHEMA_VERSION};")
        self._last_sync = time.monotonic()
        self.defer_rows = defer_rows
        #: SQLite writes waiting for :meth:`flush_rows`, in order.
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    # --- plumbing -------------------------------------------------------------------

    def _jsonl(self) -> IO[str]:
        if self._file is None:
            raise StorageError(f"the call log at {self.root} is closed")
        return self._file

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"the call log at {self.root} is closed")
        return self._conn

    def _open_jsonl(self) -> None:
        """(Re)open calls.jsonl for appending; learn its size and when it began."""
        try:
            # buffering=1 is line buffering; we still flush explicitly after each line.
            self._file = self.jsonl_path.open("a", encoding="utf-8", buffering=1)
            self._size = os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            raise StorageError(f"cannot open the call log {self.jsonl_path}: {exc}") from exc
        self._began = self._began_at() if self._size else self._new_file_began()

    def _began_at(self) -> float:
        """When the current calls.jsonl was started (a file from before rotation: now)."""
        try:
            return float(self._began_path.read_text().strip())
        except (OSError, ValueError):
            return self._new_file_began()

    def _new_file_began(self) -> float:
        now = self._clock()
        with contextlib.suppress(OSError):  # without it the age restarts with the process
            self._began_path.write_text(f"{now:.0f}\n")
        return now

    def _rotate_if_due(self) -> None:
        too_big = 0 < self.rotate_bytes <= self._size
        too_old = 0 < self.rotate_days * 86400 <= self._clock() - self._began
        if not self._size or not (too_big or too_old):
            return
        file, self._file = self._file, None
        if file is not None:
            file.flush()
            os.fsync(file.fileno())
            file.close()
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.root / f"calls-{stamp}.jsonl"
        serial = 1
        while target.exists():
            serial += 1
            target = self.root / f"calls-{stamp}-{serial}.jsonl"
        try:
            self.jsonl_path.rename(target)
        finally:
            self._open_jsonl()
        for old in self.rotated()[:-self.keep_rotated or None]:
            with contextlib.suppress(OSError):
                old.unlink()

    def rotated(self) -> list[Path]:
        """Rotated call logs, oldest first (their names sort by time)."""
        return sorted(self.root.glob("calls-*.jsonl"))

    def _append(self, record: dict[str, Any]) -> None:
        """Write one line and flush it to the OS; fsync when the interval has passed."""
        self._jsonl()
        self._rotate_if_due()
        file = self._jsonl()
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        file.write(line)
        file.flush()
        self._size += len(line.encode("utf-8"))
        if self.fsync_interval is not None \
                and time.monotonic() - self._last_sync >= self.fsync_interval:
            os.fsync(file.fileno())
            self._last_sync = time.monotonic()

    def _write_row(self, sql: str, params: tuple[Any, ...]) -> None:
        """Keep one row write for :meth:`flush_rows` (``defer_rows``), or commit it now."""
        with self._rows_lock:
            self._pending.append((sql, params))
        if not self.defer_rows:
            self._commit_pending()

    def _commit_pending(self) -> None:
        """Commit the kept row writes in one transaction (the database lock is taken)."""
        with self._db_lock:
            conn = self._db()
            with self._rows_lock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            try:
                with transaction(conn):
                    for sql, params in pending:
                        conn.execute(sql, params)
            except sqlite3.Error as exc:
                # Kept for the next try (a lock is released, a full disk clears); past the
                # bound the oldest go to the spool file recover() replays: none is lost.
                with self._rows_lock:
                    self._pending = pending + self._pending
                    overflow = self._pending[:max(0, len(self._pending) - MAX_PENDING_ROWS)]
                    del self._pending[:len(overflow)]
                    waiting = len(self._pending)
                if overflow:
                    self._spool(overflow)
                raise StorageError(f"cannot update {self.db_path} ({waiting} row write(s) "
                                   f"waiting; calls.jsonl has them): {exc}") from exc

    def _spool(self, rows: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Append row writes to the spool file (named statements only, never SQL text)."""
        names = {sql: name for name, sql in _SPOOLABLE.items()}
        with self.spool_path.open("a", encoding="utf-8") as file:
            for sql, params in rows:
                file.write(json.dumps({"op": names[sql], "params": list(params)}) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def _replay_spool(self, conn: sqlite3.Connection) -> int:
        """Apply the row writes a failed commit spooled; remove the file once applied."""
        try:
            lines = self.spool_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise StorageError(f"cannot read {self.spool_path}: {exc}") from exc
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                rows.append((_SPOOLABLE[entry["op"]], tuple(entry["params"])))
            except (ValueError, KeyError, TypeError):
                # A torn last line (a crash mid-write) or a foreign edit: skip, say where.
                log.warning("%s:%d: not a spooled row write, skipped", self.spool_path, number)
        with transaction(conn):
            for sql, params in rows:
                conn.execute(sql, params)
        self.spool_path.unlink()
        return len(rows)

    @property
    def pending_rows(self) -> int:
        """Row writes waiting for a commit (deferred, or kept after a failed one)."""
        return len(self._pending)

    def flush_rows(self) -> int:
        """Commit the deferred row writes in one transaction; return how many there were.

        Raises:
            StorageError: the commit failed; the writes are kept for the next call.
        """
        with self._db_lock:
            count = len(self._pending)
            if count:
                self._commit_pending()
            return count

    @staticmethod
    def _check_id(call_id: str) -> None:
        if not isinstance(call_id, str) or not call_id:
            raise StorageError(f"call_id must be a non-empty string, not {call_id!r}")

    def sync(self) -> None:
        """fsync ``calls.jsonl`` now (``serve`` may call this from a periodic timer)."""
        with self._file_lock:
            file = self._jsonl()
            file.flush()
            os.fsync(file.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close both files. Idempotent; safe on the SIGTERM path."""
        with self._file_lock, self._db_lock:  # the order every path takes them in
            try:
                if self._conn is not None:
                    self._commit_pending()
            except StorageError:
                with self._rows_lock:
                    rest, self._pending = self._pending, []
                self._spool(rest)  # replayed by the next start's recover()
                raise
            finally:
                self._close_files()

    def _close_files(self) -> None:
        with self._file_lock, self._db_lock:
            file, conn = self._file, self._conn
            self._file = self._conn = None
            if file is not None:
                try:
                    file.flush()
                    os.fsync(file.fileno())
                finally:
                    file.close()
            if conn is not None:
                conn.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._file is None

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------

    def call_started(self, call_id: str, caller: str = "", called: str = "",
                     attendant: str = "", started_at: datetime | None = None,
                     trunk: str = "") -> None:
        """Log a call being answered and create its row; ``trunk``: the trunk it came in
        on (in the log line only when there is one).

        Raises:
            StorageError: empty ``call_id``, naive ``started_at``, or the log is closed.
        """
        self._check_id(call_id)
        at = to_utc(started_at, "started_at") if started_at is not None else utc_now()
        with self._file_lock:
            line = {"ts": iso(at), "type": "start", "call_id": call_id,
                    "caller": caller, "called": called, "attendant": attendant}
            if trunk:
                line["trunk"] = trunk
            self._append(line)
            self._write_row(_INSERT_STARTED, (call_id, caller, called, attendant, iso(at)))

    def record_step(self, call_id: str, event: Event, state: CallState,
                    actions: Sequence[act.Action], at: datetime | None = None) -> None:
        """Log one engine step: the event fed, the state and actions ``step`` returned.

        The line is flushed before this returns. A step for a call never started
        still gets a row (so nothing is dropped when an adapter forgets).
        """
        self._check_id(call_id)
        when = to_utc(at, "at") if at is not None else utc_now()
        detail, digit, buffer = (_event_detail(event),
                                 event.key if isinstance(event, Digit) else None, state.buffer)
        if _typing_pin(state):  # a PIN being typed is never written down
            detail, digit, buffer = (PIN_HIDDEN if digit else detail, digit and PIN_HIDDEN,
                                     PIN_HIDDEN * len(buffer))
        record = {
            "ts": iso(when), "type": "step", "call_id": call_id,
            "event": type(event).__name__, "detail": detail, "digit": digit,
            "phase": state.phase.value, "menu": state.menu, "buffer": buffer,
            "actions": [action_name(a) for a in actions], "outcome": state.outcome,
        }
        if isinstance(event, CallStarted) and state.attendant in event.overrides:
            # The flow staff switched the line to.
            record["override"] = event.overrides[state.attendant]
        with self._file_lock:
            self._append(record)
            self._write_row(_UPSERT_STEP, (
                call_id, state.caller, state.attendant, iso(when), iso(when), state.menu,
                state.phase.value, state.outcome))

    def queue_event(self, queue: str, call_id: str, agent: str, message: str) -> None:
        """Log a line of the queue core (a caller joins, an agent answers, signs out...).

        ``call_id`` is "" for agent events; the line has ``"type": "queue"``.
        """
        with self._file_lock:
            self._append({"ts": iso(utc_now()), "type": "queue", "queue": queue,
                          "call_id": call_id, "agent": agent, "message": message})

    def call_ended(self, call_id: str, outcome: str, kind: Outcome,
                   ended_at: datetime | None = None) -> None:
        """Log the end of a call and close its row: ``outcome`` is the wording
        (``CallState.outcome``), ``kind`` the label (``CallState.ending``)."""
        self._check_id(call_id)
        at = to_utc(ended_at, "ended_at") if ended_at is not None else utc_now()
        label = Outcome(kind).value
        with self._file_lock:
            self._append({"ts": iso(at), "type": "end", "call_id": call_id,
                          "outcome": outcome, "outcome_kind": label})
            # After its start and steps; kept for a retry if the commit fails.
            self._write_row(_UPSERT_ENDED, (call_id, iso(at), iso(at), outcome, label))

    def recover(self, outcome: str = "interrupted: attendant stopped during the call") -> int:
        """Close rows a crash left open (no ``ended_at``); return how many.

        Call at startup, before taking calls. The end time is the call's last step.
        """
        with self._db_lock:
            conn = self._db()
            replayed = self._replay_spool(conn)
            if replayed:
                log.info("call log: %d row write(s) from %s applied", replayed, SPOOL_NAME)
            self._commit_pending()
            with transaction(conn):
                cur = conn.execute(
                    "UPDATE calls SET ended_at = coalesce(last_step_at, started_at), "
                    "outcome = ?, outcome_kind = ? WHERE ended_at IS NULL",
                    (outcome, Outcome.FAILED.value))
            return cur.rowcount

    # --- reading --------------------------------------------------------------------

    def recent(self, limit: int = 20) -> list[CallRecord]:
        """The ``limit`` most recently started calls, newest first."""
        if not isinstance(limit, int) or limit < 1:
            raise StorageError(f"limit must be a positive integer, not {limit!r}")
        with self._db_lock:
            self._commit_pending()
            rows = self._db().execute("SELECT * FROM calls ORDER BY started_at DESC, rowid DESC "
                                "LIMIT ?", (limit,)).fetchall()
        return [CallRecord(
            call_id=r["call_id"], caller=r["caller"], called=r["called"],
            attendant=r["attendant"], started_at=parse_iso(r["started_at"]),
            ended_at=parse_iso(r["ended_at"]) if r["ended_at"] else None,
            outcome=r["outcome"], outcome_kind=r["outcome_kind"], steps=r["steps"],
            last_menu=r["last_menu"], last_phase=r["last_phase"]) for r in rows]
