"""``attendant voicemail``: list, mark and export messages recorded by ``attendant serve``,
and set the PINs that open mailboxes by phone.

The data folder is, in order: ``--data DIR``, ``$ATTENDANT_DATA``, or ``./var``
(relative to the current directory, the same default ``attendant serve`` uses).
The commands never create a database, so a mistyped folder is reported instead of
showing an empty list; only ``mark`` writes (one row's status). Exit codes follow ``attendant``:
0 ok, 1 an error (unknown message, missing data), 2 a wrong command line.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from attendant.storage import VoicemailStore

#: Environment variable naming the data folder when ``--data`` is not given.
DATA_ENV = "ATTENDANT_DATA"
#: The data folder when neither ``--data`` nor ``$ATTENDANT_DATA`` is given.
DEFAULT_DATA = Path("var")

data_option = click.option(
    "--data", "data", type=click.Path(path_type=Path, file_okay=False), default=None,
    help=f"data folder of attendant serve [default: ${DATA_ENV}, else ./var]")

#: ``--menu`` of the commands that name a voicemail box (checked by :func:`checked_box`).
menu_option = click.option(
    "--menu", default=None, type=click.Path(path_type=Path, dir_okay=True), metavar="MENU",
    help="the menus, to check BOX [default: the running server's]")


def data_dir(option: Path | None) -> Path:
    """The data folder: ``--data``, else ``$ATTENDANT_DATA``, else ``./var``."""
    if option is not None:
        return option
    env = os.environ.get(DATA_ENV, "").strip()
    return Path(env) if env else DEFAULT_DATA


def checked_box(box: str, menu: Path | None, folder: Path) -> None:
    """BadParameter unless the menus (``--menu``, else the running server's) have ``box``."""
    from attendant.cli.common import served_flow

    flow = served_flow(menu, folder)
    if box not in flow.voicemail:
        raise click.BadParameter(f'no voicemail box "{box}"; the menus have '
                                 f"{', '.join(sorted(flow.voicemail)) or 'none'}",
                                 param_hint="BOX")


def _open(option: Path | None) -> VoicemailStore:
    # Imported here: `attendant --help` and the other commands need not load SQLite,
    # prometheus-client and rich.
    from attendant.storage import StorageError, VoicemailStore

    try:
        return VoicemailStore(data_dir(option), create=False)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("voicemail")
def voicemail() -> None:
    """List, mark and export voicemail messages recorded by attendant serve."""


@voicemail.command("list")
@click.option("--box", default=None, help="only this voicemail box")
@click.option("--status", default=None,
              help="only messages with this status: recording, new, read, archived or "
                   "deleted [default: all but deleted]")
@click.option("--folder", default=None, type=click.Choice(["new", "saved", "deleted"]),
              help="only this folder: new, saved (read or archived) or deleted")
@data_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for scripts")
def list_command(box: str | None, status: str | None, folder: str | None, data: Path | None,
                 fmt: str) -> None:
    """List messages, oldest first."""
    from attendant.storage import StorageError, printable

    with _open(data) as store:
        try:
            messages = store.list(box=box, status=status, folder=folder)
        except StorageError as exc:
            raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps([m.as_dict() for m in messages], indent=2, ensure_ascii=False))
        return
    if not messages:
        click.echo("no voicemail messages" + (f" in box {box}" if box else "")
                   + (f" with status {status}" if status else "")
                   + (f" in folder {folder}" if folder else ""))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{len(messages)} voicemail message(s)", title_justify="left")
    for name in ("id", "box", "from", "received (UTC)", "length", "status", "notified",
                 "flag"):
        table.add_column(name, justify="right" if name in ("id", "length") else "left",
                         no_wrap=name in ("id", "received (UTC)"))
    for m in messages:
        # Text(), not str: a caller id like "[bold]" must not be read as rich markup.
        # printable(): rows written before callers' text was escaped may hold ESC codes.
        table.add_row(str(m.id), Text(m.box), Text(printable(m.caller) or "unknown"),
                      f"{m.started_at:%Y-%m-%d %H:%M:%S}", f"{m.duration:.1f}s",
                      m.status, "yes" if m.notified else "no", Text(m.flag or ""))
    Console(width=max(100, Console().width)).print(table)


@voicemail.command("mark")
@click.argument("message_id", metavar="ID", type=int)
@click.argument("status", type=click.Choice(["new", "read", "archived", "deleted"]))
@data_option
def mark_command(message_id: int, status: str, data: Path | None) -> None:
    """Set message ID's status. A deleted message no longer counts towards its box's
    max_messages and max_mb (a running server sees it within 30 s); its audio is kept
    for the box's retention_days.deleted (default 30), and undelete brings it back."""
    from attendant.storage import StorageError

    with _open(data) as store:
        try:
            message = store.mark(message_id, status)
        except StorageError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"message {message.id} in box {message.box} is now {message.status}")


@voicemail.command("undelete")
@click.argument("message_id", metavar="ID", type=int)
@data_option
def undelete_command(message_id: int, data: Path | None) -> None:
    """Bring deleted message ID back to the folder it was deleted from. Deleted messages
    can be undeleted until their box's retention_days.deleted ends (see list --folder
    deleted)."""
    from attendant.storage import StorageError

    with _open(data) as store:
        try:
            message = store.undelete(message_id)
        except StorageError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"message {message.id} in box {message.box} is back in {message.folder} "
               f"({message.status})")


@voicemail.command("export")
@click.argument("message_id", metavar="ID", type=int)
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False),
              default=Path(), show_default=True, help="folder to write the files to")
@data_option
def export_command(message_id: int, out: Path, data: Path | None) -> None:
    """Copy message ID's WAV file and a .json file of its details to --out."""
    from attendant.storage import StorageError

    with _open(data) as store:
        try:
            wav = store.export(message_id, out)
        except StorageError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(str(wav))
    click.echo(str(wav.with_suffix(".json")))


@voicemail.command("pin")
@click.argument("box")
@click.option("--clear", is_flag=True, help="forget the PIN: the box cannot be listened to "
              "by phone until one is set")
@menu_option
@data_option
def pin_command(box: str, clear: bool, menu: Path | None, data: Path | None) -> None:
    """Set (or --clear) the PIN of voicemail BOX, for listening to it by phone.

    The PIN (4 to 12 digits) is asked twice without being shown, or read from the first
    line of standard input when it is not a terminal; only its scrypt hash is kept, in
    DATA/mailbox-pins.json.
    """
    from attendant.pins import PinError
    from attendant.storage.mailbox_pins import MailboxPinError, MailboxPins

    folder = data_dir(data)
    checked_box(box, menu, folder)
    pins = MailboxPins(folder)
    try:
        if clear:
            had = pins.clear(box)
            click.echo(f"PIN of {box} {'cleared' if had else 'was not set; nothing changed'}")
            return
        if click.get_text_stream("stdin").isatty():
            digits = click.prompt(f"new PIN for {box}", hide_input=True,
                                  confirmation_prompt=True)
        else:
            digits = click.get_text_stream("stdin").readline().strip()
        pins.set(box, digits, datetime.now(UTC))
    except PinError as exc:
        raise click.BadParameter(str(exc), param_hint="PIN") from None
    except (OSError, MailboxPinError) as exc:
        raise click.ClickException(f"PIN not changed: {exc}") from None
    click.echo(f"PIN of {box} set (kept as a hash in {pins.path})")
