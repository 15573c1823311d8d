"""The corpus of invalid menus: each mistake, and exactly what the validator says about it.

Every case in ``tests/invalid/`` is one small configuration with one mistake,
named after it: a ``<name>.yaml`` file, or a ``<name>/`` folder holding
``attendant.yaml`` and other YAML files. Next to it, ``<name>.expected`` holds
the validator's output, as ``attendant validate`` prints it (compiler-style
diagnostics, sorted, with file paths relative to the repository root).

Two cases have no source file in the repository because they are not text
that belongs in git: ``non-utf8`` and ``file-too-large`` are written into a
temporary folder by :data:`GENERATED`, and their paths are shown in the
expected text as if they lived in ``tests/invalid/``.

To regenerate the expected files after a deliberate change to a message, run::

    ATTENDANT_REGEN=1 .venv/bin/pytest tests/unit/test_invalid_corpus.py

and then read every changed ``.expected`` file (``git diff tests/invalid``):
each message must point at the right line and column and say what to change.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from attendant.config.compiler import compile_path
from attendant.config.diagnostics import format_text

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "invalid"
REGEN = os.environ.get("ATTENDANT_REGEN") == "1"


def _non_utf8() -> bytes:
    # "Café" saved as Latin-1: the é is the single byte 0xe9.
    return (
        b"version: 1\n"
        b"attendants:\n"
        b"  main:\n"
        b"    name: Caf\xe9 Central\n"
        b"    timezone: Europe/Paris\n"
        b"    business_hours: {menu: welcome}\n"
    )


def _too_large() -> bytes:
    line = b"# a menu file that grew far past any sensible size\n"
    return line * (50 * 1024 * 1024 // len(line) + 1)


#: Cases whose file is written at test time rather than kept in the repository.
GENERATED: dict[str, Callable[[], bytes]] = {
    "non-utf8": _non_utf8,
    "file-too-large": _too_large,
}


def _corpus_cases() -> list[str]:
    names = {p.stem for p in CORPUS.glob("*.yaml")}
    names |= {p.name for p in CORPUS.iterdir() if p.is_dir()}
    return sorted(names)


def _check_against_expected(name: str, actual: str) -> None:
    expected_file = CORPUS / f"{name}.expected"
    if REGEN:
        expected_file.write_text(actual + "\n", encoding="utf-8")
        return
    if not expected_file.exists():
        pytest.fail(f"{expected_file.relative_to(REPO)} is missing; run with ATTENDANT_REGEN=1 "
                    "to create it, then read it")
    expected = expected_file.read_text(encoding="utf-8").rstrip("\n")
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(
            expected.splitlines(), actual.splitlines(),
            fromfile=f"{name}.expected", tofile="validator output", lineterm="",
        ))
        pytest.fail(f"diagnostics for {name} differ from the expected file:\n{diff}",
                    pytrace=False)


@pytest.mark.parametrize("name", _corpus_cases())
def test_invalid_menu_gets_the_expected_diagnostics(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    source = Path("tests", "invalid", name if (CORPUS / name).is_dir() else f"{name}.yaml")
    result = compile_path(source)
    assert result.diagnostics, f"{source} is in the invalid corpus but nothing was reported"
    assert (result.flow is None) == bool(result.errors), "only warnings still give a Flow"
    _check_against_expected(name, format_text(result.diagnostics))


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_invalid_file_gets_the_expected_diagnostics(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(GENERATED[name]())
    result = compile_path(path)
    assert result.flow is None
    shown = format_text(result.diagnostics).replace(str(path), f"tests/invalid/{name}.yaml")
    _check_against_expected(name, shown)


def test_every_expected_file_belongs_to_a_case() -> None:
    cases = set(_corpus_cases()) | set(GENERATED)
    orphans = sorted(p.name for p in CORPUS.glob("*.expected") if p.stem not in cases)
    assert orphans == []
