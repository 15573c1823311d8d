"""Scenario files: scripted callers and the transcript they should produce.

A scenario file names a menu configuration and lists scenarios::

    menu: ../menus/small-office.yaml      # relative to this file
    scenarios:
      - name: billing during business hours
        at: 2026-12-01T10:00               # the attendant's local time
        caller: "+15035550111"             # optional; also called:, language:, override:
        steps:
          - press: "2"
          - transfer: busy                 # answered | busy | no_answer | unreachable | rejected
          - wait: 5
          - listen                         # let the current prompt finish
          - hangup
        expect: |
          [00:00.0] call from ...

``expect:`` is the whole transcript, or partial expectations that survive a prompt's
rewording: ``expect: {outcome: ..., path: [main, "user maria"], lines: [...]}``. A
scenario that expects nothing fails. ``attendant test`` runs every scenario and shows
a diff when the transcript differs (or what did not hold). At the end of a scenario
the caller stays on the line until the last prompt ends, so a closing goodbye shows up
in the transcript.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from attendant.config.compiler import compile_path
from attendant.config.loader import load_file
from attendant.config.source_map import SourceMap
from attendant.errors import ScenarioError, SimulationError
from attendant.model import Flow
from attendant.sim.call import TRANSFER_OUTCOMES, Simulator
from attendant.sim.mailboxes import SimMailbox, parse_mailboxes
from attendant.sim.queues import DEFAULT_UNTIL, AgentScript, CallerScript, QueueWorld, parse_agent

_STEP_WORDS = ("press", "wait", "listen", "hangup", "transfer")


@dataclass(frozen=True)
class Step:
    """One thing the simulated caller does; ``where`` is file:line for messages."""

    kind: str
    value: str | float | None
    where: str


@dataclass(frozen=True)
class Scenario:
    """A named call with its steps and the transcript it must produce."""

    name: str
    at: datetime
    caller: str
    called: str
    language: str | None
    steps: tuple[Step, ...]
    expect: str | None
    where: str
    #: Queue simulation: scripted agents, several callers, how long to run (sim_queues).
    agents: tuple[tuple[str, AgentScript], ...] = ()
    callers: tuple[CallerScript, ...] = ()
    until: float | None = None
    #: The override staff set on the line (``closed``, ``open``, one of its own).
    override: str | None = None
    #: Partial expectations (``expect:`` as a mapping): the outcome's wording, the path of
    #: menus and targets, lines that must appear.
    expect_outcome: str | None = None
    expect_path: tuple[str, ...] | None = None
    expect_lines: tuple[str, ...] = ()
    #: The call comes from a trusted source (feature codes need no PIN).
    trusted: bool = False
    #: Voicemail boxes' PINs and messages, for the mailbox menu.
    mailboxes: Mapping[str, SimMailbox] = field(default_factory=dict)

    @property
    def expects_something(self) -> bool:
        """Does the scenario check anything at all (else it could never fail)?"""
        return (self.expect is not None or self.expect_outcome is not None
                or self.expect_path is not None or bool(self.expect_lines))


@dataclass(frozen=True)
class ScenarioFile:
    """A parsed scenario file."""

    path: Path
    menu: Path
    scenarios: tuple[Scenario, ...]


@dataclass(frozen=True)
class Outcome:
    """How one scenario went."""

    scenario: Scenario
    transcript: str
    error: str | None = None

    @property
    def passed(self) -> bool:
        """True when every expectation held and nothing went wrong."""
        return self.error is None and not self.problems()

    def problems(self) -> list[str]:
        """Each expectation that did not hold, in words (the transcript's diff apart)."""
        scenario = self.scenario
        if not scenario.expects_something:
            return ["the scenario expects nothing, so it could never fail: add expect: with "
                    "the transcript (attendant test --show prints it), or expect: {outcome: "
                    "..., path: [...], lines: [...]}"]
        found = []
        if scenario.expect is not None and self.transcript != scenario.expect:
            found.append("the transcript differs from expect:")
        outcomes = transcript_outcomes(self.transcript)
        if scenario.expect_outcome is not None and scenario.expect_outcome not in outcomes:
            found.append(f"expected outcome {scenario.expect_outcome!r}, got "
                         f"{', '.join(map(repr, outcomes)) or 'none (the call has not ended)'}")
        if scenario.expect_path is not None:
            path = transcript_path(self.transcript)
            if tuple(path) != scenario.expect_path:
                found.append(f"expected path {list(scenario.expect_path)}, got {path}")
        found.extend(f"no line contains {line!r}" for line in scenario.expect_lines
                     if line not in self.transcript)
        return found

    def diff(self) -> str:
        """A unified diff from the expected transcript to the actual one."""
        expected = (self.scenario.expect or "").splitlines(keepends=True)
        actual = self.transcript.splitlines(keepends=True)
        return "".join(difflib.unified_diff(expected, actual, "expected", "actual"))


_PATH_LINE = re.compile(r"^\[[0-9:.]+\] (?:[^:\s]+: )?(?:menu (?P<menu>\S+)$|transfer to "
                        r"(?P<kind>user|department|external) (?P<key>\S+) |joins queue "
                        r"(?P<queue>\S+)|recording a message for (?P<box>\S+) )")


def transcript_path(transcript: str) -> list[str]:
    """The menus and targets a transcript passes through, in order: ``main``, ``user
    maria``, ``queue sales``, ``voicemail office`` (each stay counted once)."""
    path: list[str] = []
    for line in transcript.splitlines():
        match = _PATH_LINE.match(line)
        if match is None:
            continue
        if match["menu"]:
            step = match["menu"]
        elif match["kind"]:
            step = f"{match['kind']} {match['key']}"
        elif match["queue"]:
            step = f"queue {match['queue']}"
        else:
            step = f"voicemail {match['box']}"
        if not path or path[-1] != step:
            path.append(step)
    return path


def transcript_outcomes(transcript: str) -> list[str]:
    """The wording of each call's end in a transcript (``call ends: OUTCOME``)."""
    return re.findall(r"call ends: (.*)$", transcript, re.M)


def _expectations(raw: Any, where: Callable[..., str]) -> dict[str, Any]:
    """``expect:``: the whole transcript (text), or a mapping of partial expectations."""
    if raw is None:
        return {"expect": None}
    if not isinstance(raw, dict):
        return {"expect": str(raw)}
    unknown = sorted(set(raw) - {"outcome", "path", "lines"})
    if unknown:
        raise ScenarioError(f"{where('expect', unknown[0])}: unknown expectation "
                            f"{unknown[0]}; expect: takes the transcript (text), or outcome:, "
                            "path: and lines:")
    path, lines = raw.get("path"), raw.get("lines") or []
    if path is not None and (not isinstance(path, list)
                             or not all(isinstance(p, str) for p in path)):
        raise ScenarioError(f"{where('expect', 'path')}: path: is a list such as [main, "
                            '"user maria", "voicemail office"]')
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise ScenarioError(f"{where('expect', 'lines')}: lines: is a list of texts that "
                            "must appear in the transcript")
    outcome = raw.get("outcome")
    return {"expect": None, "expect_outcome": None if outcome is None else str(outcome),
            "expect_path": None if path is None else tuple(path),
            "expect_lines": tuple(lines)}


def parse_time(text: str, where: str) -> datetime:
    """``2026-12-25T10:00`` (or with a space, seconds or an offset) as a datetime."""
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        raise ScenarioError(f'{where}: "{text}" is not a date and time; write it like '
                            "2026-12-25T10:00") from None


def parse_step(raw: Any, where: str) -> Step:
    """A step from its YAML form (``press: "12"``, ``wait: 6``, ``listen`` ...)."""
    if isinstance(raw, str):
        if raw in ("listen", "hangup"):
            return Step(raw, None, where)
        raise ScenarioError(f'{where}: unknown step "{raw}"; use one of press:, wait:, listen, '
                            "hangup, transfer:")
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ScenarioError(f"{where}: a step is one of press: KEYS, wait: SECONDS, listen, "
                            "hangup, transfer: OUTCOME")
    kind, value = next(iter(raw.items()))
    if kind == "press":
        keys = str(value)
        if not keys or any(k not in "0123456789*#" for k in keys):
            raise ScenarioError(f'{where}: press: "{keys}" must be keys 0-9, * and # (quote * '
                                "and #)")
        return Step("press", keys, where)
    if kind == "wait":
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ScenarioError(f"{where}: wait: takes a number of seconds, like wait: 6")
        return Step("wait", float(value), where)
    if kind == "transfer":
        if value not in TRANSFER_OUTCOMES:
            raise ScenarioError(f'{where}: transfer: "{value}" is not an outcome; use one of '
                                f"{', '.join(TRANSFER_OUTCOMES)}")
        return Step("transfer", str(value), where)
    raise ScenarioError(f'{where}: unknown step "{kind}"; use one of {", ".join(_STEP_WORDS)}')


def load_scenarios(path: Path) -> ScenarioFile:
    """Read and check a scenario file; raises :class:`ScenarioError` with file:line."""
    sources = SourceMap()
    data, diags = load_file(path, sources)
    errors = [d for d in diags if d.is_error]
    if errors:
        raise ScenarioError("\n".join(d.format() for d in errors))
    if not isinstance(data, dict) or "menu" not in data or "scenarios" not in data:
        raise ScenarioError(f"{path}:1:1: a scenario file needs menu: (the configuration to "
                            "test) and scenarios: (a list)")

    def where(*p: str | int) -> str:
        return str(sources.value_pos(tuple(p)))

    if not isinstance(data["scenarios"], list):
        raise ScenarioError(f"{where('scenarios')}: scenarios: must be a list")
    scenarios = []
    for i, raw in enumerate(data["scenarios"]):
        here = where("scenarios", i)
        if not isinstance(raw, dict) or "name" not in raw or "at" not in raw:
            raise ScenarioError(f"{here}: each scenario needs name: and at: (when the call "
                                "happens, the attendant's local time)")
        unknown = set(raw) - {"name", "at", "caller", "called", "language", "steps", "expect",
                              "agents", "callers", "until", "override", "trusted", "mailboxes"}
        if unknown:
            raise ScenarioError(f"{here}: unknown key {sorted(unknown)[0]}; a scenario has "
                                "name, at, caller, called, language, override, trusted, "
                                "mailboxes, steps, expect, agents, callers, until")
        steps_raw = raw.get("steps") or []
        if not isinstance(steps_raw, list):
            raise ScenarioError(f"{where('scenarios', i, 'steps')}: steps: must be a list")
        steps = tuple(parse_step(s, where("scenarios", i, "steps", j))
                      for j, s in enumerate(steps_raw))
        scenarios.append(Scenario(
            name=str(raw["name"]),
            at=parse_time(raw["at"], where("scenarios", i, "at")),
            caller=str(raw.get("caller", "+15550000000")),
            called=str(raw.get("called", "")),
            language=raw.get("language"),
            steps=steps,
            where=here,
            **_expectations(raw.get("expect"), lambda *p, i=i: where("scenarios", i, *p)),
            override=None if raw.get("override") is None else str(raw["override"]),
            trusted=bool(raw.get("trusted", False)),
            mailboxes=parse_mailboxes(raw.get("mailboxes"),
                                      lambda *p, i=i: where("scenarios", i, "mailboxes", *p),
                                      lambda t: t),
            **_queue_parts(raw, lambda *p, i=i: where("scenarios", i, *p)),
        ))
    menu = (path.parent / str(data["menu"])).resolve()
    return ScenarioFile(path, menu, tuple(scenarios))


def _queue_parts(raw: dict[str, Any], where: Callable[..., str]) -> dict[str, Any]:
    """The queue-simulation keys of a scenario: ``agents:``, ``callers:``, ``until:``."""
    agents_raw = raw.get("agents") or {}
    if not isinstance(agents_raw, dict):
        raise ScenarioError(f"{where('agents')}: agents: maps agent names to behaviours")
    agents = tuple((str(k), parse_agent(v, where("agents", k))) for k, v in agents_raw.items())
    callers_raw = raw.get("callers") or []
    if not isinstance(callers_raw, list):
        raise ScenarioError(f"{where('callers')}: callers: must be a list")
    if callers_raw and raw.get("steps"):
        raise ScenarioError(f"{where('steps')}: with callers:, each caller has its own steps:")
    callers = []
    for j, item in enumerate(callers_raw):
        here = where("callers", j)
        keys = {"name", "start", "caller", "called", "language", "steps", "callback"}
        if not isinstance(item, dict) or "name" not in item or set(item) - keys:
            raise ScenarioError(f"{here}: a caller has name: and may have start: (seconds), "
                                "caller:, called:, language:, steps:, callback: "
                                "(answers | no_answer)")
        start = item.get("start", 0)
        if isinstance(start, bool) or not isinstance(start, int | float) or start < 0:
            raise ScenarioError(f"{where('callers', j, 'start')}: start: takes seconds")
        steps = tuple(parse_step(s, where("callers", j, "steps", k))
                      for k, s in enumerate(item.get("steps") or []))
        callers.append(CallerScript(str(item["name"]), float(start),
                                    str(item.get("caller", "+15550000000")), steps,
                                    str(item.get("called", "")), item.get("language"),
                                    item.get("callback", "answers") != "no_answer"))
    until = raw.get("until")
    if until is not None and (isinstance(until, bool) or not isinstance(until, int | float)
                              or until <= 0):
        raise ScenarioError(f"{where('until')}: until: takes a number of seconds")
    return {"agents": agents, "callers": tuple(callers),
            "until": None if until is None else float(until)}


def run_scenario(flow: Flow, scenario: Scenario) -> Outcome:
    """Play one scenario through the simulator (with queues when it has agents or callers)."""
    if scenario.agents or scenario.callers:
        return _run_world(flow, scenario)
    sim = Simulator(flow, scenario.at, scenario.caller, scenario.called, scenario.language,
                    trusted=scenario.trusted, override=scenario.override,
                    mailboxes={k: copy.deepcopy(v) for k, v in scenario.mailboxes.items()})
    where = scenario.where
    try:
        names = flow.attendant_for(scenario.called).override_names()
        if scenario.override is not None and scenario.override not in names:
            raise SimulationError(f'override "{scenario.override}" is not one of this '
                                  f"attendant's: {', '.join(names)}")
        sim.start()
        for step in scenario.steps:
            where = step.where
            _apply(sim, step)
        if not sim.ended:
            sim.listen()
    except SimulationError as exc:
        return Outcome(scenario, sim.transcript(), f"{where}: {exc}")
    return Outcome(scenario, sim.transcript())


def _run_world(flow: Flow, scenario: Scenario) -> Outcome:
    callers = scenario.callers or (CallerScript("caller", 0.0, scenario.caller, scenario.steps,
                                                scenario.called, scenario.language),)
    world: QueueWorld | None = None
    try:
        world = QueueWorld(flow, scenario.at, dict(scenario.agents), callers,
                           until=scenario.until or DEFAULT_UNTIL)
        world.run()
    except SimulationError as exc:
        text = world.transcript() if world is not None else ""
        message = str(exc)
        if not message.startswith(scenario.where.split(":", 1)[0]):
            message = f"{scenario.where}: {message}"
        return Outcome(scenario, text, message)
    return Outcome(scenario, world.transcript())


def _apply(sim: Simulator, step: Step) -> None:
    if step.kind == "press":
        sim.press(str(step.value))
    elif step.kind == "wait":
        sim.wait(float(step.value or 0))
    elif step.kind == "listen":
        sim.listen()
    elif step.kind == "hangup":
        sim.hangup()
    else:
        sim.transfer_result(str(step.value))


def run_file(path: Path) -> Iterator[Outcome]:
    """Run every scenario of a file (raises ScenarioError when the file or its menu is broken)."""
    spec = load_scenarios(path)
    result = compile_path(spec.menu)
    if result.flow is None:
        details = "\n".join(d.format() for d in result.errors)
        raise ScenarioError(f"{path}: the menu {spec.menu} does not validate:\n{details}")
    for scenario in spec.scenarios:
        yield run_scenario(result.flow, scenario)
