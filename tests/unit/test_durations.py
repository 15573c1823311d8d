"""Durations written with units (``5m``) wherever the menu language takes seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_surgery import compile_text
from hypothesis import given
from hypothesis import strategies as st

from attendant.config.durations import parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("300", None), ("300s", 300), ("5m", 300), ("1h", 3600), ("1m30s", 90), ("1h 30m", 5400),
    ("90 seconds", 90), ("2 minutes", 120), ("1.5s", 1.5), ("0.5 min", 30), ("5 MIN", 300),
    ("", None), ("five", None), ("5 minutes please", None), ("m5", None), ("-5s", None),
])
def test_durations_with_units_are_read_as_seconds(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@given(st.text(max_size=40))
def test_no_text_makes_the_duration_reader_fail(text: str) -> None:
    seconds = parse_duration(text)
    assert seconds is None or seconds >= 0


def test_a_flow_written_with_durations_compiles_to_seconds(tmp_path: Path) -> None:
    flow = compile_text(tmp_path, """\
version: 1
attendants:
  main:
    name: Test Office
    timezone: Europe/Paris
    business_hours: {menu: welcome}
menus:
  welcome:
    prompt: Press 1 for sales.
    timeout: 5s
    inter_digit_timeout: 2 seconds
    options:
      "1": {queue: sales}
queues:
  sales:
    name: Sales
    agents: [{user: ann}]
    max_wait: 5m
    alert_seconds: 20s
directory:
  users:
    ann: {name: Ann Lee, sip: "sip:ann@pbx.example"}
""")
    menu = flow.menus["welcome"]
    assert (menu.timeout, menu.inter_digit_timeout) == (5.0, 2.0)
    queue = flow.queues["sales"]
    assert (queue.max_wait, queue.alert_seconds) == (300, 20)


def test_the_published_schema_takes_durations_so_editors_do_not_flag_them() -> None:
    import json

    from jsonschema import Draft202012Validator

    from attendant.config.schema import schema_text

    validator = Draft202012Validator(json.loads(schema_text()))
    menu = {"version": 1, "attendants": {"main": {"name": "Office", "timezone": "UTC",
                                                  "business_hours": {"menu": "m"}}},
            "menus": {"m": {"prompt": "Hi.", "timeout": "5s", "inter_digit_timeout": "2 Min",
                            "options": {"1": {"user": "ann", "ring_seconds": "20s"}}}}}
    assert list(validator.iter_errors(menu)) == []
    menu["menus"]["m"]["timeout"] = "soon"  # type: ignore[index]
    assert [e.json_path for e in validator.iter_errors(menu)] == ["$.menus.m.timeout"]
