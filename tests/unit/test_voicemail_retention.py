"""Mailbox folders (new, saved, deleted), undelete and retention, on real SQLite and WAVs."""

from __future__ import annotations

import sqlite3
import struct
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from attendant.storage import StorageError, VoicemailStore
from attendant.storage.voicemail import Retention

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def leave(store: VoicemailStore, box: str, seconds: float = 1.0) -> int:
    rec = store.begin(box, "+15551230001", "call", T0)
    with wave.open(str(rec.path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<h", 0) * int(8000 * seconds))
    return store.finish(rec.id, "hash").id


@pytest.fixture
def store(tmp_path: Path):
    s = VoicemailStore(tmp_path / "data", settle_timeout=0.1, quiet_period=0.02)
    yield s
    s.close()


def test_statuses_fall_into_the_three_folders(store: VoicemailStore) -> None:
    new, heard, kept, gone = (leave(store, "ann") for _ in range(4))
    store.mark(heard, "read")
    store.mark(kept, "archived")
    store.mark(gone, "deleted")
    assert [m.id for m in store.list("ann", folder="new")] == [new]
    assert [m.id for m in store.list("ann", folder="saved")] == [heard, kept]
    assert [m.id for m in store.list("ann", folder="deleted")] == [gone]
    assert store.get(gone).folder == "deleted"
    assert store.get(kept).as_dict()["folder"] == "saved"
    with pytest.raises(StorageError, match="unknown folder 'trash'; use one of new, saved"):
        store.list(folder="trash")


def test_undelete_restores_the_status_a_message_was_deleted_from(
        store: VoicemailStore) -> None:
    unheard, heard = leave(store, "ann"), leave(store, "ann")
    store.mark(heard, "read")
    store.mark(unheard, "deleted")
    store.mark(heard, "deleted")
    assert store.undelete(unheard).status == "new"
    assert store.undelete(heard).status == "read"
    with pytest.raises(StorageError, match="is not deleted \\(it is read\\)"):
        store.undelete(heard)


def test_deleted_messages_are_removed_when_their_retention_ends(
        store: VoicemailStore) -> None:
    old, recent, other_box = leave(store, "ann"), leave(store, "ann"), leave(store, "bob")
    store.mark(old, "deleted", now=T0)
    store.mark(recent, "deleted", now=T0 + timedelta(days=25))
    store.mark(other_box, "deleted", now=T0)
    path = store.get(old).path
    done = store.purge({"ann": Retention(deleted_days=30)}, now=T0 + timedelta(days=30, hours=1))
    assert [m.id for m in done.removed] == [old]
    assert not path.exists()
    assert [m.id for m in store.list("ann", folder="deleted")] == [recent]
    assert [m.id for m in store.list("bob", folder="deleted")] == [other_box]  # not in rules


def test_saved_messages_past_retention_are_deleted_first_so_it_can_be_undone(
        store: VoicemailStore) -> None:
    heard, unheard = leave(store, "ann"), leave(store, "ann")
    store.mark(heard, "read", now=T0)
    later = T0 + timedelta(days=8)
    done = store.purge({"ann": Retention(saved_days=7, deleted_days=30)}, now=later)
    assert [m.id for m in done.moved] == [heard]
    assert done.removed == []
    assert store.get(heard).status == "deleted"
    assert store.get(heard).status_at == later  # the deleted retention starts now
    assert store.get(unheard).status == "new"   # new messages are never purged
    assert store.undelete(heard).status == "read"


def test_keeping_for_ever_purges_nothing(store: VoicemailStore) -> None:
    gone = leave(store, "ann")
    store.mark(gone, "deleted", now=T0)
    done = store.purge({"ann": Retention(None, None)}, now=T0 + timedelta(days=9999))
    assert (done.moved, done.removed) == ([], [])


def test_marking_with_the_same_status_does_not_restart_retention(
        store: VoicemailStore) -> None:
    gone = leave(store, "ann")
    store.mark(gone, "deleted", now=T0)
    store.mark(gone, "deleted", now=T0 + timedelta(days=29))
    assert store.get(gone).status_at == T0


def test_a_file_that_cannot_be_removed_keeps_its_row_and_the_rest_is_purged(
        store: VoicemailStore) -> None:
    stuck, fine = leave(store, "ann"), leave(store, "ann")
    for message_id in (stuck, fine):
        store.mark(message_id, "deleted", now=T0)
    path = store.get(stuck).path
    path.unlink()
    path.mkdir()  # unlink() of a folder fails
    done = store.purge({"ann": Retention(deleted_days=1)}, now=T0 + timedelta(days=2))
    assert [m.id for m in done.removed] == [fine]
    assert [(m.id, "cannot remove" in why) for m, why in done.failed] == [(stuck, True)]
    assert store.get(stuck).status == "deleted"


def test_a_version_1_database_is_upgraded_and_its_retention_starts_then(
        tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "messages" / "ann").mkdir(parents=True)
    with sqlite3.connect(root / "voicemail.sqlite3") as conn:
        conn.executescript("""
            CREATE TABLE messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT, box TEXT NOT NULL,
                caller TEXT NOT NULL, call_id TEXT NOT NULL, started_at TEXT NOT NULL,
                ended_at TEXT, duration REAL NOT NULL DEFAULT 0, path TEXT NOT NULL,
                status TEXT NOT NULL, reason TEXT, flag TEXT, error TEXT,
                notified INTEGER NOT NULL DEFAULT 0);
            INSERT INTO messages (box, caller, call_id, started_at, ended_at, path, status)
            VALUES ('ann', '+1555', 'c', '2020-01-01T00:00:00Z', '2020-01-01T00:01:00Z',
                    'messages/ann/20200101-000000-1.wav', 'deleted');
            PRAGMA user_version=1;""")
    conn.close()
    before = datetime.now(UTC) - timedelta(seconds=5)
    with VoicemailStore(root) as store:
        message = store.get(1)
        assert message.status_at is not None
        assert message.status_at >= before
        assert store.purge({"ann": Retention(deleted_days=30)}).removed == []
        assert store.undelete(1).status == "read"  # what it was deleted from is unknown
    with sqlite3.connect(root / "voicemail.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()
