"""The voicemail store on real SQLite and real WAV files (written with the wave module)."""

from __future__ import annotations

import json
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest

from attendant.storage import MessageNotFound, Recording, StorageError, VoicemailStore
from attendant.storage.wavfile import WavError, header_complete, inspect, repair

RATE = 8000
START = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def pcm(seconds: float) -> bytes:
    """16-bit mono samples: a ramp, so every byte of audio is distinguishable."""
    frames = round(seconds * RATE)
    return b"".join(struct.pack("<h", (i * 37) % 20000 - 10000) for i in range(frames))


def write_wav(path: Path, seconds: float) -> bytes:
    audio = pcm(seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(audio)
    return audio


def break_header(path: Path, riff: int = 0, data: int = 0) -> None:
    """What pjmedia leaves when the recorder is never destroyed: sizes still 0."""
    with path.open("r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", riff))
        f.seek(40)
        f.write(struct.pack("<I", data))


def read_back(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path), "rb") as w:
        return w.getnframes(), w.readframes(w.getnframes())


@pytest.fixture
def store(tmp_path: Path):
    s = VoicemailStore(tmp_path / "data", settle_timeout=0.3, quiet_period=0.05)
    yield s
    s.close()


# --- the WAV header repair itself -------------------------------------------------------


@pytest.mark.parametrize(("riff", "data"), [(0, 0), (0xFFFFFFFF, 0xFFFFFFFF), (36, 0),
                                             (123456789, 987654321)])
def test_repair_fixes_zero_or_wrong_sizes(tmp_path: Path, riff: int, data: int) -> None:
    path = tmp_path / "m.wav"
    audio = write_wav(path, 1.5)
    break_header(path, riff, data)
    assert struct.unpack_from("<I", path.read_bytes(), 40)[0] != len(audio)
    assert not header_complete(path)
    info = repair(path)
    assert not info.needs_repair
    assert info.duration == pytest.approx(1.5)
    assert read_back(path) == (12000, audio)
    assert struct.unpack_from("<I", path.read_bytes(), 4)[0] == path.stat().st_size - 8


def test_repair_of_a_file_cut_short_keeps_every_whole_frame(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    audio = write_wav(path, 1.0)
    with path.open("r+b") as f:  # the disk filled: the header claims more than is there
        f.truncate(44 + 5001)
    info = repair(path)
    assert info.data_size == 5000  # the odd byte is a half sample: left after the data
    assert path.stat().st_size == 44 + 5001  # nothing cut off the file
    assert read_back(path) == (2500, audio[:5000])


def test_a_complete_file_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "ok.wav"
    write_wav(path, 0.25)
    before = path.stat().st_mtime_ns
    time.sleep(0.01)
    assert repair(path).data_size == 4000
    assert path.stat().st_mtime_ns == before


def test_a_chunk_after_the_data_is_not_mistaken_for_audio(tmp_path: Path) -> None:
    path = tmp_path / "list.wav"
    write_wav(path, 0.5)
    trailer = b"LIST" + struct.pack("<I", 4) + b"INFO"
    with path.open("ab") as f:
        f.write(trailer)
    break_header(path, riff=path.stat().st_size - 8, data=8000)
    assert not inspect(path).needs_repair
    assert inspect(path).data_size == 8000


@pytest.mark.parametrize(("content", "message"), [
    (b"", "not a RIFF/WAVE file"),
    (b"ID3\x03 this is an mp3", "not a RIFF/WAVE file"),
    (b"RIFF\x00\x00\x00\x00WAVE", "no 'fmt ' chunk"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "'fmt ' chunk at byte 12"),
])
def test_unrepairable_files_say_why(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(WavError, match=message):
        repair(path)
    assert path.read_bytes() == content


# --- the store --------------------------------------------------------------------------


def test_plan_gives_an_id_and_path_without_waiting_for_a_locked_database(
        store: VoicemailStore) -> None:
    holder = sqlite3.connect(store.db_path, timeout=1, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a backup holds the database for a long time
    planned: list[Recording] = []
    try:
        worker = threading.Thread(target=lambda: planned.extend(
            [store.plan("sales", "+1555", "call-p1", START),
             store.plan("sales", "+1556", "call-p2", START)]))
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "plan() waited for SQLite"
    finally:
        holder.rollback()
        holder.close()
    first, second = planned
    assert second.id == first.id + 1
    assert first.path == store.root / "messages" / "sales" / f"20260314-092653-{first.id}.wav"
    write_wav(first.path, 1.0)
    store.register(first)
    store.register(first)  # idempotent: a retry after a lost answer changes nothing
    assert store.finish(first.id, "hash").duration == pytest.approx(1.0)


def test_a_message_whose_row_was_never_written_is_adopted_at_the_next_start(
        tmp_path: Path) -> None:
    store = VoicemailStore(tmp_path)
    kept = store.begin("sales", "+1", "c1", START)
    write_wav(kept.path, 1.0)
    store.finish(kept.id, "hash")
    lost = store.plan("support", "+2", "c2", START)  # the crash came before register()
    write_wav(lost.path, 1.5)
    store.close()
    again = VoicemailStore(tmp_path)
    try:
        recovered = again.recover()
        assert [(m.id, m.box, m.reason, m.status) for m in recovered] == [
            (lost.id, "support", "recovered", "new")]
        assert recovered[0].duration == pytest.approx(1.5)
        assert recovered[0].started_at == START.replace(microsecond=0)
        assert again.plan("sales", "+3", "c3", START).id == lost.id + 1  # never reused
    finally:
        again.close()


def test_ids_are_not_reused_after_a_file_outlived_its_row(tmp_path: Path) -> None:
    store = VoicemailStore(tmp_path)
    folder = tmp_path / "messages" / "sales"
    folder.mkdir(parents=True)
    write_wav(folder / "20260314-092653-41.wav", 0.5)
    store.close()
    with VoicemailStore(tmp_path) as again:
        assert again.plan("sales", "+1", "c", START).id == 42


def test_begin_then_finish_a_normal_recording(store: VoicemailStore) -> None:
    rec = store.begin("sales", "+15551234567", "call-1", START)
    assert rec.path == store.root / "messages" / "sales" / f"20260314-092653-{rec.id}.wav"
    assert store.get(rec.id).status == "recording"
    write_wav(rec.path, 2.0)
    msg = store.finish(rec.id, "hash")
    assert (msg.status, msg.flag, msg.reason, msg.notified) == ("new", None, "hash", False)
    assert msg.duration == pytest.approx(2.0)
    assert (msg.box, msg.caller, msg.call_id, msg.started_at) == (
        "sales", "+15551234567", "call-1", START)
    assert msg.ended_at is not None
    assert store.finish(rec.id, "hangup") == msg  # a second finish (a # racing a hang-up)


def test_finish_repairs_a_header_the_recorder_never_completed(store: VoicemailStore) -> None:
    rec = store.begin("sales", "+1555", "call-2", START)
    audio = write_wav(rec.path, 3.0)
    break_header(rec.path)
    msg = store.finish(rec.id, "hangup")
    assert msg.duration == pytest.approx(3.0)
    assert msg.flag is None
    assert read_back(rec.path) == (24000, audio)


def test_finish_waits_for_the_recorder_to_write_its_header(tmp_path: Path) -> None:
    store = VoicemailStore(tmp_path, settle_timeout=10.0, quiet_period=0.05)
    rec = store.begin("sales", "+1555", "call-3", START)
    write_wav(rec.path, 1.0)
    break_header(rec.path)

    def recorder_destroyed_a_moment_later() -> None:
        time.sleep(0.3)
        break_header(rec.path, riff=rec.path.stat().st_size - 8, data=16000)

    writer = threading.Thread(target=recorder_destroyed_a_moment_later)
    writer.start()
    msg = store.finish(rec.id, "hash")
    writer.join()
    assert msg.duration == pytest.approx(1.0)
    assert header_complete(rec.path)
    store.close()


def test_a_very_short_message_is_kept_but_flagged(store: VoicemailStore) -> None:
    rec = store.begin("sales", "+1555", "call-4", START)
    write_wav(rec.path, 0.2)
    msg = store.finish(rec.id, "hangup")
    assert (msg.status, msg.flag) == ("new", "short")
    assert msg.duration == pytest.approx(0.2)
    assert rec.path.is_file()


def test_missing_and_unreadable_files_keep_their_rows(store: VoicemailStore) -> None:
    missing = store.finish(store.begin("sales", "a", "c1", START).id, "hangup")
    assert (missing.status, missing.flag, missing.duration) == ("new", "missing", 0.0)
    assert "no file" in (missing.error or "")
    rec = store.begin("sales", "b", "c2", START)
    rec.path.write_bytes(b"garbage that is not audio")
    bad = store.finish(rec.id, "hangup")
    assert (bad.status, bad.flag) == ("new", "unreadable")
    assert "not a RIFF/WAVE file" in (bad.error or "")
    assert rec.path.read_bytes() == b"garbage that is not audio"


KILLED_WHILE_RECORDING = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_storage_voicemail import START, break_header, write_wav
from attendant.storage import VoicemailStore

store = VoicemailStore(Path(sys.argv[1]))
rec = store.begin("support", "+33123", "call-9", START)
write_wav(rec.path, 1.25)
break_header(rec.path)   # pjmedia's header until the recorder is destroyed
store.begin("support", "+33124", "call-10", START)   # killed before any audio
done = store.begin("support", "+33125", "call-11", START)
write_wav(done.path, 1.0)
store.finish(done.id, "hash")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_recover_finishes_what_a_crash_left_recording(tmp_path: Path) -> None:
    died = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_RECORDING, str(tmp_path), str(Path(__file__).parent)],
        timeout=60, check=False, capture_output=True, text=True)
    assert died.returncode == -signal.SIGKILL, died.stderr
    audio = pcm(1.25)

    after = VoicemailStore(tmp_path)
    assert [m.status for m in after.list()] == ["recording", "recording", "new"]
    rec, lost = after.list(status="recording")
    recovered = after.recover()
    assert [m.id for m in recovered] == [rec.id, lost.id]
    assert recovered[0].duration == pytest.approx(1.25)
    assert (recovered[0].status, recovered[0].reason) == ("new", "recovered")
    assert recovered[1].flag == "missing"
    assert read_back(rec.path) == (10000, audio)
    assert after.recover() == []
    assert after.list(status="recording") == []
    after.close()


def test_concurrent_finishes_of_one_recording_agree(store: VoicemailStore) -> None:
    rec = store.begin("sales", "+1555", "call-5", START)
    write_wav(rec.path, 1.0)
    break_header(rec.path)
    results = []
    threads = [threading.Thread(target=lambda r=reason: results.append(store.finish(rec.id, r)))
               for reason in ("hash", "hangup", "max_length")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert len({(m.reason, m.duration, m.ended_at) for m in results}) == 1


def test_begin_from_many_threads(store: VoicemailStore) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(10):
            rec = store.begin(f"box{n % 3}", f"+1{n}{i}", f"c{n}-{i}", START)
            with lock:
                ids.append(rec.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 81))
    assert len(store.list(status="recording")) == 80


def test_list_get_mark_and_survive_reopening(tmp_path: Path) -> None:
    store = VoicemailStore(tmp_path)
    ids = []
    for box in ("sales", "support", "sales"):
        rec = store.begin(box, "+1", "c", START)
        write_wav(rec.path, 1.0)
        ids.append(store.finish(rec.id, "hash").id)
    assert [m.id for m in store.list(box="sales")] == [ids[0], ids[2]]
    assert store.mark(ids[0], "read").status == "read"
    store.mark(ids[1], "deleted")
    assert [m.id for m in store.list()] == [ids[0], ids[2]]  # deleted hidden by default
    assert [m.id for m in store.list(status="deleted")] == [ids[1]]
    assert store.get(ids[1]).path.is_file()  # deleting keeps the audio
    store.set_notified(ids[2])
    store.close()
    store.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        store.get(ids[0])
    again = VoicemailStore(tmp_path, create=False)
    assert again.get(ids[0]).status == "read"
    assert again.get(ids[2]).notified is True
    again.close()


def test_export_copies_the_wav_and_writes_a_sidecar(store: VoicemailStore,
                                                    tmp_path: Path) -> None:
    rec = store.begin("sales", "+15551234567", "call-7", START)
    write_wav(rec.path, 1.0)
    break_header(rec.path)
    msg = store.finish(rec.id, "max_length")
    wav = store.export(msg.id, tmp_path / "out" / "nested")
    assert wav.name == f"sales-20260314-092653-{msg.id}.wav"
    assert wav.read_bytes() == rec.path.read_bytes()
    meta = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["id"] == msg.id
    assert meta["box"] == "sales"
    assert meta["caller"] == "+15551234567"
    assert meta["started_at"] == "2026-03-14T09:26:53.000Z"
    assert meta["duration"] == pytest.approx(1.0)
    assert meta["reason"] == "max_length"
    assert meta["path"] == wav.name
    assert not list(wav.parent.glob("*.part"))


def test_bad_input_gets_clear_errors(store: VoicemailStore, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"box name '\.\./etc' is not valid"):
        store.begin("../etc", "+1", "c", START)
    with pytest.raises(StorageError, match="timezone-aware"):
        store.begin("sales", "+1", "c", datetime(2026, 1, 1, 12, 0))
    rec = store.begin("sales", "+1", "c", START)
    with pytest.raises(StorageError, match="still being recorded"):
        store.export(rec.id, tmp_path)
    with pytest.raises(StorageError, match="still being recorded"):
        store.mark(rec.id, "read")
    with pytest.raises(StorageError, match="needs a reason"):
        store.finish(rec.id, " ")
    msg = store.finish(rec.id, "hangup")
    with pytest.raises(StorageError, match="is missing"):
        store.export(msg.id, tmp_path)
    with pytest.raises(StorageError, match="cannot mark a message 'recording'"):
        store.mark(msg.id, "recording")
    with pytest.raises(StorageError, match="unknown status 'old'"):
        store.list(status="old")
    with pytest.raises(MessageNotFound, match="no voicemail message with id 999"):
        store.get(999)
    with pytest.raises(StorageError, match="no voicemail database"):
        VoicemailStore(tmp_path / "nowhere", create=False)


def test_usage_counts_kept_messages_and_bytes_from_memory(store: VoicemailStore) -> None:
    kept = store.begin("sales", "+1", "c1", START)
    write_wav(kept.path, 1.0)
    store.finish(kept.id, "hash")
    gone = store.begin("sales", "+2", "c2", START)
    write_wav(gone.path, 2.0)
    store.finish(gone.id, "hash")
    store.mark(gone.id, "deleted")
    store.refresh_usage()
    one_second = kept.path.stat().st_size
    assert store.usage("sales") == (1, one_second)  # the deleted message does not count
    assert store.usage("support") == (0, 0)
    planned = store.plan("sales", "+3", "c3", START)  # counted at once, before any row
    assert store.usage("sales") == (2, one_second)
    store.refresh_usage()  # a recount keeps the planned message
    assert store.usage("sales") == (2, one_second)
    write_wav(planned.path, 1.0)
    store.register(planned)
    store.finish(planned.id, "hash")
    assert store.usage("sales") == (2, 2 * one_second)
