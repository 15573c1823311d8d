"""Render prompt fragments into one endpoint-ready clip, and name it by content.

:class:`Renderer` is shared by the build (every prompt of a flow) and the
store (names and digits on first use). Its :meth:`Renderer.key` is a hash of
everything that changes the audio: the fragments (a file's *content*, not
its name), the engine and its version, the voice, the clock rate and the
audio processing. Equal keys mean equal audio, so a clip is rendered once and
found again by key in ``cache/``.

Each spoken or recorded fragment is prepared on its own (trimmed and
normalised, see :mod:`attendant.prompts.audio`) and the fragments are joined
with a short gap, so a recorded chime and synthesised speech sound equally
loud. ``{silence: N}`` fragments are kept exactly.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from attendant.model import Digits, File, Fragment, Number, Silence, Speech, Text
from attendant.prompts import audio
from attendant.prompts.audio import AudioSegment
from attendant.prompts.engines import EngineError, SpeechEngine, get_engine

#: Pause between two spoken or recorded fragments (and between digits read one by one).
GAP_SECONDS = 0.15


class RenderError(Exception):
    """A fragment cannot be rendered; ``index`` says which one (None: the whole prompt)."""

    def __init__(self, message: str, hint: str = "", index: int | None = None) -> None:
        self.message = message
        self.hint = hint
        self.index = index
        super().__init__(message)


@dataclass
class Renderer:
    """Turns fragments into audio with the configured engine, its fallback and limits.

    ``engine`` overrides ``speech.engine`` (the ``--engine`` option). Once the engine
    is found unreachable, later prompts go straight to the fallback; ``fell_back``
    records each (prompt, reason) so the build can say what happened.
    """

    speech: Speech
    root: Path
    rate: int = 8000
    engine: str | None = None
    fell_back: list[tuple[str, str]] = field(default_factory=list)
    _down: bool = False
    _file_hashes: dict[tuple[str, int, int], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    digit_audio: Callable[[str, str], AudioSegment | None] | None = None

    @property
    def down(self) -> bool:
        """True once the engine was found unreachable and a fallback is allowed."""
        return self._down

    def note_fallback(self, label: str) -> None:
        """Record that ``label`` is played with the fallback engine's audio."""
        with self._lock:
            self.fell_back.append((label, "engine unreachable earlier in this build"))

    @property
    def engine_name(self) -> str:
        """The engine asked for (``--engine``, else ``speech.engine``)."""
        return self.engine or self.speech.engine

    def _engine(self, fallback: bool = False) -> SpeechEngine:
        name = self.speech.fallback if fallback else self.engine_name
        assert name is not None
        try:
            return get_engine(name)
        except EngineError as exc:
            where = "speech.fallback" if fallback else "speech.engine"
            raise RenderError(f"{where}: {exc.message}", exc.hint) from exc

    # --- keys -----------------------------------------------------------------------

    def key(self, fragments: tuple[Fragment, ...], fallback: bool = False) -> str:
        """Content hash of the clip these fragments make (see the module docstring)."""
        speaks = any(isinstance(f, Text | Number | Digits) for f in fragments)
        parts: list[object] = [audio.PROCESSING, self.rate, GAP_SECONDS]
        if speaks:
            engine = self._engine(fallback)
            parts.append(engine.identity())
        for i, fragment in enumerate(fragments):
            if isinstance(fragment, Text | Number | Digits):
                parts.append([type(fragment).__name__, _spoken(fragment),
                              fragment.language, self._voice(engine, fragment, i)])
            elif isinstance(fragment, File):
                parts.append(["File", self._file_hash(fragment, i)])
            else:
                parts.append(["Silence", fragment.seconds])
        blob = json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    def _voice(self, engine: SpeechEngine, fragment: Text | Number | Digits, index: int) -> str:
        language = fragment.language or "en-US"
        wanted = fragment.voice if isinstance(fragment, Text) and fragment.voice else (
            self.speech.voices.get(language))
        try:
            return engine.voice(language, wanted)
        except EngineError as exc:
            raise RenderError(exc.message, exc.hint, index) from exc

    def _file_hash(self, fragment: File, index: int) -> str:
        path = self.root / fragment.path
        try:
            stat = path.stat()
        except OSError as exc:
            raise RenderError(f'audio file "{fragment.path}" does not exist',
                              "record the file or point to an existing one", index) from exc
        memo = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if memo not in self._file_hashes:
                self._file_hashes[memo] = hashlib.sha256(path.read_bytes()).hexdigest()
            return self._file_hashes[memo]

    # --- rendering ----------------------------------------------------------------------

    def render(self, fragments: tuple[Fragment, ...], label: str) -> tuple[AudioSegment, bool]:
        """The clip for ``fragments``, and whether the fallback engine spoke it.

        ``label`` names the prompt in fallback notes. Raises :class:`RenderError`.
        """
        if not self._down:
            try:
                return self._render(fragments, fallback=False), False
            except RenderError as exc:
                if not (isinstance(exc.__cause__, EngineError) and exc.__cause__.unreachable):
                    raise
                if self.speech.fallback is None:
                    raise
                with self._lock:
                    self._down = True  # don't wait for an unreachable server 200 times
                    self.fell_back.append((label, exc.message))
        elif self.speech.fallback is None:  # pragma: no cover - _down implies a fallback
            raise RenderError("speech engine unreachable")
        else:
            with self._lock:
                self.fell_back.append((label, "engine unreachable earlier in this build"))
        return self._render(fragments, fallback=True), True

    def _render(self, fragments: tuple[Fragment, ...], fallback: bool) -> AudioSegment:
        pieces: list[AudioSegment] = []
        previous_sound = False
        for i, fragment in enumerate(fragments):
            if isinstance(fragment, Silence):
                pieces.append(audio.silence(fragment.seconds, self.rate))
                previous_sound = False
                continue
            clip = self._fragment(fragment, i, fallback)
            if previous_sound:
                pieces.append(audio.silence(GAP_SECONDS, self.rate))
            pieces.append(clip)
            previous_sound = True
        total = sum(pieces[1:], pieces[0]) if pieces else audio.silence(0, self.rate)
        seconds = len(total) / 1000
        limit = self.speech.max_prompt_seconds
        if seconds > limit:
            raise RenderError(f"the prompt lasts {seconds:.1f} s, longer than the {limit:g} s "
                              "allowed", "shorten it or split it, or raise "
                              "speech.max_prompt_seconds")
        return total

    def _fragment(self, fragment: Fragment, index: int, fallback: bool) -> AudioSegment:
        if isinstance(fragment, File):
            try:
                return audio.prepare(audio.load(self.root / fragment.path), self.rate)
            except audio.AudioError as exc:
                raise RenderError(f'audio file "{fragment.path}": {exc.message}'
                                  if fragment.path not in exc.message else exc.message,
                                  exc.hint, index) from exc
        assert isinstance(fragment, Text | Number | Digits)
        language = fragment.language or "en-US"
        if isinstance(fragment, Digits):
            return self._digits(fragment.digits, language, index, fallback)
        return self._speak(_spoken(fragment), fragment, index, fallback)

    def _digits(self, digits: str, language: str, index: int, fallback: bool) -> AudioSegment:
        gap = audio.silence(GAP_SECONDS, self.rate)
        clips = []
        for digit in digits:
            clip = self.digit_audio(digit, language) if self.digit_audio else None
            if clip is None:
                clip = self._speak(digit, Text(digit, language), index, fallback)
            clips.append(clip)
        out = clips[0]
        for clip in clips[1:]:
            out = out + gap + clip
        return out

    def _speak(self, text: str, fragment: Text | Number | Digits, index: int,
               fallback: bool) -> AudioSegment:
        engine = self._engine(fallback)
        if len(text) > engine.max_chars:
            raise RenderError(f"the text is {len(text)} characters long, more than the "
                              f"{engine.max_chars} {engine.name} takes",
                              "split it into several prompts or shorten it", index)
        voice = self._voice(engine, fragment, index)
        with tempfile.TemporaryDirectory(prefix="attendant-tts-") as tmp:
            try:
                produced = engine.synthesize(text, voice, Path(tmp) / "speech")
                raw = audio.load(produced)
            except EngineError as exc:
                raise RenderError(exc.message, exc.hint, index) from exc
            except audio.AudioError as exc:
                raise RenderError(f"{engine.name} produced unreadable audio: {exc.message}",
                                  exc.hint, index) from exc
        try:
            return audio.prepare(raw, self.rate)
        except audio.AudioError as exc:
            raise RenderError(f"{engine.name} produced silence for this text",
                              "check the text and the voice", index) from exc


def _spoken(fragment: Text | Number | Digits) -> str:
    if isinstance(fragment, Text):
        return fragment.text
    if isinstance(fragment, Number):
        return str(fragment.value)  # engines read numerals as numbers in the voice's language
    return fragment.digits
