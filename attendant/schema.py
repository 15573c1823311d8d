"""The JSON Schema of the menu language, and its errors as diagnostics.

The schema (``schema/menu-v1.schema.json``) ships inside the package so
editors can complete and check menu files; ``attendant schema`` prints it.
This module turns jsonschema's errors into messages an admin can act on: the
unknown key with the nearest known one, the allowed values, the action forms.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from attendant.diagnostics import Diagnostic
from attendant.loader import PathKey, SourceMap

SCHEMA_FILE = "menu-v1.schema.json"
_SIMPLE_ACTIONS = ("back", "main", "repeat", "operator", "disconnect", "dial_by_name",
                   "dial_by_extension")
_ACTION_KEYS = ("menu", "user", "department", "external", "queue", "attendant", "voicemail",
                "announcement", "disconnect", "dial_by_name", "dial_by_extension", "language")


def schema_text() -> str:
    """The schema as shipped, for ``attendant schema``."""
    try:
        return resources.files("attendant").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    except OSError:
        # When ``attendant`` is imported as a namespace package (a stale editable
        # install), Python 3.11's importlib.resources cannot open it; the file still
        # sits next to this module.
        return (Path(__file__).parent / "schema" / SCHEMA_FILE).read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    """The parsed schema (read once per process)."""
    data: dict[str, Any] = json.loads(schema_text())
    return data


@cache
def validator() -> Draft202012Validator:
    """A validator for the menu schema, built once."""
    return Draft202012Validator(schema())


def check(data: Any, sources: SourceMap) -> list[Diagnostic]:
    """Every schema violation in ``data``, as diagnostics."""
    found: list[Diagnostic] = []
    for error in validator().iter_errors(data):
        found.extend(_explain(error, sources))
    return found


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(error: ValidationError, sources: SourceMap) -> Iterator[Diagnostic]:
    path: PathKey = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "the file"
    schema_path = tuple(error.absolute_schema_path)
    validator_name = error.validator
    if validator_name == "additionalProperties" and isinstance(error.instance, dict):
        sub_schema: Any = error.schema
        allowed = sorted(sub_schema.get("properties", {}) if isinstance(sub_schema, dict) else ())
        extra = [k for k in error.instance if k not in allowed]
        for key in extra:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f"allowed here: {', '.join(allowed)}"
            yield sources.diag((*path, key), f'unknown key "{key}" in {where}', hint, at_key=True)
        return
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        yield sources.diag(path, f'{where} is missing "{missing}"',
                           _REQUIRED_HINTS.get(missing, f"add {missing}:"), at_key=bool(path))
        return
    if validator_name == "propertyNames":
        yield from _explain_property_name(error, path, where, sources)
        return
    if validator_name in ("anyOf", "oneOf") and _is_action(schema_path):
        yield from _explain_action(error, path, where, sources)
        return
    if validator_name in ("anyOf", "oneOf") and error.context:
        deepest = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))
        if len(deepest.absolute_path) > len(path):
            yield from _explain(deepest, sources)
            return
        if "prompt" in str(schema_path[-2:]) or any("prompt" in str(p) for p in schema_path[-3:]):
            yield sources.diag(path, f"{where} is not a valid prompt",
                               'write text ("Welcome"), {file: prompts/x.wav}, {silence: 0.5}, a '
                               "list of these, or a mapping from language (en-US: ...) to them")
            return
    if validator_name == "enum":
        allowed_values: Any = error.validator_value
        options = ", ".join(str(o) for o in allowed_values)
        yield sources.diag(path, f"{where} is {_describe(error.instance)}, which is not allowed",
                           f"use one of: {options}")
        return
    if validator_name == "const":
        yield sources.diag(path, f"{where} must be {_describe(error.validator_value)}",
                           "this version of attendant reads menu language version 1")
        return
    if validator_name == "type":
        yield sources.diag(path, f"{where} should be {_article(error.validator_value)}, "
                                 f"not {_describe(error.instance)}",
                           _TYPE_HINTS.get(str(path[-1]) if path else "", ""))
        return
    if validator_name == "pattern":
        yield sources.diag(path, f"{where} is {_describe(error.instance)}, which is not in the "
                                 "expected form", _pattern_hint(path, error))
        return
    if validator_name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        yield sources.diag(path, f"{where} is {error.instance}: {error.message.split(' is ', 1)[-1]}",
                           "see docs/menu-language.md for the allowed range")
        return
    yield sources.diag(path, f"{where}: {error.message}", "see docs/menu-language.md")


def _is_action(schema_path: tuple[Any, ...]) -> bool:
    return "action" in schema_path[-3:] or (len(schema_path) >= 2 and schema_path[-2] == "action")


def _explain_action(error: ValidationError, path: PathKey, where: str,
                    sources: SourceMap) -> Iterator[Diagnostic]:
    value = error.instance
    forms = ", ".join(_SIMPLE_ACTIONS)
    generic_hint = (f"use one of {forms}, or a mapping such as {{menu: sales}}, {{user: alice}}, "
                    "{queue: support}, {voicemail: general} (see docs/menu-language.md#actions)")
    if isinstance(value, dict):
        primaries = [k for k in value if k in _ACTION_KEYS]
        if len(primaries) == 1:
            branch = [e for e in error.context or []
                      if e.validator != "required" and _branch_key(e) == primaries[0]]
            if branch:
                for sub in branch:
                    yield from _explain(sub, sources)
                return
        if len(primaries) > 1 and not (set(primaries) <= {"language", "then"}):
            yield sources.diag(path, f"{where} names several actions at once: "
                                     f"{', '.join(primaries)}",
                               "an action does one thing; use {announcement: ..., then: ...} to "
                               "chain", at_key=False)
            return
        unknown = [k for k in value if k not in _ACTION_KEYS]
        if not primaries and unknown:
            close = difflib.get_close_matches(unknown[0], _ACTION_KEYS, n=1)
            hint = f'did you mean "{close[0]}"?' if close else generic_hint
            yield sources.diag((*path, unknown[0]), f'unknown action "{unknown[0]}" in {where}',
                               hint, at_key=True)
            return
    if isinstance(value, str):
        close = difflib.get_close_matches(value, (*_SIMPLE_ACTIONS, *_ACTION_KEYS), n=1)
        hint = f'did you mean "{close[0]}"?' if close else generic_hint
        if value in _ACTION_KEYS and value not in _SIMPLE_ACTIONS:
            hint = f"{value} needs a name: write {{{value}: NAME}}"
        yield sources.diag(path, f'"{value}" is not an action ({where})', hint)
        return
    yield sources.diag(path, f"{where} is not a valid action", generic_hint)


def _branch_key(error: ValidationError) -> str | None:
    """Which action form (by its required key) a sub-error of the action anyOf belongs to."""
    index = error.schema_path[0] if error.schema_path else None
    if not isinstance(index, int):
        return None
    branches = schema()["$defs"]["action"]["anyOf"]
    required = branches[index].get("required", [])
    return str(required[0]) if required else None


def _explain_property_name(error: ValidationError, path: PathKey, where: str,
                           sources: SourceMap) -> Iterator[Diagnostic]:
    name = str(error.instance)
    if path and path[-1] == "options":
        hint = 'keys are made of 0-9, * and #, quoted: "1", "*", "#", "100"'
        yield sources.diag((*path, name), f'"{name}" is not a key a caller can press', hint,
                           at_key=True)
        return
    yield sources.diag((*path, name), f'"{name}" is not a valid name in {where}',
                       "names start with a letter or digit and use letters, digits, - _ and .",
                       at_key=True)


def _article(kind: Any) -> str:
    words = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "empty"}
    if isinstance(kind, list):
        return " or ".join(words.get(str(k), str(k)) for k in kind)
    return words.get(str(kind), str(kind))


def _pattern_hint(path: PathKey, error: ValidationError) -> str:
    last = str(path[-2]) if len(path) >= 2 and isinstance(path[-1], int) else str(path[-1] if path else "")
    return _PATTERN_HINTS.get(last, f"it must match {error.validator_value}")


_REQUIRED_HINTS = {
    "version": "start the file with: version: 1",
    "attendants": "add an attendants: section (see menus/small-office.yaml)",
    "menus": "add a menus: section with at least one menu",
    "timezone": "add timezone: with an IANA name such as Europe/Paris",
    "business_hours": "add business_hours: {menu: main} to say where calls start",
    "prompt": 'add prompt: "what callers hear"',
    "flow": "add flow: (for example {menu: closed}) to say what callers get on these days",
    "name": "add name: with a display name",
    "then": "add then: to say where the caller goes next (for example {menu: main})",
}
_TYPE_HINTS = {
    "answers": 'write a list: answers: ["+15551230000"]',
    "languages": "write a list: languages: [en-US, fr-FR]",
}
_PATTERN_HINTS = {
    "monday": 'write ranges as "09:00-17:30"', "tuesday": 'write ranges as "09:00-17:30"',
    "wednesday": 'write ranges as "09:00-17:30"', "thursday": 'write ranges as "09:00-17:30"',
    "friday": 'write ranges as "09:00-17:30"', "saturday": 'write ranges as "09:00-17:30"',
    "sunday": 'write ranges as "09:00-17:30"',
    "dates": 'write "2026-12-24", "2026-12-24..2026-12-31", "12-25" or "12-24..12-26"',
    "extension": "extensions are digits only, e.g. \"1001\"",
    "external": 'write the number in E.164 form, e.g. "+15551230000"',
    "external_numbers": 'write "+15551230000", or "+1555*" for a whole prefix',
    "language": "use a language tag such as en-US or fr-FR",
    "languages": "use language tags such as en-US or fr-FR",
    "country": "use an ISO 3166 country code such as US, GB, FR",
    "sip": "write a SIP URI, e.g. sip:alice@pbx.example.com",
    "terminator": 'the terminator is "#" or "*"',
}
