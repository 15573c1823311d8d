"""A stop-gap :class:`~attendant.ports.PromptAudio`: speak prompts with ``espeak-ng``.

``attendant serve`` uses :class:`attendant.prompts.store.PromptStore` when that
package is installed; until then it falls back to this. Each ``Say`` is
rendered once into ``<cache>/<hash>.wav`` (mono, 16-bit, at the endpoint's
clock rate) and reused. Deliberately small: no voices per language beyond
espeak-ng's own, no music, a crude linear resampler. It will be replaced.
"""

from __future__ import annotations

import array
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

from attendant.actions import Say
from attendant.errors import PromptError
from attendant.model import Digits, File, Fragment, Number, Silence, Text

_ESPEAK_TIMEOUT_S = 30.0


class EspeakPromptAudio:
    """Renders prompts with the espeak-ng binary into a cache folder."""

    def __init__(self, cache_dir: Path, clock_rate: int = 8000, base_dir: Path | None = None):
        """Args:
            cache_dir: where rendered WAV files are kept (created if missing).
            clock_rate: sample rate of every file returned.
            base_dir: folder that relative ``file:`` fragments are read from.
        """
        self._cache = cache_dir
        self._rate = clock_rate
        self._base = base_dir or Path.cwd()
        self._lock = threading.Lock()
        self._espeak = shutil.which("espeak-ng")
        cache_dir.mkdir(parents=True, exist_ok=True)

    @property
    def clock_rate(self) -> int:
        """Sample rate of every file this store returns."""
        return self._rate

    def wav_for(self, say: Say) -> Path:
        """A WAV holding ``say``, rendered on first use (see the module docstring)."""
        key = hashlib.sha256(f"{self._rate}|{say.language}|{say.fragments!r}".encode()).hexdigest()
        path = self._cache / f"{key[:32]}.wav"
        if path.exists():
            return path
        samples = array.array("h")
        for fragment in say.fragments:
            samples.extend(self._render(fragment, say.language))
        if not samples:
            samples.extend([0] * (self._rate // 10))  # a file must not be empty
        fd, tmp = tempfile.mkstemp(dir=self._cache, suffix=".tmp")
        os.close(fd)
        with wave.open(tmp, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self._rate)
            out.writeframes(samples.tobytes())
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
        return path

    def _render(self, fragment: Fragment, language: str) -> array.array[int]:
        if isinstance(fragment, Silence):
            return array.array("h", [0] * int(fragment.seconds * self._rate))
        if isinstance(fragment, File):
            path = Path(fragment.path)
            return self._read_wav(path if path.is_absolute() else self._base / path)
        if isinstance(fragment, Digits):
            text = " ".join(fragment.digits)
            language = fragment.language or language
        elif isinstance(fragment, Number):
            text = str(fragment.value)
        else:
            assert isinstance(fragment, Text)
            text = fragment.text
            language = fragment.language or language
        return self._speak(text, language)

    def _speak(self, text: str, language: str) -> array.array[int]:
        if self._espeak is None:
            raise PromptError("espeak-ng is not installed (apt-get install espeak-ng), "
                              "and no prompt store is available to render prompts")
        voice = language.split("-", maxsplit=1)[0].lower() or "en"
        fd, tmp = tempfile.mkstemp(dir=self._cache, suffix=".espeak.wav")
        os.close(fd)
        try:
            with self._lock:  # one espeak-ng at a time: the machine has 2 cores
                done = subprocess.run(
                    [self._espeak, "-v", voice, "-s", "160", "-w", tmp, text],
                    capture_output=True, timeout=_ESPEAK_TIMEOUT_S, check=False)
            if done.returncode != 0:
                raise PromptError(f"espeak-ng failed for {text[:40]!r}: "
                                  f"{done.stderr.decode(errors='replace').strip()}")
            return self._read_wav(Path(tmp))
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _read_wav(self, path: Path) -> array.array[int]:
        try:
            with wave.open(str(path), "rb") as wav:
                channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
                frames = wav.readframes(wav.getnframes())
        except (OSError, wave.Error, EOFError) as exc:
            raise PromptError(f"cannot read audio file {path}: {exc}") from exc
        if width != 2:
            raise PromptError(f"{path}: only 16-bit PCM WAV files are supported here")
        samples = array.array("h", frames)
        if channels > 1:
            samples = array.array("h", samples[::channels])
        return _resample(samples, rate, self._rate)


def _resample(samples: array.array[int], src: int, dst: int) -> array.array[int]:
    """Linear interpolation, with a two-tap average first when going down (crude anti-alias)."""
    if src == dst or not samples:
        return samples
    if dst < src:
        smoothed = array.array("h", samples)
        for i in range(1, len(samples)):
            smoothed[i] = (samples[i] + samples[i - 1]) // 2
        samples = smoothed
    count = int(len(samples) * dst / src)
    ratio = src / dst
    last = len(samples) - 1
    out = array.array("h", bytes(2 * count))
    for i in range(count):
        pos = i * ratio
        j = int(pos)
        frac = pos - j
        nxt = samples[j + 1] if j < last else samples[last]
        out[i] = int(samples[j] + (nxt - samples[j]) * frac)
    return out
