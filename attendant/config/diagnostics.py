"""Diagnostics: what validation says about a menu file, and where.

A :class:`Diagnostic` names the file, line and column, the JSON path inside the
document, what is wrong and how to fix it. Validation collects every
diagnostic it can find rather than stopping at the first, and the CLI prints
them compiler-style (``menus/main.yaml:14:7: error: ...``) or as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    """How bad a diagnostic is: errors stop a menu from loading, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """A place in a source file, 1-based like editors and compilers count.

    A NamedTuple because the loader makes one per YAML node: it is several times
    cheaper to build than a frozen dataclass.
    """

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a menu configuration."""

    file: str
    line: int
    col: int
    json_path: str
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    @classmethod
    def at(
        cls,
        pos: Position,
        json_path: str,
        message: str,
        hint: str = "",
        severity: Severity = Severity.ERROR,
    ) -> Diagnostic:
        """Build a diagnostic located at ``pos``."""
        return cls(pos.file, pos.line, pos.col, json_path, message, hint, severity)

    @property
    def is_error(self) -> bool:
        """True when this finding stops the menu from loading."""
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """Render like a compiler: ``file:line:col: error: message`` then the hint.

        Control characters (a newline inside a quoted key, say) are shown escaped, so
        each diagnostic is always one line, plus one for its hint.
        """
        text = (f"{_one_line(self.file)}:{self.line}:{self.col}: {self.severity.value}: "
                f"{_one_line(self.message)}")
        if self.hint:
            text += f"\n  hint: {_one_line(self.hint)}"
        return text

    def to_dict(self) -> dict[str, object]:
        """A plain dict for ``--format json``."""
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(32), 0x7F)} | {
    ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t",
    0x85: "\\x85", 0x2028: "\\u2028", 0x2029: "\\u2029",  # what str.splitlines() splits on
}


def _one_line(text: str) -> str:
    return text.translate(_ESCAPES)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order by file and position, dropping exact repeats, so output is stable."""
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.file, d.line, d.col, d.message))


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    """All diagnostics as compiler-style text with a closing count."""
    lines = [d.format() for d in diagnostics]
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    """All diagnostics as a JSON array for editors and other tools."""
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False)


def json_path(path: Sequence[str | int]) -> str:
    """A dotted path such as ``menus.main.options.1`` ("$" for the root)."""
    if not path:
        return "$"
    return ".".join(str(p) for p in path)
