"""The queue core: every call queue of a process, as one pure state machine.

Theory of operation
-------------------
``step(flow, state, event) -> (state, actions)``, like the call engine, but
one :class:`QueueState` covers every queue, agent and waiting caller of the
process, because agents are shared: an agent busy on a Sales call is busy for
Support too. Events (:mod:`attendant.queues.events`) say what happened:
callers join, press keys and hang up; agents sign in and out, opt in and out
of queues, answer or miss; timers fire. Actions
(:mod:`attendant.queues.actions`) say what to do: ring agents, connect a
caller, play a position announcement, send a caller elsewhere, call someone
back, start a timer, write a log line. No I/O, no clock: each event carries
``at``, the adapter's monotonic time in seconds.

After every event the core *dispatches*: for each queue, waiting callers in
order (higher priority first, then longest waiting) are offered to the agents
that are free (signed in, not paused, opted in, idle), in the order the
queue's routing method gives (:mod:`attendant.queues.routing`). The
``attendant`` method rings every free agent at once; the others ring one
agent at a time and move to the next agent the caller has not tried yet.
When a caller has tried every free agent, a new round starts.

Every ring ends in one of three ways: an agent answers, the alert time runs
out (the core's own timer; adapters need not report ``no_answer``), or the
ring is withdrawn (the caller left, timed out, or the agent signed out). An
agent who misses a call (no answer, rejected, busy, unreachable) rests for
:data:`COOL_OFF_SECONDS` before being offered another, so no sequence of
instant failures can spin without time passing. ``miss_limit`` misses in a
row (no answer or rejected) pause the agent until they sign in again.

Timers have unique names recorded in the state, so a late or cancelled one is
recognised and dropped. Events about unknown calls, agents or rings are
ignored (an answer for a withdrawn ring releases that leg).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from attendant.model import Disconnect, Flow, Operator, Prompt, Queue, Route, frozen_map
from attendant.numbers import allowed
from attendant.queues import actions as qa
from attendant.queues import routing
from attendant.queues.events import (
    AgentCallEnded,
    AgentOptedIn,
    AgentOptedOut,
    AgentRingResult,
    AgentSignedIn,
    AgentSignedOut,
    CallbackResult,
    CallerJoined,
    CallerLeft,
    CallerPressed,
    QueueEvent,
    QueueTimerFired,
)
from attendant.system_prompts import DEFAULTS as SYSTEM_PROMPTS

#: Seconds an agent who missed a call rests before being offered another.
COOL_OFF_SECONDS = 5.0
#: Answers remembered per queue for the estimated wait.
ANSWER_WINDOW = 10
#: Answers older than this (seconds) do not count for the estimated wait.
ANSWER_MAX_AGE = 1800.0
#: Fewer recent answers than this and the estimate is "more than N minutes".
MIN_ANSWERS_FOR_ESTIMATE = 3

#: Caller statuses: on the line and waiting, on the line while agents ring, waiting for a
#: callback, agents ringing for a callback, the callback being dialled, an unanswered
#: callback waiting for its next try (keeping its place, rung for nobody meanwhile).
WAITING, RINGING, CALLBACK, CALLBACK_RINGING, CALLBACK_DIALING, CALLBACK_RETRY = (
    "waiting", "ringing", "callback", "callback_ringing", "callback_dialing", "callback_retry")
#: Agent activities.
IDLE, AGENT_RINGING, BUSY, WRAP_UP, COOLING = "idle", "ringing", "busy", "wrap_up", "cooling"


@dataclass(frozen=True, slots=True)
class AgentState:
    """One agent (a directory user), shared by every queue they belong to."""

    key: str
    signed_in: bool = True
    paused: bool = False
    opted_out: frozenset[str] = frozenset()
    activity: str = IDLE
    ring_id: int | None = None
    call_id: str | None = None
    queue: str | None = None
    misses: int = 0
    idle_since: float = float("-inf")


@dataclass(frozen=True, slots=True)
class CallerState:
    """One caller waiting in a queue (or waiting for a callback)."""

    call_id: str
    queue: str
    priority: int
    joined: float
    seq: int
    number: str = ""
    language: str = ""
    #: The server can ring ``number`` (``CallerJoined.callable_back``).
    callable_back: bool = True
    #: The queue's callback is offered to this caller yet (``callback_offer``).
    callback_offered: bool = True
    #: Callbacks dialled to this caller and not answered so far.
    callback_misses: int = 0
    status: str = WAITING
    tried: frozenset[str] = frozenset()
    ring_id: int | None = None
    agent: str | None = None
    wait_timer: str | None = None
    announce_timer: str | None = None


@dataclass(frozen=True, slots=True)
class Ring:
    """Agents being rung for one caller."""

    ring_id: int
    call_id: str
    queue: str
    agents: frozenset[str]
    timer: str
    callback: bool = False


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What a queue remembers for routing and estimates."""

    last_offered: str | None = None
    answers: tuple[float, ...] = ()
    calls: Mapping[str, int] = field(default_factory=frozen_map)


@dataclass(frozen=True, slots=True)
class QueueState:
    """Every queue, agent and waiting caller of a process. Immutable; ``step`` returns a new one.

    ``timers`` maps each live timer name to (kind, subject); ``counter`` makes ring ids and
    timer names unique; ``seed`` is the random routing method's generator state.
    """

    agents: Mapping[str, AgentState] = field(default_factory=frozen_map)
    callers: Mapping[str, CallerState] = field(default_factory=frozen_map)
    rings: Mapping[int, Ring] = field(default_factory=frozen_map)
    stats: Mapping[str, QueueStats] = field(default_factory=frozen_map)
    timers: Mapping[str, tuple[str, str]] = field(default_factory=frozen_map)
    counter: int = 0
    seed: int = 0


Result = tuple[QueueState, list[qa.QueueAction]]


# --- the directory, as the queues see it ----------------------------------------------


def queue_agents(flow: Flow, key: str) -> tuple[str, ...]:
    """The users of queue ``key`` in the configured order (departments expanded, no repeats,
    only users that can be rung)."""
    queue = flow.queues[key]
    out: list[str] = []
    for agent in queue.agents:
        if agent.kind == "user":
            members: Iterable[str] = (agent.key,)
        else:
            dept = flow.departments.get(agent.key)
            members = dept.members if dept else ()
        for member in members:
            if member not in out and destination(flow, member) is not None:
                out.append(member)
    return tuple(out)


def destination(flow: Flow, agent: str) -> str | None:
    """Where to ring ``agent``: their SIP URI, or ``sip:EXTENSION``."""
    user = flow.users.get(agent)
    if user is None:
        return None
    return user.sip or (f"sip:{user.extension}" if user.extension else None)


def all_agents(flow: Flow) -> tuple[str, ...]:
    """Every user who is an agent of some queue, in queue order."""
    out: list[str] = []
    for key in flow.queues:
        out += [a for a in queue_agents(flow, key) if a not in out]
    return tuple(out)


def initial_state(flow: Flow, signed_in: Iterable[str] | None = None, *, seed: int = 0,
                  at: float = 0.0) -> QueueState:
    """The state when a process starts: every agent signed in (or only ``signed_in``)."""
    wanted = None if signed_in is None else set(signed_in)
    agents = {a: AgentState(a, signed_in=wanted is None or a in wanted, idle_since=at)
              for a in all_agents(flow)}
    return QueueState(agents=frozen_map(agents),
                      stats=frozen_map({k: QueueStats() for k in flow.queues}), seed=seed)


def default_route(flow: Flow, reason: qa.RouteReason) -> Route:
    """Where callers go when the queue names no route for ``reason``."""
    if reason == "leave":
        return Operator()
    name = {"overflow": "queue_full", "timeout": "queue_timeout",
            "no_agents": "queue_no_agents"}[reason]
    prompt: Prompt = flow.system_prompts.get(name) or SYSTEM_PROMPTS[name]
    return Disconnect(prompt)


def caller_order(caller: CallerState) -> tuple[int, float, int]:
    """Sort key of callers: higher priority first, then longest waiting."""
    return (-caller.priority, caller.joined, caller.seq)


def position(state: QueueState, call_id: str) -> int:
    """The caller's place in line (1 is next), 0 when not in a queue (or out of the
    line: being called back)."""
    caller = state.callers.get(call_id)
    if caller is None or caller.status == CALLBACK_DIALING:
        return 0
    line = sorted((c for c in state.callers.values()
                   if c.queue == caller.queue and c.status != CALLBACK_DIALING), key=caller_order)
    return next(i for i, c in enumerate(line, start=1) if c.call_id == call_id)


def estimated_wait(state: QueueState, queue: str, place: int, now: float) -> tuple[str, int]:
    """("wait", minutes) from the pace of recent answers, or ("wait_more", minutes) when
    too few callers were answered lately to tell (then: the longest current wait)."""
    stats = state.stats.get(queue, QueueStats())
    recent = [t for t in stats.answers if now - t <= ANSWER_MAX_AGE]
    if len(recent) >= MIN_ANSWERS_FOR_ESTIMATE and recent[-1] > recent[0]:
        gap = (recent[-1] - recent[0]) / (len(recent) - 1)
        return "wait", max(1, math.ceil(place * gap / 60))
    waits = [now - c.joined for c in state.callers.values()
             if c.queue == queue and c.status in (WAITING, RINGING)]
    return "wait_more", max(1, int(max(waits, default=0.0) // 60))


# --- stepping -------------------------------------------------------------------------


class _Step:
    """A mutable working copy of the state for one event; frozen again by :meth:`result`."""

    def __init__(self, flow: Flow, state: QueueState, now: float) -> None:
        self.flow = flow
        self.now = now
        self.agents = dict(state.agents)
        self.callers = dict(state.callers)
        self.rings = dict(state.rings)
        self.stats = dict(state.stats)
        self.timers = dict(state.timers)
        self.counter = state.counter
        self.seed = state.seed
        self.out: list[qa.QueueAction] = []

    def result(self) -> Result:
        state = QueueState(frozen_map(self.agents), frozen_map(self.callers),
                           frozen_map(self.rings), frozen_map(self.stats),
                           frozen_map(self.timers), self.counter, self.seed)
        return state, self.out

    def frozen(self) -> QueueState:
        return self.result()[0]

    # --- small helpers ----------------------------------------------------------------

    def log(self, queue: str, message: str, call_id: str = "", agent: str = "") -> None:
        self.out.append(qa.QueueLog(queue, call_id, agent, message))

    def start_timer(self, kind: str, subject: str, seconds: float) -> str:
        self.counter += 1
        name = f"{kind}:{subject}:{self.counter}"
        self.timers[name] = (kind, subject)
        self.out.append(qa.QueueStartTimer(name, seconds))
        return name

    def cancel_timer(self, name: str | None) -> None:
        if name is not None and self.timers.pop(name, None) is not None:
            self.out.append(qa.QueueCancelTimer(name))

    def queue(self, key: str) -> Queue:
        return self.flow.queues[key]

    def available(self, agent: str, queue: str) -> bool:
        a = self.agents.get(agent)
        return (a is not None and a.signed_in and not a.paused and queue not in a.opted_out
                and a.activity == IDLE)

    def staffed(self, queue: str) -> bool:
        """Some agent of ``queue`` is signed in, not paused and opted in (busy or not)."""
        return any(
            (a := self.agents.get(k)) is not None and a.signed_in and not a.paused
            and queue not in a.opted_out
            for k in queue_agents(self.flow, queue))

    def set_agent(self, key: str, **changes: Any) -> None:
        self.agents[key] = replace(self.agents[key], **changes)

    def set_caller(self, call_id: str, **changes: Any) -> None:
        self.callers[call_id] = replace(self.callers[call_id], **changes)

    # --- rings ------------------------------------------------------------------------

    def ring(self, caller: CallerState, agents: tuple[str, ...]) -> None:
        self.counter += 1
        ring_id = self.counter
        queue = self.queue(caller.queue)
        callback = caller.status == CALLBACK
        dests = tuple(destination(self.flow, a) or "" for a in agents)
        self.out.append(qa.RingAgents(ring_id, caller.call_id, caller.queue, agents, dests,
                                      queue.alert_seconds, callback))
        timer = self.start_timer("ring", str(ring_id), queue.alert_seconds)
        self.rings[ring_id] = Ring(ring_id, caller.call_id, caller.queue, frozenset(agents),
                                   timer, callback)
        for agent in agents:
            self.set_agent(agent, activity=AGENT_RINGING, ring_id=ring_id,
                           call_id=caller.call_id, queue=caller.queue)
        self.set_caller(caller.call_id, status=CALLBACK_RINGING if callback else RINGING,
                        ring_id=ring_id, tried=caller.tried | set(agents))
        stats = self.stats.get(caller.queue, QueueStats())
        self.stats[caller.queue] = replace(stats, last_offered=agents[-1])
        what = "a callback to " if callback else ""
        self.log(caller.queue, f"rings {', '.join(agents)} for {what}{caller.call_id} "
                               f"({queue.routing.replace('_', ' ')}, {queue.alert_seconds} s)",
                 caller.call_id)

    def withdraw(self, ring: Ring, agents: Iterable[str]) -> None:
        """Stop ringing ``agents`` of ``ring`` without counting a miss; they are free again."""
        gone = tuple(sorted(agents))
        if gone:
            self.out.append(qa.CancelRing(ring.ring_id, gone))
        for agent in gone:
            self.set_agent(agent, activity=IDLE, ring_id=None, call_id=None, queue=None)
        self.shrink(ring, gone)

    def shrink(self, ring: Ring, gone: Iterable[str]) -> None:
        """Drop ``gone`` from ``ring``; a ring with nobody left ends and its caller waits again."""
        left = ring.agents - set(gone)
        if left:
            self.rings[ring.ring_id] = replace(ring, agents=left)
            return
        del self.rings[ring.ring_id]
        self.cancel_timer(ring.timer)
        caller = self.callers.get(ring.call_id)
        if caller is not None and caller.ring_id == ring.ring_id:
            status = CALLBACK if caller.status == CALLBACK_RINGING else WAITING
            self.set_caller(caller.call_id, status=status, ring_id=None)

    def missed(self, ring: Ring, agent: str, outcome: str) -> None:
        """``agent`` did not take ring ``ring``: count the miss, rest a little, maybe pause."""
        a = self.agents[agent]
        queue = self.queue(ring.queue)
        counts = outcome in ("no_answer", "rejected")
        misses = a.misses + 1 if counts else a.misses
        paused = a.paused or (counts and queue.miss_limit > 0 and misses >= queue.miss_limit)
        self.set_agent(agent, activity=COOLING, ring_id=None, call_id=None, queue=None,
                       misses=misses, paused=paused)
        self.start_timer("rest", agent, COOL_OFF_SECONDS)
        extra = f" ({misses} in a row)" if counts else ""
        self.log(ring.queue, f"{agent}: {outcome.replace('_', ' ')}{extra}", ring.call_id, agent)
        if paused and not a.paused:
            self.log(ring.queue, f"{agent} is paused after {misses} missed calls in a row; "
                                 "signing in again resumes", agent=agent)
        self.shrink(ring, (agent,))

    def end_ring_for(self, caller: CallerState) -> None:
        if caller.ring_id is not None and caller.ring_id in self.rings:
            ring = self.rings[caller.ring_id]
            self.withdraw(ring, ring.agents)

    # --- callers leaving --------------------------------------------------------------

    def remove_caller(self, caller: CallerState) -> None:
        self.end_ring_for(caller)
        self.cancel_timer(caller.wait_timer)
        self.cancel_timer(caller.announce_timer)
        del self.callers[caller.call_id]

    def route(self, caller: CallerState, reason: qa.RouteReason) -> None:
        queue = self.queue(caller.queue)
        route = {"overflow": queue.on_overflow, "timeout": queue.on_timeout,
                 "no_agents": queue.on_no_agents, "leave": queue.leave_to}[reason]
        if caller.call_id in self.callers:
            self.remove_caller(caller)
        words = {"overflow": "queue full", "timeout": "waited too long",
                 "no_agents": "no agents signed in", "leave": "caller chose to leave"}[reason]
        self.log(caller.queue, f"{caller.call_id} leaves the queue: {words}", caller.call_id)
        self.out.append(qa.RouteCaller(caller.call_id, caller.queue,
                                       route or default_route(self.flow, reason), reason))

    # --- announcements ----------------------------------------------------------------

    def announcement(self, caller: CallerState) -> tuple[qa.Part, ...]:
        queue = self.queue(caller.queue)
        parts: list[qa.Part] = []
        place = position(self.frozen(), caller.call_id)
        if queue.announce_position:
            parts.append(("position", place))
        if queue.announce_wait:
            parts.append(estimated_wait(self.frozen(), caller.queue, place, self.now))
        return tuple(parts)

    def schedule_announcement(self, caller: CallerState) -> None:
        queue = self.queue(caller.queue)
        if queue.announce_interval > 0 and (queue.announce_position or queue.announce_wait):
            timer = self.start_timer("announce", caller.call_id, queue.announce_interval)
            self.set_caller(caller.call_id, announce_timer=timer)

    # --- dispatch ---------------------------------------------------------------------

    def dispatch(self) -> None:
        """Offer waiting callers to free agents, queue by queue, in caller order."""
        for key in sorted(self.flow.queues):
            queue = self.flow.queues[key]
            configured = queue_agents(self.flow, key)
            line = sorted((c for c in self.callers.values()
                           if c.queue == key and c.status in (WAITING, CALLBACK)),
                          key=caller_order)
            for waiting in line:
                free = [a for a in configured if self.available(a, key)]
                if not free:
                    break
                caller = waiting
                untried = [a for a in free if a not in caller.tried]
                if not untried:  # every free agent had a go: start a new round
                    caller = replace(caller, tried=frozenset())
                    untried = free
                stats = self.stats.get(key, QueueStats())
                ordered, self.seed = routing.order(
                    queue.routing, configured, untried, last_offered=stats.last_offered,
                    idle_since={a: self.agents[a].idle_since for a in configured},
                    calls=stats.calls, seed=self.seed)
                picks = ordered if routing.rings_all(queue.routing) else ordered[:1]
                self.ring(caller, picks)


# --- handlers -------------------------------------------------------------------------


def _joined(w: _Step, event: CallerJoined) -> None:
    if event.call_id in w.callers:
        return
    if event.queue not in w.flow.queues:
        w.out.append(qa.RouteCaller(event.call_id, event.queue,
                                    default_route(w.flow, "no_agents"), "no_agents"))
        w.log(event.queue, f"{event.call_id}: unknown queue", event.call_id)
        return
    queue = w.queue(event.queue)
    w.counter += 1
    caller = CallerState(event.call_id, event.queue, event.priority, event.at, w.counter,
                         event.caller, event.language, event.callable_back)
    prio = f", priority {event.priority}" if event.priority else ""
    w.log(event.queue, f"{event.call_id} joins{prio}", event.call_id)
    if queue.no_agents == "act" and not w.staffed(event.queue):
        w.route(caller, "no_agents")
        return
    waiting = sum(1 for c in w.callers.values() if c.queue == event.queue)
    if waiting >= queue.max_callers:
        w.route(caller, "overflow")
        return
    if queue.max_wait == 0:
        w.route(caller, "timeout")
        return
    w.callers[event.call_id] = caller
    timer = w.start_timer("wait", event.call_id, queue.max_wait)
    w.set_caller(event.call_id, wait_timer=timer)
    _offer_callback(w, w.callers[event.call_id], queue, waiting)
    mark = len(w.out)
    w.dispatch()
    caller = w.callers[event.call_id]
    parts: list[qa.Part] = [("greeting", 0)] if queue.greeting is not None else []
    if caller.status == WAITING:
        parts += w.announcement(caller)
    w.out.insert(mark, qa.PlayToCaller(event.call_id, tuple(parts)))
    w.schedule_announcement(caller)


def _left(w: _Step, event: CallerLeft) -> None:
    caller = w.callers.get(event.call_id)
    if caller is None or caller.status not in (WAITING, RINGING):
        return  # unknown, or waiting for a callback: hanging up was expected
    w.remove_caller(caller)
    w.log(caller.queue, f"{caller.call_id} hung up after {event.at - caller.joined:g} s",
          caller.call_id)
    w.dispatch()


def _pressed(w: _Step, event: CallerPressed) -> None:
    caller = w.callers.get(event.call_id)
    if caller is None or caller.status not in (WAITING, RINGING):
        return
    queue = w.queue(caller.queue)
    if event.key == queue.leave_key:
        w.route(caller, "leave")
        w.dispatch()
    elif event.key == queue.callback_key:
        _callback_requested(w, caller, queue)


def callback_allowed(flow: Flow, queue: Queue, number: str) -> bool:
    """Whether a callback may dial ``number`` (the queue's prefixes, else the allow-list)."""
    if not number:
        return False
    if queue.callback_numbers:
        return any(number.startswith(p) for p in queue.callback_numbers)
    return allowed(number, flow.external_numbers)


def _offer_callback(w: _Step, caller: CallerState, queue: Queue, ahead: int) -> None:
    """A caller just joined: with ``callback_offer`` conditions, the callback is offered
    (and announced) now if one holds, later after ``after_seconds``, or never."""
    offer = queue.callback_offer
    if not queue.callback_key or offer is None:
        return
    free = sum(1 for a in queue_agents(w.flow, queue.key) if w.available(a, queue.key))
    now = bool(offer.callers_waiting and ahead >= offer.callers_waiting) or bool(
        offer.calls_per_agent and (free == 0 or (ahead + 1) / free >= offer.calls_per_agent))
    if now:
        _announce_offer(w, caller.call_id, f"{ahead} caller(s) ahead, {free} agent(s) free")
        return
    w.set_caller(caller.call_id, callback_offered=False)
    if offer.after_seconds:
        w.start_timer("offer", caller.call_id, offer.after_seconds)


def _announce_offer(w: _Step, call_id: str, why: str) -> None:
    caller = w.callers[call_id]
    w.set_caller(call_id, callback_offered=True)
    w.out.append(qa.PlayToCaller(call_id, (("callback_offer", 0),)))
    w.log(caller.queue, f"{call_id} is offered a callback ({why})", call_id)


def _callback_requested(w: _Step, caller: CallerState, queue: Queue) -> None:
    if not caller.callback_offered:
        w.log(caller.queue, f"{caller.call_id} pressed the callback key before a callback "
                            "was offered; ignored", caller.call_id)
        return
    allowed = callback_allowed(w.flow, queue, caller.number)
    if not allowed or not caller.callable_back:
        why = ("not allowed" if not allowed else
               "this server has no trunk or proxy that carries that number")
        w.out.append(qa.PlayToCaller(caller.call_id, (("callback_refused", 0),)))
        w.log(caller.queue, f"{caller.call_id} asked for a callback to "
                            f"{caller.number or 'an unknown number'}: {why}", caller.call_id)
        return
    w.end_ring_for(caller)
    caller = w.callers[caller.call_id]
    w.cancel_timer(caller.wait_timer)
    w.cancel_timer(caller.announce_timer)
    w.set_caller(caller.call_id, status=CALLBACK, wait_timer=None, announce_timer=None)
    w.out.append(qa.CallbackAccepted(caller.call_id, caller.queue, caller.number))
    w.log(caller.queue, f"{caller.call_id} will be called back at {caller.number}, keeping "
                        f"place {position(w.frozen(), caller.call_id)}", caller.call_id)
    w.dispatch()


def _signed_in(w: _Step, event: AgentSignedIn) -> None:
    agent = w.agents.get(event.agent)
    if agent is None:
        return
    fresh = not agent.signed_in and agent.activity == IDLE
    w.set_agent(event.agent, signed_in=True, paused=False, misses=0,
                idle_since=event.at if fresh else agent.idle_since)
    if not agent.signed_in or agent.paused:
        w.log("", f"{event.agent} signs in" + (" (no longer paused)" if agent.paused else ""),
              agent=event.agent)
    w.dispatch()


def _drop_from_rings(w: _Step, agent: str, queue: str | None = None) -> None:
    a = w.agents[agent]
    if a.activity == AGENT_RINGING and a.ring_id in w.rings:
        ring = w.rings[a.ring_id]
        if queue is None or ring.queue == queue:
            w.withdraw(ring, (agent,))


def _signed_out(w: _Step, event: AgentSignedOut) -> None:
    if event.agent not in w.agents:
        return
    w.set_agent(event.agent, signed_in=False)
    _drop_from_rings(w, event.agent)
    w.log("", f"{event.agent} signs out", agent=event.agent)
    w.dispatch()


def _opted_in(w: _Step, event: AgentOptedIn) -> None:
    agent = w.agents.get(event.agent)
    if agent is None:
        return
    w.set_agent(event.agent, opted_out=agent.opted_out - {event.queue})
    w.log(event.queue, f"{event.agent} takes calls from this queue again", agent=event.agent)
    w.dispatch()


def _opted_out(w: _Step, event: AgentOptedOut) -> None:
    agent = w.agents.get(event.agent)
    if agent is None:
        return
    w.set_agent(event.agent, opted_out=agent.opted_out | {event.queue})
    _drop_from_rings(w, event.agent, event.queue)
    w.log(event.queue, f"{event.agent} stops taking calls from this queue", agent=event.agent)
    w.dispatch()


def _ring_result(w: _Step, event: AgentRingResult) -> None:
    ring = w.rings.get(event.ring_id)
    if ring is None or event.agent not in ring.agents:
        if event.outcome == "answered":
            w.out.append(qa.CancelRing(event.ring_id, (event.agent,)))  # nobody wants this leg
        return
    if event.outcome != "answered":
        w.missed(ring, event.agent, event.outcome)
        w.dispatch()
        return
    w.withdraw(ring, ring.agents - {event.agent})
    w.rings.pop(ring.ring_id, None)
    w.cancel_timer(ring.timer)
    caller = w.callers[ring.call_id]
    queue = w.queue(ring.queue)
    stats = w.stats.get(ring.queue, QueueStats())
    calls = dict(stats.calls)
    calls[event.agent] = calls.get(event.agent, 0) + 1
    w.stats[ring.queue] = replace(stats, answers=(*stats.answers, event.at)[-ANSWER_WINDOW:],
                                  calls=frozen_map(calls))
    w.set_agent(event.agent, activity=BUSY, ring_id=None, call_id=caller.call_id,
                queue=ring.queue, misses=0)
    if ring.callback:
        w.set_caller(caller.call_id, status=CALLBACK_DIALING, ring_id=None, agent=event.agent)
        w.log(ring.queue, f"{event.agent} answers; calling {caller.call_id} back at "
                          f"{caller.number}", caller.call_id, event.agent)
        w.out.append(qa.PlaceCallback(caller.call_id, ring.queue, event.agent, ring.ring_id,
                                      caller.number))
    else:
        w.remove_caller(caller)
        w.log(ring.queue, f"{event.agent} answers after {event.at - caller.joined:g} s in "
                          "the queue", caller.call_id, event.agent)
        w.out.append(qa.ConnectCaller(caller.call_id, ring.queue, event.agent, ring.ring_id,
                                      queue.mode))
    w.dispatch()


def _call_ended(w: _Step, event: AgentCallEnded) -> None:
    agent = w.agents.get(event.agent)
    if agent is None or agent.activity != BUSY:
        return
    queue = w.flow.queues.get(agent.queue or "")
    wrap = queue.wrap_up_seconds if queue else 0
    if wrap:
        w.set_agent(event.agent, activity=WRAP_UP, call_id=None)
        w.start_timer("wrapup", event.agent, wrap)
        w.log(agent.queue or "", f"{event.agent}: call ended, wrap-up {wrap} s",
              agent=event.agent)
    else:
        w.set_agent(event.agent, activity=IDLE, call_id=None, queue=None, idle_since=event.at)
        w.log(agent.queue or "", f"{event.agent}: call ended", agent=event.agent)
    w.dispatch()


def _callback_result(w: _Step, event: CallbackResult) -> None:
    caller = w.callers.get(event.call_id)
    if caller is None or caller.status != CALLBACK_DIALING:
        return
    if event.answered:
        del w.callers[caller.call_id]
        w.log(caller.queue, f"callback to {caller.call_id} answered; connected to "
                            f"{caller.agent}", caller.call_id, caller.agent or "")
        w.dispatch()
        return
    if caller.agent in w.agents:
        w.set_agent(caller.agent, activity=IDLE, call_id=None, queue=None)
    queue = w.flow.queues.get(caller.queue)
    misses = caller.callback_misses + 1
    if queue is not None and misses <= queue.callback_retries:
        # Tried again later, keeping its place; nobody is rung for it meanwhile.
        w.set_caller(caller.call_id, status=CALLBACK_RETRY, agent=None, ring_id=None,
                     callback_misses=misses)
        w.start_timer("retry", caller.call_id, queue.callback_retry_seconds)
        w.log(caller.queue, f"callback to {caller.call_id} not answered; trying again in "
                            f"{queue.callback_retry_seconds} s (retry {misses} of "
                            f"{queue.callback_retries})", caller.call_id, caller.agent or "")
    else:
        del w.callers[caller.call_id]
        w.out.append(qa.CallbackFailed(caller.call_id, caller.queue, caller.number, misses))
        w.log(caller.queue, f"callback to {caller.call_id} not answered after {misses} "
                            "attempt(s); request closed", caller.call_id, caller.agent or "")
    w.dispatch()


def _timer(w: _Step, event: QueueTimerFired) -> None:
    entry = w.timers.pop(event.name, None)
    if entry is None:
        return
    kind, subject = entry
    if kind == "ring":
        ring = w.rings.get(int(subject))
        if ring is not None:
            for agent in sorted(ring.agents):
                if ring.ring_id in w.rings:
                    w.out.append(qa.CancelRing(ring.ring_id, (agent,)))
                    w.missed(w.rings[ring.ring_id], agent, "no_answer")
    elif kind == "wait":
        caller = w.callers.get(subject)
        if caller is not None and caller.wait_timer == event.name:
            w.set_caller(subject, wait_timer=None)
            w.route(w.callers[subject], "timeout")
    elif kind == "announce":
        caller = w.callers.get(subject)
        if caller is not None and caller.announce_timer == event.name:
            w.set_caller(subject, announce_timer=None)
            w.out.append(qa.PlayToCaller(subject, w.announcement(caller)))
            w.schedule_announcement(w.callers[subject])
        return  # an announcement changes nobody's turn
    elif kind == "retry":
        caller = w.callers.get(subject)
        if caller is not None and caller.status == CALLBACK_RETRY:
            w.set_caller(subject, status=CALLBACK)
            w.log(caller.queue, f"callback to {subject}: next try", subject)
    elif kind == "offer":
        caller = w.callers.get(subject)
        if caller is not None and caller.status == WAITING and not caller.callback_offered:
            _announce_offer(w, subject, f"waited {w.now - caller.joined:g} s")
        return  # an offer changes nobody's turn
    elif kind == "wrapup":
        if subject in w.agents and w.agents[subject].activity == WRAP_UP:
            w.set_agent(subject, activity=IDLE, queue=None, idle_since=event.at)
    elif kind == "rest" and subject in w.agents and w.agents[subject].activity == COOLING:
        w.set_agent(subject, activity=IDLE)
    w.dispatch()


Handler = Callable[[_Step, Any], None]
#: Event type -> handler. Every event type of :data:`QueueEvent` is listed.
HANDLERS: dict[type, Handler] = {
    CallerJoined: _joined,
    CallerLeft: _left,
    CallerPressed: _pressed,
    AgentSignedIn: _signed_in,
    AgentSignedOut: _signed_out,
    AgentOptedIn: _opted_in,
    AgentOptedOut: _opted_out,
    AgentRingResult: _ring_result,
    AgentCallEnded: _call_ended,
    CallbackResult: _callback_result,
    QueueTimerFired: _timer,
}


def step(flow: Flow, state: QueueState, event: QueueEvent) -> Result:
    """Apply one event to every queue of the process: the new state and what to do now."""
    handler = HANDLERS.get(type(event))
    if handler is None:
        return state, []
    work = _Step(flow, state, event.at)
    handler(work, event)
    return work.result()
