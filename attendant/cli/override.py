"""``attendant override set|clear|list``: switch a line now, without editing the menus.

A snow day, a fire drill, an all-hands meeting: staff put an attendant under an override
(``closed``, ``open`` or one of the attendant's own ``overrides:``), optionally until a
time, and a running ``attendant serve`` on the same ``--data`` folder applies it to the
next call (it reads ``<data>/overrides.json`` before every call). The menus are needed
to check the attendant and the override's name: ``--menu``, or the running server's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from attendant.cli.common import served_flow
from attendant.cli.status import running_status
from attendant.config.durations import parse_duration
from attendant.model import Attendant, Flow
from attendant.storage.overrides import Override, OverrideFile, OverrideFileError

_PATHS = click.Path(path_type=Path)
_DATA = click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
                     metavar="DIR", help="The data folder of attendant serve.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def override() -> None:
    """Switch a line now (snow day, fire drill): closed, open, or a flow of its own."""


def _attendant(flow: Flow, key: str) -> Attendant:
    found = flow.attendants.get(key)
    if found is None:
        raise click.BadParameter(f'no attendant "{key}"; the menus have '
                                 f"{', '.join(flow.attendants)}", param_hint="ATTENDANT")
    return found


def _until(text: str | None, attendant: Attendant, now: datetime) -> datetime | None:
    """``--until``: a time (the attendant's local time unless it says its offset) or a
    duration from now (``3h``)."""
    if text is None:
        return None
    seconds = parse_duration(text)
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither a time (2026-12-09T08:00, the "
                                 "attendant's local time) nor a duration (3h, 90m)",
                                 param_hint="--until") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(attendant.timezone))
    if when <= now:
        raise click.BadParameter(f"{text} is already past", param_hint="--until")
    return when.astimezone(UTC)


def _file(data_dir: Path) -> OverrideFile:
    return OverrideFile(data_dir)


@override.command("set")
@click.argument("attendant")
@click.argument("name")
@click.option("--until", default=None, metavar="WHEN",
              help="When it ends by itself: a time (2026-12-09T08:00, the attendant's local "
                   "time) or a duration (3h).  [default: until cleared]")
@click.option("--menu", default=None, type=_PATHS, metavar="MENU",
              help="The menus, to check ATTENDANT and NAME.  [default: the running server's]")
@_DATA
def set_override(attendant: str, name: str, until: str | None, menu: Path | None,
                 data_dir: Path) -> None:
    """Put ATTENDANT under override NAME: closed, open or one of its overrides."""
    flow = served_flow(menu, data_dir)
    line = _attendant(flow, attendant)
    if line.override_route(name) is None:
        raise click.BadParameter(f'attendant "{attendant}" has no override "{name}"; it has '
                                 f"{', '.join(line.override_names())}", param_hint="NAME")
    now = datetime.now(UTC)
    entry = Override(name, now, _until(until, line, now), "cli")
    try:
        _file(data_dir).set(attendant, entry, now)
    except (OSError, OverrideFileError) as exc:
        raise click.ClickException(f"override not set: {exc}") from None
    click.echo(f"{attendant} is now {entry.describe()}; calls that start from now on get it"
               + ("" if running_status(data_dir) else
                  f" (no attendant serve runs on {data_dir} yet)"))


@override.command("clear")
@click.argument("attendant")
@_DATA
def clear_override(attendant: str, data_dir: Path) -> None:
    """End ATTENDANT's override: calls follow its hours and holidays again."""
    try:
        was = _file(data_dir).clear(attendant, datetime.now(UTC))
    except (OSError, OverrideFileError) as exc:
        raise click.ClickException(f"override not cleared: {exc}") from None
    if was is None:
        click.echo(f"{attendant} had no override; nothing changed")
    else:
        click.echo(f"{attendant} is back on its schedule (override {was.describe()} ended)")


@override.command("list")
@_DATA
def list_overrides(data_dir: Path) -> None:
    """Every override in force, with since when, until when and who set it."""
    try:
        active = _file(data_dir).active(datetime.now(UTC))
    except OverrideFileError as exc:
        raise click.ClickException(str(exc)) from None
    if not active:
        click.echo("no overrides: every attendant follows its hours and holidays")
    for key, entry in sorted(active.items()):
        click.echo(f"{key}: {entry.describe()}")
