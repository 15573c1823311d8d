"""The queue simulator: several callers, scripted agents and the queue core, on one fake clock.

Each caller is a :class:`~attendant.sim.call.Simulator` running the real call
engine; the process-wide queue core (:mod:`attendant.queues.core`) runs between
them, exactly as the SIP endpoint will run it. Agents follow scripts::

    anna: {answers_after: 12}      # answers 12 s after her phone starts ringing
    samir: busy                     # every ring is refused as busy at once
    jean: never_answers             # rings until the alert time runs out
    chloe: {signs_out_at: 30}       # answers at once, signs out 30 s into the run
    dmitri: signed_out              # not signed in at the start

Agent keys: ``answers_after`` (seconds; ``never`` or absent with ``never_answers``),
``busy``, ``rejects``, ``signed_in`` (default true), ``signs_in_at``,
``signs_out_at``, ``talks_for`` (seconds a call lasts, default 180). Agents of
the configuration that the scenario does not list are signed out.

One transcript, in time order: each caller's lines carry the caller's name,
and the queue core's lines read ``queue NAME: ...``. Time moves to the next
thing due (a scripted step, an engine or queue timer, an agent's answer);
prompts take no time, and music on hold plays until something happens.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from attendant.engine import actions as act
from attendant.engine.events import Hangup, QueueAnnouncement, QueueOutcome
from attendant.engine.state import Phase
from attendant.errors import ScenarioError, SimulationError
from attendant.model import Flow
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues.agent_commands import agent_event
from attendant.queues.events import (
    AgentCallEnded,
    AgentRingResult,
    AgentSignedIn,
    AgentSignedOut,
    CallbackResult,
    CallerJoined,
    CallerLeft,
    CallerPressed,
    QueueEvent,
    QueueTimerFired,
    RingOutcome,
)
from attendant.sim.call import MAX_EVENTS_PER_STEP, Simulator

#: Longest simulated run, in seconds, unless the scenario says ``until:``.
DEFAULT_UNTIL = 3600.0


@dataclass(frozen=True)
class AgentScript:
    """How a simulated agent behaves."""

    answers_after: float | None = 0.0
    busy: bool = False
    rejects: bool = False
    signed_in: bool = True
    signs_in_at: float | None = None
    signs_out_at: float | None = None
    talks_for: float = 180.0


@dataclass(frozen=True)
class CallerScript:
    """One simulated caller: when they call and what they do (scenario steps)."""

    name: str
    start: float
    number: str
    steps: tuple[Any, ...]
    called: str = ""
    language: str | None = None
    answers_callback: bool = True


_WORDS: dict[str, AgentScript] = {
    "answers": AgentScript(),
    "busy": AgentScript(answers_after=None, busy=True),
    "never_answers": AgentScript(answers_after=None),
    "rejects": AgentScript(answers_after=None, rejects=True),
    "signed_out": AgentScript(signed_in=False),
}
_AGENT_KEYS = ("answers_after", "busy", "rejects", "signed_in", "signs_in_at", "signs_out_at",
               "talks_for", "never_answers")


def parse_agent(raw: Any, where: str) -> AgentScript:
    """An agent script from its scenario form (a word, a number of seconds, or a mapping)."""
    if isinstance(raw, str) and raw in _WORDS:
        return _WORDS[raw]
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw >= 0:
        return AgentScript(answers_after=float(raw))
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: an agent is one of {', '.join(_WORDS)}, a number of "
                            "seconds before answering, or a mapping such as "
                            "{answers_after: 12, signs_out_at: 30}")
    unknown = set(raw) - set(_AGENT_KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown agent key {sorted(unknown)[0]}; use "
                            f"{', '.join(_AGENT_KEYS)}")
    seconds: dict[str, float | None] = {}
    for key in ("answers_after", "signs_in_at", "signs_out_at", "talks_for"):
        value = raw.get(key)
        if value is None or (key == "answers_after" and value == "never"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ScenarioError(f"{where}: {key}: takes a number of seconds")
        seconds[key] = float(value)
    never = raw.get("never_answers") is True or raw.get("answers_after") == "never"
    return AgentScript(
        answers_after=None if never or raw.get("busy") or raw.get("rejects")
        else seconds.get("answers_after", 0.0),
        busy=raw.get("busy") is True, rejects=raw.get("rejects") is True,
        signed_in=raw.get("signed_in", True) is not False,
        signs_in_at=seconds.get("signs_in_at"), signs_out_at=seconds.get("signs_out_at"),
        talks_for=seconds.get("talks_for") or 180.0)


class QueueWorld:
    """Several simulated calls and the queue core on one fake clock. Call :meth:`run`."""

    def __init__(self, flow: Flow, at: datetime, agents: Mapping[str, AgentScript],
                 callers: Sequence[CallerScript], *, until: float = DEFAULT_UNTIL,
                 seed: int = 0) -> None:
        unknown = [a for a in agents if a not in core.all_agents(flow)]
        if unknown:
            raise SimulationError(f'"{unknown[0]}" is not an agent of any queue; agents: '
                                  f"{', '.join(core.all_agents(flow)) or 'none'}")
        self.flow, self.at, self.agents, self.until = flow, at, dict(agents), until
        self.callers = {c.name: c for c in callers}
        self.clock = 0.0
        self.lines: list[str] = []
        self.queue_state = core.initial_state(
            flow, [a for a, s in agents.items() if s.signed_in], seed=seed)
        self.queue_timers: dict[str, float] = {}
        self.sims: dict[str, Simulator] = {}
        self._agenda: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self._pending: list[QueueEvent] = []
        self._answers: set[tuple[int, str]] = set()
        self._talking: dict[str, str] = {}  # agent -> caller name
        self._ends: dict[str, int] = {}  # agent -> token of the scheduled end of their call
        for name, script in agents.items():
            if script.signs_in_at is not None:
                self._later(script.signs_in_at, partial(self._agent_event, AgentSignedIn, name))
            if script.signs_out_at is not None:
                self._later(script.signs_out_at, partial(self._agent_event, AgentSignedOut, name))
        for caller in callers:
            self._later(caller.start, partial(self._start, caller))

    def _agent_event(self, kind: type[AgentSignedIn | AgentSignedOut], agent: str) -> None:
        self._queue(kind(agent, self.clock))

    # --- running ------------------------------------------------------------------------

    def run(self) -> None:
        """Run until nothing is left to happen (or ``until`` seconds have passed)."""
        for _ in range(1_000_000):
            due = self._next()
            if due is None:
                break
            when, fire = due
            if when > self.until:
                self._line(f"simulation stops after {self.until:g} s")
                break
            if when > self.clock:
                self._finish_prompts()
                self._tick(when)
            fire()
            self._drain()
        self._finish_prompts()

    def transcript(self) -> str:
        """Every line so far."""
        return "\n".join(self.lines) + "\n"

    def _next(self) -> tuple[float, Callable[[], None]] | None:
        options: list[tuple[float, int, str, Callable[[], None]]] = []
        if self._agenda:
            when, seq, fire = self._agenda[0]
            options.append((when, 0, f"{seq:09d}", self._pop_agenda))
        for name, sim in self.sims.items():
            if sim.timers and not sim.ended:
                timer, when = min(sim.timers.items(), key=lambda t: (t[1], t[0]))
                options.append((when, 1, name, partial(sim.fire_timer, timer)))
        if self.queue_timers:
            timer, when = min(self.queue_timers.items(), key=lambda t: (t[1], t[0]))
            options.append((when, 2, timer, partial(self._queue_timer, timer)))
        if not options:
            return None
        when, _, _, fire = min(options, key=lambda o: o[:3])
        return when, fire

    def _pop_agenda(self) -> None:
        _, _, fire = heapq.heappop(self._agenda)
        fire()

    def _later(self, delay: float, fire: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._agenda, (self.clock + delay, self._seq, fire))

    def _tick(self, when: float) -> None:
        self.clock = when
        for sim in self.sims.values():
            sim.clock = when

    def _finish_prompts(self) -> None:
        for sim in self.sims.values():
            if not sim.ended:
                sim.listen()
        self._drain()

    def _stamp(self) -> str:
        minutes, seconds = divmod(self.clock, 60)
        return f"[{int(minutes):02d}:{seconds:04.1f}]"

    def _line(self, text: str) -> None:
        self.lines.append(f"{self._stamp()} {text}")

    # --- callers ------------------------------------------------------------------------

    def _start(self, script: CallerScript) -> None:
        sim = Simulator(self.flow, self.at + timedelta(seconds=self.clock), script.number,
                        script.called, script.language, clock=self.clock, lines=self.lines,
                        label=script.name, on_action=self._engine_action)
        self.sims[script.name] = sim
        sim.start()
        self._drain()
        self._steps(script, 0)

    def _steps(self, script: CallerScript, index: int) -> None:
        """Run the caller's steps from ``index`` until one makes them wait."""
        sim = self.sims[script.name]
        for i in range(index, len(script.steps)):
            step = script.steps[i]
            try:
                if step.kind == "wait":
                    self._later(float(step.value or 0), partial(self._steps, script, i + 1))
                    return
                self._do(script.name, sim, step)
            except SimulationError as exc:
                raise SimulationError(f"{step.where}: {exc}") from None
            self._drain()

    def _do(self, name: str, sim: Simulator, step: Any) -> None:
        if step.kind == "press":
            for key in str(step.value):
                sim.press(key)
                self._drain()
        elif step.kind == "listen":
            sim.listen()
        elif step.kind == "hangup":
            phase = sim.state.phase
            sim.hangup()
            if phase is Phase.CONNECTED:
                agent = next((a for a, c in self._talking.items() if c == name), None)
                if agent is not None:
                    self._end_call(agent, by_caller=True)
        else:
            sim.transfer_result(str(step.value))

    def _engine_action(self, sim: Simulator, action: act.Action) -> None:
        if isinstance(action, act.EnqueueCall):
            sim.ringing = None  # the queue core, not a scripted transfer:, answers
            self._pending.append(CallerJoined(sim.label, action.queue, self.clock,
                                              action.priority, sim.caller, sim.state.language))
        elif isinstance(action, act.QueueKey):
            self._pending.append(CallerPressed(sim.label, action.key, self.clock))
        elif isinstance(action, act.LeaveQueue):
            self._pending.append(CallerLeft(sim.label, self.clock))
        elif isinstance(action, act.AgentCommand):
            event = agent_event(self.flow, action.user, action.command, action.queue,
                                self.clock)
            if isinstance(event, str):
                self._line(f"{sim.label}: agent command not applied: {event}")
            else:
                self._pending.append(event)

    # --- the queue core -----------------------------------------------------------------

    def _queue(self, event: QueueEvent) -> None:
        self._pending.append(event)
        self._drain()

    def _drain(self) -> None:
        for _ in range(MAX_EVENTS_PER_STEP):
            if not self._pending:
                return
            event = self._pending.pop(0)
            self.queue_state, actions = core.step(self.flow, self.queue_state, event)
            for action in actions:
                self._apply(action)
        raise SimulationError("the queue core keeps answering itself without end (a loop?)")

    def _queue_timer(self, name: str) -> None:
        self.queue_timers.pop(name, None)
        self._queue(QueueTimerFired(name, self.clock))

    def _apply(self, action: qa.QueueAction) -> None:
        if isinstance(action, qa.QueueStartTimer):
            self.queue_timers[action.name] = self.clock + action.seconds
        elif isinstance(action, qa.QueueCancelTimer):
            self.queue_timers.pop(action.name, None)
        elif isinstance(action, qa.QueueLog):
            where = f"queue {action.queue}" if action.queue else "agents"
            self._line(f"{where}: {action.message}")
        elif isinstance(action, qa.RingAgents):
            for agent in action.agents:
                self._ring(action, agent)
        elif isinstance(action, qa.CancelRing):
            for agent in action.agents:
                self._answers.discard((action.ring_id, agent))
        elif isinstance(action, qa.PlayToCaller):
            self._to_caller(action.call_id, QueueAnnouncement(action.parts))
        elif isinstance(action, qa.ConnectCaller):
            how = "bridged" if action.mode == "bridge" else "handed over with REFER"
            self._line(f"{action.call_id}: connected to {action.agent} ({how})")
            self._to_caller(action.call_id, QueueOutcome("connected", agent=action.agent))
            self._talk(action.agent, action.call_id)
        elif isinstance(action, qa.RouteCaller):
            self._to_caller(action.call_id, QueueOutcome("route", action.route))
        elif isinstance(action, qa.CallbackAccepted):
            self._to_caller(action.call_id, QueueOutcome("callback"))
        elif isinstance(action, qa.CallbackFailed):
            pass  # the queue log line says it; serve counts it
        else:
            assert isinstance(action, qa.PlaceCallback)
            script = self.callers.get(action.call_id)
            answered = script is not None and script.answers_callback
            self._line(f"{action.call_id}: called back at {action.number}, "
                       + ("answers; talking to " + action.agent if answered else "no answer"))
            self._pending.append(CallbackResult(action.call_id, answered, self.clock))
            if answered:
                self._talk(action.agent, action.call_id)

    def _to_caller(self, call_id: str, event: QueueAnnouncement | QueueOutcome) -> None:
        sim = self.sims.get(call_id)
        if sim is not None and not sim.ended:
            sim.deliver(event)

    def _ring(self, ring: qa.RingAgents, agent: str) -> None:
        script = self.agents.get(agent, AgentScript(answers_after=None))
        if script.busy or script.rejects:
            outcome: RingOutcome = "busy" if script.busy else "rejected"
            self._pending.append(AgentRingResult(ring.ring_id, agent, outcome, self.clock))
        elif script.answers_after is not None and script.answers_after < ring.alert_seconds:
            key = (ring.ring_id, agent)
            self._answers.add(key)

            def answer() -> None:
                if key in self._answers:
                    self._answers.discard(key)
                    self._queue(AgentRingResult(ring.ring_id, agent, "answered", self.clock))

            self._later(script.answers_after, answer)

    def _talk(self, agent: str, caller: str) -> None:
        self._talking[agent] = caller
        self._seq += 1
        token = self._seq
        self._ends[agent] = token
        talks = self.agents.get(agent, AgentScript()).talks_for

        def end() -> None:
            if self._ends.get(agent) == token:
                self._end_call(agent, by_caller=False)

        self._later(talks, end)

    def _end_call(self, agent: str, *, by_caller: bool) -> None:
        caller = self._talking.pop(agent, "")
        self._ends.pop(agent, None)
        sim = self.sims.get(caller)
        if not by_caller:
            self._line(f"{caller}: {agent} hangs up")
            if sim is not None and not sim.ended:
                sim.deliver(Hangup())
        self._queue(AgentCallEnded(agent, self.clock))


def run_world(flow: Flow, at: datetime, agents: Mapping[str, AgentScript],
              callers: Sequence[CallerScript], *, until: float | None = None) -> QueueWorld:
    """Build a :class:`QueueWorld` and run it; read ``transcript()`` from the result."""
    world = QueueWorld(flow, at, agents, callers, until=until or DEFAULT_UNTIL)
    world.run()
    return world
