"""``<data>/attendant.pid``: which process serves a data folder, checked before any signal.

A pid alone is not an identity: after a crash the file stays, the pid is reused, and
``attendant reload`` would send SIGHUP to whatever process has it now (SIGHUP ends most
programs). So the file also holds the process's start time as the kernel counts it
(``/proc/<pid>/stat``, field 22): a pid and its start time name one process for the
life of the machine. :func:`running_server` believes the file only when both match a
live process; ``attendant serve`` also refuses to start on a folder another live server
owns (two writers would hand out the same voicemail ids).

The file is one JSON object: ``{"pid": 4242, "started": "8893412", "data": "/srv/var"}``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

#: The file's name in the data folder.
FILE_NAME = "attendant.pid"


@dataclass(frozen=True, slots=True)
class Owner:
    """The live ``attendant serve`` a pid file names (``pid``), or why there is none."""

    pid: int | None
    problem: str = ""


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot; None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")".
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def write(path: Path) -> None:
    """Record this process as the server of ``path``'s folder."""
    record = {"pid": os.getpid(), "started": process_start(os.getpid()),
              "data": str(path.parent.resolve())}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    tmp.replace(path)


def running_server(path: Path) -> Owner:
    """The live server ``path`` names, checked by pid *and* start time."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Owner(None, f"no running server: {path} does not exist")
    except (OSError, UnicodeDecodeError) as exc:
        return Owner(None, f"no running server: cannot read {path} ({exc})")
    try:
        record = json.loads(text)
        pid, started = int(record["pid"]), str(record["started"])
    except (ValueError, KeyError, TypeError):
        return Owner(None, f"{path} is not a pid file of this attendant (expected JSON with "
                           "pid and started); if no server runs, delete it; otherwise "
                           "restart the server so that it writes a new one")
    now = process_start(pid)
    if now is None:
        return Owner(None, f"no running server: process {pid} from {path} is gone (left by "
                           "a crash or a kill -9); delete the file or start the server")
    if now != started:
        return Owner(None, f"process {pid} is not the server that wrote {path}: it started "
                           "at another time, so the pid was reused after a crash; not "
                           "signalling it. Delete the file or start the server")
    return Owner(pid)
