"""``attendant voicemail greeting set|clear|list``: the greetings of mailboxes, uploaded.

A greeting uploaded here is the same as one its owner records by phone: it lives in
``DATA/greetings/BOX/KIND.wav`` (see :mod:`attendant.storage.greetings`) and a running
server plays it to the next caller. Exit codes follow ``attendant``: 0 ok, 1 an error
(a bad audio file, an unwritable data folder), 2 a wrong command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from attendant.cli.voicemail import checked_box, data_dir, data_option, menu_option

_KINDS = click.Choice(["unavailable", "busy", "temporary", "name"])


@click.group("greeting")
def greeting() -> None:
    """Set, clear and list mailbox greetings (unavailable, busy, temporary, name)."""


@greeting.command("set")
@click.argument("box")
@click.argument("kind", type=_KINDS)
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False))
@menu_option
@data_option
def set_command(box: str, kind: str, audio: Path, menu: Path | None, data: Path | None) -> None:
    """Make AUDIO (WAV, MP3, OGG, M4A...) the KIND greeting of voicemail BOX.

    It is made mono, trimmed and loudness-matched to the prompts. A temporary greeting
    plays to every caller until it is cleared; name is the owner's name, said in the
    greeting made for them when the box has none for the case.
    """
    from attendant.storage.greetings import GreetingError, Greetings

    folder = data_dir(data)
    checked_box(box, menu, folder)
    try:
        done = Greetings(folder).set(box, kind, audio)
    except GreetingError as exc:
        raise click.ClickException(f"greeting not changed: {exc}") from None
    click.echo(f"{kind} greeting of {box} set: {done.seconds:.1f} s ({done.path})")


@greeting.command("clear")
@click.argument("box")
@click.argument("kind", type=_KINDS)
@menu_option
@data_option
def clear_command(box: str, kind: str, menu: Path | None, data: Path | None) -> None:
    """Remove the KIND greeting of voicemail BOX (callers hear the next one in line)."""
    from attendant.storage.greetings import GreetingError, Greetings

    folder = data_dir(data)
    checked_box(box, menu, folder)
    try:
        had = Greetings(folder).clear(box, kind)
    except GreetingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{kind} greeting of {box} " + ("cleared" if had else
                                                "was not set; nothing changed"))


@greeting.command("list")
@click.option("--box", default=None, help="only this voicemail box")
@data_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts")
def list_command(box: str | None, data: Path | None, fmt: str) -> None:
    """List the greetings recorded or uploaded, by box."""
    from attendant.storage.greetings import Greetings

    found = Greetings(data_dir(data)).list(box)
    if fmt == "json":
        click.echo(json.dumps([{"box": g.box, "kind": g.kind, "seconds": round(g.seconds, 2),
                                "path": str(g.path), "set_at": g.set_at.isoformat()}
                               for g in found], indent=2))
        return
    if not found:
        click.echo("no greetings" + (f" for box {box}" if box else ""))
        return
    for g in found:
        click.echo(f"{g.box:<20} {g.kind:<12} {g.seconds:6.1f} s  {g.set_at:%Y-%m-%d %H:%M} UTC")
