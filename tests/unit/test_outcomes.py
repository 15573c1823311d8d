"""Every way a call can end gets its own Outcome label, set by the engine beside its wording."""

from __future__ import annotations

from datetime import datetime

import pytest
from flow_surgery import compile_text

from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    Hangup,
    MailboxOpened,
    PromptFinished,
    QueueOutcome,
    RecordingFinished,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase, initial_state
from attendant.model import Flow

MENU = """\
version: 1
attendants:
  main:
    name: Test Co
    timezone: UTC
    business_hours: {menu: m}
    override_by: [anna]
menus:
  m:
    prompt: Hello.
    repeat_key: null
    options:
      "1": {user: anna}
      "2": {queue: sales}
      "3": {voicemail: box}
      "9": disconnect
      "*71": {agent: sign_in}
      "*80": {override: closed}
      "*98": {mailbox: self}
directory:
  users:
    anna: {name: Anna, extension: "201"}
queues:
  sales: {name: Sales, agents: [{user: anna}]}
voicemail:
  box: {name: Box}
"""

#: Set by an adapter only (``serve``, when a safety limit ends the call).
ADAPTER_ONLY = {Outcome.CALLER_GONE}


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    return compile_text(tmp_path_factory.mktemp("outcomes"), MENU)


def run(flow: Flow, script: list[str | Event], caller: str = "+15550001",
        trusted: bool = False) -> CallState:
    """Start a call, then send ``script``: keys, "f" (the prompt playing ends) or events."""
    state, _ = step(flow, initial_state(), CallStarted(datetime(2026, 12, 1, 10), caller,
                                                       trusted=trusted))
    for item in script:
        if item == "f":
            assert state.playing is not None, state
            events: list[Event] = [PromptFinished(state.playing)]
        elif isinstance(item, str):
            events = [Digit(key) for key in item]
        else:
            events = [item]
        for event in events:
            state, _ = step(flow, state, event)
    return state


BUSY = TransferResult(False, "busy")
#: Way of ending -> (what the caller and the adapters do, keyword arguments of ``run``).
WAYS: dict[str, tuple[list[str | Event], dict[str, str | bool], Outcome]] = {
    "a transfer answered, then hung up": (["1", TransferResult(True), Hangup()], {},
                                          Outcome.ANSWERED_TRANSFER),
    "answered by a queue's agent": (["2", QueueOutcome("connected", agent="anna"), Hangup()],
                                    {}, Outcome.ANSWERED_BY_AGENT),
    "ended by the adapter while queued": (["2"], {}, Outcome.QUEUED),
    "hung up while queued": (["2", Hangup()], {}, Outcome.ABANDONED),
    "a callback requested": (["2", QueueOutcome("callback"), "f"], {},
                             Outcome.CALLBACK_REQUESTED),
    "a message left": (["3", "f", "f", RecordingFinished(12.0), "f"], {}, Outcome.VOICEMAIL),
    "a message left, then hung up": (["3", "f", "f", Hangup()], {}, Outcome.VOICEMAIL),
    "the box full": (["3", "f", "f", RecordingFinished(0, "box full", box_full=True), "f"],
                     {}, Outcome.VOICEMAIL_FULL),
    "storage failed": (["3", "f", "f", RecordingFinished(0, "disk full"), "f"], {},
                       Outcome.FAILED),
    "hung up in a menu": ([Hangup()], {}, Outcome.CALLER_HANGUP),
    "hung up while a transfer rang": (["1", Hangup()], {}, Outcome.CALLER_HANGUP),
    "the flow said goodbye": (["9", "f"], {}, Outcome.DISCONNECTED),
    "every transfer failed": (["1", BUSY, "1", BUSY, "1", BUSY, "1", BUSY, "f"], {},
                              Outcome.TRANSFER_FAILED),
    "an agent signed in": (["*71", "f"], {"caller": "201", "trusted": True},
                           Outcome.AGENT_COMMAND),
    "a feature code from someone else": (["*71", "f"], {}, Outcome.FEATURE_REFUSED),
    "staff closed the line from a phone": (["*80", "f"], {"caller": "201", "trusted": True},
                                           Outcome.OVERRIDE_SET),
    "the owner listened to a mailbox": (["*98", "1234#", MailboxOpened(True), "*", "f"],
                                        {"caller": "201"}, Outcome.MAILBOX),
    "the mailbox refused a PIN": (["*98", "1234#", MailboxOpened(False, refusal="locked"),
                                   "f"], {"caller": "201"}, Outcome.MAILBOX_REFUSED),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_each_way_a_call_ends_gets_its_own_label(flow: Flow, way: str) -> None:
    script, options, expected = WAYS[way]
    state = run(flow, script, caller=str(options.get("caller", "+15550001")),
                trusted=bool(options.get("trusted", False)))
    assert state.ending is expected, (state.phase, state.outcome)
    assert state.outcome  # the wording is there for people
    # A queued call is ended by the adapter (the server stops, say); the rest have ended.
    assert (state.phase is Phase.QUEUED) == (expected is Outcome.QUEUED)
    assert state.phase in (Phase.ENDED, Phase.QUEUED)


def test_a_call_that_never_started_is_not_started() -> None:
    assert initial_state().ending is Outcome.NOT_STARTED


def test_the_ways_above_cover_every_label_the_engine_sets() -> None:
    covered = {expected for _, _, expected in WAYS.values()} | {Outcome.NOT_STARTED}
    assert covered | ADAPTER_ONLY == set(Outcome)
