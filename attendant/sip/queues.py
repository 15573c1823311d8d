"""Call queues on real calls: the queue core (:mod:`attendant.queues`) driven by pjsua2.

:class:`QueueRunner` is the SIP twin of :class:`attendant.sim.queues.QueueWorld`: one
per server, one :class:`~attendant.queues.QueueState` for the whole process (kept
across reloads), living on the pjsip worker thread like everything else that touches
pjsua2. It translates, as ``docs/queues.md`` ("How it works") lays out:

* into the core: a call's ``EnqueueCall`` → ``CallerJoined``; a key pressed while the
  call is ``QUEUED`` → ``CallerPressed``; the caller hanging up while queued →
  ``CallerLeft``; an agent's leg answering or failing → ``AgentRingResult`` (SIP
  statuses mapped as for transfers); either side of a connected queue call hanging up
  → ``AgentCallEnded``; a callback leg's fate → ``CallbackResult``; queue timers (on
  the worker's heap) → ``QueueTimerFired``; agent commands from ``attendant queues
  agent`` (files in ``<data>/queue-control/``) → ``AgentSignedIn`` & co.
* out of the core: ``RingAgents`` → one outgoing leg per agent
  (:func:`attendant.sip.legs.dial`, the transfer code); ``CancelRing`` → hang those
  legs up; ``ConnectCaller`` → the caller's engine gets ``QueueOutcome("connected")``
  and the agent's leg is bridged to it (``mode: bridge``) or the caller is REFERred
  to it with Replaces (``mode: refer``); ``PlayToCaller`` → ``QueueAnnouncement``;
  ``RouteCaller`` / ``CallbackAccepted`` → ``QueueOutcome``; ``PlaceCallback`` → a
  leg to the caller's number bridged with the agent's; ``QueueLog`` → the call log.

Events are processed one at a time: anything that happens while the runner is applying
actions (a leg failing at once, a caller hanging up inside a hang-up) is queued and
stepped after, so the core never sees a half-applied state.

The runner also keeps what operators see: per queue, callers waiting, the longest wait,
each agent's state, answered/abandoned counts and the service level (answers within the
queue's ``service_level_seconds``), written into the ``queues`` section of
``<data>/status.json`` (read by ``attendant queues``).

Agents' sign-ins, opt-outs and pauses outlive the process: :meth:`QueueRunner.start`
restores them from ``<data>/queue-agents.json`` (:mod:`attendant.storage.agents`), and
the runner rewrites that file whenever one of them changes, whatever changed it (a
command, a feature code, a pause after missed calls). Saved users who are no agent of
the menus are ignored but kept, and get their state back if a reload brings them back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from attendant.engine import actions as act
from attendant.engine.events import QueueAnnouncement, QueueOutcome
from attendant.model import Flow, frozen_map
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues.agent_commands import COMMANDS, agent_event
from attendant.queues.events import (
    AgentCallEnded,
    AgentRingResult,
    CallbackResult,
    CallerJoined,
    CallerLeft,
    CallerPressed,
    QueueEvent,
    QueueTimerFired,
    RingOutcome,
)
from attendant.queues.report import (
    Counts,
    QueueCounts,
    agent_state,
    counted,
    queue_figures,
    reinitialise,
)
from attendant.sip.call import InboundCall
from attendant.sip.endpoint import TimerHandle
from attendant.sip.host import CallHost
from attendant.sip.legs import OutboundLeg, dial, transfer_failure
from attendant.storage import StorageError
from attendant.storage.agents import AgentStateFile, SavedAgent, remembered, restore
from attendant.storage.control_files import ControlFileError, read_control_file, remove_entry

log = logging.getLogger("attendant.sip.queues")

#: Folder of ``<data>`` where ``attendant queues agent`` drops its commands.
CONTROL_DIR = "queue-control"
#: Seconds between looks into the control folder (and status refreshes while callers wait).
CONTROL_POLL_S = 0.5
#: Seconds the status snapshot may lag behind a queue event.
SNAPSHOT_THROTTLE_S = 0.2
#: Agent commands and the core events they become.
#: Results of agent commands kept in the snapshot (``attendant queues agent`` reads them).
KEEP_RESULTS = 20
#: Seconds after a callback's legs are bridged when their RTP counts go to the log.
RTP_REPORT_S = 1.0


class QueueHost(CallHost, Protocol):
    """What the runner needs from the server (besides what a call needs)."""

    calls: dict[int, InboundCall]

    def call_id_of(self, session: int) -> str:
        """The call id (``<run>-<n>``) of call ``session``; "" when unknown."""

    def queue_log(self, line: qa.QueueLog) -> None:
        """Write a queue core log line to the call log."""

    def queues_changed(self) -> None:
        """The queue snapshot changed: rewrite ``status.json`` (soon)."""

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        """Run a storage job off the worker thread, in order, retried while it raises."""


@dataclass
class _AgentLeg:
    """An agent's phone ringing (or answered) for one ring of the core."""

    leg: OutboundLeg
    ring_id: int
    agent: str
    call_id: str
    status: str = "ringing"  # ringing, answered, cancelled, handed (to the caller's call)


@dataclass
class _Callback:
    """An agent who answered a callback ring, and the leg dialling the caller back."""

    call_id: str
    agent: str
    agent_leg: OutboundLeg
    out_leg: OutboundLeg | None = None
    answered: bool = False
    bridged: bool = False
    done: bool = False


_OUTCOMES: dict[str, RingOutcome] = {"busy": "busy", "rejected": "rejected",
                                     "no_answer": "no_answer"}


def ring_outcome(code: int) -> RingOutcome:
    """How an agent's leg that ended with SIP status ``code`` missed, mapped as for
    transfers: 486/600 busy, 603 rejected, 408/480/487 no answer, else unreachable."""
    return _OUTCOMES.get(transfer_failure(code), "unreachable")


class QueueRunner:
    """Every queue of the server on real calls. All methods run on the worker thread."""

    def __init__(self, host: QueueHost, flow: Flow, data_dir: Path,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.flow = flow
        self.clock = clock
        self.state = core.initial_state(flow, at=clock())
        self.control_dir = data_dir / CONTROL_DIR
        self._bad_entries: set[str] = set()  # names already reported as unusable
        self.sessions: dict[str, int] = {}  # call id -> session, callers on the line
        self.connected: dict[int, str] = {}  # session -> agent, queue calls in progress
        self.legs: dict[int, _AgentLeg] = {}  # leg serial -> agent leg
        self.rings: dict[tuple[int, str], int] = {}  # (ring id, agent) -> leg serial
        self.callbacks: dict[str, _Callback] = {}  # call id -> callback being placed
        self.timers: dict[str, TimerHandle] = {}
        self.counts: Counts = frozen_map()
        self.results: list[dict[str, Any]] = []
        self._pending: list[QueueEvent] = []
        self._draining = False
        self._dirty: TimerHandle | None = None
        self._poll: TimerHandle | None = None
        self.agent_file = AgentStateFile(data_dir)
        #: Saved states of users who are no agent of the current menus (kept in the file).
        self.absent_agents: dict[str, SavedAgent] = {}
        #: The remembered values last handed to the file; None until start() has read it,
        #: so nothing is written over the saved states before they are restored.
        self._agents_saved: dict[str, tuple[bool, bool, frozenset[str]]] | None = None

    # --- life -------------------------------------------------------------------------

    def start(self) -> None:
        """Restore agents' saved states, then watch the control folder (``attendant queues
        agent``): commands written while the server was down apply on top of them."""
        self.control_dir.mkdir(parents=True, exist_ok=True)  # and the data folder
        self._restore_agents()
        self._poll = self.host.worker.call_later(CONTROL_POLL_S, self._control_tick)

    def _restore_agents(self) -> None:
        saved = self.agent_file.load()
        known = {k: v for k, v in saved.items() if k in self.state.agents}
        self.absent_agents = {k: v for k, v in saved.items() if k not in known}
        for key, entry in self.absent_agents.items():
            log.info("queue agents: %s in %s is no agent of any queue now; ignored (kept in "
                     "the file in case they come back: %s)", key, self.agent_file.path,
                     entry.describe())
        self.state = restore(self.state, known)
        changed = [f"{k} {v.describe()}" for k, v in known.items() if v != SavedAgent()]
        if changed:
            log.info("queue agents restored from %s: %s; everyone else signed in",
                     self.agent_file.path, "; ".join(changed))
        self._agents_saved = {}  # loaded: from now on every change is saved
        self._save_agents()

    def _save_agents(self) -> None:
        """Rewrite the agents' file if a remembered value changed (after every step)."""
        if self._agents_saved is None:
            return
        # Plain tuples: this runs after every queue event, and comparing them is about 7x
        # cheaper than building SavedAgent objects (25 us for 200 agents).
        now = {k: (a.signed_in, a.paused, a.opted_out) for k, a in self.state.agents.items()}
        if now == self._agents_saved:
            return
        self._agents_saved = now
        # The write and its fsyncs run on the storage writer: a slow disk stalls no call.
        self.host.store_later("saving the queue agents' states",
                              partial(self._write_agents, {**self.absent_agents,
                                                           **remembered(self.state)}))

    def _write_agents(self, agents: Mapping[str, SavedAgent]) -> None:
        if not self.agent_file.save(agents):  # it logged why
            raise StorageError(f"cannot write {self.agent_file.path}")

    def set_flow(self, flow: Flow) -> None:
        """A reload: keep the state, sign in agents new to the configuration (or give them
        their saved state, if they were agents before the start), and send callers of
        queues that are gone to the timeout route."""
        old, self.flow = self.flow, flow
        gone = [c for c in self.state.callers.values() if c.queue not in flow.queues]
        for caller in gone:
            if caller.status in (core.WAITING, core.RINGING):
                self.state, actions = core.step(old, self.state,
                                                 CallerLeft(caller.call_id, self.clock()))
                for action in actions:
                    self._apply(action)
                session = self.sessions.pop(caller.call_id, None)
                if session is not None:
                    log.warning("reload: queue %s is gone; %s leaves it", caller.queue,
                                caller.call_id)
                    self.host.deliver(session, QueueOutcome(
                        "route", core.default_route(flow, "timeout")))
        self.state = reinitialise(self.state, flow, self.clock())
        back = {k: v for k, v in self.absent_agents.items() if k in self.state.agents}
        if back:  # users saved while absent from the menus are agents again
            self.state = restore(self.state, back)
            for key, entry in back.items():
                del self.absent_agents[key]
                log.info("reload: %s is an agent again; saved state restored: %s", key,
                         entry.describe())
        self.submit(None)

    def close(self) -> None:
        """Before the library goes: drop timers and every pjsua2 object."""
        for handle in [*self.timers.values(), self._dirty, self._poll]:
            if handle is not None:
                handle.cancel()
        self.timers.clear()
        self.legs.clear()
        self.rings.clear()
        self.callbacks.clear()

    def hang_up_all(self) -> None:
        """Shutdown: stop ringing agents and end callbacks."""
        for entry in list(self.legs.values()):
            entry.status = "cancelled"
            entry.leg.cancel_ringing()
        for cb in list(self.callbacks.values()):
            cb.done = True
            for leg in (cb.agent_leg, cb.out_leg):
                if leg is not None:
                    leg.cancel_ringing()

    # --- from the calls (worker thread, posted) ---------------------------------------

    def enqueue(self, call: InboundCall, call_id: str, action: act.EnqueueCall) -> None:
        """``EnqueueCall`` from ``call``'s engine: the caller joins the queue."""
        self.sessions[call_id] = call.session
        self.submit(CallerJoined(call_id, action.queue, self.clock(), action.priority,
                                 call.caller, call.state.language))

    def pressed(self, call_id: str, key: str) -> None:
        """A key from a queued caller."""
        if call_id in self.sessions:
            self.submit(CallerPressed(call_id, key, self.clock()))

    def call_ended(self, session: int, call_id: str) -> None:
        """A caller's call ended (inside its DISCONNECTED callback: only queue events)."""
        agent = self.connected.pop(session, None)
        if agent is not None:
            self.submit(AgentCallEnded(agent, self.clock()))
        if self.sessions.get(call_id) == session:
            del self.sessions[call_id]
            self.submit(CallerLeft(call_id, self.clock()))

    def leg_event(self, serial: int, what: str, code: int) -> bool:
        """An outgoing leg changed state; False when it is not one of the runner's."""
        entry = self.legs.get(serial)
        if entry is not None:
            self._agent_leg(entry, what, code)
            return True
        for cb in self.callbacks.values():
            if cb.out_leg is not None and cb.out_leg.serial == serial:
                self._callback_leg(cb, what, code)
                return True
            if cb.agent_leg.serial == serial:
                self._callback_agent_leg(cb, what)
                return True
        return False

    # --- stepping the core ------------------------------------------------------------

    def submit(self, event: QueueEvent | None) -> None:
        """Step the core with ``event`` (None: just dispatch) and every event it leads to."""
        if event is not None:
            self._pending.append(event)
        if self._draining:
            return
        self._draining = True
        try:
            while self._pending:
                self._step(self._pending.pop(0))
        finally:
            self._draining = False
        self._save_agents()
        self._changed()

    def _step(self, event: QueueEvent) -> None:
        before = self.state
        try:
            self.state, actions = core.step(self.flow, before, event)
        except Exception:
            log.exception("queue core failed on %s", event)
            return
        self.counts = counted(self.counts, self.flow, before, event, actions)
        for action in actions:
            try:
                self._apply(action)
            except Exception:
                log.exception("cannot carry out %s", action)

    def _apply(self, action: qa.QueueAction) -> None:
        if isinstance(action, qa.QueueStartTimer):
            old = self.timers.pop(action.name, None)
            if old is not None:
                old.cancel()
            self.timers[action.name] = self.host.worker.call_later(
                action.seconds, partial(self._timer, action.name))
        elif isinstance(action, qa.QueueCancelTimer):
            handle = self.timers.pop(action.name, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(action, qa.QueueLog):
            log.info("queue %s: %s", action.queue or "(agents)", action.message)
            self.host.queue_log(action)
        elif isinstance(action, qa.RingAgents):
            self._ring(action)
        elif isinstance(action, qa.CancelRing):
            for agent in action.agents:
                serial = self.rings.pop((action.ring_id, agent), None)
                entry = self.legs.get(serial) if serial is not None else None
                if entry is not None and entry.status in ("ringing", "answered"):
                    entry.status = "cancelled"
                    entry.leg.cancel_ringing()
        elif isinstance(action, qa.PlayToCaller):
            self._to_caller(action.call_id, QueueAnnouncement(action.parts))
        elif isinstance(action, qa.ConnectCaller):
            self._connect(action)
        elif isinstance(action, qa.RouteCaller):
            self._to_caller(action.call_id, QueueOutcome("route", action.route), last=True)
        elif isinstance(action, qa.CallbackAccepted):
            self._to_caller(action.call_id, QueueOutcome("callback"), last=True)
        else:
            assert isinstance(action, qa.PlaceCallback)
            self._place_callback(action)

    def _timer(self, name: str) -> None:
        if self.timers.pop(name, None) is not None:
            self.submit(QueueTimerFired(name, self.clock()))

    def _to_caller(self, call_id: str, event: QueueAnnouncement | QueueOutcome,
                   last: bool = False) -> None:
        session = self.sessions.get(call_id)
        if last:
            self.sessions.pop(call_id, None)
        if session is not None:
            self.host.deliver(session, event)

    # --- agents' phones -----------------------------------------------------------------

    def _ring(self, action: qa.RingAgents) -> None:
        session = self.sessions.get(action.call_id, 0)
        for agent, destination in zip(action.agents, action.destinations, strict=True):
            leg = dial(self.host, session, destination) if destination else None
            if leg is None:
                self._pending.append(AgentRingResult(action.ring_id, agent, "unreachable",
                                                     self.clock()))
                continue
            self.legs[leg.serial] = _AgentLeg(leg, action.ring_id, agent, action.call_id)
            self.rings[(action.ring_id, agent)] = leg.serial

    def _agent_leg(self, entry: _AgentLeg, what: str, code: int) -> None:
        if what == "confirmed":
            if entry.status == "ringing":
                entry.status = "answered"
                self.submit(AgentRingResult(entry.ring_id, entry.agent, "answered",
                                            self.clock()))
            elif entry.status == "cancelled":
                entry.leg.cancel_ringing()  # answered after we gave up on it: BYE
        elif what == "ended":
            del self.legs[entry.leg.serial]
            if self.rings.get((entry.ring_id, entry.agent)) == entry.leg.serial:
                del self.rings[(entry.ring_id, entry.agent)]
            if entry.status == "ringing":
                self.submit(AgentRingResult(entry.ring_id, entry.agent, ring_outcome(code),
                                            self.clock()))
            elif entry.status == "handed":
                self.submit(AgentCallEnded(entry.agent, self.clock()))

    def _take_leg(self, ring_id: int, agent: str) -> OutboundLeg | None:
        serial = self.rings.pop((ring_id, agent), None)
        entry = self.legs.get(serial) if serial is not None else None
        if entry is None or entry.leg.ended:
            return None
        return entry.leg

    def _connect(self, action: qa.ConnectCaller) -> None:
        leg = self._take_leg(action.ring_id, action.agent)
        session = self.sessions.get(action.call_id)
        call = self.host.calls.get(session) if session is not None else None
        self._to_caller(action.call_id, QueueOutcome("connected", agent=action.agent),
                        last=True)
        if leg is None or call is None or call.ended:
            log.warning("queue %s: %s or %s went before they could be connected", action.queue,
                        action.call_id, action.agent)
            if leg is not None:
                self.legs.pop(leg.serial, None)
                leg.cancel_ringing()
            if call is not None and not call.ended:
                call.hang_up()
            self._pending.append(AgentCallEnded(action.agent, self.clock()))
            return
        self.connected[call.session] = action.agent
        if action.mode == "refer":
            entry = self.legs[leg.serial]
            entry.status = "handed"  # our leg is replaced; the caller's end ends the call
            if call.refer_to(leg):
                self.connected.pop(call.session, None)  # counted when the agent's leg ends
                return
            entry.status = "answered"
        self.legs.pop(leg.serial, None)  # the call owns it now: its end ends both
        call.join(leg, action.agent)
        log.info("queue %s: %s bridged with %s", action.queue, action.call_id, action.agent)

    # --- callbacks ----------------------------------------------------------------------

    def _place_callback(self, action: qa.PlaceCallback) -> None:
        leg = self._take_leg(action.ring_id, action.agent)
        if leg is None:
            self._pending.append(CallbackResult(action.call_id, False, self.clock()))
            return
        self.legs.pop(leg.serial, None)
        cb = _Callback(action.call_id, action.agent, leg)
        self.callbacks[action.call_id] = cb
        cb.out_leg = dial(self.host, 0, action.number)
        if cb.out_leg is None:
            self._end_callback(cb, answered=False)

    def _end_callback(self, cb: _Callback, answered: bool) -> None:
        if cb.done:
            return
        cb.done = True
        self.callbacks.pop(cb.call_id, None)
        for leg in (cb.agent_leg, cb.out_leg):
            if leg is not None:
                leg.cancel_ringing()
        if answered:
            self._pending.append(AgentCallEnded(cb.agent, self.clock()))
        else:
            self._pending.append(CallbackResult(cb.call_id, False, self.clock()))
        self.submit(None)

    def _callback_leg(self, cb: _Callback, what: str, code: int) -> None:
        if what == "confirmed" and not cb.answered:
            cb.answered = True
            self.submit(CallbackResult(cb.call_id, True, self.clock()))
            self._bridge_callback(cb)
        elif what == "media":
            self._bridge_callback(cb)
        elif what == "ended":
            log.info("callback %s: the caller's leg ended (%d)", cb.call_id, code)
            self._end_callback(cb, answered=cb.answered)

    def _callback_agent_leg(self, cb: _Callback, what: str) -> None:
        if what == "media":
            self._bridge_callback(cb)
        elif what == "ended":
            self._end_callback(cb, answered=cb.answered)

    def _bridge_callback(self, cb: _Callback) -> None:
        out = cb.out_leg
        if cb.bridged or not cb.answered or out is None:
            return
        if cb.agent_leg.media is None or out.media is None:
            return
        cb.agent_leg.media.startTransmit(out.media)
        out.media.startTransmit(cb.agent_leg.media)
        cb.bridged = True
        log.info("callback %s: bridged with %s", cb.call_id, cb.agent)
        self.host.worker.call_later(RTP_REPORT_S, partial(self._report_rtp, cb))

    def _report_rtp(self, cb: _Callback) -> None:
        if cb.done or self.callbacks.get(cb.call_id) is not cb or cb.out_leg is None:
            return
        agent_rx, agent_tx = cb.agent_leg.rtp_counts()
        caller_rx, caller_tx = cb.out_leg.rtp_counts()
        log.info("callback %s: RTP packets agent leg rx %d tx %d, caller leg rx %d tx %d",
                 cb.call_id, agent_rx, agent_tx, caller_rx, caller_tx)

    # --- agent control (attendant queues agent) -----------------------------------------

    def _control_tick(self) -> None:
        self._poll = self.host.worker.call_later(CONTROL_POLL_S, self._control_tick)
        try:
            files = sorted(self.control_dir.glob("*.json"))
        except OSError:
            files = []
        for path in files:
            self._command(path)
        if self.state.callers or files:
            self._changed()  # waits grow: keep the snapshot fresh

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
        error = raw.get("error") or self.apply_command(
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
        result["result"] = self.apply_command(action.user, command, action.queue) or "applied"
        log.info("agent feature code %s %s %s from call %s: %s", action.user, command,
                 action.queue or "", call_id, result["result"])
        self.results = [*self.results, result][-KEEP_RESULTS:]
        self._changed()

    def apply_command(self, agent: str, command: str, queue: Any) -> str:
        """Apply an agent command; "" when done, else why not."""
        event = agent_event(self.flow, agent, command, queue, self.clock())
        if isinstance(event, str):
            return event
        self.submit(event)
        return ""

    # --- what operators see -------------------------------------------------------------

    def _changed(self) -> None:
        if self._dirty is None:
            self._dirty = self.host.worker.call_later(SNAPSHOT_THROTTLE_S, self._flush)

    def _flush(self) -> None:
        self._dirty = None
        self.host.queues_changed()

    def snapshot(self) -> dict[str, Any]:
        """Every queue's callers, agents and counts, for ``status.json``."""
        now = self.clock()
        queues = []
        for key, queue in self.flow.queues.items():
            callers = sorted((c for c in self.state.callers.values() if c.queue == key),
                             key=core.caller_order)
            on_line = [c for c in callers if c.status in (core.WAITING, core.RINGING)]
            queues.append({
                "queue": key, "name": queue.name, "routing": queue.routing,
                "waiting": len(on_line),
                "callbacks_waiting": len(callers) - len(on_line),
                "longest_wait": round(max((now - c.joined for c in on_line), default=0.0), 1),
                "callers": [self._caller(c, now) for c in callers],
                "agents": [{"agent": a, "state": agent_state(self.state.agents.get(a), key)}
                           for a in core.queue_agents(self.flow, key)],
                **queue_figures(self.counts.get(key, QueueCounts()),
                                queue.service_level_seconds),
            })
        return {"queues": queues, "agent_commands": self.results}

    def _caller(self, caller: core.CallerState, now: float) -> dict[str, Any]:
        session = self.sessions.get(caller.call_id)
        call = self.host.calls.get(session) if session is not None else None
        return {"call_id": caller.call_id, "caller": caller.number, "status": caller.status,
                "position": core.position(self.state, caller.call_id),
                "priority": caller.priority, "waited": round(now - caller.joined, 1),
                "rtp_to_caller": call.stats.caller_tx if call is not None else None}


__all__ = ["COMMANDS", "CONTROL_DIR", "QueueHost", "QueueRunner", "ring_outcome"]
