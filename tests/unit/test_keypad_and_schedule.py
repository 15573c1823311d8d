"""Keypad spelling for dial by name, and the schedule helpers (time zones, hours, holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attendant.config.keypad import fold, spell
from attendant.engine.schedule import (
    holiday_on,
    is_open,
    local_time,
    public_holiday_name,
    select,
)
from attendant.model import Attendant, DateRule, Disconnect, HolidaySet, PublicHolidays, ToMenu

# --- keypad ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("Smith", "76484"),
        ("smith", "76484"),
        ("ABC DEF GHI JKL MNO PQRS TUV WXYZ", "22233344455566677778889999"),
        ("Zoë", "963"),
        ("Ångström", "26478766"),
        ("Chloé", "24563"),
        ("François", "37262647"),
        ("Jean-Luc", "5326582"),
        ("O'Brien", "627436"),
        ("Müller-Lüdenscheid", "68553758336724343"),
        ("Søren", "7736"),  # ø does not decompose: it is dropped, not guessed
        ("Łukasz", "85279"),  # likewise Ł
        ("Anne 2nd", "266363"),
        ("", ""),
        ("123 !?", ""),
        ("\uff53\uff4d\uff49\uff54\uff48", "76484"),  # full-width "smith" folds to ASCII
    ],
)
def test_spell(name: str, keys: str) -> None:
    assert spell(name) == keys


@pytest.mark.parametrize(
    ("name", "folded"),
    [("Zoë Ångström", "ZOEANGSTROM"), ("Jean-Luc", "JEANLUC"), ("\ufb01ne", "FINE"),
     ("Straße", "STRASSE")],
)
def test_fold(name: str, folded: str) -> None:
    assert fold(name) == folded


@given(st.text())
def test_spell_gives_one_key_per_folded_letter(name: str) -> None:
    keys = spell(name)
    assert len(keys) == len(fold(name))
    assert set(keys) <= set("23456789")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_spell_ascii_letters_never_drops_any(name: str) -> None:
    assert len(spell(name)) == len(name)


# --- schedule ---------------------------------------------------------------------------------

NINE_TO_FIVE = tuple([((9 * 60, 17 * 60),)] * 5 + [(), ()])
SPLIT_DAY = tuple([((8 * 60, 12 * 60), (13 * 60, 17 * 60))] * 5 + [((10 * 60, 14 * 60),), ()])


CLOSED = ToMenu("closed")


def attendant(hours: tuple[tuple[tuple[int, int], ...], ...] | None = NINE_TO_FIVE,
              holidays: tuple[HolidaySet, ...] = (),
              after_hours: ToMenu | None = CLOSED,
              timezone: str = "Europe/Paris") -> Attendant:
    return Attendant("main", "Test", timezone, ToMenu("open"), after_hours,
                     hours=hours, holidays=holidays)


def rule(text: str) -> DateRule:
    parts = [tuple(int(b) for b in p.split("-")) for p in text.split("..")]
    start, end = ((0, *p) if len(p) == 2 else p for p in (parts[0], parts[-1]))
    return DateRule(start, end, text)  # type: ignore[arg-type]


def test_local_time_naive_is_taken_as_local() -> None:
    at = datetime(2026, 12, 1, 10, 0)
    local = local_time(attendant(), at)
    assert local.tzinfo == ZoneInfo("Europe/Paris")
    assert (local.hour, local.minute) == (10, 0)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), (2026, 12, 1, 10, 0)),  # CET, +1
        (datetime(2026, 7, 1, 9, 0, tzinfo=UTC), (2026, 7, 1, 11, 0)),  # CEST, +2
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), (2026, 3, 29, 1, 59)),  # before spring
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), (2026, 3, 29, 3, 0)),  # forward
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), (2026, 10, 25, 2, 30)),  # before autumn
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), (2026, 10, 25, 2, 30)),  # back: 2:30 again
        (datetime(2026, 12, 31, 23, 30, tzinfo=ZoneInfo("America/New_York")),
         (2027, 1, 1, 5, 30)),  # the date changes too
    ],
)
def test_local_time_converts_aware_times(at: datetime, expected: tuple[int, ...]) -> None:
    local = local_time(attendant(), at)
    assert (local.year, local.month, local.day, local.hour, local.minute) == expected


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 11, 30, 8, 59), False),  # Monday
        (datetime(2026, 11, 30, 9, 0), True),
        (datetime(2026, 11, 30, 16, 59), True),
        (datetime(2026, 11, 30, 17, 0), False),  # ranges end just before their end minute
        (datetime(2026, 12, 5, 12, 0), False),  # Saturday
        (datetime(2026, 12, 6, 12, 0), False),  # Sunday
    ],
)
def test_is_open_nine_to_five(at: datetime, open_: bool) -> None:
    assert is_open(attendant(), at) is open_


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (datetime(2026, 12, 1, 12, 0), False),  # lunch break
        (datetime(2026, 12, 1, 12, 59), False),
        (datetime(2026, 12, 1, 13, 0), True),
        (datetime(2026, 12, 5, 10, 0), True),  # Saturday morning
        (datetime(2026, 12, 5, 14, 0), False),
    ],
)
def test_is_open_split_days(at: datetime, open_: bool) -> None:
    assert is_open(attendant(SPLIT_DAY), at) is open_


def test_no_hours_means_always_open() -> None:
    assert is_open(attendant(hours=None), datetime(2026, 12, 6, 3, 0))


def test_open_until_midnight() -> None:
    late = tuple([((20 * 60, 24 * 60),)] * 7)
    assert is_open(attendant(late), datetime(2026, 12, 1, 23, 59))
    assert not is_open(attendant(late), datetime(2026, 12, 2, 0, 0))


@pytest.mark.parametrize(
    ("text", "day", "covered"),
    [
        ("12-25", date(2026, 12, 25), True),
        ("12-25", date(2031, 12, 25), True),
        ("12-25", date(2026, 12, 26), False),
        ("12-24..12-26", date(2026, 12, 24), True),
        ("12-24..12-26", date(2026, 12, 26), True),
        ("12-24..12-26", date(2026, 12, 27), False),
        ("12-31..01-02", date(2026, 12, 31), True),
        ("12-31..01-02", date(2027, 1, 1), True),
        ("12-31..01-02", date(2027, 1, 2), True),
        ("12-31..01-02", date(2027, 1, 3), False),
        ("12-31..01-02", date(2026, 12, 30), False),
        ("12-31..01-02", date(2026, 6, 15), False),
        ("02-29", date(2028, 2, 29), True),
        ("02-29", date(2027, 3, 1), False),
        ("2026-08-03..2026-08-14", date(2026, 8, 10), True),
        ("2026-08-03..2026-08-14", date(2027, 8, 10), False),
        ("2026-12-28..2027-01-03", date(2027, 1, 2), True),
        ("2026-12-28..2027-01-03", date(2025, 12, 30), False),
    ],
)
def test_holiday_date_rules(text: str, day: date, covered: bool) -> None:
    closed = HolidaySet("Closed", Disconnect(), (rule(text),))
    found = holiday_on(attendant(holidays=(closed,)), day)
    assert (found is not None) is covered
    if found:
        assert found == (closed, text)


def test_public_holidays_by_country_and_subdivision() -> None:
    assert public_holiday_name("FR", None, date(2026, 7, 14)) is not None
    assert public_holiday_name("FR", None, date(2026, 7, 15)) is None
    assert public_holiday_name("US", "NY", date(2026, 11, 26)) is not None  # Thanksgiving
    assert public_holiday_name("US", "NY", date(2026, 12, 1)) is None


def test_first_matching_holiday_set_wins() -> None:
    own = HolidaySet("Own", ToMenu("own"), (rule("07-14"),))
    public = HolidaySet("Public", ToMenu("public"), public=PublicHolidays("FR"))
    found = holiday_on(attendant(holidays=(own, public)), date(2026, 7, 14))
    assert found == (own, "07-14")
    found = holiday_on(attendant(holidays=(public, own)), date(2026, 7, 14))
    assert found is not None
    assert found[0] is public


@pytest.mark.parametrize(
    ("at", "label", "route"),
    [
        (datetime(2026, 12, 1, 10, 0), "business hours", ToMenu("open")),
        (datetime(2026, 12, 1, 18, 0), "after hours", ToMenu("closed")),
        (datetime(2026, 12, 25, 10, 0), "holiday: Christmas (12-25)", ToMenu("xmas")),
        (datetime(2026, 12, 25, 3, 0), "holiday: Christmas (12-25)", ToMenu("xmas")),
        # 23:30 in New York on the 24th is already Christmas morning in Paris
        (datetime(2026, 12, 24, 23, 30, tzinfo=ZoneInfo("America/New_York")),
         "holiday: Christmas (12-25)", ToMenu("xmas")),
        (datetime(2026, 12, 24, 23, 30), "after hours", ToMenu("closed")),
    ],
)
def test_select_holidays_before_hours(at: datetime, label: str, route: ToMenu) -> None:
    xmas = HolidaySet("Christmas", ToMenu("xmas"), (rule("12-25"),))
    assert select(attendant(holidays=(xmas,)), at) == (label, route)


def test_select_without_after_hours_stays_on_business_hours() -> None:
    always = attendant(after_hours=None)
    assert select(always, datetime(2026, 12, 6, 3, 0)) == ("business hours", ToMenu("open"))
