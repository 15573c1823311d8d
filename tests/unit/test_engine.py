"""Table-driven tests of :func:`attendant.engine.machine.step`, one behaviour per test.

Each test compiles a small menu file written to ``tmp_path`` and drives the
pure engine directly with events, checking the state and the actions it asks
for. The simulator is not involved, so these pin down the engine itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from flow_surgery import announcement_then_main, language_then_main, with_entry

from attendant import compile_path
from attendant.engine import actions as act
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    Hangup,
    PromptFinished,
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase, initial_state
from attendant.engine.transfers import MAX_FAILED_TRANSFERS
from attendant.model import Digits, Flow, Number, Text

Build = Callable[[str], Flow]
A = TypeVar("A", bound=act.Action)
TUESDAY_10 = datetime(2026, 12, 1, 10, 0)


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """Compile a YAML string; fail the test on any validation error."""
    counter = iter(range(1000))

    def compile_text(text: str) -> Flow:
        path = tmp_path / f"flow{next(counter)}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        result = compile_path(path)
        assert not result.errors, "\n".join(d.format() for d in result.errors)
        assert result.flow is not None
        return result.flow

    return compile_text


def said(actions: Iterable[act.Action]) -> list[str]:
    """Every prompt played by these actions, as text (one string per Say)."""
    out = []
    for action in actions:
        if isinstance(action, act.Play):
            for item in action.items:
                out.append(" ".join(
                    f.text if isinstance(f, Text) else f.digits if isinstance(f, Digits) else "?"
                    for f in item.fragments))
    return out


def of_type(actions: Iterable[act.Action], kind: type[A]) -> list[A]:
    return [a for a in actions if isinstance(a, kind)]


@dataclass
class Call:
    """A call driven straight through ``step``; ``last`` holds the latest actions."""

    flow: Flow
    state: CallState = field(default_factory=initial_state)
    last: list[act.Action] = field(default_factory=list)
    history: list[act.Action] = field(default_factory=list)

    def send(self, event: Event) -> list[act.Action]:
        self.state, self.last = step(self.flow, self.state, event)
        self.history.extend(self.last)
        return self.last

    def start(self, at: datetime = TUESDAY_10, **kwargs: str) -> list[act.Action]:
        return self.send(CallStarted(at, **kwargs))

    def press(self, keys: str) -> list[act.Action]:
        out: list[act.Action] = []
        for key in keys:
            out += self.send(Digit(key))
        return out

    def finish(self) -> list[act.Action]:
        """The current prompt ends."""
        assert self.state.playing is not None, "nothing is playing"
        return self.send(PromptFinished(self.state.playing))

    def fire(self) -> list[act.Action]:
        """The armed timer expires."""
        assert self.state.timer is not None, "no timer is armed"
        return self.send(TimerFired(self.state.timer))

    def timer_seconds(self) -> float:
        starts = of_type(self.history, act.StartTimer)
        assert starts
        assert starts[-1].name == self.state.timer
        return starts[-1].seconds


# --- configurations -----------------------------------------------------------------

OFFICE = """\
version: 1
attendants:
  main:
    name: Test Co
    answers: ["100"]
    timezone: Europe/Paris
    languages: [en-US, fr-FR]
    operator: {user: op}
    hours:
      monday: ["09:00-17:00"]
      tuesday: ["09:00-17:00"]
      wednesday: ["09:00-17:00"]
      thursday: ["09:00-17:00"]
      friday: ["09:00-17:00"]
      sunday: ["03:00-04:00"]
    business_hours: {menu: main}
    after_hours: {menu: closed}
    holidays:
      - name: New Year break
        dates: ["12-31..01-02"]
        flow: {menu: holiday}
      - name: French public holidays
        public: {country: FR}
        flow: {menu: holiday}
  second:
    name: Second Line
    answers: ["200"]
    timezone: Europe/Paris
    business_hours: {menu: other}
menus:
  main:
    prompt: {en-US: "Main menu.", fr-FR: "Menu principal."}
    options:
      "1": {user: alice}
      "2": {menu: sub}
      "3": {queue: sales, priority: 7}
      "4": {dial_by_name: {min_digits: 2, max_matches: 2}}
      "5": {voicemail: general}
      "6": dial_by_extension
      "7": {language: fr-FR, then: repeat}
      "8": {attendant: second}
      "9": {announcement: "We are at the harbour.", then: repeat}
      "0": operator
  sub:
    prompt: Sub menu.
    options:
      "1": {user: bob}
      "2": {dial_by_name: {min_digits: 2, max_matches: 2}}
      "3": {department: team}
      "4": {external: "+33100000000", fallback: {voicemail: general}}
  closed:
    prompt: Closed.
    options:
      "1": {voicemail: general}
  holiday:
    prompt: Holiday.
    options:
      "1": {voicemail: general}
  other:
    prompt: Other line.
    options:
      "1": {user: alice}
directory:
  users:
    op:
      name: Olga Operator
      extension: "200"
      sip: sip:op@example.test
      dial_by_name: false
    alice:
      name: Alice Smith
      extension: "201"
      sip: sip:alice@example.test
      voicemail: alice
    bob:
      name: Bob Smithers
      extension: "202"
      sip: sip:bob@example.test
    carol:
      name: Carol Smyth
      extension: "203"
      sip: sip:carol@example.test
    dave:
      name: Dave Jones
      extension: "204"
      sip: sip:dave@example.test
  departments:
    team:
      name: The Team
      members: [bob, carol]
      voicemail: general
  external_numbers: ["+33100000000"]
queues:
  sales:
    name: Sales
    agents: [{user: alice}]
voicemail:
  general:
    name: General
    max_seconds: 60
  alice:
    name: Alice Smith
"""


@pytest.fixture
def office(build: Build) -> Flow:
    return build(OFFICE)


def menu_flow(build: Build, menu: str, *, operator: bool = False, extra: str = "",
              users: str = "") -> Flow:
    """A one-attendant flow whose entry menu is ``menu`` (YAML for the menu body)."""
    body = textwrap.indent(textwrap.dedent(menu), "    ")
    operator_line = "    operator: {user: alice}\n" if operator else ""
    return build(
        "version: 1\n"
        "attendants:\n"
        "  main:\n"
        "    name: Test Co\n"
        "    timezone: Europe/Paris\n"
        f"{operator_line}"
        "    business_hours: {menu: m}\n"
        "menus:\n"
        "  m:\n"
        f"{body}"
        f"{textwrap.dedent(extra)}"
        "directory:\n"
        "  users:\n"
        "    alice: {name: Alice Smith, extension: '201', sip: 'sip:alice@example.test'}\n"
        "    bob: {name: Bob Jones, extension: '202', sip: 'sip:bob@example.test'}\n"
        f"{textwrap.indent(textwrap.dedent(users), '    ')}"
    )


# --- which flow a call starts in ------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("at", "label", "menu"),
    [
        pytest.param(datetime(2026, 12, 1, 10, 0), "business hours", "main", id="tuesday-open"),
        pytest.param(datetime(2026, 12, 1, 8, 59), "after hours", "closed", id="before-opening"),
        pytest.param(datetime(2026, 12, 1, 17, 0), "after hours", "closed", id="closing-minute"),
        pytest.param(datetime(2026, 12, 5, 10, 0), "after hours", "closed", id="saturday"),
        pytest.param(datetime(2026, 12, 30, 10, 0), "business hours", "main", id="day-before"),
        pytest.param(datetime(2026, 12, 31, 10, 0), "holiday: New Year break (12-31..01-02)",
                     "holiday", id="holiday-wins-over-hours"),
        pytest.param(datetime(2027, 1, 1, 10, 0), "holiday: New Year break (12-31..01-02)",
                     "holiday", id="range-across-new-year"),
        pytest.param(datetime(2027, 1, 2, 23, 59), "holiday: New Year break (12-31..01-02)",
                     "holiday", id="range-last-day"),
        pytest.param(datetime(2027, 1, 4, 10, 0), "business hours", "main", id="after-range"),
        pytest.param(datetime(2026, 7, 14, 10, 0), "holiday: French public holidays",
                     "holiday", id="public-holiday-tuesday"),
        pytest.param(datetime(2026, 12, 1, 8, 30, tzinfo=ZoneInfo("America/New_York")),
                     "business hours", "main", id="aware-converted-to-paris"),
        pytest.param(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "business hours", "main",
                     id="aware-utc"),
        pytest.param(datetime(2026, 12, 1, 16, 30, tzinfo=UTC), "after hours", "closed",
                     id="aware-utc-after-closing"),
        # 2026-03-29: Paris springs forward at 01:00 UTC (02:00 local becomes 03:00).
        pytest.param(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "after hours", "closed",
                     id="dst-just-before"),
        pytest.param(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "business hours", "main",
                     id="dst-just-after"),
        pytest.param(datetime(2026, 3, 29, 3, 0, tzinfo=timezone(timedelta(hours=2))),
                     "business hours", "main", id="dst-fixed-offset"),
    ],
)
def test_call_start_picks_flow_by_holiday_then_hours(
    office: Flow, at: datetime, label: str, menu: str
) -> None:
    call = Call(office)
    actions = call.start(at)
    assert call.state.flow_label.startswith(label)
    assert call.state.phase is Phase.MENU
    assert call.state.menu == menu
    assert len(of_type(actions, act.Play)) == 1
    assert not of_type(actions, act.StartTimer)


def test_public_holiday_label_names_the_day(office: Flow) -> None:
    call = Call(office)
    call.start(datetime(2026, 5, 1, 10, 0))  # Friday, Fête du Travail
    assert call.state.menu == "holiday"
    assert "French public holidays" in call.state.flow_label
    assert call.state.flow_label != "holiday: French public holidays ()"


def test_called_number_selects_attendant(office: Flow) -> None:
    call = Call(office)
    call.start(called="200")
    assert call.state.attendant == "second"
    assert said(call.last) == ["Other line."]


def test_caller_language_is_used_when_offered(office: Flow) -> None:
    call = Call(office)
    call.start(language="fr-FR")
    assert said(call.last) == ["Menu principal."]
    call = Call(office)
    call.start(language="de-DE")
    assert call.state.language == "en-US"
    assert said(call.last) == ["Main menu."]


# --- prompts, barge-in and the input timer --------------------------------------------


def test_input_timer_starts_only_after_prompt_finishes(office: Flow) -> None:
    call = Call(office)
    first = call.start()
    assert not of_type(first, act.StartTimer)
    assert call.state.timer is None
    token = call.state.playing
    assert token is not None
    assert of_type(first, act.Play)[0].token == token
    actions = call.finish()
    assert actions == [act.StartTimer(call.state.timer or "", 5.0)]
    assert call.state.playing is None


def test_digit_barges_in_and_stops_playback(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("2")
    assert isinstance(actions[0], act.StopPlayback)
    assert call.state.menu == "sub"
    assert said(actions) == ["Sub menu."]


def test_digit_ignored_while_non_barge_in_prompt_plays(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Listen to all of this.
        barge_in: false
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    before = call.state
    assert call.press("1") == []
    assert call.state == before
    call.finish()
    actions = call.press("1")
    assert of_type(actions, act.CancelTimer)
    assert [t.key for t in of_type(actions, act.Transfer)] == ["alice"]


def test_non_barge_in_flag_is_on_the_play_action(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Listen.
        barge_in: false
        options:
          "1": disconnect
        """)
    call = Call(flow)
    assert of_type(call.start(), act.Play)[0].barge_in is False


def test_stale_prompt_finished_and_timer_tokens_are_ignored(office: Flow) -> None:
    call = Call(office)
    call.start()
    old_token = call.state.playing
    assert old_token is not None
    call.press("2")  # into the sub menu: a new prompt
    before = call.state
    assert call.send(PromptFinished(old_token)) == []
    assert call.state == before
    call.finish()
    old_timer = call.state.timer
    assert old_timer is not None
    call.press("*")  # repeat: the input timer is cancelled
    assert act.CancelTimer(old_timer) in call.last
    before = call.state
    assert call.send(TimerFired(old_timer)) == []
    assert call.send(TimerFired("input:999")) == []
    assert call.send(PromptFinished(12345)) == []
    assert call.state == before


def test_star_repeats_and_pound_goes_back(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("2")
    call.finish()
    actions = call.press("*")
    assert call.state.menu == "sub"
    assert said(actions) == ["Sub menu."]
    actions = call.press("#")
    assert call.state.menu == "main"
    assert said(actions) == ["Main menu."]
    assert call.state.stack == ()


def test_pound_in_first_menu_repeats_it(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("#")
    assert call.state.menu == "main"
    assert said(actions) == ["Main menu."]


def test_repeat_key_can_be_switched_off(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        repeat_key: null
        options:
          "1": disconnect
        """)
    call = Call(flow)
    call.start()
    actions = call.press("*")
    assert said(actions) == ["Sorry, that is not a valid choice.", "Choose."]
    assert call.state.invalid == 1


def test_option_overrides_default_back_key(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        options:
          "1": disconnect
          "#": {user: alice}
        """)
    call = Call(flow)
    call.start()
    actions = call.press("#")
    assert call.state.phase is Phase.TRANSFERRING
    assert [t.key for t in of_type(actions, act.Transfer)] == ["alice"]


# --- multi-digit options ----------------------------------------------------------------

MULTI = """\
    prompt: Choose.
    inter_digit_timeout: 2
    options:
      "1": {user: alice}
      "12": {user: bob}
      "3": disconnect
    """


def test_prefix_option_waits_for_inter_digit_timeout_then_resolves(build: Build) -> None:
    call = Call(menu_flow(build, MULTI))
    call.start()
    actions = call.press("1")
    assert call.state.phase is Phase.MENU
    assert call.state.buffer == "1"
    timers = of_type(actions, act.StartTimer)
    assert len(timers) == 1
    assert timers[0].name.startswith("digits:")
    assert timers[0].seconds == 2.0
    actions = call.fire()
    assert call.state.phase is Phase.TRANSFERRING
    assert [t.key for t in of_type(actions, act.Transfer)] == ["alice"]


def test_longer_option_resolves_without_waiting(build: Build) -> None:
    call = Call(menu_flow(build, MULTI))
    call.start()
    call.press("1")
    digits_timer = call.state.timer
    actions = call.press("2")
    assert act.CancelTimer(digits_timer or "") in actions
    assert [t.key for t in of_type(actions, act.Transfer)] == ["bob"]


def test_unambiguous_option_acts_at_once(build: Build) -> None:
    call = Call(menu_flow(build, MULTI))
    call.start()
    call.press("3")
    assert call.state.phase is Phase.GOODBYE


# --- invalid entries and timeouts --------------------------------------------------------


def test_invalid_counts_up_to_max_then_operator_by_default(office: Flow) -> None:
    call = Call(office)
    call.start()
    for expected in (1, 2):
        actions = call.press("X")  # not a DTMF key: an invalid entry
        assert call.state.invalid == expected
        assert said(actions)[0] == "Sorry, that is not a valid choice."
        assert call.state.menu == "main"
    actions = call.press("X")
    # default on_max with an operator: the operator (here a user) is rung
    assert call.state.invalid == 0
    assert said(actions) == ["Sorry, that is not a valid choice."]
    assert [t.key for t in of_type(actions, act.Transfer)] == ["op"]


def test_default_on_max_without_operator_is_goodbye_then_disconnect(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        max_invalid: 2
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    call.press("5")
    assert call.state.phase is Phase.MENU
    actions = call.press("5")
    assert call.state.phase is Phase.GOODBYE
    assert said(actions) == ["Sorry, that is not a valid choice.",
                             "Thank you for calling. Goodbye."]
    assert of_type(actions, act.Play)[0].barge_in is False
    actions = call.finish()
    assert actions == [act.Disconnect("disconnected")]
    assert call.state.phase is Phase.ENDED


def test_configured_on_invalid_prompt_and_on_max(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        max_invalid: 2
        invalid_prompt: Nope.
        on_invalid: {announcement: Try harder., then: repeat}
        on_max: {user: bob}
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    actions = call.press("7")
    assert said(actions) == ["Nope.", "Try harder."]
    assert call.state.phase is Phase.ANNOUNCE
    actions = call.finish()
    assert said(actions) == ["Choose."]
    actions = call.press("7")
    assert said(actions) == ["Nope."]
    assert [t.key for t in of_type(actions, act.Transfer)] == ["bob"]


def test_no_input_and_invalid_entries_each_have_their_own_maximum_and_action(
        build: Build) -> None:
    """"No input twice: the operator; invalid three times: goodbye", in one menu."""
    flow = menu_flow(build, """\
        prompt: Choose.
        timeout: 4
        max_timeouts: 2
        on_max_timeouts: operator
        max_invalid: 3
        on_max_invalid: disconnect
        options:
          "1": {user: bob}
        """, operator=True)
    silent = Call(flow)
    silent.start()
    silent.finish()
    silent.fire()
    silent.finish()
    actions = silent.fire()
    assert [t.key for t in of_type(actions, act.Transfer)] == ["alice"]  # the operator
    wrong = Call(flow)
    wrong.start()
    wrong.press("7")
    wrong.finish()
    wrong.press("8")
    wrong.finish()
    assert wrong.state.phase is Phase.MENU  # two invalid: still choosing
    actions = wrong.press("9")
    assert of_type(actions, act.Transfer) == []
    assert wrong.state.phase is Phase.GOODBYE
    assert said(actions)[-1] == "Thank you for calling. Goodbye."


def test_on_max_stands_for_the_maximum_that_has_no_action_of_its_own(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        max_invalid: 1
        on_max_timeouts: disconnect
        on_max: {user: bob}
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    actions = call.press("7")
    assert [t.key for t in of_type(actions, act.Transfer)] == ["bob"]


def test_timeouts_count_and_configured_on_no_input(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        timeout: 4
        max_timeouts: 3
        no_input_prompt: Still there?
        on_no_input: {announcement: Here are the choices again., then: repeat}
        on_max: {user: bob}
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    call.finish()
    assert call.timer_seconds() == 4.0
    actions = call.fire()
    assert call.state.timeouts == 1
    assert said(actions) == ["Still there?", "Here are the choices again."]
    call.finish()  # the announcement, then the menu again
    call.finish()
    call.fire()
    assert call.state.timeouts == 2
    call.finish()
    call.finish()
    actions = call.fire()
    assert said(actions) == ["Still there?"]
    assert call.state.timeouts == 0
    assert [t.key for t in of_type(actions, act.Transfer)] == ["bob"]


def test_a_key_resets_the_timeout_count(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        max_timeouts: 2
        options:
          "1": disconnect
        """)
    call = Call(flow)
    call.start()
    call.finish()
    call.fire()
    assert call.state.timeouts == 1
    call.press("*")
    assert call.state.timeouts == 0


def test_default_no_input_message_on_max_timeouts(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        max_timeouts: 1
        options:
          "1": {user: alice}
        """)
    call = Call(flow)
    call.start()
    call.finish()
    actions = call.fire()
    assert said(actions) == ["Sorry, I didn't hear a choice.", "Thank you for calling. Goodbye."]
    call.finish()
    assert call.last == [act.Disconnect("disconnected")]


# --- dialling extensions ----------------------------------------------------------------


def test_direct_extension_fixed_length(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Dial an extension or press 9.
        extension_dialing: {length: 3}
        options:
          "9": disconnect
        """)
    call = Call(flow)
    call.start()
    actions = call.press("2")
    assert of_type(actions, act.StartTimer)[0].name.startswith("digits:")
    call.press("0")
    assert call.state.phase is Phase.MENU
    actions = call.press("2")
    assert call.state.phase is Phase.ANNOUNCE
    assert said(actions) == ["Please hold while I transfer your call.", "Bob Jones"]
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["bob"]


def test_direct_extension_unknown_number_is_invalid(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Dial an extension.
        extension_dialing: {length: 3}
        options:
          "9": disconnect
        """)
    call = Call(flow)
    call.start()
    actions = call.press("209")
    assert call.state.invalid == 1
    assert said(actions)[0] == "Sorry, that is not a valid choice."


TERMINATED = """\
    prompt: Dial an extension then pound.
    extension_dialing: {terminator: "#"}
    options:
      "9": disconnect
    """
SHORT_EXTENSION = "cleo: {name: Cleo Short, extension: '20', sip: 'sip:cleo@example.test'}\n"


def test_direct_extension_pound_ends_an_ambiguous_number(build: Build) -> None:
    call = Call(menu_flow(build, TERMINATED, users=SHORT_EXTENSION))
    call.start()
    actions = call.press("20")
    assert call.state.phase is Phase.MENU  # 201 and 202 start with 20: wait
    assert call.state.buffer == "20"
    assert of_type(actions, act.StartTimer)[-1].name.startswith("digits:")
    actions = call.press("#")
    assert call.state.phase is Phase.ANNOUNCE
    assert said(actions) == ["Please hold while I transfer your call.", "Cleo Short"]
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["cleo"]


def test_direct_extension_ambiguous_number_resolves_on_timeout(build: Build) -> None:
    call = Call(menu_flow(build, TERMINATED, users=SHORT_EXTENSION))
    call.start()
    call.press("20")
    call.fire()
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["cleo"]


def test_direct_extension_without_length_acts_once_unambiguous(build: Build) -> None:
    call = Call(menu_flow(build, TERMINATED, users=SHORT_EXTENSION))
    call.start()
    call.press("201")
    assert call.state.phase is Phase.ANNOUNCE
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["alice"]


def test_direct_extension_pound_terminated_unknown(build: Build) -> None:
    call = Call(menu_flow(build, TERMINATED))
    call.start()
    actions = call.press("20#")  # only 201 and 202 exist
    assert said(actions)[0] == "Sorry, there is no such extension."
    assert call.state.invalid == 1
    assert call.state.buffer == ""


def test_dial_by_extension_action(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("6")
    assert call.state.phase is Phase.EXTENSION_ENTRY
    assert said(actions) == ["Please enter the extension, then press pound."]
    call.finish()
    assert (call.state.timer or "").startswith("input:")
    call.press("202")
    assert call.state.phase is Phase.EXTENSION_ENTRY
    actions = call.press("#")
    assert said(actions) == ["Please hold while I transfer your call.", "Bob Smithers"]
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["bob"]


def test_dial_by_extension_unknown_then_retry(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("6")
    actions = call.press("999#")
    assert said(actions) == ["Sorry, there is no such extension.",
                             "Please enter the extension, then press pound."]
    assert call.state.phase is Phase.EXTENSION_ENTRY


# --- dial by name ------------------------------------------------------------------------


def name_entry(office: Flow) -> Call:
    call = Call(office)
    call.start()
    call.press("4")
    assert call.state.phase is Phase.NAME_ENTRY
    call.finish()
    return call


SPELL = ("Please spell the name of the person you are calling using your keypad, then press "
         "pound. Press star to go back.")
#: Spelling a name in the office directory: keys, what the caller hears (all of it), where
#: the call is then, and the invalid count. Alice Smith, Bob Smithers, Carol Smyth, Dave
#: Jones;
#: Olga the operator is left out of the directory (``dial_by_name: false``).
NAME_ENTRY = [
    # JON: one match, transferred with the name said
    ("566#", ["Please hold while I transfer your call.", "Dave Jones"], Phase.ANNOUNCE, 0),
    # SMI: two matches, a choice offered
    ("764#", ["For", "Alice Smith", "press", "1", "For", "Bob Smithers", "press", "2",
              "Press star to spell again."], Phase.NAME_CHOICE, 0),
    # SM: more than max_matches (2); the letters are kept so more can be added
    ("76#", ["Several people match. Please enter more letters."], Phase.NAME_ENTRY, 0),
    # fewer than min_digits (2)
    ("7#", ["Please enter a few more letters.", SPELL], Phase.NAME_ENTRY, 1),
    ("999#", ["Sorry, nobody matches that name.", SPELL], Phase.NAME_ENTRY, 1),
    # OLGA, the operator, opted out of the directory
    ("6546#", ["Sorry, nobody matches that name.", SPELL], Phase.NAME_ENTRY, 1),
]


@pytest.mark.parametrize(("keys", "heard", "phase", "invalid"), NAME_ENTRY)
def test_dial_by_name_answers_what_was_spelled(office: Flow, keys: str, heard: list[str],
                                               phase: Phase, invalid: int) -> None:
    call = name_entry(office)
    assert said(call.press(keys)) == heard
    assert call.state.phase is phase
    assert call.state.invalid == invalid


@pytest.mark.parametrize(("keys", "choose", "user"), [("566#", "", "dave"), ("764#", "2", "bob")])
def test_dial_by_name_transfers_to_the_one_found_or_chosen(office: Flow, keys: str, choose: str,
                                                           user: str) -> None:
    call = name_entry(office)
    call.press(keys + choose)
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == [user]


def test_dial_by_name_resolves_on_inter_digit_timeout(office: Flow) -> None:
    call = name_entry(office)
    call.press("566")
    assert (call.state.timer or "").startswith("digits:")
    call.fire()
    assert call.state.pending is not None
    call.finish()
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["dave"]


def test_dial_by_name_choice_out_of_range_is_invalid(office: Flow) -> None:
    call = name_entry(office)
    call.press("764#")
    actions = call.press("3")
    assert said(actions)[0] == "Sorry, that is not a valid choice."
    assert call.state.phase is Phase.NAME_CHOICE
    actions = call.press("*")
    assert call.state.phase is Phase.NAME_ENTRY
    assert said(actions)[0].startswith("Please spell the name")


def test_star_in_name_entry_returns_to_the_same_menu(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("2")  # sub menu
    call.press("2")  # dial by name from the sub menu
    assert call.state.phase is Phase.NAME_ENTRY
    call.press("76")
    actions = call.press("*")
    assert call.state.phase is Phase.MENU
    assert call.state.menu == "sub"
    assert said(actions) == ["Sub menu."]


# --- transfers and fallbacks ------------------------------------------------------------


def transfer_from(call: Call, keys: str) -> act.Transfer:
    call.press(keys)
    if call.state.phase is Phase.ANNOUNCE:
        call.finish()
    transfers = of_type(call.last, act.Transfer)
    assert len(transfers) == 1, call.last
    assert call.state.phase is Phase.TRANSFERRING
    return transfers[0]


def test_transfer_answered_connects(office: Flow) -> None:
    call = Call(office)
    call.start()
    transfer = transfer_from(call, "1")
    assert transfer == act.Transfer("user", "alice", "Alice Smith", ("sip:alice@example.test",))
    assert call.send(TransferResult(answered=True)) == []
    assert call.state.phase is Phase.CONNECTED
    assert call.press("5") == []
    call.send(Hangup())
    assert call.state.phase is Phase.ENDED
    assert call.state.outcome == "transferred to user alice"


def test_department_transfer_rings_members(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("2")
    transfer = transfer_from(call, "3")
    assert transfer.kind == "department"
    assert transfer.destinations == ("sip:bob@example.test", "sip:carol@example.test")


SORRY = "Sorry, nobody is available to take your call."
LEAVE_A_MESSAGE = "Please leave a message after the tone. Press pound when you are done."
#: Where a failed transfer goes, in order (docs/menu-language.md): the route's own
#: fallback, the user's or department's voicemail box, the operator, the menu again.
#: Keys from the main menu, the transfer's kind and key, how it failed, then what the
#: caller hears, the phase, the voicemail box and the next transfer (if any).
FALLBACKS = [
    # the external number's route fallback (voicemail general) comes first
    ("24", ("external", "+33100000000"), "busy", [SORRY, LEAVE_A_MESSAGE],
     Phase.VOICEMAIL_GREETING, "general", None),
    # alice has her own voicemail box
    ("1", ("user", "alice"), "no_answer", [SORRY, LEAVE_A_MESSAGE],
     Phase.VOICEMAIL_GREETING, "alice", None),
    # the department's box
    ("23", ("department", "team"), "no_answer", [SORRY, LEAVE_A_MESSAGE],
     Phase.VOICEMAIL_GREETING, "general", None),
    # bob has no box: the operator
    ("21", ("user", "bob"), "busy", [SORRY], Phase.TRANSFERRING, None, "op"),
    # the operator failed: the menu again
    ("0", ("user", "op"), "busy", [SORRY, "Main menu."], Phase.MENU, None, None),
]


@pytest.mark.parametrize(("keys", "target", "reason", "heard", "phase", "box", "then"),
                         FALLBACKS)
def test_a_failed_transfer_takes_the_first_fallback_that_exists(
        office: Flow, keys: str, target: tuple[str, str], reason: str, heard: list[str],
        phase: Phase, box: str | None, then: str | None) -> None:
    call = Call(office)
    call.start()
    call.press(keys[:-1])
    transfer = transfer_from(call, keys[-1])
    assert (transfer.kind, transfer.key) == target
    assert said(call.send(TransferResult(answered=False, reason=reason))) == heard
    assert call.state.phase is phase
    assert call.state.box == box
    assert [t.key for t in of_type(call.last, act.Transfer)] == ([then] if then else [])


def test_failed_transfer_with_no_menu_says_goodbye(build: Build) -> None:
    flow = build("""\
        version: 1
        attendants:
          main:
            name: Direct
            timezone: Europe/Paris
            business_hours: {user: bob}
        menus:
          unused:
            prompt: Never heard.
            options:
              "1": disconnect
        directory:
          users:
            bob: {name: Bob Jones, sip: "sip:bob@example.test"}
        """)
    call = Call(flow)
    call.start()
    assert call.state.phase is Phase.TRANSFERRING
    actions = call.send(TransferResult(answered=False, reason="rejected"))
    assert said(actions) == ["Sorry, nobody is available to take your call.",
                             "Thank you for calling. Goodbye."]
    assert call.state.phase is Phase.GOODBYE
    call.finish()
    assert of_type(call.last, act.Disconnect)
    assert call.state.phase is Phase.ENDED


def test_failed_transfers_are_limited(office: Flow) -> None:
    call = Call(office)
    call.start()
    for attempt in range(1, MAX_FAILED_TRANSFERS + 1):
        transfer_from(call, "0")
        actions = call.send(TransferResult(answered=False, reason="busy"))
        assert call.state.failed_transfers == attempt
        if attempt < MAX_FAILED_TRANSFERS:
            assert call.state.phase is Phase.MENU
    assert call.state.phase is Phase.GOODBYE
    assert said(actions)[-1] == "Thank you for calling. Goodbye."
    call.finish()
    assert call.last == [act.Disconnect(f"gave up after {MAX_FAILED_TRANSFERS} failed transfers")]


def test_transfer_to_user_without_address_falls_back(build: Build) -> None:
    flow = menu_flow(build, """\
        prompt: Choose.
        options:
          "1": {user: carl}
          "2": disconnect
        """, extra="""\
        voicemail:
          carl: {name: Carl}
        """, users="carl: {name: Carl Nobody, voicemail: carl}\n")
    # carl has no sip and no extension: not reachable, so straight to the fallback
    call = Call(flow)
    call.start()
    actions = call.press("1")
    assert not of_type(actions, act.Transfer)
    assert call.state.phase is Phase.VOICEMAIL_GREETING
    assert call.state.failed_transfers == 1


# --- queues --------------------------------------------------------------------------------


def test_queue_enqueues_with_priority(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("3")
    assert act.EnqueueCall("sales", 7) in actions
    assert call.state.phase is Phase.QUEUED
    call.send(TransferResult(answered=True))
    assert call.state.phase is Phase.CONNECTED


def test_keys_while_queued_go_to_the_queue_and_the_music_goes_on(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("3")
    before = call.state
    assert call.press("1") == [act.QueueKey("1")]  # the queue judges it (leave, callback)
    assert call.press("#") == [act.QueueKey("#")]
    assert call.state == before


def test_hanging_up_while_queued_leaves_the_queue(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("3")
    assert act.LeaveQueue() in call.send(Hangup())
    assert call.state.ending is Outcome.ABANDONED


def queued(office: Flow) -> Call:
    call = Call(office)
    call.start()
    call.press("3")
    assert call.state.phase is Phase.QUEUED
    return call


def test_queue_announcement_plays_then_music_loops(office: Flow) -> None:
    from attendant.engine.events import QueueAnnouncement
    from attendant.engine.tables import MUSIC_ON_HOLD
    call = queued(office)
    actions = call.send(QueueAnnouncement((("position", 2), ("wait", 1))))
    play = of_type(actions, act.Play)[0]
    assert not play.barge_in
    words = [f for say in play.items for f in say.fragments]
    assert Text("You are number", "en-US") in words
    assert Number(2, "en-US") in words
    assert Text("minute.", "en-US") in words
    music = of_type(call.send(PromptFinished(play.token)), act.Play)[0]
    assert [s.prompt_id for s in music.items] == [MUSIC_ON_HOLD.id]
    again = of_type(call.send(PromptFinished(music.token)), act.Play)[0]
    assert again.items == music.items  # music on hold loops
    # a new announcement interrupts the music
    actions = call.send(QueueAnnouncement((("wait_more", 3),)))
    assert isinstance(actions[0], act.StopPlayback)
    assert call.press("2") == [act.QueueKey("2")]  # keys while queued go to the queue core


def test_queue_outcome_connected(office: Flow) -> None:
    from attendant.engine.events import QueueAnnouncement, QueueOutcome
    call = queued(office)
    call.send(QueueAnnouncement(()))
    actions = call.send(QueueOutcome("connected", agent="alice"))
    assert actions == [act.StopPlayback()]
    assert call.state.phase is Phase.CONNECTED
    assert call.state.outcome == "answered by alice from queue sales"


def test_queue_outcome_route_runs_the_route(office: Flow) -> None:
    from attendant.engine.events import QueueOutcome
    from attendant.model import ToVoicemail
    call = queued(office)
    call.send(QueueOutcome("route", ToVoicemail("general")))
    assert call.state.phase is Phase.VOICEMAIL_GREETING


def test_queue_outcome_callback_says_goodbye(office: Flow) -> None:
    from attendant.engine.events import QueueOutcome
    call = queued(office)
    actions = call.send(QueueOutcome("callback"))
    play = of_type(actions, act.Play)[0]
    assert play.items[0].prompt_id == "system.queue_callback_confirm"
    call.send(PromptFinished(play.token))
    assert call.state.phase is Phase.ENDED
    assert call.state.outcome == "callback requested from queue sales"


def test_queue_events_outside_a_queue_are_ignored(office: Flow) -> None:
    from attendant.engine.events import QueueAnnouncement, QueueOutcome
    call = Call(office)
    call.start()
    before = call.state
    assert call.send(QueueOutcome("connected", agent="x")) == []
    assert call.send(QueueAnnouncement((("position", 1),))) == []
    assert call.state == before


# --- voicemail ---------------------------------------------------------------------------


def to_recording(office: Flow) -> Call:
    call = Call(office)
    call.start()
    actions = call.press("5")
    assert call.state.phase is Phase.VOICEMAIL_GREETING
    assert said(actions) == [
        "Please leave a message after the tone. Press pound when you are done."]
    actions = call.finish()
    assert call.state.phase is Phase.VOICEMAIL_BEEP
    assert said(actions) == ["Beep."]
    assert of_type(actions, act.Play)[0].barge_in is False
    actions = call.finish()
    assert call.state.phase is Phase.RECORDING
    assert actions[0] == act.RecordVoicemail("general", 60)
    assert of_type(actions, act.StartTimer)[0].seconds == 60
    return call


def test_voicemail_pound_stops_recording_then_thanks_and_disconnects(office: Flow) -> None:
    call = to_recording(office)
    timer = call.state.timer
    assert call.press("5") == []  # other keys are part of the message
    actions = call.press("#")
    assert act.CancelTimer(timer or "") in actions
    assert act.StopRecording() in actions
    assert said(actions) == ["Thank you, your message has been saved. Goodbye."]
    assert call.state.phase is Phase.GOODBYE
    actions = call.finish()
    assert actions == [act.Disconnect("voicemail left for general")]


def test_voicemail_greeting_skipped_with_pound(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("5")
    assert call.press("1") == []
    actions = call.press("#")
    assert isinstance(actions[0], act.StopPlayback)
    assert call.state.phase is Phase.VOICEMAIL_BEEP


def test_voicemail_max_length_timer_stops_recording(office: Flow) -> None:
    call = to_recording(office)
    actions = call.fire()
    assert act.StopRecording() in actions
    assert said(actions) == ["Thank you, your message has been saved. Goodbye."]
    call.finish()
    assert call.state.outcome == "voicemail left for general"


def test_recorder_stopping_on_its_own_ends_politely(office: Flow) -> None:
    call = to_recording(office)
    timer = call.state.timer
    actions = call.send(RecordingFinished(12.0))
    assert act.CancelTimer(timer or "") in actions
    assert call.state.phase is Phase.GOODBYE


def test_hangup_while_recording_keeps_the_message(office: Flow) -> None:
    call = to_recording(office)
    timer = call.state.timer
    actions = call.send(Hangup())
    assert actions == [act.CancelTimer(timer or ""), act.StopRecording()]
    assert call.state.phase is Phase.ENDED
    assert call.state.outcome == "voicemail left for general (caller hung up)"


def test_hangup_before_recording_leaves_no_message(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("5")
    actions = call.send(Hangup())
    assert act.StopRecording() not in actions
    assert call.state.outcome == "caller hung up during voicemail greeting"


# --- hangup ---------------------------------------------------------------------------------

LATER_EVENTS: list[Event] = [
    Digit("1"), Digit("#"), PromptFinished(1), PromptFinished(2), TimerFired("input:1"),
    TimerFired("digits:2"), TransferResult(True), TransferResult(False, "busy"),
    RecordingFinished(), Hangup(), CallStarted(TUESDAY_10),
]


@pytest.mark.parametrize("keys", ["", "2", "4", "5", "3", "1", "6"])
def test_hangup_ends_the_call_and_later_events_do_nothing(office: Flow, keys: str) -> None:
    call = Call(office)
    call.start()
    call.press(keys)
    armed = call.state.timer
    actions = call.send(Hangup())
    assert call.state.phase is Phase.ENDED
    assert call.state.timer is None
    if armed:
        assert act.CancelTimer(armed) in actions
    assert not of_type(actions, act.Play)
    ended = call.state
    for event in LATER_EVENTS:
        assert call.send(event) == []
        assert call.state == ended


def test_hangup_before_call_started(office: Flow) -> None:
    call = Call(office)
    assert call.send(Hangup()) == []
    assert call.state.phase is Phase.ENDED
    assert call.start() == []


def test_hangup_in_menu_outcome_names_the_menu(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("2")
    call.send(Hangup())
    assert call.state.outcome == "caller hung up in menu sub"


# --- languages and attendants -----------------------------------------------------------


def test_language_choice_changes_the_variant_spoken(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("7")
    assert call.state.language == "fr-FR"
    assert said(actions) == ["Menu principal."]
    say = of_type(actions, act.Play)[0].items[0]
    assert say.language == "fr-FR"
    actions = call.press("X")
    assert said(actions) == ["Désolé, ce choix n'est pas valide.", "Menu principal."]


def test_to_attendant_switches_attendant(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("8")
    assert call.state.attendant == "second"
    assert call.state.menu == "other"
    assert call.state.stack == ()
    assert call.state.flow_label == "business hours"
    assert said(actions) == ["Other line."]
    # second only speaks en-US, so a French caller carries on in its default language
    call = Call(office)
    call.start(language="fr-FR")
    call.press("8")
    assert call.state.language == "en-US"


def test_announcement_then_repeat(office: Flow) -> None:
    call = Call(office)
    call.start()
    actions = call.press("9")
    assert call.state.phase is Phase.ANNOUNCE
    assert said(actions) == ["We are at the harbour."]
    assert not of_type(actions, act.StartTimer)
    actions = call.finish()
    assert call.state.phase is Phase.MENU
    assert said(actions) == ["Main menu."]


def test_announcement_barge_in_skips_to_what_follows(office: Flow) -> None:
    call = Call(office)
    call.start()
    call.press("9")
    actions = call.press("1")
    assert isinstance(actions[0], act.StopPlayback)
    assert said(actions) == ["Main menu."]


# --- configuration loops -----------------------------------------------------------------


def test_synchronous_route_loop_ends_politely(build: Build) -> None:
    flow = build("""\
        version: 1
        attendants:
          main:
            name: Loop Co
            timezone: Europe/Paris
            business_hours: {menu: unused}
        menus:
          unused:
            prompt: Never heard.
            options:
              "1": disconnect
        """)
    flow = with_entry(flow, "main", language_then_main())
    call = Call(flow)
    actions = call.start()
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == "routing loop in configuration"
    assert said(actions) == ["Thank you for calling. Goodbye."]


def test_announcement_that_returns_to_itself_never_raises(build: Build) -> None:
    flow = build("""\
        version: 1
        attendants:
          main:
            name: Loop Co
            timezone: Europe/Paris
            business_hours: {menu: unused}
        menus:
          unused:
            prompt: Never heard.
            options:
              "1": disconnect
        """)
    flow = with_entry(flow, "main", announcement_then_main("Hello"))
    call = Call(flow)
    call.start()
    for _ in range(50):
        assert call.state.phase is Phase.ANNOUNCE
        actions = call.finish()
        assert said(actions) == ["Hello"]
    call.send(Hangup())
    assert call.state.phase is Phase.ENDED


def test_silent_caller_after_too_many_matches_is_not_kept_forever(office: Flow) -> None:
    call = name_entry(office)
    actions = call.press("76#")  # too many matches; the caller then says nothing at all
    assert said(actions) == ["Several people match. Please enter more letters."]
    assert call.state.invalid == 0  # not an invalid entry (docs/menu-language.md)
    assert call.state.buffer == "76"  # kept, so more letters can be added
    call.finish()
    actions = call.fire()  # nothing typed since: a timeout, and spelling starts again
    assert call.state.timeouts == 1
    assert call.state.buffer == ""
    assert said(actions)[-1].startswith("Please spell the name")
    for _ in range(20):
        if call.state.phase is not Phase.NAME_ENTRY:
            break
        if call.state.playing is not None:
            call.finish()
        if call.state.timer is not None:
            call.fire()
    # after max_invalid tries, on_max (the operator here) takes over
    assert call.state.phase is Phase.TRANSFERRING
    assert [t.key for t in of_type(call.last, act.Transfer)] == ["op"]


def test_more_letters_after_too_many_matches_narrow_the_search(office: Flow) -> None:
    call = name_entry(office)
    call.press("76#")
    call.finish()
    call.press("#")  # nothing added: the same search, which counts as a timeout
    assert call.state.timeouts == 1
    assert call.state.phase is Phase.NAME_ENTRY
    call.press("76#")
    call.press("4#")  # 764: Smith and Smithers
    assert call.state.phase is Phase.NAME_CHOICE
    assert call.state.candidates == ("alice", "bob")


def test_hangup_during_thanks_keeps_the_voicemail_outcome(office: Flow) -> None:
    call = to_recording(office)
    call.press("#")
    assert call.state.phase is Phase.GOODBYE
    call.send(Hangup())
    assert call.state.outcome.startswith("voicemail left for general")


def test_a_recorder_that_fails_at_once_apologises_and_keeps_no_message(office: Flow) -> None:
    call = to_recording(office)
    timer = call.state.timer
    actions = call.send(RecordingFinished(0.0, error="disk nearly full"))
    assert act.CancelTimer(timer or "") in actions
    assert said(actions) == ["Sorry, we cannot take your message right now. Please call again "
                             "later. Goodbye."]
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == "voicemail failed for general: disk nearly full"


def test_a_full_box_says_so_and_ends_the_call_when_it_has_no_when_full(office: Flow) -> None:
    call = to_recording(office)
    timer = call.state.timer
    actions = call.send(RecordingFinished(0.0, error="100 messages", box_full=True))
    assert act.CancelTimer(timer or "") in actions
    assert said(actions) == ["Sorry, this mailbox is full and cannot take any more messages.",
                             "Thank you for calling. Goodbye."]
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == "voicemail box general full (100 messages)"


def test_a_full_box_sends_the_caller_to_its_when_full_route(build: Build) -> None:
    flow = build(OFFICE.replace("    max_seconds: 60\n",
                                "    max_seconds: 60\n    when_full: {user: alice}\n"))
    call = to_recording(flow)
    actions = call.send(RecordingFinished(0.0, error="100 messages", box_full=True))
    assert said(actions)[0] == "Sorry, this mailbox is full and cannot take any more messages."
    assert [(t.kind, t.key) for t in of_type(actions, act.Transfer)] == [("user", "alice")]
    assert call.state.phase is Phase.TRANSFERRING


def test_a_recorder_cut_short_by_the_disk_keeps_what_it_had(office: Flow) -> None:
    call = to_recording(office)
    call.send(RecordingFinished(7.5, error="disk full"))
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == "voicemail left for general (cut short: disk full)"
