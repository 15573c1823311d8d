"""Queue agents' states that outlive ``attendant serve``: signed in or out, opt-outs, pauses.

The queue core (:mod:`attendant.queues.core`) keeps every agent's state in memory, so a
new process used to start with everyone signed in. This module remembers the part of
an agent's state that is the agent's own choice, or that a restart does not change:

* ``signed_in``: signed out by a feature code or ``attendant queues agent``;
* ``opted_out``: the queues the agent opted out of;
* ``paused``: paused after ``miss_limit`` missed calls in a row. Kept because its cause
  (nobody at the phone) does not go away with a restart: forgetting it would ring an
  empty desk ``miss_limit`` more times, ``alert_seconds`` each, while callers wait.
  Signing in ends the pause, as before.

Not kept: what an agent is doing (ringing, on a call, wrap-up, resting: no call outlives
the process), the count of misses in a row (a new run starts at 0), and the idle time
``longest_idle`` uses (a monotonic time means nothing to another process).

The file is ``<data>/queue-agents.json``, rewritten whole (temporary file, fsync,
rename) when one of those values changes, so a crash leaves the old file or the new
one, never half of one::

    {"version": 1,
     "agents": {"anna": {"signed_in": false, "paused": false, "opted_out": ["support"]}}}

A file that cannot be read, or is not in this form, does not stop the server:
:meth:`AgentStateFile.load` renames it aside (``queue-agents.json.bad-<UTC time>``),
logs an error saying where it went and what to do, and returns no saved states (every
agent starts signed in). The server is the only writer; the file is read once, when it
starts.

:func:`remembered` and :func:`restore` are pure: the state's values to save, and a
state with saved values applied.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attendant.model import frozen_map
from attendant.queues.core import QueueState

log = logging.getLogger("attendant.storage.agents")

#: The file, in the data folder of ``attendant serve``.
FILE_NAME = "queue-agents.json"
#: The version of the file's form; another version is set aside like a damaged file.
VERSION = 1
_FIELDS = ("signed_in", "paused", "opted_out")


@dataclass(frozen=True, slots=True)
class SavedAgent:
    """What is remembered of one agent; the defaults are the state of a fresh start."""

    signed_in: bool = True
    paused: bool = False
    opted_out: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        """The agent's entry in the file (opt-outs sorted, so the file is stable)."""
        return {"signed_in": self.signed_in, "paused": self.paused,
                "opted_out": sorted(self.opted_out)}

    def describe(self) -> str:
        """For log lines: "signed out, paused, opted out of sales, support"."""
        words = ["signed in" if self.signed_in else "signed out"]
        if self.paused:
            words.append("paused")
        if self.opted_out:
            words.append("opted out of " + ", ".join(sorted(self.opted_out)))
        return ", ".join(words)


def remembered(state: QueueState) -> dict[str, SavedAgent]:
    """The values of every agent of ``state`` that a restart keeps."""
    return {key: SavedAgent(a.signed_in, a.paused, a.opted_out)
            for key, a in state.agents.items()}


def restore(state: QueueState, saved: Mapping[str, SavedAgent]) -> QueueState:
    """``state`` with ``saved`` applied to its agents; entries for others are skipped.

    Only the remembered values change: an agent restored while busy (not at a start) stays
    busy, and the miss count is left alone (a restored pause ends with a sign-in anyway).
    """
    agents = dict(state.agents)
    for key, entry in saved.items():
        if key in agents:
            agents[key] = replace(agents[key], signed_in=entry.signed_in,
                                  paused=entry.paused, opted_out=entry.opted_out)
    return replace(state, agents=frozen_map(agents))


def parse(text: str) -> dict[str, SavedAgent]:
    """The agents of a state file's text; ValueError saying what is wrong with it.

    Strict on purpose: a misspelt key or a wrong type is reported (and the file set
    aside) rather than silently read as a default.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if doc.get("version") != VERSION:
        raise ValueError(f'"version" is {doc.get("version")!r}; this attendant reads '
                         f"version {VERSION}")
    agents = doc.get("agents")
    if not isinstance(agents, dict):
        raise ValueError('"agents" is missing or not an object')
    out: dict[str, SavedAgent] = {}
    for key, entry in agents.items():
        where = f"agents.{key}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} is not an object")
        odd = sorted(k for k in entry if k not in _FIELDS)
        if odd:
            raise ValueError(f"{where} has unknown key(s) {', '.join(odd)} "
                             f"(known: {', '.join(_FIELDS)})")
        signed_in, paused = entry.get("signed_in", True), entry.get("paused", False)
        opted_out = entry.get("opted_out", [])
        if not isinstance(signed_in, bool) or not isinstance(paused, bool):
            raise ValueError(f"{where}: signed_in and paused must be true or false")
        if not isinstance(opted_out, list) or not all(isinstance(q, str) for q in opted_out):
            raise ValueError(f"{where}.opted_out must be a list of queue names")
        out[key] = SavedAgent(signed_in, paused, frozenset(opted_out))
    return out


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AgentStateFile:
    """``<data>/queue-agents.json``: load once at start, save on every change.

    Nothing here raises on a bad file or a failed write: the server keeps running with
    what it has in memory, and the error log says what happened to the file.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        #: What the file holds now, as far as we know (None: unknown, write at the next save).
        self._written: dict[str, SavedAgent] | None = None
        #: A bad file could not be moved aside: never write over it (it would be lost).
        self._blocked = False

    def load(self) -> dict[str, SavedAgent]:
        """Every saved agent; {} when there is no file yet or it is bad (then set aside)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._written = {}
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"it cannot be read ({exc})")
            return {}
        try:
            saved = parse(text)
        except ValueError as exc:
            self._set_aside(str(exc))
            return {}
        self._written = dict(saved)
        return saved

    def _set_aside(self, why: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.bad-{stamp}")
        n = 1
        while aside.exists():  # never replace an earlier bad file
            aside = self.path.with_name(f"{self.path.name}.bad-{stamp}-{n}")
            n += 1
        try:
            self.path.rename(aside)
        except OSError as exc:
            self._blocked = True
            log.error("queue agents: %s is unusable: %s. It cannot be moved aside either "
                      "(%s), so agents' sign-ins, opt-outs and pauses will NOT be saved "
                      "until you fix or remove it and restart. Every agent starts signed "
                      "in and opted in.", self.path, why, exc)
            return
        self._written = None
        log.error("queue agents: %s is unusable: %s. It was renamed %s and every agent "
                  "starts signed in and opted in (a new file is written). To get the "
                  "saved states back, stop the server, fix that file and rename it %s; "
                  "or delete it.", self.path, why, aside.name, self.path.name)

    def save(self, agents: Mapping[str, SavedAgent]) -> bool:
        """Write ``agents`` unless the file holds them already; False when it failed."""
        if self._blocked:
            return False
        if self._written is not None and self._written == agents:
            return True
        doc = {"version": VERSION,
               "agents": {key: agents[key].to_json() for key in sorted(agents)}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            # Write, flush to disk, then rename: a crash leaves the old file or the new one.
            with tmp.open("w", encoding="utf-8") as out:
                out.write(json.dumps(doc, indent=1) + "\n")
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(self.path)
        except OSError as exc:
            self._written = None
            log.error("queue agents: cannot save their states to %s: %s; the server goes on "
                      "with them in memory and tries again at the next change", self.path, exc)
            return False
        _fsync_dir(self.path.parent)
        self._written = dict(agents)
        return True


__all__ = ["FILE_NAME", "VERSION", "AgentStateFile", "SavedAgent", "parse", "remembered",
           "restore"]
