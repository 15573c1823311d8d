"""Building prompts: every example menu in both languages, the cache, and each error.

These tests run the real espeak-ng and ffmpeg (installed by scripts/setup.sh).
The example menus are built once per session; the other tests use tiny menus.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from attendant.config.compiler import compile_path
from attendant.model import Flow
from attendant.prompts.build import MANIFEST, BuildReport, build

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "menus").glob("*.yaml"))
BOTH = ("en-US", "fr-FR")


@pytest.fixture(scope="session")
def example_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Flow, Path,
                                                                               BuildReport]]:
    out: dict[str, tuple[Flow, Path, BuildReport]] = {}
    for menu in EXAMPLES:
        result = compile_path(menu)
        assert result.flow is not None, result.diagnostics
        folder = tmp_path_factory.mktemp(menu.stem)
        report = build(result.flow, folder, sites=result.prompt_sites, rate=8000, jobs=2,
                       extra_languages=BOTH)
        out[menu.stem] = (result.flow, folder, report)
    return out


@pytest.mark.parametrize("menu", [m.stem for m in EXAMPLES])
def test_every_example_menu_builds_in_both_languages(example_builds, menu: str) -> None:
    _flow, folder, report = example_builds[menu]
    assert report.ok, [str(e) for e in report.errors]
    manifest = json.loads((folder / MANIFEST).read_text())
    languages = {e["language"] for e in manifest["prompts"]}
    assert languages == set(BOTH)
    ids = {(e["id"], e["language"]) for e in manifest["prompts"]}
    for language in BOTH:  # the built-in prompts and the digits exist in every language
        assert ("system.goodbye", language) in ids or ("prompts.goodbye", language) in ids
        assert ("digits.7", language) in ids
    for entry in manifest["prompts"]:
        with wave.open(str(folder / entry["file"])) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
            assert wav.getnframes() / 8000 == pytest.approx(entry["duration"], abs=0.002)
    assert (folder / manifest["music_on_hold"]).is_file()


def test_the_manifest_names_prompt_language_hash_duration_and_file(example_builds) -> None:
    _flow, folder, _report = example_builds["small-office"]
    entry = json.loads((folder / MANIFEST).read_text())["prompts"][0]
    assert set(entry) == {"id", "language", "hash", "duration", "file"}
    assert entry["file"] == f"cache/{entry['hash']}.wav"


def test_the_default_music_on_hold_is_a_quiet_loop_of_twenty_odd_seconds(example_builds) -> None:
    _flow, folder, _report = example_builds["small-office"]
    manifest = json.loads((folder / MANIFEST).read_text())
    with wave.open(str(folder / manifest["music_on_hold"])) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        assert 20 <= seconds <= 30
        assert wav.getnchannels() == 1


# --- the cache ---------------------------------------------------------------------------

MENU = """\
version: 1
{speech}
attendants:
  main: {{name: Test line, timezone: UTC, business_hours: {{menu: main}}}}
menus:
  main:
    prompt: {prompt}
    options:
      "1": {{announcement: {announcement}, then: repeat}}
      "2": disconnect
"""


def write_menu(folder: Path, prompt: str = "Hello, press 1.",
               announcement: str = "We are open every day.", speech: str = "") -> Path:
    path = folder / "menu.yaml"
    path.write_text(MENU.format(prompt=prompt, announcement=announcement, speech=speech),
                    encoding="utf-8")
    return path


def build_menu(path: Path, out: Path, **kwargs) -> BuildReport:
    result = compile_path(path)
    assert result.flow is not None, [d.format() for d in result.diagnostics]
    return build(result.flow, out, sites=result.prompt_sites, **kwargs)


def test_a_second_build_with_nothing_changed_renders_nothing(tmp_path: Path) -> None:
    menu = write_menu(tmp_path)
    first = build_menu(menu, tmp_path / "out", jobs=2)
    second = build_menu(menu, tmp_path / "out", jobs=2)
    assert first.rendered > 0
    assert first.cached == 0
    assert second.rendered == 0
    assert second.cached == first.rendered
    assert second.summary().startswith("nothing to render")


def test_changing_one_text_re_renders_exactly_that_prompt(tmp_path: Path) -> None:
    build_menu(write_menu(tmp_path), tmp_path / "out")
    again = build_menu(write_menu(tmp_path, announcement="We are closed on Sundays."),
                       tmp_path / "out")
    assert again.rendered == 1
    changed = [e for e in again.entries if e.id == "menus.main.options.1.announcement"]
    assert len(changed) == 1


def test_a_new_clock_rate_renders_again_at_that_rate(tmp_path: Path) -> None:
    menu = write_menu(tmp_path)
    narrow = build_menu(menu, tmp_path / "out")
    wide = build_menu(menu, tmp_path / "out", rate=16000)
    assert wide.rendered == narrow.rendered
    with wave.open(str(tmp_path / "out" / wide.entries[0].file)) as wav:
        assert wav.getframerate() == 16000


# --- errors: each names the menu file and line -------------------------------------------


def at_prompt(menu: Path) -> str:
    """``file:line:col`` of the menu's prompt value, as diagnostics print it."""
    for number, line in enumerate(menu.read_text().splitlines(), start=1):
        if line.startswith("    prompt: "):
            return f"{menu}:{number}:{len('    prompt: ') + 1}"
    raise AssertionError("no prompt line")


def only_error(report: BuildReport) -> str:
    assert len(report.errors) == 1, [str(e) for e in report.errors]
    return str(report.errors[0])


def test_a_missing_audio_file_names_the_menu_line(tmp_path: Path) -> None:
    (tmp_path / "hello.wav").write_bytes(b"")
    menu = write_menu(tmp_path, prompt="[{file: hello.wav}, Press 1.]")
    result = compile_path(menu)
    assert result.flow is not None
    (tmp_path / "hello.wav").unlink()  # deleted after validation, before the build
    report = build(result.flow, tmp_path / "out", sites=result.prompt_sites)
    message = only_error(report)
    # The position is the list item that names the file (column 14), not the whole prompt.
    assert message.startswith(f"{at_prompt(menu)[:-3]}:14: error: prompt menus.main.prompt "
                              "(en-US):")
    assert 'audio file "hello.wav" does not exist' in message
    assert not (tmp_path / "out" / MANIFEST).exists()


def test_corrupt_audio_is_reported_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEgarbage" + bytes(range(256)) * 4)
    menu = write_menu(tmp_path, prompt="{file: x.wav}")
    message = only_error(build_menu(menu, tmp_path / "out"))
    assert f"{at_prompt(menu)}: error:" in message
    assert "unreadable or corrupt" in message
    assert "export it again" in message


def test_silent_audio_is_an_error(tmp_path: Path) -> None:
    with wave.open(str(tmp_path / "quiet.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(16000))
    menu = write_menu(tmp_path, prompt="{file: quiet.wav}")
    message = only_error(build_menu(menu, tmp_path / "out"))
    assert f"{at_prompt(menu)}: error:" in message
    assert "the audio is silent" in message


def test_a_prompt_longer_than_the_limit_is_an_error(tmp_path: Path) -> None:
    menu = write_menu(tmp_path, speech="speech: {max_prompt_seconds: 1}",
                      prompt="This sentence takes rather more than one second to say.")
    report = build_menu(menu, tmp_path / "out")
    message = next(str(e) for e in report.errors if "menus.main.prompt " in str(e))
    assert f"{at_prompt(menu)}: error: prompt menus.main.prompt (en-US): the prompt lasts" \
        in message
    assert "longer than the 1 s allowed" in message
    assert "speech.max_prompt_seconds" in message


def test_text_too_long_for_the_engine_is_an_error(tmp_path: Path) -> None:
    menu = write_menu(tmp_path, prompt="word " * 1001)
    message = only_error(build_menu(menu, tmp_path / "out"))
    assert f"{at_prompt(menu)}: error:" in message
    assert "more than the 5000 espeak takes" in message


def test_an_unknown_language_is_an_error(tmp_path: Path) -> None:
    menu = write_menu(tmp_path, prompt="{text: Kia ora, language: xx-XX}")
    message = only_error(build_menu(menu, tmp_path / "out"))
    assert f"{at_prompt(menu)}: error:" in message
    assert 'espeak-ng has no voice for language "xx-XX"' in message
    assert "speech.voices.xx-XX" in message


def test_an_unknown_voice_is_an_error(tmp_path: Path) -> None:
    menu = write_menu(tmp_path, prompt="{text: Hello, voice: robby-the-robot}")
    message = only_error(build_menu(menu, tmp_path / "out"))
    assert f"{at_prompt(menu)}: error:" in message
    assert 'espeak-ng has no voice "robby-the-robot"' in message


def test_an_unknown_engine_is_an_error(tmp_path: Path) -> None:
    menu = write_menu(tmp_path, speech="speech: {engine: festival}")
    report = build_menu(menu, tmp_path / "out")
    assert report.errors
    assert 'unknown speech engine "festival"' in str(report.errors[0])
    assert "known engines: espeak, gtts" in str(report.errors[0])
