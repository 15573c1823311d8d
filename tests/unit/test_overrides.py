"""Staff overrides of a line: which flow a call starts in while one is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flow_surgery import compile_text

from attendant.config.compiler import compile_path
from attendant.engine.events import CallStarted, Digit
from attendant.engine.machine import step
from attendant.engine.schedule import select
from attendant.engine.state import initial_state
from attendant.model import Disconnect, Flow, ToMenu
from attendant.storage.overrides import Override, OverrideFile, OverrideFileError

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
    flow = compile_text(tmp_path, "version: 1\nattendants:\n  main:\n    name: Office\n"
                        "    timezone: Europe/Paris\n    business_hours: {menu: welcome}\n"
                        "menus:\n  welcome:\n    prompt: Hello.\n"
                        "    options: {'1': disconnect}\n")
    assert select(flow.attendants["main"], TUESDAY_10, "closed") == ("override: closed",
                                                                      Disconnect())


def test_the_override_file_keeps_overrides_until_their_end(tmp_path: Path) -> None:
    now = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    store = OverrideFile(tmp_path)
    store.set("main", Override("closed", now, now + timedelta(hours=3)), now)
    store.set("branch", Override("open", now), now)
    assert set(store.active(now + timedelta(hours=1))) == {"main", "branch"}
    assert set(store.active(now + timedelta(hours=4))) == {"branch"}
    assert store.clear("branch", now) == Override("open", now)
    assert (tmp_path / "overrides.json").stat().st_mode & 0o777 == 0o600
    entries, error = OverrideFile(tmp_path).current()
    assert error is None
    assert list(entries) == ["main"]


def test_a_damaged_override_file_names_itself_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "overrides.json"
    path.write_text('{"version": 1, "overrides": {"main": {"name": "closed", '
                    '"set_at": "2026-12-08T14:00:00"}}}')
    with pytest.raises(OverrideFileError, match=r"overrides\.main: set_at and until must be"):
        OverrideFile(tmp_path).read()
    path.write_text("{\n  oops\n}")
    with pytest.raises(OverrideFileError, match=r"overrides\.json:2: not valid JSON"):
        OverrideFile(tmp_path).read()


def test_a_call_sent_on_to_another_attendant_meets_that_attendants_override(
        tmp_path: Path) -> None:
    flow = compile_text(tmp_path, """\
        version: 1
        attendants:
          main: {name: Main, timezone: UTC, business_hours: {menu: welcome}}
          branch:
            name: Branch
            timezone: UTC
            business_hours: {menu: branch}
            after_hours: {menu: closed}
        menus:
          welcome:
            prompt: Press 9 for the branch.
            options: {"9": {attendant: branch}}
          branch:
            prompt: Branch menu.
            options: {"1": disconnect}
          closed:
            prompt: The branch is closed.
            options: {"1": disconnect}
        """)
    state, _ = step(flow, initial_state(),
                    CallStarted(TUESDAY_10, called="main", overrides={"branch": "closed"}))
    assert (state.flow_label, state.menu) == ("business hours", "welcome")
    state, _ = step(flow, state, Digit("9"))
    assert (state.attendant, state.flow_label, state.menu) == ("branch", "override: closed",
                                                               "closed")
