"""Diagnostics: what validation says about a menu file, and where.

A :class:`Diagnostic` names the file, line and column, the JSON path inside the
document, what is wrong and how to fix it. Validation collects every
diagnostic it can find rather than stopping at the first, and the CLI prints
them compiler-style (``menus/main.yaml:14:7: error: ...``) or as JSON.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
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
    """Order by file and position, dropping exact repeats and telling a mistake in a block
    shared through a YAML anchor once (:func:`_merge_shared`), so output is stable."""
    unique = dict.fromkeys(diagnostics)
    ordered = sorted(unique, key=lambda d: (d.file, d.line, d.col, d.message))
    merged: list[Diagnostic] = []
    for _, group in itertools.groupby(ordered, key=lambda d: (d.file, d.line, d.col)):
        merged.extend(_merge_shared(list(group)))
    return merged


def _merge_shared(group: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics at one position whose messages differ in one word only (the menu
    that uses a block written once under a YAML anchor): one message naming them all."""
    by_kind: dict[tuple[Severity, str], list[Diagnostic]] = {}
    for diag in group:
        by_kind.setdefault((diag.severity, diag.hint), []).append(diag)
    out: list[Diagnostic] = []
    for same in by_kind.values():
        words = _differing_words([d.message for d in same]) if len(same) > 1 else None
        if words is None:
            out.extend(same)
            continue
        first = same[0]
        out.append(replace(first, message=f"{first.message} (and the same in "
                                           f"{_and_list(words[1:])}, which use this line "
                                           "through a YAML anchor)"))
    return out


def _differing_words(messages: list[str]) -> list[str] | None:
    """The one word each message has where the others differ, or None when they differ
    otherwise."""
    split = [re.split(r"(\W)", m) for m in messages]
    shortest = min(len(t) for t in split)
    prefix = 0
    while prefix < shortest and len({t[prefix] for t in split}) == 1:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and len({t[-1 - suffix] for t in split}) == 1:
        suffix += 1
    middles = [t[prefix:len(t) - suffix] for t in split]
    if any(len(m) != 1 or not m[0] for m in middles):
        return None
    return [m[0] for m in middles]


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


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
