"""Imports go down the pipeline only: the core knows nothing of config, config nothing
of the adapters, the adapters nothing of the command line (docs/architecture.md).

Every module of ``attendant`` belongs to one stage; a module may import from its own
stage or a lower one. Imports under ``if TYPE_CHECKING:`` are annotations only and
are left out (``errors.py`` names ``Diagnostic`` that way).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "attendant"

#: Stage of each top-level module or sub-package, lowest first.
STAGES: dict[str, int] = {
    # 0, the pure core: the model, the call and queue machines, what they speak
    "model": 0, "errors": 0, "pins": 0, "system_prompts": 0, "uris": 0, "numbers": 0, "engine": 0,
    "queues": 0,
    # 1, configuration: YAML to a compiled Flow; the ports adapters implement
    "config": 1, "ports": 1,
    # 2, adapters and services around the core
    "prompts": 2, "storage": 2, "ops": 2, "export": 2, "sim": 2, "sip": 2, "twins": 2,
    # 3, the command line and the package's front door
    "cli": 3, "__main__": 3, "__init__": 3,
}
NAMES = {0: "core", 1: "config", 2: "adapters", 3: "cli"}


def _unit(module: str) -> str:
    """The top-level name under ``attendant`` a dotted module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        dotted = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found.append((dotted.removesuffix(".__init__") if dotted != "attendant.__init__"
                      else "attendant", path))
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every ``attendant`` import outside ``if TYPE_CHECKING:``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [(line, name) for line, name in found
            if name == "attendant" or name.startswith("attendant.")]


def test_every_module_has_a_stage() -> None:
    unplaced = sorted({_unit(name) for name, _ in _modules()} - set(STAGES))
    assert unplaced == [], f"add {unplaced} to STAGES in {Path(__file__).name}"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: str(v).split("/")[-1]
                         if isinstance(v, Path) else v)
def test_module_imports_only_its_stage_or_lower(module: str, path: Path) -> None:
    stage = STAGES[_unit(module)]
    upward = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module} ({NAMES[stage]}) imports "
        f"{name} ({NAMES[STAGES[_unit(name)]]})"
        for line, name in imports_of(ast.parse(path.read_text(encoding="utf-8")))
        if name != "attendant" and STAGES[_unit(name)] > stage
    ]
    assert upward == []


def test_checker_sees_lazy_imports_and_skips_type_checking_blocks() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from attendant.cli.main import main\n"
        "else:\n"
        "    import attendant.sip.server\n"
        "def f():\n"
        "    from attendant.storage import CallLog\n"
        "from . import sibling\n"
    )
    assert imports_of(tree) == [(5, "attendant.sip.server"), (7, "attendant.storage")]
