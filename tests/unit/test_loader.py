"""The YAML loader: strings stay as written, positions are exact, mistakes become diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attendant.config.diagnostics import Diagnostic, Position
from attendant.config.loader import load, load_file
from attendant.config.source_map import SourceMap


def _load(tmp_path: Path, text: str) -> tuple[Any, list[Diagnostic], SourceMap]:
    path = tmp_path / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    sources = SourceMap()
    data, diags = load_file(path, sources, "menu.yaml")
    return data, diags, sources


@pytest.mark.parametrize(
    ("written", "key"),
    [('"1"', "1"), ("1", "1"), ("01", "01"), ('"01"', "01"), ('"*"', "*"), ('"#"', "#"),
     ("100", "100"), ('"*9"', "*9"), ("0", "0")],
)
def test_dtmf_keys_stay_strings_exactly_as_written(tmp_path: Path, written: str, key: str) -> None:
    data, diags, _ = _load(tmp_path, f"options:\n  {written}: repeat\n")
    assert diags == []
    assert list(data["options"]) == [key]
    assert isinstance(next(iter(data["options"])), str)


@pytest.mark.parametrize("word", ["no", "on", "off", "yes", "No", "ON", "y", "n"])
def test_yaml_1_1_boolean_words_stay_strings(tmp_path: Path, word: str) -> None:
    data, diags, _ = _load(tmp_path, f"value: {word}\n{word}: key\n")
    assert diags == []
    assert data == {"value": word, word: "key"}


def test_only_true_and_false_are_booleans(tmp_path: Path) -> None:
    data, _, _ = _load(tmp_path, "a: true\nb: false\nc: True\n")
    assert data == {"a": True, "b": False, "c": True}


@pytest.mark.parametrize(
    "text", ["2026-12-25", "12-25", "2026-12-24..2026-12-31", "09:00", "9:30", "12:30:00",
             "09:00-17:30", "2026-12-25T10:00:00"]
)
def test_dates_and_times_stay_strings(tmp_path: Path, text: str) -> None:
    data, diags, _ = _load(tmp_path, f"value: {text}\n")
    assert diags == []
    assert data == {"value": text}


def test_numbers_and_nulls_are_read_as_such(tmp_path: Path) -> None:
    data, _, _ = _load(tmp_path, "a: 5\nb: 0.5\nc: ~\nd:\ne: 1_000\nf: '5'\n")
    assert data == {"a": 5, "b": 0.5, "c": None, "d": None, "e": 1000, "f": "5"}
    assert isinstance(data["a"], int)


def test_octal_and_hex_looking_values_stay_strings(tmp_path: Path) -> None:
    data, _, _ = _load(tmp_path, "a: 0755\nb: 0x1F\nc: 1e3\n")
    assert data == {"a": "0755", "b": "0x1F", "c": 1000.0}


def test_dots_and_underscores_without_digits_stay_strings_not_a_crash(tmp_path: Path) -> None:
    data, diagnostics, _ = _load(tmp_path, "a: ._\nb: ._5\nc: -._\nd: .5_0\n")
    assert data == {"a": "._", "b": "._5", "c": "-._", "d": 0.5}
    assert diagnostics == []


def test_positions_of_keys_and_values_are_one_based_line_and_column(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "menus:\n"
        "  main:\n"
        "    prompt: Hello\n"
        "    options:\n"
        '      "1": {menu: sales}\n'
        "      2: [a, b]\n"
    )
    _, diags, sources = _load(tmp_path, text)
    assert diags == []
    assert sources.key_pos(("menus",)) == Position("menu.yaml", 2, 1)
    assert sources.key_pos(("menus", "main")) == Position("menu.yaml", 3, 3)
    assert sources.value_pos(("menus", "main", "prompt")) == Position("menu.yaml", 4, 13)
    assert sources.key_pos(("menus", "main", "options", "1")) == Position("menu.yaml", 6, 7)
    assert sources.value_pos(("menus", "main", "options", "1")) == Position("menu.yaml", 6, 12)
    assert sources.value_pos(("menus", "main", "options", "1", "menu")) == Position(
        "menu.yaml", 6, 19
    )
    assert sources.value_pos(("menus", "main", "options", "2", 1)) == Position("menu.yaml", 7, 14)


def test_position_of_an_unwritten_path_falls_back_to_its_nearest_parent(tmp_path: Path) -> None:
    _, _, sources = _load(tmp_path, "menus:\n  main:\n    prompt: Hello\n")
    assert sources.value_pos(("menus", "main", "options", "1")) == Position("menu.yaml", 3, 5)


def test_duplicate_key_is_reported_at_the_second_one_naming_the_first(tmp_path: Path) -> None:
    text = 'options:\n  "1": repeat\n  "2": back\n  1: disconnect\n'
    data, diags, _ = _load(tmp_path, text)
    assert [(d.line, d.col, d.message) for d in diags] == [
        (4, 3, 'duplicate key "1" (first at line 2)')
    ]
    assert diags[0].is_error
    assert data["options"]["1"] == "repeat"


def test_duplicate_key_in_a_flow_mapping_is_reported(tmp_path: Path) -> None:
    _, diags, _ = _load(tmp_path, "a: {x: 1, x: 2}\n")
    assert [(d.line, d.col) for d in diags] == [(1, 11)]
    assert "duplicate key" in diags[0].message


def test_unquoted_star_key_is_explained_as_an_alias(tmp_path: Path) -> None:
    data, diags, _ = _load(tmp_path, 'options:\n  "1": repeat\n  *: back\n')
    assert data is None
    assert [(d.line, d.col) for d in diags] == [(3, 3)]
    assert "alias" in diags[0].message
    assert '"*":' in diags[0].hint


def test_unquoted_hash_key_is_explained_as_a_comment(tmp_path: Path) -> None:
    _, diags, _ = _load(tmp_path, 'options:\n  "1": repeat\n  #: back\n')
    assert [(d.line, d.col) for d in diags] == [(3, 3)]
    assert "comment" in diags[0].message
    assert '"#":' in diags[0].hint


def test_an_ordinary_comment_is_not_mistaken_for_a_hash_key(tmp_path: Path) -> None:
    _, diags, _ = _load(tmp_path, "# menus for the office\na: 1  # trailing\n")
    assert diags == []


def test_merge_keys_fill_in_without_overriding(tmp_path: Path) -> None:
    text = "base: &b {timeout: 5, barge_in: false}\nmenu:\n  <<: *b\n  timeout: 8\n"
    data, diags, _ = _load(tmp_path, text)
    assert diags == []
    assert data["menu"] == {"timeout": 8, "barge_in": False}


def test_recursive_alias_is_a_diagnostic_not_a_crash(tmp_path: Path) -> None:
    _, diags, _ = _load(tmp_path, "a: &x\n  b: *x\n")
    assert [(d.line, d.col) for d in diags] == [(2, 3)]
    assert "alias" in diags[0].message


def test_alias_bomb_stops_with_a_diagnostic(tmp_path: Path) -> None:
    lines = ['l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    data, diags, _ = _load(tmp_path, "\n".join(lines) + "\n")
    assert data is None
    assert len(diags) == 1
    assert "aliases" in diags[0].message


def test_non_mapping_key_is_reported(tmp_path: Path) -> None:
    _, diags, _ = _load(tmp_path, "? [a, b]\n: 1\n")
    assert [(d.line, d.col) for d in diags] == [(1, 3)]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_is_reported(tmp_path: Path, text: str) -> None:
    data, diags, _ = _load(tmp_path, text)
    assert data is None
    assert [d.message for d in diags] == ["file is empty"]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\n")
    data, diags = load_file(path, SourceMap())
    assert (data, diags) == ({"version": 1}, [])


def test_non_utf8_file_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nname: Caf\xe9\n")
    data, diags = load_file(path, SourceMap(), "latin1.yaml")
    assert data is None
    assert [(d.line, d.col) for d in diags] == [(2, 10)]
    assert "UTF-8" in diags[0].message


def test_nul_bytes_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"a: 1\n\x00\x01\x02")
    data, diags = load_file(path, SourceMap(), "binary.yaml")
    assert data is None
    assert [(d.line, d.message) for d in diags] == [
        (2, "file contains NUL bytes; it is not a text file")
    ]


def test_missing_path_is_reported(tmp_path: Path) -> None:
    doc = load(tmp_path / "nope.yaml")
    assert doc.data is None
    assert [d.message for d in doc.diagnostics] == ["no such file or folder"]


def test_folder_sections_merge_across_files(tmp_path: Path) -> None:
    (tmp_path / "attendant.yaml").write_text(
        "version: 1\nmenus:\n  main: {prompt: Hi}\ndirectory:\n  users:\n    a: {name: A}\n"
    )
    (tmp_path / "more.yaml").write_text(
        "version: 1\nmenus:\n  sales: {prompt: Sales}\ndirectory:\n  users:\n    b: {name: B}\n"
    )
    doc = load(tmp_path)
    assert doc.diagnostics == []
    assert sorted(doc.data["menus"]) == ["main", "sales"]
    assert sorted(doc.data["directory"]["users"]) == ["a", "b"]
    assert doc.sources.value_pos(("menus", "sales", "prompt")).file.endswith("more.yaml")


def test_folder_name_defined_twice_is_reported_once_at_the_second_file(tmp_path: Path) -> None:
    (tmp_path / "attendant.yaml").write_text("version: 1\nmenus:\n  main: {prompt: Hi}\n")
    (tmp_path / "other.yaml").write_text("menus:\n  main:\n    prompt: Hello\n    timeout: 4\n")
    doc = load(tmp_path)
    assert [(Path(d.file).name, d.line, d.col) for d in doc.diagnostics] == [("other.yaml", 2, 3)]
    assert 'menu "main" is already defined' in doc.diagnostics[0].message
