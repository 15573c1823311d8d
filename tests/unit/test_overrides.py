"""Staff overrides of a line: which flow a call starts in while one is set."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from attendant.config.compiler import compile_path
from attendant.engine.schedule import select
from attendant.model import Disconnect, Flow, ToMenu

NORTHWIND = Path(__file__).resolve().parents[2] / "menus" / "northwind-main-line.yaml"
TUESDAY_10 = datetime(2026, 12, 8, 10, 0)


def _northwind() -> Flow:
    flow = compile_path(NORTHWIND).flow
    assert flow is not None
    return flow


def test_an_override_wins_over_hours_and_holidays() -> None:
    main = _northwind().attendants["main"]
    assert select(main, TUESDAY_10) == ("business hours", ToMenu("language"))
    assert select(main, TUESDAY_10, "closed") == ("override: closed", ToMenu("after-hours"))
    assert select(main, datetime(2026, 12, 25, 10, 0), "open") == ("override: open",
                                                                   ToMenu("language"))
    label, route = select(main, TUESDAY_10, "weather")
    assert label == "override: weather"
    assert route == main.overrides["weather"]


def test_an_override_the_attendant_no_longer_has_is_ignored() -> None:
    main = _northwind().attendants["main"]
    assert select(main, TUESDAY_10, "snow-day") == ("business hours", ToMenu("language"))


def test_closing_a_line_without_after_hours_says_goodbye(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text("version: 1\nattendants:\n  main:\n    name: Office\n"
                    "    timezone: Europe/Paris\n    business_hours: {menu: welcome}\n"
                    "menus:\n  welcome:\n    prompt: Hello.\n    options: {'1': disconnect}\n")
    flow = compile_path(path).flow
    assert flow is not None
    assert select(flow.attendants["main"], TUESDAY_10, "closed") == ("override: closed",
                                                                      Disconnect())
