"""The storage writer: commits off the calling thread, retries in order, drains on stop."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attendant.engine.events import Digit
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase
from attendant.storage import CallLog
from attendant.storage.writer import StorageWriter

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
BOUND_S = 10.0  # a generous bound for the test machine, never a speed target


def _locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=1, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a backup or an admin's long query
    return holder


def _rows(path: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT call_id, outcome, steps FROM calls ORDER BY call_id"
                            ).fetchall()


@pytest.fixture
def call_log(tmp_path: Path) -> Iterator[CallLog]:
    log = CallLog(tmp_path, defer_rows=True, fsync_interval=None)
    yield log
    if not log.closed:
        log.close()


def _one_call(log: CallLog, call_id: str) -> None:
    log.call_started(call_id, caller="+1555", started_at=T0)
    log.record_step(call_id, Digit("1"), CallState(phase=Phase.MENU, menu="main"), [])
    log.call_ended(call_id, "caller hung up in menu main", Outcome.CALLER_HANGUP, ended_at=T0)


def test_calls_are_logged_without_waiting_while_the_writer_is_stuck_on_a_locked_database(
        call_log: CallLog, tmp_path: Path) -> None:
    holder = _locked(tmp_path / "calls.sqlite3")
    call_log._conn.execute("PRAGMA busy_timeout=60000")  # the writer waits as long as it can
    writer = StorageWriter(call_log, every=0.01)
    writer.start()
    _one_call(call_log, "c1")
    writer.wake()
    # The writer now sits in SQLite's busy wait, holding the database lock ...
    for _ in range(1000):
        if not call_log._db_lock.acquire(blocking=False):
            break
        call_log._db_lock.release()
        threading.Event().wait(0.01)
    else:
        pytest.fail("the writer never started committing")
    # ... and the SIP worker's thread still logs whole calls.
    worker = threading.Thread(target=_one_call, args=(call_log, "c2"))
    worker.start()
    worker.join(BOUND_S)
    assert not worker.is_alive(), "logging a call waited for the locked database"
    assert call_log.pending_rows >= 3  # c2's rows wait in memory
    holder.rollback()
    holder.close()
    assert writer.stop(BOUND_S)
    assert _rows(tmp_path / "calls.sqlite3") == [
        ("c1", "caller hung up in menu main", 1), ("c2", "caller hung up in menu main", 1)]


def test_rows_that_fail_to_commit_are_retried_with_back_off_and_none_is_lost(
        call_log: CallLog, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    call_log._conn.execute("PRAGMA busy_timeout=20")
    holder = _locked(tmp_path / "calls.sqlite3")
    writer = StorageWriter(call_log, every=0.01, backoff=(0.01,))
    with caplog.at_level(logging.WARNING, "attendant.storage.writer"):
        writer.start()
        for n in range(5):
            _one_call(call_log, f"c{n}")
        for _ in range(1000):  # a few failed tries
            if writer._rows.failures >= 3:
                break
            threading.Event().wait(0.01)
        assert writer._rows.failures >= 3
        holder.rollback()
        holder.close()
        assert writer.stop(BOUND_S)
    assert [row[0] for row in _rows(tmp_path / "calls.sqlite3")] == [f"c{n}" for n in range(5)]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "one line for a run of failures, not one per retry"
    assert "calls.sqlite3" in errors[0].getMessage()
    assert any("succeeded after" in r.getMessage() for r in caplog.records)


def test_jobs_run_in_order_and_a_failing_one_holds_back_the_ones_after_it(
        call_log: CallLog) -> None:
    done: list[str] = []
    tries = {"n": 0}

    def flaky() -> None:
        tries["n"] += 1
        if tries["n"] < 3:
            raise sqlite3.OperationalError("database is locked")
        done.append("b")

    writer = StorageWriter(call_log, every=0.01, backoff=(0.01,))
    writer.start()
    writer.submit("job a", lambda: done.append("a"))
    writer.submit("job b", flaky)
    writer.submit("job c", lambda: done.append("c"))
    assert writer.stop(BOUND_S)
    assert done == ["a", "b", "c"]
    assert tries["n"] == 3


def test_stop_reports_and_names_a_job_that_never_succeeds(
        call_log: CallLog, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise OSError(28, "No space left on device")

    writer = StorageWriter(call_log, every=0.01, backoff=(0.01,))
    writer.start()
    writer.submit("registering voicemail 7", broken)
    with caplog.at_level(logging.ERROR, "attendant.storage.writer"):
        assert not writer.stop(0.3)
    assert any("registering voicemail 7" in r.getMessage() for r in caplog.records)
    assert writer.backlog == 0  # given up on, and said so


def test_stop_commits_what_is_left_before_returning(call_log: CallLog, tmp_path: Path) -> None:
    writer = StorageWriter(call_log, every=3600)  # only the stop commits
    writer.start()
    _one_call(call_log, "late")
    assert writer.stop(BOUND_S)
    assert _rows(tmp_path / "calls.sqlite3") == [("late", "caller hung up in menu main", 1)]
