"""Greetings recorded by phone, from the mailbox menu (key ``5`` of its main menu).

The greetings menu: ``1`` the unavailable greeting, ``2`` the busy one, ``3`` the
owner's name, ``4`` a temporary greeting (over the others until removed), ``6`` remove
the temporary greeting, ``*`` the main menu. Recording one: a prompt and the beep,
then the adapter records (``RecordGreeting``) until ``#`` or the kind's longest
(:data:`GREETING_SECONDS`); it reports the take (``GreetingRecorded``), which is played
back; then ``1`` keeps it (``SaveGreeting``: the adapter converts it like an uploaded
greeting and answers ``GreetingSaved``), ``2`` records again, ``3`` plays it again,
``*`` drops it. Steps of :class:`~attendant.engine.state.MailboxSession`: ``greetings``,
``greeting_intro``, ``greeting_recording``, ``greeting_stopping``, ``greeting_review``,
``greeting_saving``.
"""

from __future__ import annotations

from dataclasses import replace

from attendant.engine import actions as act
from attendant.engine import mailbox
from attendant.engine.events import GreetingRecorded, GreetingSaved
from attendant.engine.playback import arm_timer, cancel_timer, say, start_play, system
from attendant.engine.state import CallState, MailboxSession, Phase, Result, update
from attendant.model import File, Flow

#: The kinds of greeting a mailbox has, in the order a caller's case looks for them.
GREETING_KINDS = ("temporary", "busy", "unavailable", "name")
#: The longest greeting of each kind, in seconds.
GREETING_SECONDS = {"temporary": 120, "busy": 120, "unavailable": 120, "name": 10}
#: Shorter takes are not offered for keeping (a key pressed by mistake).
MIN_TAKE_SECONDS = 0.5
_KIND_KEYS = {"1": "unavailable", "2": "busy", "3": "name", "4": "temporary"}
#: Steps that wait for a key (prompts said again when none comes).
KEY_STEPS = ("greetings", "greeting_review")


def greetings_menu(flow: Flow, state: CallState, session: MailboxSession,
                   preface: tuple[act.Say, ...] = ()) -> Result:
    items = (*preface, say(flow, state, system(flow, "mailbox_greetings_menu")))
    return start_play(state, items, phase=Phase.MAILBOX,
                      mailbox=replace(session, step="greetings", greeting_kind="",
                                      greeting_take=""), buffer="")


def key(flow: Flow, state: CallState, session: MailboxSession, pressed: str) -> Result:
    """A key in a greetings step."""
    if session.step == "greetings":
        if pressed in _KIND_KEYS:
            return _intro(flow, state, replace(session, greeting_kind=_KIND_KEYS[pressed]))
        if pressed == "6":
            said = say(flow, state, system(flow, "mailbox_greeting_removed"))
            state, out = greetings_menu(flow, state, session, (said,))
            return state, [act.ClearGreeting(session.box, "temporary"), *out]
        if pressed == "*":
            return mailbox.main_menu(flow, state, session)
        return greetings_menu(flow, state, session,
                              (say(flow, state, system(flow, "invalid")),))
    if session.step == "greeting_review":
        if pressed == "1":
            state = update(state, mailbox=replace(session, step="greeting_saving"))
            return state, [act.SaveGreeting(session.box, session.greeting_kind,
                                            session.greeting_take)]
        if pressed == "2":
            return _intro(flow, state, session)
        if pressed == "3":
            return review(flow, state, session)
        if pressed == "*":
            return greetings_menu(flow, state, session)
        return review(flow, state, session, (say(flow, state, system(flow, "invalid")),),
                      again=False)
    return state, []  # intro, recording (# is handled below), stopping, saving


def _intro(flow: Flow, state: CallState, session: MailboxSession) -> Result:
    """"Record your greeting after the tone", the beep; it cannot be interrupted."""
    name = "mailbox_record_name" if session.greeting_kind == "name" else "mailbox_record_greeting"
    items = (say(flow, state, system(flow, name)), say(flow, state, system(flow, "beep")))
    return start_play(state, items, False, phase=Phase.MAILBOX,
                      mailbox=replace(session, step="greeting_intro", greeting_take=""))


def record(flow: Flow, state: CallState, session: MailboxSession) -> Result:
    """The beep ended: record until ``#`` or the kind's longest."""
    seconds = GREETING_SECONDS[session.greeting_kind]
    state = update(state, mailbox=replace(session, step="greeting_recording"))
    state, timer = arm_timer(state, "record", seconds)
    return state, [act.RecordGreeting(session.box, session.greeting_kind, seconds), *timer]


def stop(flow: Flow, state: CallState, session: MailboxSession) -> Result:
    """``#`` or the longest reached: the adapter stops and reports the take."""
    state, out = cancel_timer(state)
    state = update(state, mailbox=replace(session, step="greeting_stopping"))
    return state, [*out, act.StopRecording()]


def recorded(flow: Flow, state: CallState, event: GreetingRecorded) -> Result:
    session = state.mailbox
    if session is None or session.step not in ("greeting_recording", "greeting_stopping"):
        return state, []
    state, out = cancel_timer(state)
    if event.error or event.seconds < MIN_TAKE_SECONDS or not event.path:
        said = say(flow, state, system(flow, "mailbox_greeting_not_saved"))
        state, more = greetings_menu(flow, state, session, (said,))
        return state, out + more
    state, more = review(flow, state, replace(session, greeting_take=event.path))
    return state, out + more


def review(flow: Flow, state: CallState, session: MailboxSession,
           preface: tuple[act.Say, ...] = (), again: bool = True) -> Result:
    """Play the take back ("Here is your greeting"), then ask what to do with it."""
    items = list(preface)
    if again:
        items += [say(flow, state, system(flow, "mailbox_greeting_is")),
                  act.Say(f"greeting.{session.box}.take", state.language,
                          (File(session.greeting_take),))]
    items.append(say(flow, state, system(flow, "mailbox_greeting_review")))
    return start_play(state, tuple(items), phase=Phase.MAILBOX,
                      mailbox=replace(session, step="greeting_review"), buffer="")


def saved(flow: Flow, state: CallState, event: GreetingSaved) -> Result:
    session = state.mailbox
    if session is None or session.step != "greeting_saving":
        return state, []
    said = system(flow, "mailbox_greeting_saved" if event.ok else "mailbox_greeting_not_saved")
    return greetings_menu(flow, state, session, (say(flow, state, said),))
