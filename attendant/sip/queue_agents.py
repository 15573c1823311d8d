"""Queue agents on a running server: their saved states, and the commands that change them.

Agents' sign-ins, opt-outs and pauses outlive the process: :meth:`AgentControl.start`
restores them from ``<data>/queue-agents.json`` (:mod:`attendant.storage.agents`), and
they are written again (on the storage writer, never the call thread) whenever one of
them changes, whatever changed it (a command, a feature code, a pause after missed
calls). Saved users who are no agent of the menus are ignored but kept, and get their
state back if a reload brings them back.

Commands arrive as files ``attendant queues agent`` drops into
``<data>/queue-control/`` (polled every CONTROL_POLL_S) and as feature codes dialled
from a phone; both take one path (:func:`attendant.queues.agent_commands.agent_event`),
and their results are kept for the status snapshot.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attendant.engine import actions as act
from attendant.ports import TimerHandle
from attendant.queues.agent_commands import agent_event
from attendant.storage import StorageError
from attendant.storage.agents import AgentStateFile, SavedAgent, remembered, restore
from attendant.storage.control_files import ControlFileError, read_control_file, remove_entry

if TYPE_CHECKING:
    from attendant.sip.queues import QueueRunner

log = logging.getLogger("attendant.sip.queues")

#: Folder of ``<data>`` where ``attendant queues agent`` drops its commands.
CONTROL_DIR = "queue-control"
#: Seconds between looks into the control folder (and status refreshes while callers wait).
CONTROL_POLL_S = 0.5
#: Results of agent commands kept in the snapshot (``attendant queues agent`` reads them).
KEEP_RESULTS = 20


class AgentControl:
    """The agents' state file and command inbox of one queue runner (call thread)."""

    def __init__(self, runner: QueueRunner, data_dir: Path):
        self._runner = runner
        self.control_dir = data_dir / CONTROL_DIR
        self.file = AgentStateFile(data_dir)
        #: Saved states of users who are no agent of the current menus (kept in the file).
        self.absent: dict[str, SavedAgent] = {}
        #: The last agent commands and what came of them (newest last).
        self.results: list[dict[str, Any]] = []
        self._bad_entries: set[str] = set()  # names already reported as unusable
        self._poll: TimerHandle | None = None
        #: The remembered values last handed to the file; None until start() has read it,
        #: so nothing is written over the saved states before they are restored.
        self._saved: dict[str, tuple[bool, bool, frozenset[str]]] | None = None

    def start(self) -> None:
        """Restore agents' saved states, then watch the control folder: commands written
        while the server was down apply on top of them."""
        self.control_dir.mkdir(parents=True, exist_ok=True)  # and the data folder
        self._restore()
        self._poll = self._runner.host.worker.call_later(CONTROL_POLL_S, self._control_tick)

    def close(self) -> None:
        if self._poll is not None:
            self._poll.cancel()

    def _restore(self) -> None:
        run = self._runner
        saved = self.file.load()
        known = {k: v for k, v in saved.items() if k in run.state.agents}
        self.absent = {k: v for k, v in saved.items() if k not in known}
        for key, entry in self.absent.items():
            log.info("queue agents: %s in %s is no agent of any queue now; ignored (kept in "
                     "the file in case they come back: %s)", key, self.file.path,
                     entry.describe())
        run.state = restore(run.state, known)
        changed = [f"{k} {v.describe()}" for k, v in known.items() if v != SavedAgent()]
        if changed:
            log.info("queue agents restored from %s: %s; everyone else signed in",
                     self.file.path, "; ".join(changed))
        self._saved = {}  # loaded: from now on every change is saved
        self.save()

    def returned(self) -> None:
        """A reload: users saved while absent from the menus who are agents again get
        their saved state back."""
        run = self._runner
        back = {k: v for k, v in self.absent.items() if k in run.state.agents}
        if back:
            run.state = restore(run.state, back)
            for key, entry in back.items():
                del self.absent[key]
                log.info("reload: %s is an agent again; saved state restored: %s", key,
                         entry.describe())

    def save(self) -> None:
        """Rewrite the agents' file if a remembered value changed (after every step)."""
        if self._saved is None:
            return
        state = self._runner.state
        # Plain tuples: this runs after every queue event, and comparing them is about 7x
        # cheaper than building SavedAgent objects (25 us for 200 agents).
        now = {k: (a.signed_in, a.paused, a.opted_out) for k, a in state.agents.items()}
        if now == self._saved:
            return
        self._saved = now
        # The write and its fsyncs run on the storage writer: a slow disk stalls no call.
        self._runner.host.store_later("saving the queue agents' states",
                                      partial(self._write, {**self.absent,
                                                            **remembered(state)}))

    def _write(self, agents: Mapping[str, SavedAgent]) -> None:
        if not self.file.save(agents):  # it logged why
            raise StorageError(f"cannot write {self.file.path}")

    # --- commands -----------------------------------------------------------------------

    def _control_tick(self) -> None:
        run = self._runner
        self._poll = run.host.worker.call_later(CONTROL_POLL_S, self._control_tick)
        try:
            files = sorted(self.control_dir.glob("*.json"))
        except OSError:
            files = []
        for path in files:
            self._command(path)
        if run.state.callers or files:
            run.changed()  # waits grow: keep the snapshot fresh

    def _command(self, path: Path) -> None:
        try:
            raw = json.loads(read_control_file(path))
        except ControlFileError as exc:
            # A FIFO, link, device or huge file is no command: skip it without blocking
            # the worker, say so once, and take it out of the way.
            if path.name not in self._bad_entries:
                if len(self._bad_entries) > 1000:
                    self._bad_entries.clear()
                self._bad_entries.add(path.name)
                log.warning("queue control: %s", exc)
            remove_entry(path)
            return
        except ValueError as exc:
            raw = {"error": f"unreadable: {exc}"}
        if not isinstance(raw, dict):
            raw = {"error": "unreadable: not a JSON object"}
        with contextlib.suppress(OSError):
            path.unlink()
        result = {"id": path.stem, **{k: raw.get(k) for k in ("agent", "command", "queue")}}
        error = raw.get("error") or self.apply(
            str(raw.get("agent", "")), str(raw.get("command", "")), raw.get("queue"))
        result["result"] = error or "applied"
        log.info("agent command %s %s %s: %s", result["agent"], result["command"],
                 result["queue"] or "", result["result"])
        self.results = [*self.results, result][-KEEP_RESULTS:]

    def feature_code(self, call_id: str, action: act.AgentCommand) -> None:
        """An agent's feature code from call ``call_id``: the same path as a control file."""
        command = action.command.replace("_", "")  # sign_in -> signin, as operators write it
        result = {"id": f"call-{call_id}", "agent": action.user, "command": command,
                  "queue": action.queue}
        result["result"] = self.apply(action.user, command, action.queue) or "applied"
        log.info("agent feature code %s %s %s from call %s: %s", action.user, command,
                 action.queue or "", call_id, result["result"])
        self.results = [*self.results, result][-KEEP_RESULTS:]
        self._runner.changed()

    def apply(self, agent: str, command: str, queue: Any) -> str:
        """Apply an agent command; "" when done, else why not."""
        run = self._runner
        event = agent_event(run.flow, agent, command, queue, run.clock())
        if isinstance(event, str):
            return event
        run.submit(event)
        return ""
