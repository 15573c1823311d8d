"""The JSON Schema of the menu language, and its errors as diagnostics.

The schema (``schema/menu-v1.schema.json``) ships inside the package so
editors can complete and check menu files; ``attendant schema`` prints it.
This module turns jsonschema's errors into messages an admin can act on: the
unknown key with the nearest known one, the allowed values, the action forms.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
from fastjsonschema.ref_resolver import RefResolver
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from attendant.config.diagnostics import Diagnostic
from attendant.config.durations import DURATION_KEYS
from attendant.config.durations import HINT as DURATION_HINT
from attendant.config.source_map import PathKey, SourceMap

SCHEMA_FILE = "menu-v1.schema.json"
#: Where the menu schema's hints send the reader.
MENU_DOC = "docs/menu-language.md"
_SIMPLE_ACTIONS = ("back", "main", "repeat", "operator", "disconnect", "dial_by_name",
                   "dial_by_extension")
_ACTION_KEYS = ("menu", "user", "department", "external", "queue", "attendant", "voicemail",
                "announcement", "disconnect", "dial_by_name", "dial_by_extension", "language",
                "agent", "override")


def schema_text(name: str = SCHEMA_FILE) -> str:
    """A schema as shipped (the menu language's unless named), for ``attendant schema``."""
    try:
        return resources.files("attendant").joinpath("schema", name).read_text("utf-8")
    except OSError:
        # When ``attendant`` is imported as a namespace package (a stale editable
        # install), Python 3.11's importlib.resources cannot open it; the file still
        # sits next to this module.
        return (Path(__file__).parent.parent / "schema" / name).read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    """The parsed schema (read once per process)."""
    data: dict[str, Any] = json.loads(schema_text())
    return data


@cache
def validator() -> Validator:
    """A validator for the menu schema, built once (with end-anchored patterns, see below)."""
    # types-jsonschema leaves extend() untyped; it returns a Validator class.
    cls: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"pattern": _pattern_keyword}
    )
    return cls(schema())


def _pattern_keyword(
    validator: Validator, pattern: str, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    """``pattern`` as JSON Schema (ECMA-262) means it: ``$`` matches only at the very end.

    Python's ``$`` also matches before a final newline, which would let an option key
    such as ``"1\\n"`` or an extension ``"101\\n"`` through although editors reject them.
    """
    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


@cache
def _fast_validator() -> Callable[[Any], Any]:
    """fastjsonschema compiles the schema to Python code: about 30x faster than jsonschema.

    It speaks draft-07, which covers every keyword our schema uses, so it gets a copy
    labelled draft-07. It only answers "valid or not"; jsonschema explains failures.
    """
    copy = _fast_copy()
    root = RefResolver.from_schema(copy, store={}).get_scope_name()  # the entry's name
    # Plain exceptions, without the failing part of the schema attached: anyOf tries its
    # branches by raising, and only "valid or not" is read (15 % of a large file's check).
    code = fastjsonschema.compile_to_code(copy, detailed_exceptions=False)
    # The generated code names each map entry it enters ("data.menus.{key}") with
    # str.format(**locals()), which copies every local variable: half of the check of a
    # large file. The names only go into error messages, never read here, so the calls
    # go; the placeholders stay in the (unread) text. Nothing else changes.
    namespace: dict[str, Any] = {}
    exec(compile(code.replace(".format(**locals())", ""), "<menu schema>", "exec"), namespace)
    entry = namespace.get(root)
    if not callable(entry):  # another fastjsonschema release: build it the usual way
        return fastjsonschema.compile(_fast_copy(), detailed_exceptions=False)
    return entry  # type: ignore[no-any-return]


def _fast_copy() -> dict[str, Any]:
    # A fresh copy: fastjsonschema rewrites every "$ref" it resolves in place, which would
    # change the cached schema() everyone else reads.
    copy: dict[str, Any] = json.loads(schema_text(), object_hook=_const_as_enum)
    copy["$schema"] = "http://json-schema.org/draft-07/schema#"
    return copy


def _const_as_enum(node: dict[str, Any]) -> dict[str, Any]:
    """``{"const": x}`` as ``{"enum": [x]}``, the same test (fastjsonschema 2.22 writes the
    same code for both): it fails to compile "const" without detailed exceptions."""
    if "const" in node and "enum" not in node and not isinstance(node["const"], dict):
        node["enum"] = [node.pop("const")]
    return node


def check(data: Any, sources: SourceMap) -> list[Diagnostic]:
    """Every schema violation in ``data``, as diagnostics."""
    try:
        _fast_validator()(data)
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: fall through to jsonschema for every error, well explained
    else:
        return []
    found: list[Diagnostic] = []
    for error in validator().iter_errors(data):
        found.extend(_explain(error, sources))
    return found


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def check_against(checker: Validator, data: Any, sources: SourceMap,
                  doc: str) -> list[Diagnostic]:
    """Every violation of another schema of ours (the server settings) in ``data``,
    explained as the menu schema's are; ``doc`` is where the hints send the reader."""
    found: list[Diagnostic] = []
    for error in checker.iter_errors(data):
        found.extend(_explain(error, sources, doc))
    return found


def _explain(error: ValidationError, sources: SourceMap,
             doc: str = MENU_DOC) -> Iterator[Diagnostic]:
    path: PathKey = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "the file"
    schema_path = tuple(error.absolute_schema_path)
    validator_name = error.validator
    if validator_name == "additionalProperties" and isinstance(error.instance, dict):
        sub_schema: Any = error.schema
        allowed = sorted(sub_schema.get("properties", {}) if isinstance(sub_schema, dict) else ())
        extra = [k for k in error.instance if k not in allowed]
        for key in extra:
            close = _closest(key, allowed)
            hint = (f'did you mean "{close}"?' if close
                    else f"allowed here: {', '.join(allowed)}")
            yield sources.diag((*path, key), f'unknown key "{key}" in {where}', hint, at_key=True)
        return
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        yield sources.diag(path, f'{where} is missing "{missing}"',
                           _REQUIRED_HINTS.get(missing, f"add {missing}:"), at_key=bool(path))
        return
    if "propertyNames" in schema_path:
        yield from _explain_property_name(error, path, where, sources)
        return
    definition = _definition(error)
    if (validator_name == "anyOf" and doc == MENU_DOC and path
            and str(path[-1]) in DURATION_KEYS):
        yield from _explain_duration(error, path, where, sources)
        return
    if validator_name in ("anyOf", "oneOf") and definition == "action":
        yield from _explain_action(error, path, where, sources)
        return
    if validator_name in ("anyOf", "oneOf") and error.context:
        # Sorted first: jsonschema's order of these sub-errors can follow string hashing
        # (PYTHONHASHSEED), and the same file must always get the same diagnostic.
        ordered = sorted(error.context, key=lambda e: ([str(p) for p in e.absolute_path],
                                                       [str(p) for p in e.schema_path]))
        deepest = max(ordered, key=lambda e: (len(e.absolute_path), -len(e.schema_path)))
        if len(deepest.absolute_path) > len(path):
            yield from _explain(deepest, sources, doc)
            return
    if validator_name in ("anyOf", "oneOf") and definition in ("prompt", "prompt_part"):
        yield sources.diag(path, f"{where} is not a valid prompt{_prompt_detail(error.instance)}",
                           'write text ("Welcome"), {file: prompts/x.wav}, {silence: 0.5}, a '
                           "list of these, or a mapping from language (en-US: ...) to them")
        return
    if validator_name in ("anyOf", "oneOf"):
        form = definition or (str(path[-1]) if path else "")
        if form not in _ONE_OF_HINTS and len(path) >= 2 and isinstance(path[-1], int):
            form = f"{path[-2]}[]"
        message, hint = _ONE_OF_HINTS.get(form, ("which is none of the forms allowed here",
                                                 f"see {doc}"))
        yield sources.diag(path, f"{where} is {_describe(error.instance)}, {message}", hint)
        return
    if validator_name in ("minProperties", "minItems", "minLength"):
        yield sources.diag(path, f"{where} is empty", _EMPTY_HINTS.get(
            str(path[-1]) if path else "", "give it a value or remove the key"))
        return
    if validator_name == "uniqueItems":
        yield sources.diag(path, f"{where} lists the same value twice", "remove the repeat")
        return
    if validator_name == "enum":
        allowed_values: Any = error.validator_value
        options = ", ".join(str(o) for o in allowed_values)
        yield sources.diag(path, f"{where} is {_describe(error.instance)}, which is not allowed",
                           f"use one of: {options}")
        return
    if validator_name == "const":
        yield sources.diag(path, f"{where} must be {_describe(error.validator_value)}",
                           "this version of attendant reads menu language version 1"
                           if doc == MENU_DOC else f"this version of attendant reads version 1 "
                           f"of this file (see {doc})")
        return
    if validator_name == "type":
        key = str(path[-1]) if path else ""
        yield sources.diag(path, f"{where} should be {_article(error.validator_value)}, "
                                 f"not {_describe(error.instance)}",
                           _TYPE_HINTS.get(key, DURATION_HINT if key in DURATION_KEYS and
                                           doc == MENU_DOC else ""))
        return
    if validator_name == "pattern":
        yield sources.diag(path, f"{where} is {_describe(error.instance)}, which is not in the "
                                 "expected form", _pattern_hint(path, error))
        return
    if validator_name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        limit = error.message.split(" is ", 1)[-1]
        yield sources.diag(path, f"{where} is {error.instance}: {limit}",
                           _RANGE_HINTS.get(str(path[-1]) if path else "",
                                            f"see {doc} for the allowed range"))
        return
    yield sources.diag(path, f"{where}: {error.message}", f"see {doc}")


def _explain_duration(error: ValidationError, path: PathKey, where: str,
                      sources: SourceMap) -> Iterator[Diagnostic]:
    """A number of seconds that is out of range, or a text that is no duration."""
    value = error.instance
    if isinstance(value, int | float) and not isinstance(value, bool):
        # The number branch (the first) says what is wrong: its range, or "whole number".
        number_branch = [e for e in error.context or [] if e.schema_path
                         and e.schema_path[0] == 0]
        if number_branch:
            yield from _explain(min(number_branch, key=lambda e: [str(p) for p in
                                                                  e.schema_path]), sources)
            return
    yield sources.diag(path, f"{where} is {_describe(value)}, which is no number of seconds",
                       DURATION_HINT)


def _closest(word: str, allowed: list[str] | tuple[str, ...]) -> str | None:
    """The allowed key ``word`` was most likely meant to be: a near spelling or a prefix."""
    close = difflib.get_close_matches(word, allowed, n=1)
    if close:
        return close[0]
    longer = [a for a in allowed if word and a.startswith(word)]
    return longer[0] if len(longer) == 1 else None


def _definition(error: ValidationError) -> str | None:
    """The name of the ``$defs`` entry whose schema raised ``error``, if any.

    Schema paths do not name ``$ref`` targets, so the sub-schema is matched by identity.
    """
    for name, definition in schema()["$defs"].items():
        if error.schema is definition:
            return str(name)
    return None


def _prompt_detail(value: Any) -> str:
    """Why a mapping is not a prompt: the keys that are neither a prompt part nor a language."""
    if not isinstance(value, dict):
        return ""
    odd = [k for k in value if k not in ("text", "file", "silence", "language", "voice")
           and not _LANGUAGE_RE.match(str(k))]
    if not odd:
        return ""
    return f' ("{odd[0]}" is neither text:, file:, silence: nor a language such as en-US)'


def _explain_action(error: ValidationError, path: PathKey, where: str,
                    sources: SourceMap) -> Iterator[Diagnostic]:
    value = error.instance
    forms = ", ".join(_SIMPLE_ACTIONS)
    generic_hint = (f"use one of {forms}, or a mapping such as {{menu: sales}}, {{user: alice}}, "
                    "{queue: support}, {voicemail: general} (see docs/menu-language.md#actions)")
    if isinstance(value, dict):
        primaries = [k for k in value if k in _ACTION_KEYS]
        if "agent" in primaries:  # {agent: opt_in, queue: sales}: queue is its setting
            primaries = ["agent"]
        if "override" in primaries:  # {override: closed, attendant: main}: likewise
            primaries = ["override"]
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
            guess = _closest(unknown[0], _ACTION_KEYS)
            hint = f'did you mean "{guess}"?' if guess else generic_hint
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
        hint = 'keys are made of 0-9, * and # (up to 16), quoted: "1", "*", "#", "100"'
        yield sources.diag((*path, name), f'option "{name}" is not a key a caller can press',
                           hint, at_key=True)
        return
    if _definition(error) == "language" or (len(path) >= 1 and "prompt" in str(path[-1])):
        yield sources.diag((*path, name), f'"{name}" is not a language tag in {where}',
                           "prompt translations are keyed by language tags such as en-US or "
                           "fr-FR", at_key=True)
        return
    yield sources.diag((*path, name), f'"{name}" is not a valid name in {where}',
                       "names start with a letter or digit and use letters, digits, - _ and .",
                       at_key=True)


def _article(kind: Any) -> str:
    words = {"object": "a mapping", "array": "a list", "string": "text",
             "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "empty"}
    if isinstance(kind, list):
        return " or ".join(words.get(str(k), str(k)) for k in kind)
    return words.get(str(kind), str(kind))


def _pattern_hint(path: PathKey, error: ValidationError) -> str:
    if len(path) >= 2 and isinstance(path[-1], int):
        last = str(path[-2])  # an item of a list: hints are keyed by the list's name
    else:
        last = str(path[-1]) if path else ""
    return _PATTERN_HINTS.get(last, f"it must match {error.validator_value}")


_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}-[A-Z]{2}$")
_ONE_OF_HINTS = {
    "day_hours": ("which is not a list of opening hours",
                  'write a list of ranges such as ["09:00-12:00", "13:00-17:30"], or "closed"'),
    "optional_key": ("which is not a single key",
                     'write one key, quoted ("*", "#" or "0"-"9"), or null to turn it off'),
    "extension_dialing": ("which is not an extension dialing setting",
                          'write true, or a mapping such as {length: 3, terminator: "#"}'),
    "agents[]": ("which is not a queue agent", "write {user: NAME} or {department: NAME}"),
    "saved": ("which is no number of days to keep messages",
              "write whole days from 1 to 36500, or null to keep saved messages until "
              "their owner deletes them"),
    "deleted": ("which is no number of days to keep messages",
                "write whole days from 1 to 36500, or null to keep deleted messages for "
                "ever (they can always be undeleted)"),
}
_EMPTY_HINTS = {
    "attendants": "define at least one attendant (see menus/small-office.yaml)",
    "menus": "define at least one menu (see menus/small-office.yaml)",
    "languages": "list at least one language, such as [en-US]",
}

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
    "service_level_seconds": "write whole seconds, for example service_level_seconds: 20",
}
#: Hints for numbers out of range, by key (the default points at the reference tables).
_RANGE_HINTS = {
    "service_level_seconds": "the service level counts callers answered within 1 to 600 "
                             "seconds; call centres often use 20 to 60 (see docs/queues.md)",
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
    # server.yaml (attendant.config.settings)
    "registrar": "write a SIP URI, e.g. sip:sip.carrier.example",
    "outbound_proxy": "write a SIP URI, e.g. sip:edge.carrier.example;lr",
    "numbers": 'write the number as the carrier sends it, digits with an optional "+"',
    "outbound_prefixes": 'write the start of the numbers, e.g. "+33" or "0"; "" is every '
                         "number",
    "rtp_ports": "write LOW-HIGH, e.g. 20000-30000",
    "stun_servers": "write a host or host:port, e.g. stun.example.com:3478",
    "phone_realm": "letters, digits, dots and dashes, e.g. attendant",
    "env": "write the name of an environment variable, e.g. CARRIER_SIP_PASSWORD",
}
