"""Agent feature codes (issue 5): ``{agent: sign_in|sign_out|opt_in|opt_out}`` on a menu."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from attendant import actions as act
from attendant import compile_path
from attendant.engine import Phase, agent_for_caller, initial_state, step
from attendant.events import CallStarted, Digit
from attendant.model import Flow, Text

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
    assert not messages, messages
    return found


def dial(flow: Flow, caller: str, keys: str) -> tuple[Phase, list[act.Action], str]:
    state, out = step(flow, initial_state(), CallStarted(datetime(2026, 12, 1, 10), caller))
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
