"""The default music on hold, synthesised here so there is no licence question.

A quiet, slow chord progression (C - A minor - F - G, twice, about 24 s) of
soft sine tones with a gentle attack and a long release, plus a low root
note. Every chord starts and ends at silence, so the file loops without a
click. Generated deterministically with the standard library only (``array``
and ``math``), at build time, at the endpoint's clock rate.
"""

from __future__ import annotations

import functools
import math
from array import array
from pathlib import Path

from attendant.prompts import audio

#: (root note, chord notes) as MIDI numbers: C major, A minor, F major, G major.
PROGRESSION: tuple[tuple[int, tuple[int, ...]], ...] = (
    (48, (60, 64, 67)), (45, (57, 60, 64)), (41, (57, 60, 65)), (43, (59, 62, 67)),
)
CHORD_SECONDS = 3.0
REPEATS = 2
#: RMS level of the music: quieter than prompts, as hold music should be.
MUSIC_DBFS = -28.0
#: Bump when the music changes, so cached copies are replaced.
VERSION = 1


def _hz(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _chord(root: int, notes: tuple[int, ...], rate: int) -> list[float]:
    frames = int(CHORD_SECONDS * rate)
    attack, release = 0.25 * rate, 1.2 * rate
    tones = [(_hz(n), 0.22) for n in notes] + [(_hz(root), 0.3)]
    out = []
    for i in range(frames):
        t = i / rate
        env = min(1.0, i / attack, (frames - i) / release)
        env = env * env  # a softer curve than linear
        # Each tone's second harmonic, quietly, makes it less like a test tone.
        value = sum(a * (math.sin(2 * math.pi * f * t) + 0.15 * math.sin(4 * math.pi * f * t))
                    for f, a in tones)
        out.append(env * value)
    return out


@functools.lru_cache(maxsize=2)  # pure and about a second of work: once per rate per process
def synthesise(rate: int) -> bytes:
    """Mono 16-bit PCM samples of the music at ``rate`` Hz."""
    one_pass: list[float] = []
    for root, notes in PROGRESSION:
        one_pass.extend(_chord(root, notes, rate))
    peak = max(abs(v) for v in one_pass) or 1.0
    pcm = array("h", (round(v / peak * 20000) for v in one_pass * REPEATS))
    return pcm.tobytes()


def write(path: Path, rate: int) -> float:
    """Write the music as a WAV file at ``path``; returns its duration in seconds."""
    segment = audio.AudioSegment(data=synthesise(rate), sample_width=2, frame_rate=rate, channels=1)
    segment = audio.normalise(segment, MUSIC_DBFS)
    audio.write_wav(segment, path)
    return len(segment) / 1000
