"""Exceptions raised by attendant, and what to do about each.

The tree is small on purpose::

    AttendantError                 anything attendant raises on purpose
    ├── ConfigError                menu files are missing, unreadable or invalid;
    │                              carries every Diagnostic found
    ├── ScenarioError              a scenario file is malformed (file:line in the message)
    ├── SimulationError            a simulated caller step cannot be carried out
    ├── PromptError                a prompt cannot be rendered (engine, file, language);
    │                              carries the Diagnostic naming the menu file and line
    ├── StorageError               voicemail or call-log storage is unusable
    │   │                          (attendant.storage; says which file and what to do)
    │   └── WavError               a recording's WAV file cannot be read or repaired
    └── NotificationError          a voicemail e-mail cannot be built or sent (attendant.ops.notify)

Each message says what to change, not only what went wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attendant.config.diagnostics import Diagnostic


class AttendantError(Exception):
    """Base class for every error attendant raises on purpose."""


class ConfigError(AttendantError):
    """The menu configuration cannot be loaded; ``diagnostics`` says why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0].format() if self.diagnostics else "invalid configuration"
        more = len(self.diagnostics) - 1
        super().__init__(first + (f"\n(and {more} more)" if more > 0 else ""))


class ScenarioError(AttendantError):
    """A scenario file cannot be read or has a malformed step."""


class SimulationError(AttendantError):
    """A simulated caller step does not make sense in the call's current state."""


class PromptError(AttendantError):
    """A prompt cannot be turned into audio; ``diagnostic`` says where it was asked for."""

    def __init__(self, message: str, diagnostic: Diagnostic | None = None) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.format() if diagnostic is not None else message)
