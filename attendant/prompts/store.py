"""The prompt store: audio files for what the engine says, from a build folder.

:class:`PromptStore` implements :class:`attendant.ports.PromptAudio` for the
media endpoint and the simulator. A ``Say`` with a known prompt id and
language is a manifest lookup. Anything else (names read back by dial by
name, digits, numbers, a prompt the build did not know) is rendered on first
use with the build's settings, and kept in the same content-addressed cache,
so the second caller to hear "Anna Smith" gets the file straight away.
Digits are read one by one from the pre-rendered ``digits.N`` prompts.
:meth:`PromptStore.built` also knows what was spoken at run time before (an
in-memory index, bounded by :data:`SPOKEN_MEMO`), so ``serve`` starts those
without a trip through its renderer pool either (queue position announcements).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from attendant.engine.actions import Say
from attendant.errors import PromptError
from attendant.model import Speech, frozen_map, localise
from attendant.prompts import audio
from attendant.prompts.audio import AudioSegment
from attendant.prompts.build import MANIFEST
from attendant.prompts.collect import DIGIT_PREFIX
from attendant.prompts.render import Renderer, RenderError

#: Run-time speech remembered by :meth:`PromptStore.built` (forgotten all at once past this).
SPOKEN_MEMO = 10_000


class PromptStore:
    """Rendered prompts of one build folder (see :mod:`attendant.prompts.build`)."""

    def __init__(self, build_dir: Path, *, clock_rate: int | None = None,
                 root: Path | None = None, speech: Speech | None = None) -> None:
        """Open the build in ``build_dir``.

        Without a manifest there (no ``attendant prompts build`` yet), or when
        ``clock_rate`` differs from the build's, every prompt is rendered on first use
        with ``speech`` (default: espeak-ng) and ``root`` for ``file:`` prompts.

        Raises:
            PromptError: the manifest exists but cannot be read.
        """
        self.build_dir = build_dir
        self._files: dict[tuple[str, str], Path] = {}
        self._moh: Path | None = None
        self._rate = clock_rate or 8000
        speech = speech or Speech()
        root = root or Path.cwd()
        manifest = build_dir / MANIFEST
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                built = data["speech"]
                speech = Speech(engine=built["engine"], fallback=built["fallback"],
                                voices=frozen_map(built["voices"]),
                                max_prompt_seconds=float(built["max_prompt_seconds"]),
                                music_on_hold=built.get("music_on_hold"))
                root = Path(data["root"])
                if clock_rate in (None, int(data["rate"])):
                    self._rate = int(data["rate"])
                    self._files = {(str(e["id"]), str(e["language"])): build_dir / str(e["file"])
                                   for e in data["prompts"]}
                    self._moh = build_dir / str(data["music_on_hold"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise PromptError(f"the prompt build in {build_dir} cannot be read ({exc}); "
                                  f"run attendant prompts build MENU --out {build_dir}") from exc
        self._renderer = Renderer(speech, root, self._rate, digit_audio=self._digit)
        self._digits: dict[tuple[str, str], AudioSegment] = {}
        #: Files already made for run-time speech, by what was said (read on any thread).
        self._spoken: dict[tuple[object, ...], Path] = {}
        self._lock = threading.Lock()

    @property
    def clock_rate(self) -> int:
        """Sample rate of every file this store returns."""
        return self._rate

    @property
    def music_on_hold(self) -> Path:
        """The music-on-hold file (the admin's, or ours, made here when not built yet)."""
        if self._moh is None or not self._moh.is_file():
            from attendant.prompts import moh

            self._moh = self.build_dir / "moh" / f"default-v{moh.VERSION}-{self._rate}.wav"
            if not self._moh.is_file():
                moh.write(self._moh, self._rate)
        return self._moh

    def built(self, say: Say) -> Path | None:
        """The file the build made for ``say``, or that :meth:`wav_for` made for the same
        words before, when it is there (a dict lookup and a ``stat``, never a render);
        None for speech not made yet or a missing file."""
        known = (self._files.get((say.prompt_id, say.language)) if say.prompt_id
                 else self._spoken.get((say.fragments, say.language)))
        return known if known is not None and known.is_file() else None

    def wav_for(self, say: Say) -> Path:
        """A mono 16-bit WAV at :attr:`clock_rate` holding ``say`` (see the module docstring).

        Raises:
            PromptError: it cannot be rendered (engine, voice, file...).
        """
        known = self._files.get((say.prompt_id, say.language)) if say.prompt_id else None
        if known is not None and known.is_file():
            return known
        fragments = tuple(localise(f, say.language) for f in say.fragments)
        label = say.prompt_id or "(spoken at run time)"
        try:
            key = self._renderer.key(fragments)
            path = self.build_dir / "cache" / f"{key}.wav"
            if not path.is_file():
                clip, fell_back = self._renderer.render(fragments, label)
                if fell_back:
                    path = self.build_dir / "cache" / (
                        f"{self._renderer.key(fragments, fallback=True)}.wav")
                audio.write_wav(clip, path)
            if not say.prompt_id:
                if len(self._spoken) >= SPOKEN_MEMO:
                    self._spoken.clear()
                self._spoken[(say.fragments, say.language)] = path
        except RenderError as exc:
            raise PromptError(f"prompt {label} ({say.language}): {exc.message}"
                              + (f"\n  hint: {exc.hint}" if exc.hint else "")) from exc
        return path

    def _digit(self, digit: str, language: str) -> AudioSegment | None:
        """A pre-rendered digit, loaded once, or None (the renderer then speaks it)."""
        with self._lock:
            if (digit, language) not in self._digits:
                path = self._files.get((f"{DIGIT_PREFIX}{digit}", language))
                if path is None or not path.is_file():
                    return None
                self._digits[(digit, language)] = audio.load(path)
            return self._digits[(digit, language)]
