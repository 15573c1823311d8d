"""``attendant voicemail list|mark|export``, driven in-process with click's CliRunner."""

from __future__ import annotations

import json
import struct
import wave
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant.cli import main
from attendant.storage import VoicemailStore

START = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "var"
    with VoicemailStore(root, settle_timeout=0.1) as store:
        for box, caller, seconds in (("sales", "+15551230001", 2.0),
                                     ("support", "[bold]sneaky[/bold]", 1.0),
                                     ("sales", "+15551230003", 0.1)):
            rec = store.begin(box, caller, f"call-{caller}", START)
            with wave.open(str(rec.path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(struct.pack("<h", 0) * int(8000 * seconds))
            store.finish(rec.id, "hash")
        store.mark(1, "read")
    return root


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["voicemail", *args], env=env, catch_exceptions=False)


def test_list_as_a_table(data: Path) -> None:
    result = run("list", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "3 voicemail message(s)" in result.output
    assert "+15551230001" in result.output
    assert "[bold]sneaky[/bold]" in result.output  # shown as typed, not as rich markup
    assert "2026-03-14 09:26:53" in result.output
    assert "short" in result.output


def test_list_as_json_with_filters(data: Path) -> None:
    result = run("list", "--data", str(data), "--box", "sales", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["status"], r["flag"]) for r in rows] == [(1, "read", None),
                                                                (3, "new", "short")]
    result = run("list", "--data", str(data), "--status", "new", "--format", "json")
    assert [r["id"] for r in json.loads(result.output)] == [2, 3]


def test_data_folder_from_the_environment(data: Path) -> None:
    result = run("list", "--format", "json", env={"ATTENDANT_DATA": str(data)})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3


def test_default_data_folder_is_var_in_the_current_directory(data: Path,
                                                           monkeypatch) -> None:
    monkeypatch.chdir(data.parent)
    monkeypatch.delenv("ATTENDANT_DATA", raising=False)
    result = run("list", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 3


def test_export_writes_the_wav_and_its_json(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = run("export", "2", "--out", str(out), "--data", str(data))
    assert result.exit_code == 0, result.output
    wav, meta = (Path(line) for line in result.output.splitlines())
    assert wav == out / "support-20260314-092653-2.wav"
    assert wav.read_bytes() == (data / "messages" / "support" / "20260314-092653-2.wav"
                                ).read_bytes()
    assert json.loads(meta.read_text(encoding="utf-8"))["caller"] == "[bold]sneaky[/bold]"


def test_errors_are_clear(data: Path, tmp_path: Path) -> None:
    result = run("export", "42", "--data", str(data), "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "no voicemail message with id 42" in result.output
    result = run("list", "--data", str(tmp_path / "typo"))
    assert result.exit_code == 1
    assert "no voicemail database at" in result.output
    assert not (tmp_path / "typo").exists()  # a mistyped folder is not created
    result = run("list", "--data", str(data), "--status", "old")
    assert result.exit_code == 1
    assert "unknown status 'old'" in result.output
    result = run("export", "two", "--data", str(data))
    assert result.exit_code == 2
    result = run("list", "--data", str(data), "--box", "nobody")
    assert result.exit_code == 0
    assert "no voicemail messages in box nobody" in result.output


def test_mark_deleted_hides_a_message_and_frees_its_place_in_the_box(data: Path) -> None:
    result = run("mark", "2", "deleted", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert result.output == "message 2 in box support is now deleted\n"
    listed = json.loads(run("list", "--data", str(data), "--format", "json").output)
    assert [r["id"] for r in listed] == [1, 3]
    with VoicemailStore(data, create=False) as store:
        store.refresh_usage()
        assert store.usage("support") == (0, 0)
    assert run("mark", "2", "new", "--data", str(data)).exit_code == 0  # undone
    assert "+15551230001" in run("list", "--data", str(data)).output


def test_mark_refuses_an_unknown_id_or_status(data: Path) -> None:
    result = run("mark", "42", "read", "--data", str(data))
    assert result.exit_code == 1
    assert "no voicemail message with id 42" in result.output
    result = run("mark", "1", "recording", "--data", str(data))
    assert result.exit_code == 2
    assert "'recording' is not one of" in result.output


def test_undelete_brings_a_deleted_message_back_to_its_folder(data: Path) -> None:
    assert run("mark", "2", "deleted", "--data", str(data)).exit_code == 0
    listed = json.loads(run("list", "--data", str(data), "--folder", "deleted",
                            "--format", "json").output)
    assert [(r["id"], r["folder"]) for r in listed] == [(2, "deleted")]
    result = run("undelete", "2", "--data", str(data))
    assert result.exit_code == 0, result.output
    assert result.output == "message 2 in box support is back in new (new)\n"
    result = run("undelete", "2", "--data", str(data))
    assert result.exit_code == 1
    assert "message 2 is not deleted (it is new); nothing to undelete" in result.output
    saved = json.loads(run("list", "--data", str(data), "--folder", "saved",
                           "--format", "json").output)
    assert [r["id"] for r in saved] == [1]
