"""The core does no I/O: importing it brings no event loop, socket or subprocess, and its
source never reads a clock or opens a file (see STYLE.md, "a pure core, thin adapters").
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "attendant"
#: The core: every module of the call machine and of the queue machine, the frozen model
#: they run on, the built-in prompts, URI parsing, number normalising, keypad spelling and
#: PIN rules (hashing only: no file).
CORE = tuple(sorted(
    [f"{package}.{path.stem}" for package in ("engine", "queues")
     for path in (PACKAGE / package).glob("*.py") if path.stem != "__init__"]
    + ["model", "system_prompts", "uris", "numbers", "pins", "config.keypad"]))
#: The packages holding them (their ``__init__`` is imported on the way).
CORE_PACKAGES = ("engine", "queues", "config")
#: Modules whose presence would mean the core does I/O (or could).
FORBIDDEN = ("asyncio", "socket", "ssl", "http", "urllib.request", "pjsua2", "sqlite3",
             "subprocess", "selectors")
#: Third-party packages the core itself must not need (the package's adapters may).
NOT_IN_CORE = ("yaml", "jsonschema", "click", "rich", "holidays", "attendant.config.loader",
               "attendant.cli", "attendant.sim.call", "attendant.config.compiler")


def _loaded_after_import(isolated: bool) -> list[str]:
    """Modules a fresh interpreter has loaded after importing the core.

    With ``isolated`` the package's ``__init__`` (which re-exports the compiler
    and so pulls in YAML and JSON Schema) is skipped, to see what the core
    modules need by themselves.
    """
    stub = (
        "import sys, types\n"
        "pkg = types.ModuleType('attendant')\n"
        f"pkg.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['attendant'] = pkg\n"
    ) if isolated else ""
    imports = "\n".join(f"import attendant.{name}" for name in CORE)
    code = f"{stub}{imports}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=PACKAGE.parent)
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def _offenders(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in loaded for n in names if m == n or m.startswith(n + "."))


@pytest.mark.parametrize("isolated", [False, True], ids=["with-package", "core-alone"])
def test_importing_core_pulls_in_no_io_modules(isolated: bool) -> None:
    loaded = _loaded_after_import(isolated)
    assert "attendant.engine.machine" in loaded
    assert _offenders(loaded, FORBIDDEN) == []


def test_core_alone_needs_no_adapter_or_third_party_package() -> None:
    loaded = _loaded_after_import(isolated=True)
    assert _offenders(loaded, NOT_IN_CORE) == []
    assert sorted(m for m in loaded if m.startswith("attendant.")) == sorted(
        f"attendant.{name}" for name in CORE + CORE_PACKAGES)


#: Calls that read a clock, the terminal or the file system.
_CLOCK_ATTRIBUTES = {
    "datetime": {"now", "utcnow", "today"},
    "date": {"today"},
    "time": {"time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "sleep"},
    "os": {"open", "listdir", "scandir", "getenv"},
}
_BUILTINS = {"open", "input", "print"}
_IMPORTS = {"time", "os", "io", "socket", "asyncio", "subprocess", "threading", "pathlib",
            "random", "sqlite3", "urllib", "http"}


def _impure_calls(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _BUILTINS:
                found.append(f"line {node.lineno}: {func.id}()")
            elif isinstance(func, ast.Attribute):
                owner = func.value
                name = owner.id if isinstance(owner, ast.Name) else (
                    owner.attr if isinstance(owner, ast.Attribute) else "")
                if func.attr in _CLOCK_ATTRIBUTES.get(name, ()):
                    found.append(f"line {node.lineno}: {name}.{func.attr}()")
                elif func.attr in {"open", "read_text", "read_bytes", "write_text"}:
                    found.append(f"line {node.lineno}: .{func.attr}()")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in _IMPORTS]
        elif (isinstance(node, ast.ImportFrom) and node.module
              and node.module.split(".")[0] in _IMPORTS):
            found.append(f"line {node.lineno}: from {node.module} import ...")
    return found


@pytest.mark.parametrize("name", CORE)
def test_core_source_reads_no_clock_and_opens_no_file(name: str) -> None:
    source = (PACKAGE / f"{name.replace('.', '/')}.py").read_text(encoding="utf-8")
    assert _impure_calls(ast.parse(source)) == []


def test_impurity_checker_sees_what_it_looks_for() -> None:
    sample = (
        "import time\n"
        "from datetime import datetime\n"
        "# datetime.now() in a comment is fine\n"
        "x = 'open(\"f\")'\n"
        "a = datetime.now()\n"
        "b = time.monotonic()\n"
        "c = open('f')\n"
        "d = dt.datetime.utcnow()\n"
        "e = Path('x').read_text()\n"
    )
    assert _impure_calls(ast.parse(sample)) == [
        "line 1: import time",
        "line 5: datetime.now()",
        "line 6: time.monotonic()",
        "line 7: open()",
        "line 8: datetime.utcnow()",
        "line 9: .read_text()",
    ]
