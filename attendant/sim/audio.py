"""The simulator with sound: each prompt a caller hears, as the audio file it plays.

:class:`AudioSimulator` is the plain :class:`~attendant.sim.call.Simulator`
plus a :class:`~attendant.ports.PromptAudio` store, so that ``sim/call.py``
itself stays free of audio. It can note each file and its duration next to
the ``hears:`` line, and keeps every clip played, in order, so
:meth:`AudioSimulator.write_session` can write the caller's whole call as
one WAV file. Clips are joined end to end: the simulator's prompts take no
fake time, so waits add no silence (see docs/prompts.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from attendant.engine import actions as act
from attendant.ports import PromptAudio
from attendant.sim.call import Simulator


@dataclass
class AudioSimulator(Simulator):
    """A simulated call that also finds the audio of every prompt played."""

    store: PromptAudio | None = None
    show_audio: bool = False
    played: list[Path] = field(default_factory=list)

    def _apply(self, action: act.Action) -> None:
        super()._apply(action)
        if not isinstance(action, act.Play) or self.store is None:
            return
        from attendant.prompts.audio import duration

        notes = []
        for say in action.items:
            path = self.store.wav_for(say)
            self.played.append(path)
            notes.append(f"{path} {duration(path):.2f} s")
        if self.show_audio:
            self.lines[-1] += f"  [{'; '.join(notes)}]"

    def write_session(self, out: Path) -> float:
        """Write every clip played so far, in order, as one WAV; returns its duration."""
        import wave

        rate = self.store.clock_rate if self.store is not None else 8000
        out.parent.mkdir(parents=True, exist_ok=True)
        frames = 0
        with wave.open(str(out), "wb") as session:
            session.setnchannels(1)
            session.setsampwidth(2)
            session.setframerate(rate)
            for path in self.played:
                with wave.open(str(path), "rb") as clip:
                    data = clip.readframes(clip.getnframes())
                    frames += clip.getnframes()
                    session.writeframes(data)
        return frames / rate
