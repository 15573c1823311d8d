"""The queue agents' state file (``<data>/queue-agents.json``): saving, loading, bad files.

Real files in ``tmp_path``. What the server does with the file (restoring at start,
saving on every change, agents gone from the menus) is in ``test_queue_runner.py``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from queue_harness import make_flow

from attendant.queues import core
from attendant.storage.agents import (
    FILE_NAME,
    AgentStateFile,
    SavedAgent,
    parse,
    remembered,
    restore,
)

ANNA = SavedAgent(signed_in=False)
BEN = SavedAgent(paused=True, opted_out=frozenset({"support", "sales"}))


def test_saved_states_come_back_in_a_new_file_object(tmp_path: Path) -> None:
    assert AgentStateFile(tmp_path).save({"anna": ANNA, "ben": BEN})
    assert AgentStateFile(tmp_path).load() == {"anna": ANNA, "ben": BEN}
    doc = json.loads((tmp_path / FILE_NAME).read_text())
    assert doc == {"version": 1, "agents": {
        "anna": {"signed_in": False, "paused": False, "opted_out": []},
        "ben": {"signed_in": True, "paused": True, "opted_out": ["sales", "support"]}}}
    assert not (tmp_path / f"{FILE_NAME}.tmp").exists()


def test_no_file_is_a_first_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert AgentStateFile(tmp_path).load() == {}
    assert not caplog.records
    assert list(tmp_path.iterdir()) == []


def test_unchanged_states_are_not_written_again(tmp_path: Path) -> None:
    store = AgentStateFile(tmp_path)
    store.save({"anna": ANNA})
    path = tmp_path / FILE_NAME
    path.write_text("sentinel")  # a write would replace it
    assert store.save({"anna": ANNA})
    assert path.read_text() == "sentinel"
    assert store.save({"anna": SavedAgent()})
    assert json.loads(path.read_text())["agents"]["anna"]["signed_in"] is True


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"version": 1, "agents": {"anna": {"signed_in": fal', "not valid JSON"),
        ("", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"version": 2, "agents": {}}', '"version" is 2'),
        ('{"version": 1}', '"agents" is missing'),
        ('{"version": 1, "agents": {"anna": true}}', "agents.anna is not an object"),
        ('{"version": 1, "agents": {"anna": {"signed_In": false}}}', "unknown key(s) signed_In"),
        ('{"version": 1, "agents": {"anna": {"signed_in": "no"}}}', "must be true or false"),
        ('{"version": 1, "agents": {"anna": {"opted_out": "sales"}}}', "list of queue names"),
    ],
)
def test_a_bad_file_is_set_aside_with_an_error_and_everyone_starts_signed_in(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, why: str) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(text)
    store = AgentStateFile(tmp_path)
    with caplog.at_level(logging.ERROR, "attendant.storage.agents"):
        assert store.load() == {}
    [aside] = tmp_path.glob(f"{FILE_NAME}.bad-*")
    assert aside.read_text() == text  # kept as it was, never silently lost
    assert not path.exists()
    [record] = caplog.records
    message = record.getMessage()
    assert record.levelno == logging.ERROR
    for part in (str(path), aside.name, why, "starts signed in", "rename it"):
        assert part in message, message
    # The next change writes a fresh file; the bad one stays aside.
    assert store.save({"anna": ANNA})
    assert AgentStateFile(tmp_path).load() == {"anna": ANNA}
    assert aside.read_text() == text


def test_a_second_bad_file_does_not_replace_the_first(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    for text in ("first", "second"):
        path.write_text(text)
        AgentStateFile(tmp_path).load()
    assert sorted(p.read_text() for p in tmp_path.glob(f"{FILE_NAME}.bad-*")) == ["first",
                                                                                 "second"]


def test_a_bad_file_that_cannot_be_moved_is_never_written_over(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / FILE_NAME
    path.write_text("{broken")

    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "rename", refuse)
    store = AgentStateFile(tmp_path)
    with caplog.at_level(logging.ERROR, "attendant.storage.agents"):
        assert store.load() == {}
        assert not store.save({"anna": ANNA})
    assert path.read_text() == "{broken"
    assert "will NOT be saved" in caplog.text
    assert str(path) in caplog.text


def test_a_failed_write_is_logged_and_tried_again_at_the_next_save(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = AgentStateFile(tmp_path / "gone")  # the folder does not exist
    with caplog.at_level(logging.ERROR, "attendant.storage.agents"):
        assert not store.save({"anna": ANNA})
    assert "cannot save" in caplog.text
    assert "gone" in caplog.text
    (tmp_path / "gone").mkdir()
    assert store.save({"anna": ANNA})
    assert AgentStateFile(tmp_path / "gone").load() == {"anna": ANNA}


def test_parse_reads_missing_values_as_a_fresh_start() -> None:
    assert parse('{"version": 1, "agents": {"anna": {}}}') == {"anna": SavedAgent()}


def test_remembered_and_restore_keep_only_sign_in_pause_and_opt_outs(tmp_path: Path) -> None:
    flow = make_flow(tmp_path)
    state = core.initial_state(flow, at=100.0)
    saved = {"a": SavedAgent(signed_in=False), "b": SavedAgent(paused=True,
                                                               opted_out=frozenset({"q"})),
             "zed": SavedAgent(signed_in=False)}  # not an agent of this flow: skipped
    restored = restore(state, saved)
    assert set(restored.agents) == {"a", "b", "c"}
    assert remembered(restored) == {"a": saved["a"], "b": saved["b"], "c": SavedAgent()}
    b = restored.agents["b"]
    assert (b.activity, b.idle_since, b.misses) == (core.IDLE, 100.0, 0)
