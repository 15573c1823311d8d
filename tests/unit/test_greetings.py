"""Mailbox greetings: uploaded files (real WAVs, converted and loudness-matched), the
command line, and which one a caller hears."""

from __future__ import annotations

import math
import struct
import wave
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flow_surgery import compile_text

from attendant.cli import main
from attendant.engine import actions as act
from attendant.engine.events import CallStarted, Digit, TransferResult
from attendant.engine.machine import step
from attendant.engine.state import initial_state
from attendant.model import File, Flow
from attendant.storage.greetings import GreetingError, Greetings

OFFICE = """\
version: 1
attendants:
  main: {name: Office, timezone: UTC, business_hours: {menu: welcome}}
menus:
  welcome:
    prompt: Press 1 for Ann, 2 for Bob.
    options:
      "1": {user: ann}
      "2": {user: bob}
voicemail:
  bob: {name: Bob's line, greeting: Bob is away.}
directory:
  users:
    ann: {name: Ann Lee, sip: "sip:ann@pbx.example", voicemail: self}
    bob: {name: Bob Jones, sip: "sip:bob@pbx.example", voicemail: self}
"""


def tone(path: Path, seconds: float, amplitude: float = 0.3, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))))
    return path


@pytest.fixture
def flow(tmp_path: Path) -> Flow:
    return compile_text(tmp_path, OFFICE, "office.yaml")


def greeting_heard(flow: Flow, key: str, result: TransferResult,
                   greetings: dict[str, dict[str, str]]) -> tuple[act.Say, ...]:
    """The Says played when the caller's transfer to ``key`` ends with ``result``."""
    state, _ = step(flow, initial_state(), CallStarted(datetime(2026, 12, 8, 10), "+1555",
                                                       greetings=greetings))
    state, _ = step(flow, state, Digit(key))
    state, actions = step(flow, state, result)
    plays = [a for a in actions if isinstance(a, act.Play)]
    assert plays, actions
    return plays[-1].items


def files(items: tuple[act.Say, ...]) -> list[str]:
    return [f.path for item in items for f in item.fragments if isinstance(f, File)]


BUSY, NO_ANSWER = TransferResult(False, "busy"), TransferResult(False, "no_answer")


def test_a_caller_hears_the_greeting_for_the_case(flow: Flow) -> None:
    recorded = {"ann": {"busy": "/d/greetings/ann/busy.wav",
                        "unavailable": "/d/greetings/ann/unavailable.wav"}}
    assert files(greeting_heard(flow, "1", BUSY, recorded)) == ["/d/greetings/ann/busy.wav"]
    assert files(greeting_heard(flow, "1", NO_ANSWER, recorded)) == [
        "/d/greetings/ann/unavailable.wav"]
    recorded["ann"]["temporary"] = "/d/greetings/ann/temporary.wav"
    for result in (BUSY, NO_ANSWER):  # until it is cleared, over the other two
        assert files(greeting_heard(flow, "1", result, recorded)) == [
            "/d/greetings/ann/temporary.wav"]


def test_a_recorded_name_makes_a_greeting_when_none_fits(flow: Flow) -> None:
    items = greeting_heard(flow, "1", BUSY, {"ann": {"name": "/d/greetings/ann/name.wav"}})
    # "Sorry, nobody is available", then "<Ann's name> is not available", then the standard.
    assert [i.prompt_id for i in items] == ["system.unavailable", "greeting.ann.name",
                                            "system.voicemail_not_available",
                                            "system.voicemail_greeting"]
    assert files(items) == ["/d/greetings/ann/name.wav"]
    # Nothing recorded: the standard greeting; a configured one comes before the name.
    assert [i.prompt_id for i in greeting_heard(flow, "1", BUSY, {})] == [
        "system.unavailable", "system.voicemail_greeting"]
    items = greeting_heard(flow, "2", BUSY, {"bob": {"name": "/d/greetings/bob/name.wav"}})
    assert files(items) == []
    assert "Bob is away." in str(items)


def test_set_converts_and_matches_loudness_and_list_shows_it(tmp_path: Path) -> None:
    greetings = Greetings(tmp_path / "data")
    done = greetings.set("ann", "busy", tone(tmp_path / "quiet.wav", 2.0, amplitude=0.02))
    with wave.open(str(done.path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert 1.8 < w.getnframes() / 16000 <= 2.0
        frames = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    assert 20 * math.log10(rms) == pytest.approx(-20.0, abs=1.5)  # the prompts' loudness
    assert greetings.index() == {"ann": {"busy": str(done.path)}}
    [listed] = greetings.list()
    assert (listed.box, listed.kind) == ("ann", "busy")
    assert greetings.clear("ann", "busy")
    assert not greetings.clear("ann", "busy")
    assert greetings.index() == {}


@pytest.mark.parametrize(("kind", "content", "message"), [
    ("busy", b"not audio at all", "unreadable or corrupt"),
    ("busy", None, "the audio is silent"),
    ("name", 15.0, "longer than the 10 s a name greeting may"),
])
def test_a_bad_file_is_refused_and_the_greeting_in_place_stays(
        tmp_path: Path, kind: str, content: bytes | float | None, message: str) -> None:
    greetings = Greetings(tmp_path / "data")
    before = greetings.set("ann", kind, tone(tmp_path / "good.wav", 1.0))
    kept = before.path.read_bytes()
    bad = tmp_path / "bad.wav"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        tone(bad, content or 1.0, amplitude=0.0 if content is None else 0.3)
    with pytest.raises(GreetingError, match=message):
        greetings.set("ann", kind, bad)
    assert before.path.read_bytes() == kept


def test_the_command_line_sets_lists_and_clears_greetings(tmp_path: Path) -> None:
    compile_text(tmp_path, OFFICE, "office.yaml")
    menu, data = tmp_path / "office.yaml", tmp_path / "var"
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["voicemail", "greeting", *args], catch_exceptions=False)

    result = run("set", "ann", "unavailable", str(tone(tmp_path / "a.wav", 1.5)),
                 "--menu", str(menu), "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "unavailable greeting of ann set: 1.5 s" in result.output
    assert "ann                  unavailable     1.5 s" in run("list", "--data", str(data)).output
    result = run("set", "nobody", "busy", str(tmp_path / "a.wav"), "--menu", str(menu),
                 "--data", str(data))
    assert result.exit_code == 2
    assert 'no voicemail box "nobody"; the menus have ann, bob' in result.output
    result = run("set", "ann", "busy", str(tmp_path / "missing.wav"), "--menu", str(menu),
                 "--data", str(data))
    assert result.exit_code == 1
    assert "greeting not changed" in result.output
    assert run("clear", "ann", "unavailable", "--menu", str(menu), "--data",
               str(data)).output == "unavailable greeting of ann cleared\n"
    assert run("list", "--data", str(data)).output == "no greetings\n"
