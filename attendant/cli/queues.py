"""``attendant queues``: what the call queues of a running server are doing, and agent control.

``attendant queues`` reads the ``queues`` section of ``<data>/status.json``, which
``attendant serve`` rewrites on every queue event (at most every 0.2 s, and every
0.5 s while callers wait): per queue, the callers waiting and the longest wait,
every agent's state, answered and abandoned counts and the service level.

``attendant queues agent NAME signin|signout|optin QUEUE|optout QUEUE`` drops a
small JSON command file into ``<data>/queue-control/`` (written under another name,
then renamed, so the server never reads half a file). The server looks there every
0.5 s on its SIP worker thread, applies the command to the queue core, deletes the
file and lists the result in ``status.json`` (``agent_commands``), which this
command waits for. No signal and no socket: only the data folder is shared.

Exit codes: 0 ok, 1 an error (no server, unknown agent or queue, not applied in
time), 2 a wrong command line.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from attendant.cli.status import read_status
from attendant.cli.voicemail import data_dir

#: Folder of the data folder the server reads agent commands from: the same as
#: attendant.sip.queues.CONTROL_DIR (not imported: that module loads pjsua2).
CONTROL_DIR = "queue-control"

_data_option = click.option(
    "--data", "data", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="data folder of attendant serve [default: $ATTENDANT_DATA, else ./var]")


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def format_table(queues: list[dict[str, Any]]) -> str:
    """Queues as text: one block per queue."""
    if not queues:
        return "no queues configured\n"
    lines: list[str] = []
    for q in queues:
        level = "-" if q.get("service_level") is None else f"{q['service_level']:g}%"
        lines.append(f"{q['queue']} ({q['name']}, {q['routing'].replace('_', ' ')}): "
                     f"{q['waiting']} waiting, longest {_minutes(q['longest_wait'])}, "
                     f"{q['callbacks_waiting']} callback(s) pending")
        lines.append(f"  answered {q['answered']}, abandoned {q['abandoned']}, timed out "
                     f"{q['timed_out']}, overflowed {q['overflowed']}; service level {level} "
                     f"within {q['service_level_seconds']:g} s")
        for c in q["callers"]:
            lines.append(f"  {c['position']:>3}. {c['call_id']}  {c['caller'] or '?':<16} "
                         f"{c['status']:<16} {_minutes(c['waited'])}")
        for a in q["agents"]:
            lines.append(f"  agent {a['agent']:<16} {a['state']}")
    return "\n".join(lines) + "\n"


@click.group("queues", invoke_without_command=True)
@_data_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="output format")
@click.pass_context
def queues(ctx: click.Context, data: Path | None, fmt: str) -> None:
    """Show the call queues of a running attendant serve (callers, agents, counts)."""
    if ctx.invoked_subcommand is not None:
        return
    status = read_status(data_dir(data))
    found: list[dict[str, Any]] = status.get("queues", [])
    if fmt == "json":
        click.echo(json.dumps(found, indent=1))
    else:
        click.echo(format_table(found), nl=False)


@queues.command("agent")
@click.argument("name")
@click.argument("command", type=click.Choice(["signin", "signout", "optin", "optout"]))
@click.argument("queue", required=False)
@_data_option
@click.option("--wait", "wait", type=float, default=10.0, show_default=True,
              help="seconds to wait for the server to apply the command")
def agent(name: str, command: str, queue: str | None, data: Path | None, wait: float) -> None:
    """Sign agent NAME in or out of every queue, or opt in or out of QUEUE."""
    if command in ("optin", "optout") and not queue:
        raise click.UsageError(f"{command} needs a QUEUE: attendant queues agent {name} "
                               f"{command} QUEUE")
    if command in ("signin", "signout") and queue:
        raise click.UsageError(f"{command} applies to every queue; drop {queue!r}")
    folder = data_dir(data)
    if not (folder / "attendant.pid").is_file():
        raise click.ClickException(f"no attendant serve is running with --data {folder} "
                                   "(no attendant.pid)")
    control = folder / CONTROL_DIR
    control.mkdir(parents=True, exist_ok=True)
    ident = f"{time.time_ns()}-{os.getpid()}"
    tmp = control / f"{ident}.tmp"
    tmp.write_text(json.dumps({"agent": name, "command": command, "queue": queue}))
    tmp.replace(control / f"{ident}.json")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            done = read_status(folder).get("agent_commands", [])
        except click.ClickException:
            done = []
        mine = [r for r in done if r.get("id") == ident]
        if mine:
            if mine[0]["result"] != "applied":
                raise click.ClickException(str(mine[0]["result"]))
            click.echo(f"{name}: {command}{' ' + queue if queue else ''} applied")
            return
        time.sleep(0.1)
    raise click.ClickException(f"the server did not apply the command within {wait:g} s; "
                               f"it stays in {control} and is applied when the server "
                               "reads it")
