"""Properties of the engine under any sequence of events (Hypothesis).

For every example flow in ``menus/`` and a few edge flows, arbitrary events
(calls started at any moment in any zone, any key including ones a phone
cannot send, current and stale prompt tokens and timer names, transfer
results, recordings ending, hangups) never make ``step`` raise, and:

* after a hangup the call is ENDED and every later event does nothing;
* ``Play`` tokens strictly increase;
* at most one timer is armed, and it is the one the state waits for (every
  ``StartTimer`` replaces a cancelled, fired or absent timer);
* an event the transitions table does not list for the phase is ignored:
  same state, no actions;
* ``Disconnect`` is only ever asked for as the call ends.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import pytest
from flow_surgery import announcement_then_main, language_then_main, with_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendant import compile_path
from attendant.engine import actions as act
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    GreetingRecorded,
    GreetingSaved,
    Hangup,
    MailboxOpened,
    MailboxPinSet,
    PromptFinished,
    QueueAnnouncement,
    QueueOutcome,
    RecordingFinished,
    StoredMessage,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import TRANSITIONS, step
from attendant.engine.state import CallState, MailboxSession, Phase, initial_state
from attendant.model import Disconnect, Flow

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "menus").glob("*.yaml"))

EDGE_FLOWS = {
    "edge-entries": """\
        version: 1
        attendants:
          main:
            name: Edge Co
            timezone: Pacific/Chatham
            languages: [en-US, fr-FR]
            hours:
              monday: ["00:00-24:00"]
              tuesday: ["06:00-20:00"]
              wednesday: ["09:00-09:01"]
              thursday: ["06:00-20:00"]
              friday: ["06:00-20:00"]
              saturday: ["06:00-20:00"]
            business_hours: {menu: quiet}
            after_hours: dial_by_name
            holidays:
              - name: Leap day
                dates: ["02-29", "12-31..01-01"]
                flow: {announcement: Closed today., then: {voicemail: box}, barge_in: false}
          other:
            name: Other
            answers: ["2"]
            timezone: UTC
            business_hours: dial_by_extension
        menus:
          quiet:
            prompt: {en-US: Listen first., fr-FR: Écoutez d'abord.}
            barge_in: false
            repeat_key: null
            max_invalid: 1
            max_timeouts: 1
            timeout: 1
            inter_digit_timeout: 0.5
            extension_dialing: {length: 2}
            on_max: {menu: deep}
            options:
              "#": {user: ann, fallback: {user: bob}}
              "5": {language: fr-FR, then: back}
              "6": {attendant: other}
              "7": {queue: line, priority: 3}
          deep:
            prompt: Deep.
            back_key: null
            on_invalid: main
            on_no_input: back
            extension_dialing: {terminator: "*"}
            options:
              "1": {dial_by_name: {match: last, min_digits: 1, max_matches: 1}}
              "2": {dial_by_extension: {length: 2}}
              "3": {external: "+15550001", fallback: disconnect}
              "4": {voicemail: box}
              "5": {department: crew}
              "66": main
              "9": {disconnect: Bye now.}
        directory:
          users:
            ann: {name: Ann Lee, extension: "11", voicemail: box}
            bob: {name: Bob Lee, extension: "12"}
            cy: {name: Cy Leeds, extension: "13", sip: "sip:cy@example.test"}
          departments:
            crew: {name: Crew, members: [ann, bob], extension: "20"}
          external_numbers: ["+15550001"]
        queues:
          line: {name: Line, agents: [{user: cy}]}
        voicemail:
          box: {name: Box, max_seconds: 5}
        """,
    "edge-loops": """\
        version: 1
        attendants:
          main:
            name: Loop Co
            timezone: Europe/Paris
            business_hours: {menu: unused}   # replaced below: the validator rejects loops
          second:
            name: Loop Two
            answers: ["2"]
            timezone: Europe/Paris
            business_hours: {menu: unused}   # replaced below
        menus:
          unused:
            prompt: Never heard.
            options:
              "1": disconnect
        """,
}


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Flow]:
    out: dict[str, Flow] = {}
    folder = tmp_path_factory.mktemp("edge")
    paths = {p.stem: p for p in EXAMPLES}
    for name, text in EDGE_FLOWS.items():
        path = folder / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths[name] = path
    for name, path in paths.items():
        result = compile_path(path)
        assert result.flow is not None, "\n".join(d.format() for d in result.errors)
        out[name] = result.flow
    loops = with_entry(out["edge-loops"], "main", announcement_then_main("Hello."))
    out["edge-loops"] = with_entry(loops, "second", language_then_main())
    return out


FLOW_NAMES = [p.stem for p in EXAMPLES] + list(EDGE_FLOWS)

# --- event recipes: resolved against the state when they are sent --------------------

zones = st.one_of(
    st.none(),
    st.timezones(),
    st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                      max_value=timedelta(hours=23, minutes=59))),
)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 12, 31),
                       timezones=zones)
dtmf = st.sampled_from("0123456789*#")


@dataclass(frozen=True)
class Recipe:
    """An event to send; ``current`` ones use the token or timer the state is waiting for."""

    kind: str
    event: Event | None = None
    number: int = 0
    end: str = ""


def _weighted(*branches: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick a branch with probability proportional to its weight (one_of picks evenly)."""
    indexes = [i for i, (weight, _) in enumerate(branches) for _ in range(weight)]
    return st.sampled_from(indexes).flatmap(lambda i: branches[i][1])


keys = _weighted((8, dtmf), (1, st.characters()), (1, st.text(max_size=3)))
recipes = _weighted(
    (8, st.builds(lambda k: Recipe("event", Digit(k)), keys)),
    (6, st.just(Recipe("finish"))),
    (4, st.just(Recipe("fire"))),
    (1, st.builds(lambda n: Recipe("event", PromptFinished(n)), st.integers(-2, 40))),
    (1, st.builds(lambda n: Recipe("event", TimerFired(n)),
                  st.one_of(st.text(max_size=10),
                            st.builds("{}:{}".format,
                                      st.sampled_from(["input", "digits", "record"]),
                                      st.integers(0, 30))))),
    (2, st.builds(lambda a, r: Recipe("event", TransferResult(a, r)), st.booleans(),
                  st.sampled_from(["", "busy", "no_answer", "unreachable", "rejected", "x"]))),
    (1, st.builds(lambda s, e: Recipe("event", RecordingFinished(s, e)), st.floats(0, 1e6),
                  st.sampled_from(["", "disk full"]))),
    (1, st.builds(lambda at, called, lang: Recipe("event", CallStarted(at, "+1555", called, lang)),
                  moments, st.sampled_from(["", "2", "main", "nobody"]),
                  st.sampled_from([None, "en-US", "fr-FR", "xx-XX"]))),
    (1, st.just(Recipe("event", Hangup()))),
    (1, st.builds(lambda parts: Recipe("event", QueueAnnouncement(tuple(parts))),
                  st.lists(st.tuples(st.sampled_from(["greeting", "position", "wait",
                                                      "wait_more", "callback_refused", "x"]),
                                     st.integers(0, 99)), max_size=3))),
    (1, st.builds(lambda kind, agent: Recipe("event", QueueOutcome(kind, Disconnect(), agent)),
                  st.sampled_from(["connected", "route", "callback"]),
                  st.sampled_from(["", "alice"]))),
    (3, st.builds(lambda n, end: Recipe("spell", number=n, end=end), st.integers(0, 1000),
                  st.sampled_from(["", "#"]))),
    (2, st.builds(lambda n, end: Recipe("extension", number=n, end=end), st.integers(0, 1000),
                  st.sampled_from(["", "#"]))),
)
#: Caller moves that lead somewhere interesting on a Tuesday at 10:00 ("f" lets the prompt
#: finish, "w" lets the timer fire); random events carry on from there. "" starts at a
#: random moment instead.
PREFIXES: dict[str, list[str]] = {
    "small-office": ["", "1", "2", "3", "0", "f", "fw", "fwfw"],
    "northwind-main-line": ["", "1", "11", "12", "13", "14", "14f764#", "14f76#", "15101",
                            "1f9", "2", "fw"],
    "edge-entries": ["", "f", "f*", "f*2", "f*2f11", "f*1", "f*1f533#", "f*4ff", "f7", "f#",
                     "f6", "f*5", "f*3", "fw"],
    "edge-loops": ["", "f", "ff"],
}
TUESDAY_10 = datetime(2026, 12, 1, 10, 0)


def prefix_events(driver: Driver, moves: str) -> None:
    for move in moves:
        if move == "f":
            if driver.state.playing is not None:
                driver.send(PromptFinished(driver.state.playing))
        elif move == "w":
            if driver.state.timer is not None:
                driver.send(TimerFired(driver.state.timer))
        else:
            driver.send(Digit(move))


calls = st.tuples(
    st.sampled_from(FLOW_NAMES),
    st.integers(0, 100),  # which prefix
    st.sampled_from([True] * 9 + [False]),  # start the call first? (almost always)
    moments,
    st.sampled_from(["", "", "2"]),  # the number called (selects the attendant)
    st.lists(recipes, min_size=10, max_size=80),
)


def resolve(recipe: Recipe, flow: Flow, state: CallState) -> list[Event]:
    """The events a recipe stands for, given the flow and where the call is now."""
    if recipe.kind == "finish":
        return [PromptFinished(state.playing if state.playing is not None else state.token)]
    if recipe.kind == "fire":
        return [TimerFired(state.timer or "input:1")]
    if recipe.kind in ("spell", "extension"):
        # Keys that mean something here: a name's spelling or an existing extension.
        pool = ([digits for digits, _, _ in flow.names] if recipe.kind == "spell"
                else sorted(flow.extensions))
        if not pool:
            return []
        keys = pool[recipe.number % len(pool)]
        keys = keys[: 2 + recipe.number % 3] if recipe.kind == "spell" else keys
        return [Digit(k) for k in keys + recipe.end]
    assert recipe.event is not None
    return [recipe.event]


@dataclass
class Driver:
    """Sends events and checks the invariants after each one, like an adapter would see them."""

    flow: Flow
    state: CallState
    armed: str | None = None
    last_token: int = 0
    steps: int = 0

    def send(self, event: Event) -> list[act.Action]:
        before = self.state
        self.state, actions = step(self.flow, before, event)
        self.steps += 1
        self.check(before, event, actions)
        return actions

    def check(self, before: CallState, event: Event, actions: list[act.Action]) -> None:
        state = self.state
        if before.phase is Phase.ENDED:
            assert actions == []
            assert state == before
            return
        if isinstance(event, Hangup):
            assert state.phase is Phase.ENDED
        elif (before.phase, type(event)) not in TRANSITIONS:
            assert actions == [], (before.phase, event)
            assert state == before
        if isinstance(event, TimerFired) and event.name == self.armed:
            self.armed = None  # it fired
        for action in actions:
            if isinstance(action, act.StartTimer):
                assert self.armed is None, f"{action.name} started while {self.armed} is armed"
                self.armed = action.name
            elif isinstance(action, act.CancelTimer):
                assert action.name == self.armed, f"cancelled {action.name}, armed {self.armed}"
                self.armed = None
            elif isinstance(action, act.Play):
                assert action.token > self.last_token
                self.last_token = action.token
                assert action.items, "a Play with nothing to say"
            elif isinstance(action, act.Disconnect):
                assert state.phase is Phase.ENDED
                assert action is actions[-1]
        assert state.timer == self.armed
        assert state.playing is None or state.playing == self.last_token
        assert state.token == self.last_token


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls)
def test_any_events_keep_the_invariants(flows: dict[str, Flow],
                                        call: tuple[str, int, bool, datetime, str, list[Recipe]]
                                        ) -> None:
    name, which, start, at, called, script = call
    driver = Driver(flows[name], initial_state())
    prefix = PREFIXES[name][which % len(PREFIXES[name])]
    if prefix:
        driver.send(CallStarted(TUESDAY_10, called=called))
        prefix_events(driver, prefix)
    elif start:
        driver.send(CallStarted(at, called=called))
    for recipe in script:
        for event in resolve(recipe, driver.flow, driver.state):
            driver.send(event)
    driver.send(Hangup())
    assert driver.state.phase is Phase.ENDED
    assert driver.armed is None
    assert driver.state.outcome
    for event in (Digit("1"), PromptFinished(driver.state.token), TimerFired("input:1"),
                  TransferResult(True), RecordingFinished(), Hangup(), CallStarted(at)):
        assert driver.send(event) == []


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FLOW_NAMES), at=moments,
       script=st.lists(st.sampled_from("0123456789*#fw"), min_size=10, max_size=80))
def test_a_patient_caller_always_reaches_an_end_or_a_wait(
        flows: dict[str, Flow], name: str, at: datetime, script: list[str]) -> None:
    """Keys, prompts that finish and timers that fire: the call is always waiting for something.

    Outside ENDED, CONNECTED, TRANSFERRING, QUEUED and RECORDING (where the
    adapter reports what happens next) the call is either playing a prompt or
    has a timer armed; otherwise a silent caller would be stuck for ever.
    """
    driver = Driver(flows[name], initial_state())
    driver.send(CallStarted(at))
    for move in script:
        if driver.state.phase is Phase.ENDED:
            break
        if move == "f" and driver.state.playing is not None:
            driver.send(PromptFinished(driver.state.playing))
        elif move == "w" and driver.state.timer is not None:
            driver.send(TimerFired(driver.state.timer))
        elif move not in "fw":
            driver.send(Digit(move))
        waiting = driver.state.playing is not None or driver.state.timer is not None
        handed_over = driver.state.phase in (Phase.ENDED, Phase.CONNECTED, Phase.TRANSFERRING,
                                             Phase.QUEUED, Phase.RECORDING)
        assert waiting or handed_over, driver.state


def _with(state: CallState, **changes: object) -> CallState:
    """A copy of ``state`` with some fields changed (whatever kind of record CallState is)."""
    if hasattr(state, "_replace"):
        return state._replace(**changes)  # type: ignore[no-any-return]
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def _sample_states(flow: Flow) -> list[CallState]:
    """A started call, and one with every field filled in, moved to every phase."""
    attendant = next(iter(flow.attendants))
    menu = next(iter(flow.menus))
    box = next(iter(flow.voicemail), None)
    started, _ = step(flow, initial_state(), CallStarted(datetime(2026, 12, 1, 10, 0)))
    filled = _with(started, attendant=attendant, menu=menu, box=box, buffer="12",
                   candidates=tuple(flow.users)[:2], timer="input:1", playing=started.token)
    out = []
    for shape in (started, filled):
        for phase in Phase:
            if phase in (Phase.VOICEMAIL_BEEP, Phase.RECORDING) and shape.box is None:
                continue  # only reachable through a voicemail box
            if phase is Phase.MAILBOX:
                continue  # only with a mailbox session: below
            out.append(_with(shape, phase=phase))
    message = StoredMessage(1, "new", datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "+15551230001",
                            12.0)
    for step_name in ("number", "pin", "checking", "menu", "envelope", "audio", "options",
                      "new_pin", "confirm_pin", "saving_pin", "greetings", "greeting_intro",
                      "greeting_recording", "greeting_stopping", "greeting_review",
                      "greeting_saving"):
        session = MailboxSession(box=box or "", step=step_name, open=True,
                                 messages=(message,), listing=(1,), new_pin="1234",
                                 greeting_kind="busy", greeting_take="/tmp/take.wav")
        out.append(_with(filled, phase=Phase.MAILBOX, mailbox=session))
    return out


EVERY_EVENT: list[Event] = [
    CallStarted(datetime(2026, 12, 1, 10, 0)), Digit("1"), Digit("#"), Digit("*"), Digit("x"),
    PromptFinished(0), PromptFinished(1), TimerFired("input:1"), TimerFired("digits:1"),
    TransferResult(True), TransferResult(False, "busy"), RecordingFinished(3.0), Hangup(),
    MailboxOpened(True), MailboxOpened(False, refusal="wrong"), MailboxPinSet(True), Digit("9"),
    GreetingRecorded(3.0, "/tmp/take.wav"), GreetingRecorded(0.0, error="gone"),
    GreetingSaved(True), TimerFired("record:1"),
]


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_every_phase_takes_every_event_type_without_raising(
        flows: dict[str, Flow], name: str) -> None:
    flow = flows[name]
    for state in _sample_states(flow):
        for event in EVERY_EVENT:
            new, actions = step(flow, state, event)
            if isinstance(event, Hangup):
                assert new.phase is Phase.ENDED
            elif (state.phase, type(event)) not in TRANSITIONS:
                assert (new, actions) == (state, [])


# --- a compiled flow is never written --------------------------------------------------

#: Containers that could be written in place; none may be reachable from a flow.
MUTABLE = (dict, list, set, bytearray)


def _frozen_view(value: object, seen: dict[int, object] | None = None) -> object:
    """Everything reachable from ``value`` (derived fields such as ``Flow.tables`` too) as
    nested tuples, so two views differ if anything in ``value`` was written; fails on any
    container that could be written in place."""
    seen = {} if seen is None else seen
    if id(value) in seen:
        return seen[id(value)]
    assert not isinstance(value, MUTABLE), f"a {type(value).__name__} inside a flow"
    view: object
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        assert params is not None
        assert params.frozen, f"{type(value).__name__} is not frozen"
        view = (type(value).__name__, *(
            (f.name, _frozen_view(getattr(value, f.name), seen))
            for f in dataclasses.fields(value)))
    elif isinstance(value, Mapping):
        assert isinstance(value, MappingProxyType), f"a {type(value).__name__} inside a flow"
        view = ("map", *sorted(((repr(k), _frozen_view(v, seen)) for k, v in value.items()),
                               key=lambda item: item[0]))
    elif isinstance(value, tuple):
        view = ("tuple", *(_frozen_view(v, seen) for v in value))
    elif isinstance(value, frozenset):
        view = ("frozenset", *sorted(repr(v) for v in value))
    else:
        view = repr(value)
    seen[id(value)] = view
    return view


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_a_compiled_flow_holds_nothing_that_can_be_written(flows: dict[str, Flow],
                                                           name: str) -> None:
    flow = flows[name]
    _frozen_view(flow)
    assert flow.tables.says  # the engine's tables are made, not empty
    assert flow.tables.menus


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FLOW_NAMES),
       scripts=st.lists(st.lists(recipes, min_size=10, max_size=60), min_size=5, max_size=10))
def test_many_random_calls_write_nothing_to_the_flow(flows: dict[str, Flow], name: str,
                                                     scripts: list[list[Recipe]]) -> None:
    flow = flows[name]
    before = _frozen_view(flow)
    for number, script in enumerate(scripts):
        driver = Driver(flow, initial_state())
        driver.send(CallStarted(TUESDAY_10, called="2" if number % 3 == 2 else ""))
        for recipe in script:
            for event in resolve(recipe, flow, driver.state):
                driver.send(event)
    assert _frozen_view(flow) == before
