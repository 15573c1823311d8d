"""Ports: the interfaces adapters implement around the pure core.

Each is a Protocol, so the SIP endpoint, the simulator and tests can supply
their own implementation. Only the audio port exists so far; the media,
transfer and voicemail-store ports will join it with ``attendant serve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from attendant.engine.actions import Say


class PromptAudio(Protocol):
    """Turns what the engine wants said into audio files the media endpoint can play."""

    @property
    def clock_rate(self) -> int:
        """Sample rate of every file this store returns (8000 or 16000)."""
        ...

    def wav_for(self, say: Say) -> Path:
        """A mono 16-bit PCM WAV at :attr:`clock_rate` holding ``say``.

        Pre-rendered prompts are looked up by ``say.prompt_id`` and language;
        anything else (names, digits read back) is rendered on first use and cached.
        Raises :class:`attendant.errors.PromptError` when it cannot be rendered.
        """
        ...
