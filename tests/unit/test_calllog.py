"""The call log: JSON lines flushed per step, a SQLite row per call, concurrent writers."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attendant.config.compiler import load_flow
from attendant.engine import actions as act
from attendant.engine.events import CallStarted, Digit, Hangup, MailboxOpened, PromptFinished
from attendant.engine.machine import step
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase, initial_state
from attendant.storage import CallLog, StorageError, action_name

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def lines_of(path: Path) -> list[dict]:
    # A separate handle, as another process (tail -f, a log shipper) would read it.
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture
def log(tmp_path: Path):
    calllog = CallLog(tmp_path)
    yield calllog
    calllog.close()


def test_each_step_is_on_disk_before_record_step_returns(log: CallLog) -> None:
    log.call_started("c1", caller="+15551234567", called="100", attendant="main", started_at=T0)
    assert lines_of(log.jsonl_path)[0] == {
        "ts": "2026-03-14T09:00:00.000Z", "type": "start", "call_id": "c1",
        "caller": "+15551234567", "called": "100", "attendant": "main"}
    state = CallState(phase=Phase.MENU, attendant="main", menu="welcome", buffer="1",
                      outcome="")
    log.record_step("c1", Digit("1"), state, [act.StopPlayback(), act.StartTimer("digits:3", 2)],
                    at=T0)
    step_line = lines_of(log.jsonl_path)[1]
    assert step_line == {
        "ts": "2026-03-14T09:00:00.000Z", "type": "step", "call_id": "c1", "event": "Digit",
        "detail": "1", "digit": "1", "phase": "menu", "menu": "welcome", "buffer": "1",
        "actions": ["StopPlayback", "StartTimer(digits:3,2s)"], "outcome": ""}


def test_a_real_call_through_the_engine_is_logged_and_summarised(log: CallLog) -> None:
    flow = load_flow(ROOT / "menus" / "small-office.yaml")
    state = initial_state()
    log.call_started("call-42", caller="+15550001111", called="", started_at=T0)
    events = [CallStarted(datetime(2026, 3, 16, 10, 0), caller="+15550001111")]
    for event in events:
        state, actions = step(flow, state, event)
        log.record_step("call-42", event, state, actions)
    play = next(a for a in actions if isinstance(a, act.Play))
    for event in (PromptFinished(play.token), Digit("9"), Hangup()):
        state, actions = step(flow, state, event)
        log.record_step("call-42", event, state, actions)
    log.call_ended("call-42", state.outcome, state.ending)
    lines = lines_of(log.jsonl_path)
    assert [line["type"] for line in lines] == ["start", "step", "step", "step", "step", "end"]
    assert [line.get("event") for line in lines[1:5]] == [
        "CallStarted", "PromptFinished", "Digit", "Hangup"]
    assert lines[1]["actions"][0].startswith("Play(")
    assert lines[-1]["outcome"] == state.outcome
    [record] = log.recent(5)
    assert record.call_id == "call-42"
    assert record.caller == "+15550001111"
    assert record.steps == 4
    assert record.attendant == state.attendant
    assert record.outcome == state.outcome
    assert record.outcome_kind == "caller_hangup"
    assert record.ended_at is not None
    assert record.last_phase == "ended"


def test_sqlite_row_is_readable_by_another_connection_at_once(log: CallLog) -> None:
    log.call_started("c2", caller="+1", called="200", attendant="main", started_at=T0)
    log.record_step("c2", Digit("2"), CallState(phase=Phase.MENU, menu="sales"), [])
    other = sqlite3.connect(log.db_path)
    try:
        row = other.execute("SELECT caller, called, steps, last_menu, ended_at FROM calls "
                            "WHERE call_id = 'c2'").fetchone()
        assert row == ("+1", "200", 1, "sales", None)
        log.call_ended("c2", "voicemail left for sales", Outcome.VOICEMAIL, ended_at=T0)
        row = other.execute("SELECT outcome, outcome_kind, ended_at FROM calls").fetchone()
        assert row == ("voicemail left for sales", "voicemail", "2026-03-14T09:00:00.000Z")
    finally:
        other.close()


def test_concurrent_calls_from_many_threads(log: CallLog) -> None:
    calls, steps = 16, 50

    def one_call(n: int) -> None:
        call_id = f"call-{n}"
        log.call_started(call_id, caller=f"+1{n}")
        for i in range(steps):
            log.record_step(call_id, Digit(str(i % 10)),
                            CallState(phase=Phase.MENU, menu=f"m{n}", buffer=str(i)), [])
        log.call_ended(call_id, "caller hung up in menu m", Outcome.CALLER_HANGUP)

    threads = [threading.Thread(target=one_call, args=(n,)) for n in range(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = lines_of(log.jsonl_path)  # every line parses: none interleaved
    assert len(lines) == calls * (steps + 2)
    for n in range(calls):
        mine = [line for line in lines if line["call_id"] == f"call-{n}"]
        assert [line["type"] for line in mine] == ["start"] + ["step"] * steps + ["end"]
        assert [line["buffer"] for line in mine[1:-1]] == [str(i) for i in range(steps)]
    records = log.recent(100)
    assert len(records) == calls
    assert {r.steps for r in records} == {steps}
    assert {r.outcome_kind for r in records} == {"caller_hangup"}


KILLED_MID_CALL = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from attendant.engine.state import CallState, Phase
from attendant.engine.events import Digit
from attendant.engine.outcomes import Outcome
from attendant.storage import CallLog

T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
log = CallLog(Path(sys.argv[1]), fsync_interval=3600)
log.call_started("open", caller="+1", started_at=T0)
log.record_step("open", Digit("1"), CallState(phase=Phase.MENU, menu="main"), [],
                at=datetime(2026, 3, 14, 9, 1, tzinfo=UTC))
log.call_started("done", caller="+2", started_at=T0)
log.call_ended("done", "queued in sales", Outcome.QUEUED, ended_at=T0)
os.kill(os.getpid(), signal.SIGKILL)  # no close(), no atexit, no flush at exit
"""


def test_recover_closes_calls_a_crash_left_open(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_MID_CALL, str(tmp_path)],
                          timeout=60, check=False, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr

    second = CallLog(tmp_path)
    assert len(lines_of(second.jsonl_path)) == 4  # the lines were flushed before the kill
    assert second.recover() == 1
    records = {r.call_id: r for r in second.recent(10)}
    assert records["open"].ended_at == datetime(2026, 3, 14, 9, 1, tzinfo=UTC)
    assert records["open"].outcome_kind == "failed"
    assert records["open"].outcome.startswith("interrupted")
    assert records["done"].outcome_kind == "queued"
    assert second.recover() == 0
    second.close()


def test_close_is_idempotent_and_later_writes_fail_clearly(tmp_path: Path) -> None:
    log = CallLog(tmp_path)
    log.call_started("c", started_at=T0)
    log.sync()
    log.close()
    log.close()
    assert log.closed
    with pytest.raises(StorageError, match="closed"):
        log.record_step("c", Hangup(), CallState(), [])
    # Reopening appends to the same file.
    with CallLog(tmp_path) as again:
        again.call_ended("c", "disconnected", Outcome.DISCONNECTED, ended_at=T0)
    assert [line["type"] for line in lines_of(tmp_path / "calls.jsonl")] == ["start", "end"]


def test_bad_input(log: CallLog) -> None:
    with pytest.raises(StorageError, match="call_id must be a non-empty string"):
        log.call_started("")
    with pytest.raises(StorageError, match="timezone-aware"):
        log.call_started("c", started_at=datetime(2026, 1, 1))
    with pytest.raises(StorageError, match="limit must be a positive integer"):
        log.recent(0)


def test_action_names_are_short() -> None:
    assert action_name(act.Transfer("user", "alice", "Alice", ("sip:1@x",))) == \
        "Transfer(user:alice)"
    assert action_name(act.EnqueueCall("sales")) == "EnqueueCall(sales)"
    assert action_name(act.RecordVoicemail("sales", 120)) == "RecordVoicemail(sales,120s)"
    assert action_name(act.Disconnect("goodbye")) == "Disconnect(goodbye)"
    assert action_name(act.StopRecording()) == "StopRecording"
    assert action_name(act.CancelTimer("input:1")) == "CancelTimer(input:1)"


def test_deferred_rows_wait_for_flush_and_are_committed_together(tmp_path: Path) -> None:
    deferred = CallLog(tmp_path, defer_rows=True)
    other = sqlite3.connect(deferred.db_path)
    try:
        deferred.call_started("c3", caller="+3", called="200", attendant="main", started_at=T0)
        for key in "123":
            deferred.record_step("c3", Digit(key), CallState(phase=Phase.MENU, menu="sales"), [])
        assert len(lines_of(deferred.jsonl_path)) == 4  # the lines are never deferred
        assert other.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert deferred.flush_rows() == 4
        assert deferred.flush_rows() == 0
        row = other.execute("SELECT caller, steps, last_menu FROM calls").fetchone()
        assert row == ("+3", 3, "sales")
    finally:
        other.close()
        deferred.close()


def test_deferred_rows_wait_for_flush_rows_even_at_the_call_end_and_close_commits_the_rest(
        tmp_path: Path) -> None:
    deferred = CallLog(tmp_path, defer_rows=True)
    deferred.call_started("ended", caller="+4", started_at=T0)
    deferred.record_step("ended", Digit("1"), CallState(phase=Phase.MENU, menu="main"), [])
    deferred.call_ended("ended", "caller hung up in menu main", Outcome.CALLER_HANGUP, ended_at=T0)
    other = sqlite3.connect(deferred.db_path)
    try:
        # The SIP worker's call end does not touch SQLite: the writer thread commits.
        assert other.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert deferred.flush_rows() == 3
        deferred.call_started("open", caller="+5", started_at=T0)
        deferred.record_step("open", Digit("2"), CallState(phase=Phase.MENU, menu="main"), [])
        assert other.execute("SELECT call_id, steps, outcome_kind FROM calls").fetchall() == [
            ("ended", 1, "caller_hangup")]
        deferred.close()
        assert other.execute("SELECT steps FROM calls WHERE call_id = 'open'").fetchone() == (1,)
    finally:
        other.close()


def test_deferred_rows_survive_a_failed_commit_and_go_in_at_the_next(tmp_path: Path) -> None:
    deferred = CallLog(tmp_path, defer_rows=True)
    deferred.call_started("c6", caller="+6", started_at=T0)
    deferred.record_step("c6", Digit("1"), CallState(phase=Phase.MENU, menu="main"), [])
    other = sqlite3.connect(deferred.db_path, isolation_level=None)
    try:
        other.execute("ALTER TABLE calls RENAME TO calls_aside")  # the writes cannot land
        with pytest.raises(StorageError, match="2 row write"):
            deferred.flush_rows()
        other.execute("ALTER TABLE calls_aside RENAME TO calls")
        assert deferred.flush_rows() == 2
        assert other.execute("SELECT steps FROM calls").fetchone() == (1,)
    finally:
        other.close()
        deferred.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_calls_jsonl_rotates_by_size_and_keeps_the_newest_files(tmp_path: Path) -> None:
    clock = Clock()
    calllog = CallLog(tmp_path, rotate_bytes=2000, keep_rotated=2, clock=clock)
    for n in range(40):
        clock.now += 1
        calllog.call_started(f"c{n}", caller="+1555", called="100", started_at=T0)
        calllog.call_ended(f"c{n}", "caller hung up in menu welcome", Outcome.CALLER_HANGUP)
    calllog.close()
    rotated = sorted(tmp_path.glob("calls-*.jsonl"))
    assert len(rotated) == 2
    assert (tmp_path / "calls.jsonl").stat().st_size < 2000 + 400
    # Nothing is split or lost inside the files kept: every line is whole JSON.
    for path in [*rotated, tmp_path / "calls.jsonl"]:
        assert all(isinstance(line, dict) for line in lines_of(path))
    with sqlite3.connect(tmp_path / "calls.sqlite3") as conn:  # the summary keeps every call
        assert conn.execute("SELECT count(*) FROM calls").fetchone()[0] == 40


def test_calls_jsonl_rotates_by_age_across_restarts(tmp_path: Path) -> None:
    clock = Clock()
    calllog = CallLog(tmp_path, rotate_days=1, clock=clock)
    calllog.call_started("old", started_at=T0)
    calllog.close()
    clock.now += 2 * 86400  # a restart two days later: the file was started then
    calllog = CallLog(tmp_path, rotate_days=1, clock=clock)
    calllog.call_started("new", started_at=T0)
    calllog.close()
    rotated = list(tmp_path.glob("calls-*.jsonl"))
    assert len(rotated) == 1
    assert [line["call_id"] for line in lines_of(rotated[0])] == ["old"]
    assert [line["call_id"] for line in lines_of(tmp_path / "calls.jsonl")] == ["new"]


def _locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=1, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a backup or an admin's long query
    return holder


def test_a_call_ending_while_the_database_is_locked_keeps_its_row_for_later(
        tmp_path: Path) -> None:
    calllog = CallLog(tmp_path, defer_rows=True)
    calllog.call_started("c1", caller="+1555", started_at=T0)
    calllog._conn.execute("PRAGMA busy_timeout=50")  # fail fast in the test
    holder = _locked(tmp_path / "calls.sqlite3")
    calllog.call_ended("c1", "caller hung up in menu welcome", Outcome.CALLER_HANGUP, ended_at=T0)
    with pytest.raises(StorageError, match=r"2 row write.*waiting"):
        calllog.flush_rows()
    holder.rollback()
    holder.close()
    assert calllog.flush_rows() == 2  # the start and the end, in order
    calllog.close()
    with sqlite3.connect(tmp_path / "calls.sqlite3") as conn:
        row = conn.execute("SELECT caller, outcome, ended_at FROM calls").fetchone()
    assert row[0] == "+1555"
    assert row[1] == "caller hung up in menu welcome"
    assert row[2] is not None


def test_rows_still_locked_out_at_close_are_spooled_and_replayed_at_the_next_start(
        tmp_path: Path) -> None:
    calllog = CallLog(tmp_path, defer_rows=True)
    calllog._conn.execute("PRAGMA busy_timeout=50")
    holder = _locked(tmp_path / "calls.sqlite3")
    calllog.call_started("c2", caller="+1666", started_at=T0)
    calllog.call_ended("c2", "voicemail left for office", Outcome.VOICEMAIL, ended_at=T0)
    with pytest.raises(StorageError):
        calllog.flush_rows()
    with pytest.raises(StorageError):
        calllog.close()
    holder.rollback()
    holder.close()
    assert (tmp_path / "calls.pending.jsonl").exists()
    with (tmp_path / "calls.pending.jsonl").open("a") as spool:  # a foreign line is skipped
        spool.write('{"op": "DROP TABLE calls"}\n')
    again = CallLog(tmp_path)
    assert again.recover() == 0  # the spooled end closed the row: nothing left open
    again.close()
    assert not (tmp_path / "calls.pending.jsonl").exists()
    with sqlite3.connect(tmp_path / "calls.sqlite3") as conn:
        assert conn.execute("SELECT caller, outcome FROM calls").fetchall() == [
            ("+1666", "voicemail left for office")]


def test_mailbox_pins_typed_by_phone_are_never_written_down(log: CallLog) -> None:
    flow = load_flow(ROOT / "menus" / "northwind-main-line.yaml")
    log.call_started("c-mb", caller="5101", called="staff", started_at=T0)
    state, _ = step(flow, initial_state(),
                    CallStarted(datetime(2026, 12, 8, 10, 0), caller="5101", called="staff"))
    typed = "*98" + "4321#" + "8" + "9753#" + "9753#"
    for key in typed:
        event = MailboxOpened(True) if key == "8" else Digit(key)
        if key == "8":  # the PIN was checked: the mailbox is open, then 8 changes the PIN
            state, actions = step(flow, state, event)
            log.record_step("c-mb", event, state, actions)
            event = Digit("8")
        state, actions = step(flow, state, event)
        log.record_step("c-mb", event, state, actions)
    text = log.jsonl_path.read_text()
    assert "4321" not in text
    assert "9753" not in text
    assert "OpenMailbox(anna)" in text
    assert "SetMailboxPin(anna)" in text
    digits = [line["digit"] for line in lines_of(log.jsonl_path) if line.get("event") == "Digit"]
    assert digits[3:8] == ["x", "x", "x", "x", "#"]  # 4321, then the # that ends it
