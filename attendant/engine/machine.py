"""``step``: one pure function that moves a call through a compiled flow.

The transitions table (:data:`TRANSITIONS`) sends each (phase, event type) to its
handler in the phase modules; the handlers that belong to no single phase (a call
starting, a hang-up, a prompt ending, a timer firing) live here. The package docstring
(:mod:`attendant.engine`) gives the theory of operation.
"""

from __future__ import annotations

from typing import Any

from attendant.engine import actions as act
from attendant.engine import (
    agents,
    directory,
    mailbox,
    mailbox_greetings,
    menus,
    queue_phase,
    routes,
    schedule,
    transfers,
    voicemail_phase,
)
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    GreetingRecorded,
    GreetingSaved,
    Hangup,
    MailboxOpened,
    MailboxPinSet,
    PinChecked,
    PromptFinished,
    QueueAnnouncement,
    QueueOutcome,
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import arm_timer, current_menu, say, start_play, timer_kind
from attendant.engine.state import CallState, Handler, Phase, Result, update
from attendant.model import Flow, Repeat


def step(flow: Flow, state: CallState, event: Event) -> Result:
    """Apply one event to one call: the new state and what to do now."""
    if state.phase is Phase.ENDED:
        return state, []
    if isinstance(event, Hangup):
        return _hangup(state)
    handler = TRANSITIONS.get((state.phase, type(event)))
    if handler is None:
        return state, []
    return handler(flow, state, event)


def _start(flow: Flow, state: CallState, event: CallStarted) -> Result:
    attendant = flow.attendant_for(event.called)
    language = event.language if event.language in attendant.languages else None
    label, route = schedule.select(attendant, event.at, event.overrides.get(attendant.key))
    state = update(
        state,
        attendant=attendant.key,
        language=language or attendant.default_language,
        flow_label=label,
        started=event.at,
        caller=flow.number(event.caller),  # "06 12…" from a national trunk: "+336 12…"
        entry=route,
        trusted=event.trusted,
        overrides=event.overrides,
        greetings=event.greetings,
    )
    return routes.run(flow, state, route)


_HUNG_UP_WHERE = {
    Phase.RECORDING: "while recording (message kept)",
    Phase.TRANSFERRING: "while the transfer was ringing",
    Phase.QUEUED: "while waiting in the queue",
    Phase.PIN_ENTRY: "while entering a PIN",
    Phase.PIN_CHECK: "while a PIN was checked",
    Phase.MAILBOX: "in the mailbox menu",
}


def _hangup(state: CallState) -> Result:
    outcome, ending = state.outcome, state.ending
    if state.phase is Phase.RECORDING:
        outcome, ending = f"voicemail left for {state.box} (caller hung up)", Outcome.VOICEMAIL
    elif state.phase is Phase.MAILBOX and state.mailbox is not None and state.mailbox.open:
        outcome, ending = f"listened to mailbox {state.mailbox.box}", Outcome.MAILBOX
    elif state.phase not in (Phase.CONNECTED, Phase.GOODBYE):
        # During the goodbye the outcome is already decided (a message saved, say).
        if state.phase is Phase.MENU:
            where = f"in menu {state.menu}"
        else:
            where = _HUNG_UP_WHERE.get(state.phase) or (
                f"during {state.phase.value.replace('_', ' ')}")
        outcome = f"caller hung up {where}"
        ending = Outcome.ABANDONED if state.phase is Phase.QUEUED else Outcome.CALLER_HANGUP
    ended = update(state, phase=Phase.ENDED, playing=None, timer=None, outcome=outcome,
                   ending=ending)
    out: list[act.Action] = [act.CancelTimer(state.timer)] if state.timer else []
    if state.phase is Phase.RECORDING:
        out.append(act.StopRecording())
    elif state.phase is Phase.QUEUED:
        out.append(act.LeaveQueue())
    return ended, out


def _prompt_finished(flow: Flow, state: CallState, event: PromptFinished) -> Result:
    if event.token != state.playing:
        return state, []
    if state.phase is Phase.MENU:
        return arm_timer(state, "input", current_menu(flow, state).timeout, playing=None)
    if state.phase in (Phase.NAME_ENTRY, Phase.EXTENSION_ENTRY, Phase.NAME_CHOICE):
        if state.buffer:
            return arm_timer(state, "digits", current_menu(flow, state).inter_digit_timeout,
                             playing=None)
        return arm_timer(state, "input", current_menu(flow, state).timeout, playing=None)
    state = update(state, playing=None)
    if state.phase is Phase.ANNOUNCE:
        return routes.run(flow, state, state.pending or Repeat())
    if state.phase is Phase.GOODBYE:
        return update(state, phase=Phase.ENDED), [act.Disconnect(state.outcome or "goodbye")]
    if state.phase is Phase.PIN_ENTRY:
        return arm_timer(state, "pin", current_menu(flow, state).timeout)
    if state.phase is Phase.VOICEMAIL_GREETING:
        return voicemail_phase.beep(flow, state)
    if state.phase is Phase.VOICEMAIL_BEEP:
        return voicemail_phase.record(flow, state)
    if state.phase is Phase.MAILBOX:
        return mailbox.prompt_finished(flow, state)
    if state.phase is Phase.QUEUED and state.queue_music:
        music = say(flow, state, queue_phase.queue_music(flow, state))
        return start_play(state, (music,), barge_in=False)
    return state, []


def _timer_fired(flow: Flow, state: CallState, event: TimerFired) -> Result:
    if event.name != state.timer:
        return state, []
    kind = timer_kind(state)
    state = update(state, timer=None)
    if state.phase is Phase.RECORDING:
        return voicemail_phase.stop_recording(flow, state)
    if state.phase is Phase.PIN_ENTRY:
        return agents.pin_timeout(flow, state)
    if state.phase is Phase.MAILBOX:
        return mailbox.timeout(flow, state)
    if kind == "digits":
        return menus.resolve_menu(flow, state, final=True)
    return menus.no_input(flow, state)


def _ignore(flow: Flow, state: CallState, event: Any) -> Result:
    return state, []


_WAITING = (Phase.MENU, Phase.NAME_ENTRY, Phase.NAME_CHOICE, Phase.EXTENSION_ENTRY,
            Phase.ANNOUNCE, Phase.GOODBYE, Phase.VOICEMAIL_GREETING, Phase.VOICEMAIL_BEEP,
            Phase.PIN_ENTRY, Phase.MAILBOX)


#: (phase, event type) -> handler. Pairs not listed are ignored (see the module docstring).
TRANSITIONS: dict[tuple[Phase, type], Handler] = {
    (Phase.NEW, CallStarted): _start,
    **{(phase, PromptFinished): _prompt_finished for phase in _WAITING},
    **{(phase, PromptFinished): _prompt_finished for phase in
       (Phase.TRANSFERRING, Phase.QUEUED, Phase.RECORDING)},
    **{(phase, TimerFired): _timer_fired for phase in
       (Phase.MENU, Phase.NAME_ENTRY, Phase.NAME_CHOICE, Phase.EXTENSION_ENTRY, Phase.RECORDING,
        Phase.PIN_ENTRY, Phase.MAILBOX)},
    (Phase.MENU, Digit): menus.menu_digit,
    (Phase.PIN_ENTRY, Digit): agents.pin_digit,
    (Phase.PIN_CHECK, PinChecked): agents.pin_checked,
    (Phase.MAILBOX, Digit): mailbox.digit,
    (Phase.MAILBOX, MailboxOpened): mailbox.opened,
    (Phase.MAILBOX, MailboxPinSet): mailbox.pin_set,
    (Phase.MAILBOX, GreetingRecorded): mailbox_greetings.recorded,
    (Phase.MAILBOX, GreetingSaved): mailbox_greetings.saved,
    (Phase.NAME_ENTRY, Digit): directory.entry_digit,
    (Phase.NAME_CHOICE, Digit): directory.entry_digit,
    (Phase.EXTENSION_ENTRY, Digit): directory.entry_digit,
    (Phase.ANNOUNCE, Digit): menus.announce_digit,
    (Phase.VOICEMAIL_GREETING, Digit): voicemail_phase.greeting_digit,
    (Phase.RECORDING, Digit): voicemail_phase.recording_digit,
    (Phase.RECORDING, RecordingFinished): voicemail_phase.recording_finished,
    (Phase.TRANSFERRING, TransferResult): transfers.handover_result,
    (Phase.QUEUED, TransferResult): transfers.handover_result,
    (Phase.QUEUED, QueueAnnouncement): queue_phase.queue_announcement,
    (Phase.QUEUED, QueueOutcome): queue_phase.queue_outcome,
    (Phase.QUEUED, Digit): queue_phase.queue_key,
    (Phase.CONNECTED, Digit): _ignore,
}
