"""Leaving a message: the box's greeting, the beep, recording, and the end of it
(saved, cut short, failed, or the box full).
"""

from __future__ import annotations

from attendant.engine import actions as act
from attendant.engine import routes
from attendant.engine.events import Digit, RecordingFinished
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import (
    arm_timer,
    cancel_timer,
    goodbye,
    say,
    start_play,
    stop_playback,
    system,
)
from attendant.engine.state import CallState, Phase, Result, update
from attendant.model import File, Flow, VoicemailBox


def enter_voicemail(flow: Flow, state: CallState, key: str, preface: tuple[act.Say, ...]) -> Result:
    box = flow.voicemail.get(key)
    if box is None:
        return goodbye(flow, state, None, preface, f"unknown voicemail box {key}",
                       Outcome.FAILED)
    return start_play(state, (*preface, *greeting(flow, state, box)),
                      phase=Phase.VOICEMAIL_GREETING, box=key,
                      outcome=f"voicemail for {key} (no message)", ending=Outcome.DISCONNECTED)


def greeting(flow: Flow, state: CallState, box: VoicemailBox) -> tuple[act.Say, ...]:
    """What a caller reaching ``box`` hears before the beep: the owner's temporary
    greeting; else their busy one when the owner was busy; else their unavailable one;
    else the box's configured ``greeting``; else "NAME is not available" with the name
    they recorded, then the standard greeting; else the standard greeting."""
    recorded = state.greetings.get(box.key, {})
    for kind in ("temporary", "busy", "unavailable"):
        if kind in recorded and (kind != "busy" or state.transfer_reason == "busy"):
            return (_recorded(state, box.key, kind, recorded[kind]),)
    if box.greeting is not None:
        return (say(flow, state, box.greeting),)
    standard = say(flow, state, system(flow, "voicemail_greeting"))
    if "name" in recorded:
        return (_recorded(state, box.key, "name", recorded["name"]),
                say(flow, state, system(flow, "voicemail_not_available")), standard)
    return (standard,)


def _recorded(state: CallState, box: str, kind: str, path: str) -> act.Say:
    return act.Say(f"greeting.{box}.{kind}", state.language, (File(path),))


def beep(flow: Flow, state: CallState) -> Result:
    return start_play(state, (say(flow, state, system(flow, "beep")),), False,
                      phase=Phase.VOICEMAIL_BEEP)


def greeting_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if event.key != "#":
        return state, []
    state, out = stop_playback(state)
    result = beep(flow, state)
    return result[0], out + result[1]


def record(flow: Flow, state: CallState) -> Result:
    box = flow.voicemail[state.box or ""]
    state = update(state, phase=Phase.RECORDING, outcome=f"voicemail left for {box.key}",
                   ending=Outcome.VOICEMAIL)
    state, timer = arm_timer(state, "record", box.max_seconds)
    return state, [act.RecordVoicemail(box.key, box.max_seconds), *timer]


def stop_recording(flow: Flow, state: CallState) -> Result:
    return thank_for_message(flow, state, stop_recorder=True)


def thank_for_message(flow: Flow, state: CallState, stop_recorder: bool) -> Result:
    """The message is kept: thank the caller, then hang up (``stop_recorder`` if it still runs)."""
    state, out = cancel_timer(state)
    if stop_recorder:
        out.append(act.StopRecording())
    state, play = start_play(state, (say(flow, state, system(flow, "voicemail_thanks")),), False,
                             phase=Phase.GOODBYE)
    return state, out + play


def recording_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if event.key != "#":
        return state, []
    return stop_recording(flow, state)


def recording_finished(flow: Flow, state: CallState, event: RecordingFinished) -> Result:
    if event.box_full:
        return box_full(flow, state, event.error)
    if not event.error:
        return thank_for_message(flow, state, stop_recorder=False)
    # Storage failed: never silence, never a false "saved". Apologise and end the call.
    box = state.box or "?"
    outcome = (f"voicemail left for {box} (cut short: {event.error})" if event.seconds > 0
               else f"voicemail failed for {box}: {event.error}")
    ending = Outcome.VOICEMAIL if event.seconds > 0 else Outcome.FAILED
    state, out = cancel_timer(update(state, outcome=outcome, ending=ending))
    state, play = start_play(state, (say(flow, state, system(flow, "voicemail_failed")),), False,
                             phase=Phase.GOODBYE)
    return state, out + play


def box_full(flow: Flow, state: CallState, why: str) -> Result:
    """The box takes no more messages: say so, then its ``when_full`` route or goodbye."""
    box = flow.voicemail[state.box or ""]
    state, out = cancel_timer(update(state, outcome=f"voicemail box {box.key} full",
                                        ending=Outcome.VOICEMAIL_FULL))
    sorry = (say(flow, state, system(flow, "voicemail_full")),)
    if box.when_full is None:
        result = goodbye(flow, state, None, sorry, f"voicemail box {box.key} full ({why})",
                         Outcome.VOICEMAIL_FULL)
    else:
        result = routes.run(flow, state, box.when_full, sorry)
    return result[0], out + result[1]
