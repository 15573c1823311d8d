"""Agent feature codes (issue 5): ``{agent: sign_in|sign_out|opt_in|opt_out}`` on a menu."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant import compile_path
from attendant.cli import main
from attendant.engine import actions as act
from attendant.engine.agents import agent_for_caller
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    PinChecked,
    PromptFinished,
    TimerFired,
)
from attendant.engine.machine import step
from attendant.engine.state import Phase, initial_state
from attendant.model import Flow, Text, frozen_map
from attendant.pins import PinError, hash_pin, verify_pin

MENU = """\
version: 1
attendants:
  main:
    name: Test Co
    timezone: UTC
    business_hours: {menu: m}
menus:
  m:
    prompt: Hello.
    repeat_key: null
    options:
      "1": {queue: sales}
      "*71": {agent: sign_in}
      "*72": {agent: sign_out}
      "*73": {agent: opt_in, queue: sales}
      "*74": {agent: opt_out, queue: sales}
directory:
  users:
    anna: {name: Anna, extension: "201", sip: "sip:anna.s@pbx.example;transport=tcp"}
    ben: {name: Ben, sip: "sip:ben@pbx.example", phones: ["+15550001"]}
    carl: {name: Carl, extension: "203"}
queues:
  sales: {name: Sales, agents: [{user: anna}, {user: ben}]}
"""


def compiled(tmp_path: Path, text: str) -> tuple[Flow | None, list[str]]:
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = compile_path(path)
    return result.flow, [d.format() for d in result.diagnostics]


@pytest.fixture
def flow(tmp_path: Path) -> Flow:
    found, messages = compiled(tmp_path, MENU)
    assert found is not None, messages
    assert [m for m in messages if "have no pin:" not in m] == [], messages
    return found


def dial(flow: Flow, caller: str, keys: str,
         trusted: bool = True) -> tuple[Phase, list[act.Action], str]:
    """Dial ``keys``; by default from a trusted source (no PIN asked, see the PIN tests)."""
    state, out = step(flow, initial_state(), CallStarted(datetime(2026, 12, 1, 10), caller,
                                                         trusted=trusted))
    actions: list[act.Action] = []
    for key in keys:
        state, out = step(flow, state, Digit(key))
        actions += out
    return state.phase, actions, state.outcome


def said(actions: list[act.Action]) -> list[str]:
    return [" ".join(f.text for f in item.fragments if isinstance(f, Text))
            for a in actions if isinstance(a, act.Play) for item in a.items]


@pytest.mark.parametrize(("caller", "user"), [
    ("201", "anna"), ("anna.s", "anna"), ("ben", "ben"), ("+15550001", "ben"),
    ("203", "carl"), ("+15559999", None), ("", None)])
def test_the_caller_is_matched_by_extension_sip_user_or_phones(flow: Flow, caller: str,
                                                               user: str | None) -> None:
    assert agent_for_caller(flow, caller) == user


def test_a_sip_address_written_with_a_display_name_still_names_its_user(flow: Flow) -> None:
    # One URI parser (attendant.uris) for the engine and the SIP adapter: the colon in the
    # display name is not the scheme's.
    anna = replace(flow.users["anna"], sip='"Anna: Sales" <sip:anna.s@pbx.example>')
    patched = replace(flow, users=frozen_map({**flow.users, "anna": anna}))
    assert agent_for_caller(patched, "anna.s") == "anna"


@pytest.mark.parametrize(("keys", "command", "queue", "heard"), [
    ("*71", "sign_in", None, "You are signed in to your queues."),
    ("*72", "sign_out", None, "You are signed out of your queues."),
    ("*73", "opt_in", "sales", "You will now receive calls from this queue."),
    ("*74", "opt_out", "sales", "You will no longer receive calls from this queue."),
])
def test_feature_code_emits_agent_command_confirms_and_says_goodbye(
        flow: Flow, keys: str, command: str, queue: str | None, heard: str) -> None:
    phase, actions, outcome = dial(flow, "201", keys)
    assert act.AgentCommand("anna", command, queue) in actions  # type: ignore[arg-type]
    assert said(actions) == [heard, "Thank you for calling. Goodbye."]
    assert phase is Phase.GOODBYE
    assert outcome.startswith("agent anna ")


@pytest.mark.parametrize("caller", ["+15559999", "203"])  # unknown, and a user who is no agent
def test_a_caller_who_is_not_an_agent_hears_so_and_nothing_is_applied(flow: Flow,
                                                                       caller: str) -> None:
    phase, actions, outcome = dial(flow, caller, "*71")
    assert not [a for a in actions if isinstance(a, act.AgentCommand)]
    assert said(actions)[0] == "Sorry, this phone is not recognised as an agent's phone."
    assert phase is Phase.GOODBYE
    assert "is not an agent" in outcome


def test_french_callers_hear_french_confirmations(tmp_path: Path) -> None:
    french = MENU.replace("    timezone: UTC\n", "    timezone: UTC\n    languages: [fr-FR]\n")
    found, messages = compiled(tmp_path, french)
    assert found is not None, messages
    _, actions, _ = dial(found, "201", "*72")
    assert said(actions)[0] == "Vous êtes déconnecté de vos files d'attente."


def test_confirmation_prompts_can_be_replaced(tmp_path: Path) -> None:
    found, messages = compiled(tmp_path, MENU + "prompts:\n  agent_signed_in: Hi agent.\n")
    assert found is not None, messages
    _, actions, _ = dial(found, "ben", "*71")
    assert said(actions)[0] == "Hi agent."


@pytest.mark.parametrize(("option", "message"), [
    ("{agent: opt_in}", "(opt_in) needs a queue"),
    ("{agent: opt_out, queue: salez}", 'names unknown queue "salez"'),
    ("{agent: sign_in, queue: sales}", "acts on every queue"),
    ("{agent: dance}", "agent"),
])
def test_checks_report_feature_codes_that_cannot_work(tmp_path: Path, option: str,
                                                      message: str) -> None:
    _, messages = compiled(tmp_path, MENU.replace('"*71": {agent: sign_in}',
                                                  f'"*71": {option}'))
    assert any(message in m for m in messages), messages


def test_checks_warn_when_no_agent_could_ever_be_recognised(tmp_path: Path) -> None:
    text = MENU.replace("agents: [{user: anna}, {user: ben}]", "agents: []")
    found, messages = compiled(tmp_path, text)
    assert found is not None, messages
    assert any("no queue agent has an extension" in m and "warning" in m for m in messages), \
        messages


# --- PINs: a caller ID proves nothing, so untrusted calls must know the agent's PIN ---------

PIN = hash_pin("4321", salt=b"0123456789abcdef")


@pytest.fixture
def pinned(tmp_path: Path) -> Flow:
    text = MENU.replace('extension: "201", ', f'extension: "201", pin: "{PIN}", ')
    found, messages = compiled(tmp_path, text)
    assert found is not None, messages
    return found


class PinCall:
    """One untrusted call that answers VerifyPin as an adapter would (pins.verify_pin)."""

    def __init__(self, flow: Flow, caller: str) -> None:
        self.flow = flow
        self.state, _ = step(flow, initial_state(), CallStarted(datetime(2026, 12, 1, 10),
                                                                caller))
        self.actions: list[act.Action] = []

    def press(self, keys: str) -> None:
        for key in keys:
            self._send(Digit(key))

    def _send(self, event: Event) -> None:
        self.state, out = step(self.flow, self.state, event)
        self.actions += out
        for action in out:
            if isinstance(action, act.VerifyPin):
                stored = self.flow.users[action.user].pin or ""
                self._send(PinChecked(verify_pin(stored, action.digits)))


def test_an_untrusted_feature_code_asks_for_the_pin_and_the_right_one_applies_it(
        pinned: Flow) -> None:
    call = PinCall(pinned, "201")
    call.press("*72")
    assert call.state.phase is Phase.PIN_ENTRY
    assert said(call.actions) == ["Please enter your PIN, then press pound."]
    assert not [a for a in call.actions if isinstance(a, act.AgentCommand)]
    call.press("4321#")
    assert act.AgentCommand("anna", "sign_out", None) in call.actions
    assert call.state.outcome == "agent anna signs out"
    assert "4321" not in repr(call.state)  # the digits left the state with VerifyPin
    assert "4321" not in repr([a for a in call.actions if isinstance(a, act.VerifyPin)])


def test_three_wrong_pins_end_the_call_and_apply_nothing(pinned: Flow) -> None:
    call = PinCall(pinned, "201")
    call.press("*71")
    call.press("1111#")
    assert call.state.phase is Phase.PIN_ENTRY
    assert said(call.actions)[-2:] == ["Sorry, that PIN is not correct.",
                                       "Please enter your PIN, then press pound."]
    call.press("2222#3333#")
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == ("feature code sign_in refused: wrong PIN 3 times for "
                                  "agent anna")
    assert not [a for a in call.actions if isinstance(a, act.AgentCommand)]


def test_an_agent_without_a_pin_can_use_feature_codes_only_from_a_trusted_source(
        flow: Flow) -> None:
    phase, actions, outcome = dial(flow, "201", "*71", trusted=False)
    assert not [a for a in actions if isinstance(a, act.AgentCommand)]
    assert said(actions)[0].startswith("Sorry, feature codes need a PIN")
    assert outcome == ("feature code sign_in refused: agent anna has no PIN and the call is "
                       "not from a trusted source")
    assert phase is Phase.GOODBYE


def test_no_pin_entered_ends_the_call_when_the_timer_fires(pinned: Flow) -> None:
    call = PinCall(pinned, "201")
    call.press("*71")
    call._send(PromptFinished(call.state.playing or 0))
    timer = call.state.timer
    assert timer is not None
    call._send(TimerFired(timer))
    assert call.state.phase is Phase.GOODBYE
    assert call.state.outcome == "feature code sign_in: no PIN entered"


def test_a_pin_hash_that_is_not_one_is_refused_at_validation(tmp_path: Path) -> None:
    text = MENU.replace('extension: "201", ', 'extension: "201", pin: "4321", ')
    found, messages = compiled(tmp_path, text)
    assert found is None
    assert any('the pin of user "anna" is not a PIN hash' in m for m in messages), messages
    assert any("attendant pin hash" in m for m in messages), messages


def test_pin_hashes_verify_only_the_right_pin_and_never_raise() -> None:
    assert verify_pin(PIN, "4321")
    assert not verify_pin(PIN, "4322")
    assert not verify_pin(PIN, "")
    assert not verify_pin("scrypt$1048576$8$1$AAAA$AAAA", "4321")  # N too large: refused
    assert not verify_pin("plain", "4321")
    assert hash_pin("4321") != hash_pin("4321")  # salted
    with pytest.raises(PinError, match="4 to 12 digits"):
        hash_pin("12a4")


def test_validation_warns_once_when_agents_without_a_pin_are_offered_feature_codes(
        tmp_path: Path) -> None:
    _, messages = compiled(tmp_path, MENU)
    pin_warnings = [m for m in messages if "have no pin:" in m]
    assert len(pin_warnings) == 1, messages  # four feature codes, one warning
    assert "warning:" in pin_warnings[0]
    assert "anna, ben have no pin:" in pin_warnings[0]
    assert "attendant pin hash" in pin_warnings[0]
    pinned_all = MENU.replace('extension: "201", ', f'extension: "201", pin: "{PIN}", ').replace(
        'phones: ["+15550001"]', f'phones: ["+15550001"], pin: "{PIN}"')
    _, messages = compiled(tmp_path, pinned_all)
    assert messages == []


def test_attendant_pin_hash_prints_a_hash_that_verifies_and_refuses_a_bad_pin() -> None:
    result = CliRunner().invoke(main, ["pin", "hash", "--stdin"], input="97531\n")
    assert result.exit_code == 0, result.output
    assert verify_pin(result.output.strip(), "97531")
    result = CliRunner().invoke(main, ["pin", "hash", "--stdin"], input="12\n")
    assert result.exit_code == 1
    assert "4 to 12 digits" in result.output
