"""Which flow an attendant runs at a given moment: an override, holidays, then business hours.

Pure functions of (attendant, time). Public holidays come from the
``holidays`` package, computed per year and cached; no I/O happens here.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from attendant.model import Attendant, DateRule, HolidaySet, Route


def local_time(attendant: Attendant, at: datetime) -> datetime:
    """``at`` in the attendant's time zone (a naive ``at`` is taken as already local)."""
    zone = ZoneInfo(attendant.timezone)
    if at.tzinfo is None:
        return at.replace(tzinfo=zone)
    return at.astimezone(zone)


def _rule_matches(rule: DateRule, day: date) -> bool:
    if rule.start[0]:
        return rule.start <= (day.year, day.month, day.day) <= rule.end
    md = (day.month, day.day)
    start, end = rule.start[1:], rule.end[1:]
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end  # a yearly range across New Year, e.g. 12-31..01-02


@lru_cache(maxsize=256)
def public_holiday_name(country: str, subdivision: str | None, day: date) -> str | None:
    """The public holiday on ``day`` in ``country`` (and ``subdivision``), if any."""
    return _calendar(country, subdivision, day.year).get(day)


@lru_cache(maxsize=64)
def _calendar(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    import holidays  # large; loaded the first time a configuration uses public holidays

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year).items())


def holiday_on(attendant: Attendant, day: date) -> tuple[HolidaySet, str] | None:
    """The first holiday set that covers ``day``, and the day's name."""
    for holiday_set in attendant.holidays:
        for rule in holiday_set.dates:
            if _rule_matches(rule, day):
                return holiday_set, rule.text
        public = holiday_set.public
        if public is not None:
            name = public_holiday_name(public.country, public.subdivision, day)
            if name:
                return holiday_set, name
    return None


def is_open(attendant: Attendant, local: datetime) -> bool:
    """True during business hours (always, when the attendant sets no hours)."""
    if attendant.hours is None:
        return True
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in attendant.hours[local.weekday()])


def select(attendant: Attendant, at: datetime,
           override: str | None = None) -> tuple[str, Route]:
    """Which flow runs at ``at``: a description (for logs and the simulator) and the route.

    An ``override`` staff set (``closed``, ``open`` or one of the attendant's own) wins
    over holidays and hours; a name the attendant does not have is ignored."""
    route = attendant.override_route(override) if override else None
    if route is not None:
        return f"override: {override}", route
    local = local_time(attendant, at)
    holiday = holiday_on(attendant, local.date())
    if holiday is not None:
        holiday_set, day_name = holiday
        return f"holiday: {holiday_set.name} ({day_name})", holiday_set.flow
    if is_open(attendant, local) or attendant.after_hours is None:
        return "business hours", attendant.business_hours
    return "after hours", attendant.after_hours
