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
  (the server's ``dial``, the transfer code); ``CancelRing`` → hang those
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

Agents' saved states and their commands are :mod:`attendant.sip.queue_agents`;
callbacks are :mod:`attendant.sip.queue_callbacks`. The runner is written against the
ports (:class:`attendant.ports.QueueHost`, ``Leg``, ``QueuedCall``), not pjsua2: the
server dials and joins the legs, and the unit tests drive the runner with the
in-memory twins of :mod:`attendant.twins`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from attendant.engine import actions as act
from attendant.engine.events import QueueAnnouncement, QueueOutcome
from attendant.model import Flow, frozen_map
from attendant.ports import Leg, QueuedCall, QueueHost, TimerHandle
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues.agent_commands import COMMANDS
from attendant.queues.events import (
    AgentCallEnded,
    AgentRingResult,
    CallerJoined,
    CallerLeft,
    CallerPressed,
    QueueEvent,
    QueueTimerFired,
)
from attendant.queues.report import (
    Counts,
    QueueCounts,
    agent_state,
    counted,
    queue_figures,
    reinitialise,
)
from attendant.sip.failures import ring_outcome
from attendant.sip.queue_agents import CONTROL_DIR, CONTROL_POLL_S, AgentControl
from attendant.sip.queue_callbacks import Callbacks

log = logging.getLogger("attendant.sip.queues")

#: Seconds the status snapshot may lag behind a queue event.
SNAPSHOT_THROTTLE_S = 0.2


@dataclass
class _AgentLeg:
    """An agent's phone ringing (or answered) for one ring of the core."""

    leg: Leg
    ring_id: int
    agent: str
    call_id: str
    status: str = "ringing"  # ringing, answered, cancelled, handed (to the caller's call)


class QueueRunner:
    """Every queue of the server on real calls. All methods run on the worker thread."""

    def __init__(self, host: QueueHost, flow: Flow, data_dir: Path,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.flow = flow
        self.clock = clock
        self.state = core.initial_state(flow, at=clock())
        self.sessions: dict[str, int] = {}  # call id -> session, callers on the line
        self.connected: dict[int, str] = {}  # session -> agent, queue calls in progress
        self.legs: dict[int, _AgentLeg] = {}  # leg serial -> agent leg
        self.rings: dict[tuple[int, str], int] = {}  # (ring id, agent) -> leg serial
        self.timers: dict[str, TimerHandle] = {}
        self.counts: Counts = frozen_map()
        self._pending: list[QueueEvent] = []
        self._draining = False
        self._dirty: TimerHandle | None = None
        #: Agents' saved states and their commands (attendant.sip.queue_agents).
        self.agents = AgentControl(self, data_dir)
        self.callbacks = Callbacks(self)

    # --- life -------------------------------------------------------------------------

    def start(self) -> None:
        """Restore agents' saved states, then watch for their commands."""
        self.agents.start()

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
        self.agents.returned()
        self.submit(None)

    def close(self) -> None:
        """Before the library goes: drop timers and every pjsua2 object."""
        for handle in [*self.timers.values(), self._dirty]:
            if handle is not None:
                handle.cancel()
        self.agents.close()
        self.timers.clear()
        self.legs.clear()
        self.rings.clear()
        self.callbacks.clear()

    def hang_up_all(self) -> None:
        """Shutdown: stop ringing agents and end callbacks."""
        for entry in list(self.legs.values()):
            entry.status = "cancelled"
            entry.leg.cancel_ringing()
        self.callbacks.hang_up_all()

    # --- from the calls (worker thread, posted) ---------------------------------------

    def call_action(self, session: int,
                    action: act.EnqueueCall | act.QueueKey | act.AgentCommand) -> None:
        """What call ``session``'s engine asked of the queues (posted by the call, never
        run inside its step): join a queue, a key while queued, an agent's feature code."""
        call_id = self.host.call_id_of(session) or str(session)
        if isinstance(action, act.EnqueueCall):
            call = self.host.calls.get(session)
            if call is not None and not call.ended:
                self.enqueue(call, call_id, action)
        elif isinstance(action, act.QueueKey):
            self.pressed(call_id, action.key)
        else:
            self.agents.feature_code(call_id, action)

    def enqueue(self, call: QueuedCall, call_id: str, action: act.EnqueueCall) -> None:
        """``EnqueueCall`` from ``call``'s engine: the caller joins the queue."""
        self.sessions[call_id] = call.session
        number = call.state.caller or call.caller  # in the form the menus compare numbers
        self.submit(CallerJoined(call_id, action.queue, self.clock(), action.priority,
                                 number, call.state.language, self.host.can_ring(number)))

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
        return self.callbacks.leg_event(serial, what, code)

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
        self.agents.save()
        self.changed()

    def later(self, event: QueueEvent) -> None:
        """Step ``event`` after the actions being carried out (a leg failing at once)."""
        self._pending.append(event)

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
        elif isinstance(action, qa.CallbackFailed):
            log.warning("queue %s: callback to %s (%s) given up after %d unanswered "
                        "attempt(s)", action.queue, action.number, action.call_id,
                        action.attempts)
            self.host.callback_given_up(action.queue, action.number, action.attempts)
        else:
            assert isinstance(action, qa.PlaceCallback)
            self.callbacks.place(action)

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
            leg = self.host.dial(session, destination) if destination else None
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

    def take_leg(self, ring_id: int, agent: str) -> Leg | None:
        """The answered leg of ``agent`` for ring ``ring_id`` (None if it is gone)."""
        serial = self.rings.pop((ring_id, agent), None)
        entry = self.legs.get(serial) if serial is not None else None
        if entry is None or entry.leg.ended:
            return None
        return entry.leg

    def _connect(self, action: qa.ConnectCaller) -> None:
        leg = self.take_leg(action.ring_id, action.agent)
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

    # --- agent commands (attendant queues agent, feature codes) ------------------------

    def feature_code(self, call_id: str, action: act.AgentCommand) -> None:
        """An agent's feature code from call ``call_id``: the same path as a control file."""
        self.agents.feature_code(call_id, action)

    def apply_command(self, agent: str, command: str, queue: Any) -> str:
        """Apply an agent command; "" when done, else why not."""
        return self.agents.apply(agent, command, queue)

    # --- what operators see -------------------------------------------------------------

    def changed(self) -> None:
        """The snapshot changed: tell the host within SNAPSHOT_THROTTLE_S."""
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
        return {"queues": queues, "agent_commands": self.agents.results}

    def _caller(self, caller: core.CallerState, now: float) -> dict[str, Any]:
        session = self.sessions.get(caller.call_id)
        call = self.host.calls.get(session) if session is not None else None
        return {"call_id": caller.call_id, "caller": caller.number, "status": caller.status,
                "position": core.position(self.state, caller.call_id),
                "priority": caller.priority, "waited": round(now - caller.joined, 1),
                "rtp_to_caller": call.stats.caller_tx if call is not None else None}


__all__ = ["COMMANDS", "CONTROL_DIR", "CONTROL_POLL_S", "QueueHost", "QueueRunner", "ring_outcome"]
