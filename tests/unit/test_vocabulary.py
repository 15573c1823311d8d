"""One vocabulary: the keys the parser reads are exactly the keys the schema allows.

A key the schema accepts but the parser never reads would be silently ignored (an
admin's setting that does nothing); a key the parser reads but the schema rejects
could never be written. Both directions are checked by reading the parser's source.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attendant.config.schema import schema
from attendant.model import WEEKDAYS
from attendant.system_prompts import DEFAULTS, OVERRIDABLE

ROOT = Path(__file__).resolve().parents[2]
READERS = [ROOT / "attendant" / "config" / name for name in ("model_builder.py", "compiler.py")]
#: Names the schema uses for whole sections or for maps keyed by the admin's own names.
SECTION_KEYS = {"version"}


def schema_properties(node: Any, skip_prompt_overrides: bool = True) -> Iterator[str]:
    """Every property name declared anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield key
            if not (skip_prompt_overrides and key == "prompts" and "properties" in value
                    and "invalid" in value["properties"]):
                yield from schema_properties(value, skip_prompt_overrides)
        for key, value in node.items():
            if key != "properties":
                yield from schema_properties(value, skip_prompt_overrides)
    elif isinstance(node, list):
        for item in node:
            yield from schema_properties(item, skip_prompt_overrides)


def keys_read() -> set[str]:
    """String keys the parser reads: ``x["k"]``, ``x.get("k")`` and ``"k" in x``."""
    found: set[str] = set()
    for path in READERS:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                if isinstance(node.slice.value, str):
                    found.add(node.slice.value)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "get" and node.args
                  and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
            elif (isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant)
                  and isinstance(node.left.value, str)
                  and any(isinstance(op, ast.In) for op in node.ops)):
                found.add(node.left.value)
    # Business hours are read day by day in a loop over the model's weekday names.
    return found | set(WEEKDAYS)


def test_every_schema_key_is_read_by_the_parser() -> None:
    declared = set(schema_properties(schema())) - SECTION_KEYS
    ignored = sorted(declared - keys_read())
    assert not ignored, f"the schema allows keys the parser never reads: {ignored}"


def test_every_key_the_parser_reads_is_in_the_schema() -> None:
    declared = set(schema_properties(schema()))
    # Identifiers the parser compares that are values, not keys (action words, tags).
    unknown = sorted(k for k in keys_read() - declared if k.isidentifier() and k.islower()
                     and k not in _VALUE_WORDS)
    assert not unknown, f"the parser reads keys the schema does not allow: {unknown}"


def test_prompt_overrides_in_the_schema_are_the_overridable_system_prompts() -> None:
    overrides = schema()["properties"]["prompts"]["properties"]
    assert sorted(overrides) == sorted(OVERRIDABLE)
    assert set(OVERRIDABLE) <= set(DEFAULTS)


def test_shipped_schema_file_is_valid_json() -> None:
    text = (ROOT / "attendant" / "schema" / "menu-v1.schema.json").read_text(encoding="utf-8")
    assert json.loads(text) == schema()


#: Strings the parser looks up that are values or internal names rather than YAML keys.
_VALUE_WORDS: set[str] = set()
