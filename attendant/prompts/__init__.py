"""Prompts: turn what menus say into audio files the media endpoint can play.

- :mod:`~attendant.prompts.engines`: text-to-speech engines (espeak-ng, gTTS) and a registry;
- :mod:`~attendant.prompts.audio`: loading, conversion, trimming, loudness, WAV files;
- :mod:`~attendant.prompts.collect`: every prompt a compiled flow can play, per language;
- :mod:`~attendant.prompts.render`: fragments to one clip, and the clip's content key;
- :mod:`~attendant.prompts.build`: ``attendant prompts build``: cache, manifest, parallel jobs;
- :mod:`~attendant.prompts.store`: :class:`PromptStore`, the ``PromptAudio`` port for a build;
- :mod:`~attendant.prompts.moh`: the default music on hold, synthesised.

See docs/prompts.md.
"""

from __future__ import annotations

from attendant.prompts.build import BuildReport, build
from attendant.prompts.engines import SpeechEngine, register_engine
from attendant.prompts.store import PromptStore

__all__ = ["BuildReport", "PromptStore", "SpeechEngine", "build", "register_engine"]
