"""Text-to-speech engines: a small protocol, espeak-ng, gTTS and a registry by name.

An engine turns (text, voice) into an audio file in any format pydub reads;
:mod:`attendant.prompts.audio` converts it to the endpoint's format. Engines
know nothing of menus: they raise :class:`EngineError` with what went wrong
and what to do, and :mod:`attendant.prompts.render` adds which prompt and
which menu line asked for it.

A new engine (a local neural voice, say) is a class with the four members
of :class:`SpeechEngine`, registered once with :func:`register_engine`.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class EngineError(Exception):
    """An engine cannot speak this text; ``unreachable`` marks a network failure."""

    def __init__(self, message: str, hint: str = "", *, unreachable: bool = False) -> None:
        self.message = message
        self.hint = hint
        self.unreachable = unreachable
        super().__init__(message)


class SpeechEngine(Protocol):
    """What the prompt builder needs from a text-to-speech engine."""

    #: The name used in ``speech.engine`` and in the cache key.
    name: str
    #: Longest text (in characters) one prompt fragment may hold.
    max_chars: int

    def identity(self) -> str:
        """Engine name and version: part of the cache key, so an upgrade re-renders."""
        ...

    def voice(self, language: str, voice: str | None) -> str:
        """The voice to use for ``language`` (``voice`` is the admin's choice, if any).

        Raises:
            EngineError: the language or voice is unknown to this engine.
        """
        ...

    def synthesize(self, text: str, voice: str, out: Path) -> Path:
        """Speak ``text`` into a file next to ``out`` (any suffix); return its path.

        Raises:
            EngineError: the engine failed or could not be reached.
        """
        ...


# --- espeak-ng ----------------------------------------------------------------------


class EspeakEngine:
    """espeak-ng, the offline default: a Debian package, no network, robotic but clear."""

    name = "espeak"
    # Far beyond any sensible prompt: a 5000-character text is about five minutes of speech.
    max_chars = 5000

    def __init__(self, binary: str = "espeak-ng") -> None:
        self.binary = binary

    def _run(self, *args: str, text: str | None = None) -> str:
        exe = shutil.which(self.binary)
        if exe is None:
            raise EngineError(f"{self.binary} is not installed",
                              "install it with apt-get install espeak-ng (bash scripts/setup.sh "
                              "does this)")
        result = subprocess.run([exe, *args], input=text, capture_output=True, text=True,
                                check=False, timeout=120)
        if result.returncode != 0:
            raise EngineError(f"{self.binary} failed: {result.stderr.strip() or result.returncode}")
        return result.stdout

    @functools.cached_property
    def _voices(self) -> frozenset[str]:
        names: set[str] = set()
        for line in self._run("--voices").splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:  # Pty Language Age/Gender VoiceName File ...
                names.update({cols[1].lower(), cols[4].lower(), cols[4].rsplit("/", 1)[-1].lower()})
        return frozenset(names)

    @functools.cached_property
    def _variants(self) -> frozenset[str]:
        names: set[str] = set()
        for line in self._run("--voices=variant").splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 5:
                names.update({cols[3].lower(), cols[4].rsplit("/", 1)[-1].lower()})
        return frozenset(names)

    def identity(self) -> str:
        return "espeak-ng " + self._version

    @functools.cached_property
    def _version(self) -> str:
        match = re.search(r"text-to-speech:\s*(\S+)", self._run("--version"))
        return match.group(1) if match else "unknown"

    def voice(self, language: str, voice: str | None) -> str:
        chosen = (voice or language).lower()
        base, _, variant = chosen.partition("+")
        if base not in self._voices:
            near = sorted(v for v in self._voices
                          if v.split("-", 1)[0] == base.split("-", 1)[0])
            known = f"voices for this language: {', '.join(near[:12])}" if near else (
                "espeak-ng --voices lists them")
            if voice is None:
                raise EngineError(f'espeak-ng has no voice for language "{language}"',
                                  f"{known}; set speech.voices.{language} to one of them")
            raise EngineError(f'espeak-ng has no voice "{voice}" (for {language})', known)
        if variant and variant not in self._variants:
            raise EngineError(f'espeak-ng has no voice variant "{variant}" (in "{voice}")',
                              "espeak-ng --voices=variant lists them (f1..f5, m1..m7, ...)")
        return chosen

    def synthesize(self, text: str, voice: str, out: Path) -> Path:
        target = out.with_suffix(".wav")
        # Text goes through stdin so that a prompt starting with "-" is never an option.
        self._run("-v", voice, "-w", str(target), "--stdin", text=text)
        return target


# --- gTTS -----------------------------------------------------------------------------

#: Google's accent for a language, as gTTS's top-level domain (``tld``).
_GTTS_TLD = {"en-US": "com", "en-GB": "co.uk", "en-AU": "com.au", "en-CA": "ca",
             "fr-FR": "fr", "fr-CA": "ca", "es-ES": "es", "es-MX": "com.mx", "pt-BR": "com.br",
             "pt-PT": "pt"}


class GttsEngine:
    """gTTS: Google Translate's voice. Needs https://translate.google.com, so it may fail.

    A voice is written ``LANG`` or ``LANG:TLD`` (``en:co.uk`` for a British accent).
    """

    name = "gtts"
    # gTTS splits text into 100-character requests itself; this bounds the number of requests.
    max_chars = 5000

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def identity(self) -> str:
        from gtts.version import __version__

        return f"gtts {__version__}"

    def voice(self, language: str, voice: str | None) -> str:
        from gtts.lang import tts_langs

        if voice is not None:
            lang, _, tld = voice.partition(":")
        else:
            primary = language.split("-", 1)[0]
            lang = language if language in tts_langs() else primary
            tld = _GTTS_TLD.get(language, "com")
        if lang not in tts_langs():
            what = f'voice "{voice}"' if voice is not None else f'language "{language}"'
            raise EngineError(f"gTTS does not speak {what}",
                              "gtts-cli --all lists the languages; write a voice as LANG or "
                              "LANG:TLD, such as en:co.uk")
        return f"{lang}:{tld or 'com'}"

    def synthesize(self, text: str, voice: str, out: Path) -> Path:
        from gtts import gTTS, gTTSError

        lang, _, tld = voice.partition(":")
        target = out.with_suffix(".mp3")
        try:
            gTTS(text, lang=lang, tld=tld, lang_check=False, timeout=self.timeout).save(
                str(target))
        except gTTSError as exc:
            raise EngineError(f"gTTS could not reach translate.google.{tld} ({_reason(exc)})",
                              "use speech.engine: espeak, or allow speech.fallback: espeak",
                              unreachable=True) from exc
        return target


def _reason(exc: BaseException) -> str:
    """The useful part of a network failure ("Failed to resolve ...", "timed out")."""
    text = f"{exc} {exc.__context__ or ''}"
    for pattern in (r"Failed to resolve '[^']+'", r"[Rr]ead timed out", r"timed out",
                    r"Connection refused", r"Network is unreachable", r"\b\d{3} \([^)]*\)"):
        match = re.search(pattern, text)
        if match:
            return match.group(0)
    return str(exc)


# --- registry -------------------------------------------------------------------------

EngineFactory = Callable[[], SpeechEngine]
_FACTORIES: dict[str, EngineFactory] = {"espeak": EspeakEngine, "gtts": GttsEngine}
_INSTANCES: dict[str, SpeechEngine] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make ``speech.engine: NAME`` use the engine ``factory()`` builds."""
    _FACTORIES[name] = factory
    _INSTANCES.pop(name, None)


def engine_names() -> tuple[str, ...]:
    """The engines a configuration may name."""
    return tuple(sorted(_FACTORIES))


def get_engine(name: str) -> SpeechEngine:
    """The engine called ``name`` (one shared instance, so voice lists are read once).

    Raises:
        EngineError: no engine has that name.
    """
    if name not in _FACTORIES:
        raise EngineError(f'unknown speech engine "{name}"',
                          f"known engines: {', '.join(engine_names())}")
    if name not in _INSTANCES:
        _INSTANCES[name] = _FACTORIES[name]()
    return _INSTANCES[name]
