"""Mailbox greetings recorded by their owners: one WAV per box and kind, in the data folder.

Layout: ``<data>/greetings/<box>/<kind>.wav``, kinds :data:`KINDS`:

* ``unavailable``: callers whose call nobody answered (and callers sent to the box);
* ``busy``: callers who found the owner busy;
* ``temporary``: every caller, over the other two, until it is cleared (holidays);
* ``name``: the owner's name, said in a generated greeting ("Ann Lee is not available")
  when the box has no greeting for the case.

A file uploaded (``attendant voicemail greeting set``) is decoded like a recorded prompt
(any format ffmpeg reads), made mono 16-bit, trimmed, loudness-matched to the prompts
(:mod:`attendant.prompts.audio`) and written through a temporary file and a rename: a bad
file is refused by name and the greeting in place stays. ``serve`` reads what exists
before each call (:meth:`Greetings.index`), so a new greeting is heard by the next caller.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from attendant.engine.mailbox_greetings import GREETING_KINDS, GREETING_SECONDS
from attendant.errors import AttendantError
from attendant.storage.voicemail import BOX_NAME

#: What a box may have, in the order a caller's case looks for them.
KINDS = GREETING_KINDS
FOLDER = "greetings"
#: Longest greeting kept, in seconds (a name: a few seconds).
MAX_SECONDS = GREETING_SECONDS
#: Sample rate greetings are kept at (the prompt renderer converts them for calls).
RATE = 16000


class GreetingError(AttendantError):
    """A greeting cannot be set or read; the message names the file and what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.hint = hint
        super().__init__(message + (f" ({hint})" if hint else ""))


@dataclass(frozen=True, slots=True)
class Greeting:
    """One greeting on disk."""

    box: str
    kind: str
    path: Path
    seconds: float
    set_at: datetime


class Greetings:
    """The greetings under ``<data_dir>/greetings``."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / FOLDER

    def path(self, box: str, kind: str) -> Path:
        _check(box, kind)
        return self.root / box / f"{kind}.wav"

    def index(self) -> dict[str, dict[str, str]]:
        """Box -> kind -> file path, of every greeting there is (no file read: a listing).

        Folders and files that are not a box's greetings are left out."""
        found: dict[str, dict[str, str]] = {}
        try:
            boxes = [p for p in self.root.iterdir() if BOX_NAME.fullmatch(p.name)]
        except OSError:
            return found
        for folder in boxes:
            try:
                names = {p.name for p in folder.iterdir() if p.is_file()}
            except OSError:
                continue
            kinds = {k: str(folder / f"{k}.wav") for k in KINDS if f"{k}.wav" in names}
            if kinds:
                found[folder.name] = kinds
        return found

    def list(self, box: str | None = None) -> list[Greeting]:
        """The greetings there are (of ``box``), with their length and when they were set."""
        out = []
        for key, kinds in sorted(self.index().items()):
            if box is not None and key != box:
                continue
            for kind in KINDS:
                if kind not in kinds:
                    continue
                path = Path(kinds[kind])
                try:
                    with wave.open(str(path), "rb") as wav:
                        seconds = wav.getnframes() / max(1, wav.getframerate())
                    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                except (OSError, EOFError, wave.Error):
                    continue
                out.append(Greeting(key, kind, path, seconds, when))
        return out

    def set(self, box: str, kind: str, source: Path) -> Greeting:
        """Make ``source`` (any audio file) the ``kind`` greeting of ``box``.

        Raises:
            GreetingError: a bad box or kind, an unreadable, silent or too long file, or
                the data folder cannot be written; the greeting in place is kept.
        """
        from attendant.prompts import audio  # pydub loads only for this command

        target = self.path(box, kind)
        try:
            segment = audio.prepare(audio.load(Path(source)), RATE)
        except audio.AudioError as exc:
            raise GreetingError(f"{source}: {exc.message}", exc.hint) from None
        seconds = len(segment) / 1000
        if seconds > MAX_SECONDS[kind]:
            raise GreetingError(f"{source}: the greeting lasts {seconds:.0f} s, longer than the "
                                f"{MAX_SECONDS[kind]:g} s a {kind} greeting may",
                                "record a shorter one")
        try:
            audio.write_wav(segment, target)
        except OSError as exc:
            raise GreetingError(f"cannot write {target}: {exc}") from None
        return Greeting(box, kind, target, seconds, datetime.now(UTC))

    def clear(self, box: str, kind: str) -> bool:
        """Remove a greeting; False when there was none."""
        try:
            os.unlink(self.path(box, kind))
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise GreetingError(f"cannot remove {self.path(box, kind)}: {exc}") from None
        return True


def _check(box: str, kind: str) -> None:
    if not BOX_NAME.fullmatch(box):
        raise GreetingError(f'"{box}" is not a voicemail box name',
                            "letters, digits, '_', '.' and '-'")
    if kind not in KINDS:
        raise GreetingError(f'"{kind}" is not a kind of greeting',
                            f"use one of {', '.join(KINDS)}")
