"""``attendant status``: what a running ``attendant serve`` shows in its ``status.json``.

Calls up now, the totals, and each trunk's registration: registered until when, or
failing with the registrar's last answer and when the next attempt is. ``doctor``
prints the same trunk lines.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

_PATHS = click.Path(path_type=Path)


def read_status(data: Path) -> dict[str, Any]:
    """``<data>/status.json``, or a ClickException saying why it cannot be read."""
    path = data / "status.json"
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise click.ClickException(f"no {path}: is attendant serve running with --data "
                                   f"{data}?") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    return found


def running_status(data: Path) -> dict[str, Any] | None:
    """The status of a server running on ``data``, or None (none, stopped, unreadable)."""
    try:
        found = read_status(data)
    except click.ClickException:
        return None
    return None if found.get("stopped") else found


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "?"
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def trunk_lines(status: dict[str, Any]) -> tuple[list[str], int]:
    """One line per trunk, and how many are not registered."""
    lines, failing = [], 0
    for trunk in status.get("trunks") or []:
        head = f"trunk {trunk.get('trunk')} ({trunk.get('address')} at {trunk.get('registrar')})"
        state = trunk.get("state")
        if state == "registered":
            lines.append(f"{head}: registered until {_when(trunk.get('expires_at'))}")
            continue
        failing += 1
        if state == "failing":
            answer = f"{trunk.get('code') or 'no answer'} {trunk.get('reason') or ''}".strip()
            lines.append(f"{head}: FAILING: {answer}; attempt {trunk.get('failures')}, next "
                         f"at {_when(trunk.get('retry_at'))}")
        else:
            lines.append(f"{head}: {state}")
    return lines, failing


@click.command()
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="the --data folder of the running `attendant serve`")
@click.option("--json", "as_json", is_flag=True, help="print status.json as it is")
def status(data_dir: Path, as_json: bool) -> None:
    """Show a running `attendant serve`: calls, totals, trunk registrations.

    Exits 1 when there is no status, or a trunk is not registered."""
    found = read_status(data_dir)
    lines, failing = trunk_lines(found)
    if as_json:
        click.echo(json.dumps(found, indent=1))
        sys.exit(1 if failing else 0)
    state = "stopped" if found.get("stopped") else (
        "accepting calls" if found.get("accepting") else "draining")
    click.echo(f"attendant serve (pid {found.get('pid')}): {state}, "
               f"{found.get('active_calls', 0)} call(s) up of {found.get('max_calls')}; "
               f"{found.get('answered', 0)} answered, {found.get('rejected_busy', 0)} busy")
    for line in lines or ["no trunks (see docs/trunks.md)"]:
        click.echo(line)
    sys.exit(1 if failing else 0)
