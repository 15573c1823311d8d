"""Audio plumbing: load any audio file, make it endpoint-ready, measure and write it.

Everything a prompt becomes goes through :func:`prepare`: mono, 16-bit PCM
at the endpoint's clock rate, leading and trailing silence trimmed, loudness
normalised (RMS to :data:`TARGET_DBFS`, never past :data:`PEAK_CEILING_DBFS`)
so that every prompt sounds equally loud. pydub does the sample work; ffmpeg
(a Debian package) decodes compressed formats (MP3, OGG, M4A). Plain PCM WAV
files are read without ffmpeg, which keeps builds fast.
"""

from __future__ import annotations

import os
import tempfile
import warnings
import wave
from pathlib import Path

with warnings.catch_warnings():
    # pydub 0.25 imports the stdlib audioop, deprecated since Python 3.11 (PEP 594) and
    # replaced by the audioop-lts package on 3.13+. The warning is about pydub, not us.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError
    from pydub.silence import detect_leading_silence

__all__ = ["AudioError", "AudioSegment", "duration", "is_silent", "load", "normalise",
           "prepare", "silence", "to_pcm", "trim", "write_wav"]

#: Loudness every prompt is brought to (RMS, dB relative to full scale).
TARGET_DBFS = -20.0
#: Normalisation never lifts a peak above this, so loud consonants do not clip.
PEAK_CEILING_DBFS = -1.0
#: Quieter than this counts as silence, for trimming and for the "silent audio" check.
SILENCE_DBFS = -50.0
#: Parameters that change what :func:`prepare` produces: part of every cache key.
PROCESSING = f"mono/s16/trim{SILENCE_DBFS}/rms{TARGET_DBFS}/peak{PEAK_CEILING_DBFS}/v1"


class AudioError(Exception):
    """An audio file cannot be used; the message says why and the hint what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)


def load(path: Path) -> AudioSegment:
    """Read an audio file in any format ffmpeg knows (WAV without ffmpeg).

    Raises:
        AudioError: the file is missing or cannot be decoded.
    """
    if not path.is_file():
        raise AudioError(f'audio file "{path}" does not exist',
                         "record the file or point to an existing one")
    if path.suffix.lower() == ".wav":
        # An open file, not a path: pydub leaves a path's file open on its pure-Python WAV path.
        with path.open("rb") as handle:
            try:
                return AudioSegment.from_wav(handle)
            except (CouldntDecodeError, IndexError, ValueError, EOFError, wave.Error):
                pass  # not plain PCM (µ-law, float...) or corrupt: let ffmpeg decide below
    try:
        return AudioSegment.from_file(path)
    except (CouldntDecodeError, IndexError, ValueError, EOFError) as exc:
        raise AudioError(f'audio file "{path.name}" is unreadable or corrupt',
                         "open it in an audio editor and export it again as WAV, MP3, OGG or "
                         f"M4A ({_first_line(exc)})") from exc
    except FileNotFoundError as exc:  # pydub runs ffmpeg; only its absence lands here
        raise AudioError(f'cannot decode "{path.name}": ffmpeg is not installed',
                         "install it with apt-get install ffmpeg (bash scripts/setup.sh does "
                         "this)") from exc


def _first_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    tail = [ln for ln in lines if "Invalid data" in ln or "rror" in ln]
    return (tail or lines or [type(exc).__name__])[-1].strip()[:160]


def to_pcm(segment: AudioSegment, rate: int) -> AudioSegment:
    """Mono, 16-bit, ``rate`` Hz."""
    return segment.set_channels(1).set_sample_width(2).set_frame_rate(rate)


def is_silent(segment: AudioSegment) -> bool:
    """True when nothing in ``segment`` is louder than :data:`SILENCE_DBFS`."""
    return len(segment) == 0 or segment.max_dBFS < SILENCE_DBFS


def trim(segment: AudioSegment) -> AudioSegment:
    """Cut leading and trailing silence (in 10 ms steps)."""
    start = detect_leading_silence(segment, silence_threshold=SILENCE_DBFS, chunk_size=10)
    end = detect_leading_silence(segment.reverse(), silence_threshold=SILENCE_DBFS,
                                 chunk_size=10)
    return segment[start:len(segment) - end]


def normalise(segment: AudioSegment, target: float = TARGET_DBFS) -> AudioSegment:
    """Bring the RMS loudness to ``target`` dBFS without lifting peaks past the ceiling."""
    if is_silent(segment):
        return segment
    gain = min(target - segment.dBFS, PEAK_CEILING_DBFS - segment.max_dBFS)
    return segment.apply_gain(gain)


def prepare(segment: AudioSegment, rate: int) -> AudioSegment:
    """Endpoint-ready audio: :func:`to_pcm`, :func:`trim`, :func:`normalise`.

    Raises:
        AudioError: the audio is silent (it would sound like a dead line).
    """
    pcm = to_pcm(segment, rate)
    if is_silent(pcm):
        raise AudioError("the audio is silent",
                         f"nothing in it is louder than {SILENCE_DBFS:g} dBFS; check the "
                         "recording, or use {silence: SECONDS} for a pause")
    return normalise(trim(pcm))


def silence(seconds: float, rate: int) -> AudioSegment:
    """A pause in the endpoint's format."""
    return AudioSegment.silent(duration=round(seconds * 1000), frame_rate=rate).set_sample_width(2)


def write_wav(segment: AudioSegment, path: Path) -> None:
    """Write ``segment`` as a WAV file, atomically (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as out:
            out.setnchannels(segment.channels)
            out.setsampwidth(segment.sample_width)
            out.setframerate(segment.frame_rate)
            out.writeframes(segment.raw_data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def duration(path: Path) -> float:
    """Length of a PCM WAV file in seconds, from its header."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
