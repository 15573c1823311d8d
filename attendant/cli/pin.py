"""``attendant pin hash``: the form of a feature-code PIN that goes into the menus.

The menus never hold a PIN, only its scrypt hash (:mod:`attendant.pins`), so a copy of
the configuration in a repository or a backup does not give PINs away. The PIN is read
without echo from the terminal (asked twice), or one line from standard input with
``--stdin`` for scripts; it never appears on the command line, where ``ps`` would show it.
"""

from __future__ import annotations

import sys

import click

from attendant.pins import PinError, check_digits, hash_pin


@click.group("pin")
def pin() -> None:
    """Feature-code PINs of directory users."""


@pin.command("hash")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="read the PIN from one line of standard input instead of asking")
def hash_command(from_stdin: bool) -> None:
    """Print the hash of a PIN (4 to 12 digits) to write as a user's `pin:`."""
    if from_stdin:
        value = sys.stdin.readline().strip()
    else:
        value = click.prompt("PIN", hide_input=True, confirmation_prompt=True, err=True)
    try:
        check_digits(value)
    except PinError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(hash_pin(value))
