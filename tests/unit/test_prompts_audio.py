"""Audio for real: espeak-ng renders, compressed formats through ffmpeg, gTTS offline,
the prompt store's run-time renders, and the simulator's session recording.

No mocks: espeak-ng, ffmpeg and gTTS run as they would in production. gTTS cannot
reach Google from the build machines, which is exactly the failure path under test.
"""

from __future__ import annotations

import subprocess
import time
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant.cli import main
from attendant.engine.actions import Say
from attendant.model import Digits, Speech, Text
from attendant.prompts import audio
from attendant.prompts.engines import EspeakEngine, GttsEngine
from attendant.prompts.render import Renderer, RenderError
from attendant.prompts.store import PromptStore

REPO = Path(__file__).resolve().parents[2]


def wav_facts(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path)) as wav:
        return (wav.getnchannels(), wav.getsampwidth(), wav.getframerate(),
                wav.getnframes() / wav.getframerate())


def test_espeak_renders_mono_16_bit_8khz_speech_of_a_sane_length(tmp_path: Path) -> None:
    renderer = Renderer(Speech(), tmp_path, 8000)
    clip, fell_back = renderer.render((Text("Thank you for calling. Goodbye.", "en-US"),), "t")
    audio.write_wav(clip, tmp_path / "goodbye.wav")
    channels, width, rate, seconds = wav_facts(tmp_path / "goodbye.wav")
    assert (channels, width, rate, fell_back) == (1, 2, 8000, False)
    assert 1.0 < seconds < 4.0  # about two seconds of speech, silence trimmed
    assert clip.dBFS == pytest.approx(audio.TARGET_DBFS, abs=1.5) or (
        clip.max_dBFS == pytest.approx(audio.PEAK_CEILING_DBFS, abs=0.1))


def test_french_is_spoken_with_a_french_voice() -> None:
    assert EspeakEngine().voice("fr-FR", None) == "fr-fr"


def _sine(tmp_path: Path, suffix: str) -> Path:
    out = tmp_path / f"tone{suffix}"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1.5:sample_rate=44100", "-ac", "2", str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".m4a", ".wav"])
def test_recorded_files_in_common_formats_become_endpoint_wav(tmp_path: Path,
                                                              suffix: str) -> None:
    source = _sine(tmp_path, suffix)
    clip = audio.prepare(audio.load(source), 16000)
    audio.write_wav(clip, tmp_path / "out.wav")
    channels, width, rate, seconds = wav_facts(tmp_path / "out.wav")
    assert (channels, width, rate) == (1, 2, 16000)
    assert seconds == pytest.approx(1.5, abs=0.1)  # encoders pad a little; trimming cuts it


def test_gtts_offline_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    """Real gTTS, no mock: Google is unreachable here, so this is the failure path."""
    renderer = Renderer(Speech(engine="gtts"), tmp_path, 8000)
    started = time.monotonic()
    with pytest.raises(RenderError) as caught:
        renderer.render((Text("Hello", "en-US"),), "menus.main.prompt")
    assert time.monotonic() - started < 15  # gTTS's timeout is 5 s per request
    assert "gTTS could not reach translate.google.com" in caught.value.message
    assert caught.value.hint == "use speech.engine: espeak, or allow speech.fallback: espeak"


def test_gtts_falls_back_to_espeak_only_when_allowed(tmp_path: Path) -> None:
    renderer = Renderer(Speech(engine="gtts", fallback="espeak"), tmp_path, 8000)
    clip, fell_back = renderer.render((Text("Hello", "en-US"),), "menus.main.prompt")
    assert fell_back
    assert len(clip) > 200
    assert renderer.fell_back[0][0] == "menus.main.prompt"
    assert "gTTS could not reach" in renderer.fell_back[0][1]


def test_gtts_build_failure_names_prompt_file_line_engine_and_remedy(tmp_path: Path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text("version: 1\nspeech: {engine: gtts}\nattendants:\n"
                    "  main: {name: T, timezone: UTC, business_hours: {menu: main}}\n"
                    "menus:\n  main:\n    prompt: Hello.\n    options: {\"1\": disconnect}\n")
    result = CliRunner().invoke(main, ["prompts", "build", str(menu), "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 1
    assert (f"{menu}:7:13: error: prompt menus.main.prompt (en-US): gTTS could not reach "
            "translate.google.com (Failed to resolve 'translate.google.com')") in result.output
    assert "hint: use speech.engine: espeak, or allow speech.fallback: espeak" in result.output


def test_gtts_knows_google_accents_and_rejects_unknown_languages() -> None:
    engine = GttsEngine()
    assert engine.voice("fr-FR", None) == "fr:fr"
    assert engine.voice("en-US", "en:co.uk") == "en:co.uk"
    with pytest.raises(Exception, match='gTTS does not speak language "xx-XX"'):
        engine.voice("xx-XX", None)


# --- the store and the simulator ---------------------------------------------------------


@pytest.fixture(scope="module")
def small_office_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small-office-build")
    result = CliRunner().invoke(main, ["prompts", "build", str(REPO / "menus/small-office.yaml"),
                                       "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return out


def test_the_store_finds_built_prompts_by_id_and_language(small_office_build: Path) -> None:
    store = PromptStore(small_office_build)
    path = store.wav_for(Say("system.goodbye", "en-US", (Text("Thank you for calling. Goodbye.",
                                                               "en-US"),)))
    assert path.parent.name == "cache"
    assert store.clock_rate == 8000


def test_the_store_renders_names_and_digits_on_first_use_and_caches_them(
        small_office_build: Path) -> None:
    store = PromptStore(small_office_build)
    say = Say("", "en-US", (Text("Maria Lopez"), Digits("101")))
    first = store.wav_for(say)
    assert store.wav_for(say) == first
    channels, width, rate, seconds = wav_facts(first)
    assert (channels, width, rate) == (1, 2, 8000)
    digit = wav_facts(store.wav_for(Say("", "en-US", (Digits("1"),))))[3]
    assert seconds > 3 * digit  # the name, then "one", "zero", "one"


def test_the_store_knows_run_time_speech_it_made_before_without_rendering_again(
        small_office_build: Path) -> None:
    store = PromptStore(small_office_build)
    say = Say("", "en-US", (Text("You are caller number"), Digits("7")))
    assert store.built(say) is None  # not made yet: serve sends it to its renderer pool
    made = store.wav_for(say)
    assert store.built(say) == made  # now a lookup: serve starts it in the same turn
    assert store.built(Say("", "fr-FR", say.fragments)) is None  # another language
    made.unlink()
    assert store.built(say) is None  # a file gone from the cache is made again


def test_simulate_play_writes_the_whole_session_as_one_wav(small_office_build: Path,
                                                           tmp_path: Path) -> None:
    session = tmp_path / "session.wav"
    result = CliRunner().invoke(main, [
        "simulate", str(REPO / "menus/small-office.yaml"), "--at", "2026-12-02T14:30",
        "--prompts", str(small_office_build), "--show-audio", "--play", str(session)],
        input="3\nlisten\n2\nhangup\n")
    assert result.exit_code == 0, result.output
    played = [Path(p.rsplit(" ", 2)[0]) for line in result.output.splitlines()
              if "hears:" in line for p in line.rsplit("[", 1)[1].rstrip("]").split("; ")]
    assert len(played) >= 3
    expected = sum(wav_facts(p)[3] for p in played)
    channels, width, rate, seconds = wav_facts(session)
    assert (channels, width, rate) == (1, 2, 8000)
    assert seconds == pytest.approx(expected, abs=0.001)
    assert f"session audio: {session}" in result.output
