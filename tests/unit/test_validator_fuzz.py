"""Properties of the validator: whatever the input, it answers with diagnostics or a Flow.

A menu file is written by a person in a text editor, so the validator must
never crash on it: broken YAML, odd types, half-edited menus all have to turn
into diagnostics. Three sources of input are tried: arbitrary text (plain and
YAML-flavoured), arbitrary JSON-like data dumped as YAML, and mutations of a
real menu (a key dropped, a value replaced with junk).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from attendant.config.compiler import CompileResult, compile_path
from attendant.config.schema import schema

REPO = Path(__file__).resolve().parents[2]
SMALL_OFFICE = REPO / "menus" / "small-office.yaml"

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


def _compile_bytes(data: bytes) -> CompileResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "menu.yaml"
        path.write_bytes(data)
        return compile_path(path)


def _compile_text(text: str) -> CompileResult:
    # Lone surrogates cannot be UTF-8; "surrogatepass" writes them as invalid bytes,
    # which is one more thing the loader must cope with.
    return _compile_bytes(text.encode("utf-8", errors="surrogatepass"))


def _assert_answered(result: CompileResult) -> None:
    """The validator either built a Flow or said why not."""
    assert result.flow is not None or result.errors, result.diagnostics
    for diag in result.diagnostics:
        assert diag.line >= 1
        assert diag.col >= 1
        assert diag.message
        # one line for the finding and one for its hint, whatever the input held
        assert len(diag.format().splitlines()) == (2 if diag.hint else 1)


# --- (a) any text ---------------------------------------------------------------

def _vocabulary() -> list[str]:
    """Every key the schema knows, so generated text often looks like a menu."""
    words: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            words.update(k for k in node.get("properties", {}) if isinstance(k, str))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema())
    return sorted(words)


VOCABULARY = _vocabulary()

_FRAGMENTS = st.one_of(
    st.sampled_from(VOCABULARY),
    st.sampled_from([
        ":", ": ", "\n", "\n  ", "\n    ", "\n      ", "- ", "  ", "\t", "*", "#", "#:", "*:",
        "&a ", "*a", "&b ", "*b", "<<: ", '"', "'", '"1"', "'*'", "1", "01", "12", "{", "}",
        "[", "]", ", ", "---\n", "...\n", "|\n", ">-\n", "?", "!", "!!str ", "!!python/object ",
        "%YAML 1.1\n", "~", "null", "true", "no", "on", "09:00-17:00", "25:00", "2026-02-30",
        "12-25", "Europe/Paris", "+15551230000", "en-US", "repeat", "operator", "back",
        "disconnect", "version: 1\n", "\u00e9", "\ufeff", "\x00", "\r\n", "\\",
    ]),
    st.text(max_size=8),
)

YAMLISH = st.lists(_FRAGMENTS, max_size=60).map("".join)


@FUZZ
@given(st.text(max_size=400))
def test_any_text_gets_diagnostics_or_a_flow(text: str) -> None:
    _assert_answered(_compile_text(text))


@FUZZ
@given(YAMLISH)
def test_yaml_flavoured_text_gets_diagnostics_or_a_flow(text: str) -> None:
    _assert_answered(_compile_text(text))


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_get_diagnostics_or_a_flow(data: bytes) -> None:
    _assert_answered(_compile_bytes(data))


# --- (b) any JSON-like data -----------------------------------------------------

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(VOCABULARY),
)
_KEYS = st.one_of(st.text(max_size=12), st.sampled_from(VOCABULARY),
                  st.sampled_from(["1", "01", "*", "#", "12", "en-US"]))



def _json_like(max_leaves: int) -> st.SearchStrategy[Any]:
    return st.recursive(
        _SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(_KEYS, children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


JSON_LIKE = _json_like(40)
#: Smaller values, for filling in a larger shape.
SMALL_JSON = _json_like(6)

#: JSON-like data in the rough shape of a configuration, so that the later
#: phases (parse, meaning checks) see input too, not only the schema.
MENU_SHAPED = st.fixed_dictionaries(
    {
        "version": st.one_of(st.just(1), SMALL_JSON),
        "attendants": st.dictionaries(_KEYS, SMALL_JSON, max_size=2),
        "menus": st.dictionaries(_KEYS, st.dictionaries(_KEYS, SMALL_JSON, max_size=6),
                                 max_size=3),
    },
    optional={
        "directory": SMALL_JSON,
        "queues": SMALL_JSON,
        "voicemail": SMALL_JSON,
        "prompts": SMALL_JSON,
    },
)


@FUZZ
@given(JSON_LIKE)
def test_any_json_like_data_gets_diagnostics_or_a_flow(data: Any) -> None:
    _assert_answered(_compile_text(yaml.safe_dump(data, allow_unicode=True)))


@FUZZ
@given(MENU_SHAPED)
def test_menu_shaped_data_gets_diagnostics_or_a_flow(data: Any) -> None:
    _assert_answered(_compile_text(yaml.safe_dump(data, allow_unicode=True)))


# --- (c) mutations of a real menu -----------------------------------------------

BASE = yaml.safe_load(SMALL_OFFICE.read_text(encoding="utf-8"))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


PATHS = _paths(BASE)

JUNK = st.one_of(
    SMALL_JSON,
    st.sampled_from([
        "25:00-26:00", "17:00-09:00", "2026-02-30", "12-31..12-24", "*", "#", "1a", "operator",
        "back", "main", "repeat", "disconnect", "dial_by_name", "dial_by_extension", "+1", "",
        "Europe/Nowhere", "closed", "nobody", {"menu": "nowhere"}, {"user": "nobody"},
        {"external": "+19995550000"}, {"language": "xx-XX", "then": "repeat"},
        {"file": "missing.wav"}, {"file": "\x00"}, {"silence": 0.5}, {"en-US": "Hi"},
        {"public": {"country": "ZZ"}, "name": "x", "flow": "disconnect"},
        {"dates": ["2026-13-01"], "name": "x", "flow": "disconnect"},
    ]),
)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@FUZZ
@given(st.sampled_from(PATHS))
def test_small_office_with_a_key_dropped_gets_diagnostics_or_a_flow(
    path: tuple[Any, ...],
) -> None:
    data = copy.deepcopy(BASE)
    parent = _at(data, path[:-1])
    del parent[path[-1]]
    _assert_answered(_compile_text(yaml.safe_dump(data, allow_unicode=True)))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3))
@example([(("menus", "welcome", "prompt"), {"file": "a\x00b"})])
@example([(("attendants", "main", "hours", "friday", 0), "09:00-17:00\n")])
@example([(("menus", "welcome", "options"), {"1\n": "repeat"})])
def test_small_office_with_values_replaced_by_junk_gets_diagnostics_or_a_flow(
    edits: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data = copy.deepcopy(BASE)
    for path, junk in edits:
        try:
            parent = _at(data, path[:-1])
            parent[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced this part of the tree
    _assert_answered(_compile_text(yaml.safe_dump(data, allow_unicode=True)))


def test_small_office_itself_compiles() -> None:
    result = compile_path(SMALL_OFFICE)
    assert result.flow is not None
    assert result.diagnostics == ()
