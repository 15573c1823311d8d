"""Where each value of a configuration was written: the source map every stage shares.

The loader fills a :class:`SourceMap` while it reads YAML; the schema check, the
model builder and the meaning checks look positions up in it by JSON path
(:data:`PathKey`) so that every diagnostic names file:line:col. :class:`PromptSites`
keeps where each prompt was written, for the errors of a prompt build (``prompts/``)
and of the server's renders (``sip/``), which come long after the compile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from attendant.config.diagnostics import Diagnostic, Position, Severity, json_path
from attendant.model import PathKey

__all__ = ["PathKey", "Positions", "PromptSite", "PromptSiteKey", "PromptSites", "SourceMap",
           "display_path"]

Positions = tuple[dict[PathKey, Position], dict[PathKey, Position]]


class SourceMap:
    """Where each value (and each mapping key) of a configuration was written.

    ``values`` and ``keys`` map JSON paths to positions. :func:`load` leaves them to a
    ``fill`` function, run the first time they are used, whenever the configuration
    loaded without a finding: recording the position of every value takes longer than
    reading the data, and most configurations are compiled without one being needed.
    """

    def __init__(self, values: dict[PathKey, Position] | None = None,
                 keys: dict[PathKey, Position] | None = None, files: list[str] | None = None,
                 *, fill: Callable[[], Positions] | None = None) -> None:
        self._values = {} if values is None else values
        self._keys = {} if keys is None else keys
        self.files = [] if files is None else files
        self._fill = fill

    @property
    def values(self) -> dict[PathKey, Position]:
        """Position of each value, by JSON path."""
        if self._fill is not None:
            self._filled()
        return self._values

    @property
    def keys(self) -> dict[PathKey, Position]:
        """Position of each mapping key, by the JSON path of its value."""
        if self._fill is not None:
            self._filled()
        return self._keys

    def _filled(self) -> None:
        fill = self._fill
        if fill is not None:
            self._values, self._keys = fill()
            self._fill = None

    def value_pos(self, path: PathKey) -> Position:
        """Position of the value at ``path``, or of its nearest written parent."""
        return self._lookup(self.values, path)

    def key_pos(self, path: PathKey) -> Position:
        """Position of the key that introduces ``path`` (falls back to the value)."""
        if path in self.keys:
            return self.keys[path]
        return self._lookup(self.values, path)

    def _lookup(self, table: dict[PathKey, Position], path: PathKey) -> Position:
        for n in range(len(path), -1, -1):
            pos = table.get(path[:n])
            if pos is not None:
                return pos
        return Position(self.files[0] if self.files else "<config>", 1, 1)

    def diag(
        self,
        path: PathKey,
        message: str,
        hint: str = "",
        *,
        severity: Severity = Severity.ERROR,
        at_key: bool = False,
    ) -> Diagnostic:
        """A diagnostic placed at the value (or key) found at ``path``."""
        pos = self.key_pos(path) if at_key else self.value_pos(path)
        return Diagnostic.at(pos, json_path(path), message, hint, severity)


def display_path(path: Path) -> str:
    """``path`` as shown in diagnostics: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


#: (prompt id, variant language or None, fragment index, or None for the whole prompt)
PromptSiteKey = tuple[str, str | None, int | None]


@dataclass(frozen=True, slots=True)
class PromptSite:
    """Where a prompt, or one fragment of it, was written: prompt builds name this place."""

    position: Position
    json_path: str


class PromptSites(Mapping[PromptSiteKey, PromptSite]):
    """Where every prompt and fragment was written; each place is looked up when asked for.

    Only an error found while rendering audio needs one, so a compile records the JSON
    paths and leaves the positions to the source map (read on first use, see SourceMap).
    """

    def __init__(self, sources: SourceMap) -> None:
        self._sources = sources
        self._paths: dict[PromptSiteKey, PathKey] = {}

    def add(self, key: PromptSiteKey, path: PathKey) -> None:
        """Record that the prompt (or fragment) ``key`` was written at ``path``."""
        self._paths[key] = path

    def __getitem__(self, key: PromptSiteKey) -> PromptSite:
        path = self._paths[key]
        return PromptSite(self._sources.value_pos(path), json_path(path))

    def __iter__(self) -> Iterator[PromptSiteKey]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)
