"""The mailbox menu: a box's owner listens to its messages by phone.

Reached by the ``{mailbox: BOX}`` / ``{mailbox: self}`` route (a menu key, a feature
code such as ``*98``, a number of its own). The caller gives the mailbox number (not
asked when their phone is the owner's: ``*`` at the PIN prompt asks it anyway) and the
PIN; the adapter checks the PIN off the call's thread (``OpenMailbox``) and answers
with the box's messages (``MailboxOpened``), or why not: three wrong PINs end the call,
and the adapter locks a source out after repeated failures. Then:

* the main menu: the counts of new and saved messages, then ``1`` new messages, ``2``
  saved, ``3`` deleted, ``5`` greetings (recorded by phone:
  :mod:`attendant.engine.mailbox_greetings`), ``8`` change the PIN, ``*`` hang up;
* each message: its envelope (number, when it came, from whom, how long), the audio
  (``PlayMessage``), then its options: ``1`` again, ``2`` save, ``3`` delete (or
  undelete, in the deleted folder), ``4`` previous, ``5`` envelope, ``6`` next, ``7`` /
  ``9`` back / forward :data:`SKIP_SECONDS` while the audio plays, ``8`` call the caller
  back (numbers on the external allow-list only), ``*`` the main menu.

A message heard to its end, or left with a key, is marked read (saved folder). The
engine keeps its own copy of the box's messages and tells the adapter each change
(``MarkMessage``), so what the owner hears stays consistent within the call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from attendant.engine import actions as act
from attendant.engine import mailbox_greetings, routes
from attendant.engine.agents import MAX_PIN_DIGITS, MAX_PIN_TRIES, agent_for_caller
from attendant.engine.events import Digit, MailboxOpened, MailboxPinSet, StoredMessage
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import arm_timer, goodbye, interrupt, say, start_play, system
from attendant.engine.state import CallState, MailboxSession, Phase, Result, update
from attendant.model import Digits, Flow, MailboxMenu, Number, Text, ToExternal
from attendant.numbers import allowed
from attendant.pins import MAX_DIGITS, MIN_DIGITS

#: Seconds the mailbox menu waits for a key after a prompt.
MAILBOX_TIMEOUT = 10.0
#: Prompts replayed for want of a key before the call ends.
MAX_QUIET = 3
#: Seconds 7 and 9 move within a message.
SKIP_SECONDS = 5.0
#: Digits kept of a mailbox number being typed (an extension has at most 15).
MAX_NUMBER_DIGITS = 15
#: The folders of the main menu's keys.
FOLDER_KEYS = {"1": "new", "2": "saved", "3": "deleted"}
_COLLECTING = ("number", "pin", "new_pin", "confirm_pin")
#: Steps that wait for a key, their prompt said again when none comes.
_KEY_STEPS = (*_COLLECTING, "menu", "options", *mailbox_greetings.KEY_STEPS)
_MESSAGE_STEPS = ("envelope", "audio", "options")


def enter(flow: Flow, state: CallState, route: MailboxMenu,
          preface: tuple[act.Say, ...]) -> Result:
    """Start the mailbox menu: straight to the main menu when this call opened the box
    already (a failed call back comes back here), else the number or the PIN."""
    session = state.mailbox
    if session is not None and session.open and (route.box in (None, session.box)):
        return main_menu(flow, state, session, preface)
    box = route.box if route.box is not None else own_box(flow, state.caller)
    session = MailboxSession(box=box or "", step="pin" if box else "number",
                             asked_number=box is None)
    state = update(state, phase=Phase.MAILBOX, mailbox=session, pin_tries=0, buffer="",
                   outcome="in the mailbox menu", ending=Outcome.MAILBOX_REFUSED)
    return _prompt(flow, state, session, preface)


def own_box(flow: Flow, caller: str) -> str | None:
    """The mailbox of the user calling from ``caller`` (their own phone), if any."""
    user = agent_for_caller(flow, caller)
    if user is None:
        return None
    box = flow.voicemail.get(user)
    if box is not None and user in box.owners:
        return user
    return next((k for k, b in flow.voicemail.items() if user in b.owners), None)


# --- prompts and the keys they wait for --------------------------------------------


def _prompt(flow: Flow, state: CallState, session: MailboxSession,
            preface: tuple[act.Say, ...] = ()) -> Result:
    """Play what the current step asks for (its prompt), then wait for keys."""
    name = {"number": "mailbox_number", "pin": "mailbox_pin", "new_pin": "mailbox_new_pin",
            "confirm_pin": "mailbox_confirm_pin", "options": "mailbox_message_options",
            "menu": "mailbox_menu"}[session.step]
    if session.step == "pin" and session.asked_number:
        name = "pin_prompt"  # no "press star for another mailbox": the number was asked
    items = (*preface, say(flow, state, system(flow, name)))
    return start_play(state, items, phase=Phase.MAILBOX, mailbox=session, buffer="")


def prompt_finished(flow: Flow, state: CallState) -> Result:
    """A mailbox prompt, an envelope or a message ended."""
    session = _session(state)
    if session.step == "envelope":
        return _play_audio(flow, state, session)
    if session.step == "audio":
        state, marked = _heard(state, session)
        session = _session(state)
        state, out = _prompt(flow, state, replace(session, step="options"))
        return state, marked + out
    if session.step == "greeting_intro":
        return mailbox_greetings.record(flow, state, session)
    if session.step in _KEY_STEPS:
        return arm_timer(state, "mailbox", MAILBOX_TIMEOUT)
    return state, []


def timeout(flow: Flow, state: CallState) -> Result:
    """No key for :data:`MAILBOX_TIMEOUT`: say the prompt again, or end the call."""
    session = _session(state)
    if session.step == "greeting_recording":
        return mailbox_greetings.stop(flow, state, session)  # the kind's longest reached
    if session.step not in _KEY_STEPS:
        return state, []  # a timer from before: nothing waits for a key now
    quiet = session.quiet + 1
    if quiet >= MAX_QUIET:
        return _leave(flow, state, session, "no key pressed")
    sorry = (say(flow, state, system(flow, "no_input")),)
    session = replace(session, quiet=quiet)
    if session.step == "greetings":
        return mailbox_greetings.greetings_menu(flow, state, session, sorry)
    if session.step == "greeting_review":
        return mailbox_greetings.review(flow, state, session, sorry, again=False)
    return _prompt(flow, state, session, sorry)


def _leave(flow: Flow, state: CallState, session: MailboxSession, why: str) -> Result:
    if session.open:
        return goodbye(flow, state, None, (), f"listened to mailbox {session.box}",
                       Outcome.MAILBOX)
    return goodbye(flow, state, None, (), f"mailbox menu: {why}", Outcome.MAILBOX_REFUSED)


def digit(flow: Flow, state: CallState, event: Digit) -> Result:
    session = _session(state)
    if session.step in ("checking", "saving_pin", "greeting_intro", "greeting_stopping",
                        "greeting_saving"):
        return state, []  # waiting for the adapter or the beep: keys are not taken
    if session.step == "greeting_recording":
        # Only # ends a take; other keys would be recorded as tones anyway.
        return mailbox_greetings.stop(flow, state, session) if event.key == "#" else (state, [])
    if session.step in ("envelope", "audio") and event.key in ("7", "9"):
        if session.step == "envelope":
            return state, []  # nothing to move in yet: the envelope plays on
        seconds = SKIP_SECONDS if event.key == "9" else -SKIP_SECONDS
        return state, [act.SkipMessage(seconds)]  # the message plays on, moved
    out = interrupt(state)
    state = update(state, playing=None, timer=None)
    session = replace(session, quiet=0)
    if session.step in _COLLECTING:
        state, more = _collect(flow, state, session, event.key)
    elif session.step == "menu":
        state, more = _menu_key(flow, state, session, event.key)
    elif session.step in mailbox_greetings.KEY_STEPS:
        state, more = mailbox_greetings.key(flow, state, session, event.key)
    else:
        state, more = _message_key(flow, state, session, event.key)
    return state, out + more


# --- logging in ------------------------------------------------------------------------


def _collect(flow: Flow, state: CallState, session: MailboxSession, key: str) -> Result:
    """A key of a mailbox number or a PIN, ended by ``#``."""
    if key == "*":
        if session.step == "pin" and not session.asked_number:
            return _prompt(flow, state, replace(session, step="number", box="",
                                                asked_number=True))
        if session.step in ("new_pin", "confirm_pin"):
            return main_menu(flow, state, replace(session, new_pin=""))
    if key != "#":
        longest = MAX_NUMBER_DIGITS if session.step == "number" else MAX_PIN_DIGITS
        if key.isdigit() and len(state.buffer) < longest:
            state = update(state, buffer=state.buffer + key)
        return arm_timer(state, "mailbox", MAILBOX_TIMEOUT, mailbox=session)
    typed = state.buffer
    state = update(state, buffer="")
    if session.step == "number":
        box = flow.mailbox_numbered(typed) or ""
        return _prompt(flow, state, replace(session, step="pin", box=box, number=typed))
    if session.step == "pin":
        # The digits leave the state at once: nothing else keeps or logs them.
        state = update(state, mailbox=replace(session, step="checking"))
        return state, [act.OpenMailbox(session.box, session.number, typed)]
    if not (MIN_DIGITS <= len(typed) <= MAX_DIGITS):
        return _prompt(flow, state, replace(session, step="new_pin", new_pin=""),
                       (say(flow, state, system(flow, "mailbox_pin_invalid")),))
    if session.step == "new_pin":
        return _prompt(flow, state, replace(session, step="confirm_pin", new_pin=typed))
    if typed != session.new_pin:
        return main_menu(flow, state, replace(session, new_pin=""),
                         (say(flow, state, system(flow, "mailbox_pin_mismatch")),))
    state = update(state, mailbox=replace(session, step="saving_pin", new_pin=""))
    return state, [act.SetMailboxPin(session.box, typed)]


def opened(flow: Flow, state: CallState, event: MailboxOpened) -> Result:
    """The adapter's answer to the PIN."""
    session = state.mailbox
    if session is None or session.step != "checking":
        return state, []
    who = f"mailbox {session.box or session.number or '?'}"
    if event.ok:
        session = replace(session, open=True, messages=event.messages)
        state = update(state, outcome=f"listened to mailbox {session.box}",
                       ending=Outcome.MAILBOX)
        return main_menu(flow, state, session, counts=True)
    if event.refusal in ("no_pin", "locked", "failed"):
        return goodbye(flow, state, system(flow, f"mailbox_{event.refusal}"), (),
                       f"{who}: " + {"no_pin": "no PIN is set", "locked": "locked out",
                                     "failed": "the store could not be read"}[event.refusal],
                       Outcome.FAILED if event.refusal == "failed" else Outcome.MAILBOX_REFUSED)
    tries = state.pin_tries + 1
    wrong = (say(flow, state, system(flow, "pin_wrong")),)
    if tries >= MAX_PIN_TRIES:
        return goodbye(flow, update(state, pin_tries=tries), None, wrong,
                       f"{who}: wrong PIN {tries} times", Outcome.MAILBOX_REFUSED)
    step = "number" if session.asked_number else "pin"
    return _prompt(flow, update(state, pin_tries=tries),
                   replace(session, step=step, box=session.box if step == "pin" else ""),
                   wrong)


def pin_set(flow: Flow, state: CallState, event: MailboxPinSet) -> Result:
    session = state.mailbox
    if session is None or session.step != "saving_pin":
        return state, []
    said = system(flow, "mailbox_pin_changed" if event.ok else "mailbox_pin_not_changed")
    return main_menu(flow, state, session, (say(flow, state, said),))


# --- the main menu -----------------------------------------------------------------


def main_menu(flow: Flow, state: CallState, session: MailboxSession,
              preface: tuple[act.Say, ...] = (), counts: bool = False) -> Result:
    items = preface + (_counts(flow, state, session) if counts else ())
    return _prompt(flow, state, replace(session, step="menu", listing=(), index=0), items)


def _counts(flow: Flow, state: CallState, session: MailboxSession) -> tuple[act.Say, ...]:
    """"You have 2 new messages and 1 saved message"."""
    new = sum(m.folder == "new" for m in session.messages)
    saved = sum(m.folder == "saved" for m in session.messages)
    items = [say(flow, state, system(flow, "mailbox_you_have")), _number(state, new),
             say(flow, state, system(flow, "mailbox_new_" + _plural(state.language, new))),
             say(flow, state, system(flow, "mailbox_and")), _number(state, saved),
             say(flow, state, system(flow, "mailbox_saved_" + _plural(state.language,
                                                                      saved)))]
    return tuple(items)


def _plural(language: str, count: int) -> str:
    """``one`` or ``many``: French counts 0 and 1 in the singular, English only 1."""
    return "one" if count == 1 or (count == 0 and language.startswith("fr")) else "many"


def _menu_key(flow: Flow, state: CallState, session: MailboxSession, key: str) -> Result:
    if key in FOLDER_KEYS:
        folder = FOLDER_KEYS[key]
        listing = tuple(m.id for m in session.messages if m.folder == folder)
        if not listing:
            return main_menu(flow, state, session,
                             (say(flow, state, system(flow, "mailbox_folder_empty")),))
        return _envelope(flow, state, replace(session, folder=folder, listing=listing,
                                              index=0))
    if key == "8":
        return _prompt(flow, state, replace(session, step="new_pin", new_pin=""))
    if key == "5":
        return mailbox_greetings.greetings_menu(flow, state, session)
    if key == "*":
        return _leave(flow, state, session, "hung up")
    if key == "0":
        return main_menu(flow, state, session, counts=True)
    return main_menu(flow, state, session, (say(flow, state, system(flow, "invalid")),))


# --- a message ---------------------------------------------------------------------


def _session(state: CallState) -> MailboxSession:
    assert state.mailbox is not None, "a mailbox phase without its session"
    return state.mailbox


def _current(session: MailboxSession) -> StoredMessage:
    wanted = session.listing[session.index]
    return next(m for m in session.messages if m.id == wanted)


def _envelope(flow: Flow, state: CallState, session: MailboxSession,
              preface: tuple[act.Say, ...] = ()) -> Result:
    """Message N, received WHEN, from WHOM, length S seconds; then the audio."""
    message = _current(session)
    zone = ZoneInfo(flow.attendants[state.attendant].timezone)
    caller = "".join(c for c in message.caller if c.isdigit())
    source = ((say(flow, state, system(flow, "mailbox_from")),
               act.Say("", state.language, (Digits(caller, state.language),)))
              if caller else (say(flow, state, system(flow, "mailbox_unknown_caller")),))
    items = (*preface,
             say(flow, state, system(flow, "mailbox_message")),
             _number(state, session.index + 1),
             say(flow, state, system(flow, "mailbox_received")),
             act.Say("", state.language,
                     (Text(spoken_time(message.received.astimezone(zone), state.language),
                           state.language),)),
             *source,
             say(flow, state, system(flow, "mailbox_length")),
             _number(state, max(1, round(message.seconds))),
             say(flow, state, system(flow, "mailbox_seconds")))
    return start_play(state, items, phase=Phase.MAILBOX,
                      mailbox=replace(session, step="envelope"))


def _play_audio(flow: Flow, state: CallState, session: MailboxSession) -> Result:
    token = state.token + 1
    state = update(state, token=token, playing=token, barge_in=True,
                   mailbox=replace(session, step="audio"))
    return state, [act.PlayMessage(token, session.box, _current(session).id)]


def _message_key(flow: Flow, state: CallState, session: MailboxSession, key: str) -> Result:
    message = _current(session)
    if key == "1":
        return _play_audio(flow, state, session)
    if key == "5":
        return _envelope(flow, state, session)
    if key == "2":
        state, out = _mark(state, session, message, "archived")
        return _next(flow, state, (say(flow, state, system(flow, "mailbox_saved")),), out)
    if key == "3" and message.status == "deleted":
        state, out = _mark(state, session, message, "undelete")
        session = _session(state)
        state, more = _prompt(flow, state, replace(session, step="options"),
                              (say(flow, state, system(flow, "mailbox_undeleted")),))
        return state, out + more
    if key == "3":
        state, out = _mark(state, session, message, "deleted")
        return _next(flow, state, (say(flow, state, system(flow, "mailbox_deleted")),), out)
    if key in "46":
        state, out = _heard(state, session)
        session = _session(state)
        if key == "6":
            return _next(flow, state, (), out)
        if session.index == 0:
            state, more = _prompt(flow, state, replace(session, step="options"),
                                  (say(flow, state, system(flow, "mailbox_first")),))
            return state, out + more
        state, more = _envelope(flow, state, replace(session, index=session.index - 1))
        return state, out + more
    if key == "8":
        return _call_back(flow, state, session, message)
    if key == "*":
        state, out = _heard(state, session) if session.step == "options" else (state, [])
        session = _session(state)
        state, more = main_menu(flow, state, session)
        return state, out + more
    if key == "0":
        return _prompt(flow, state, replace(session, step="options"))
    return _prompt(flow, state, replace(session, step="options"),
                   (say(flow, state, system(flow, "invalid")),))


def _next(flow: Flow, state: CallState, preface: tuple[act.Say, ...],
          out: list[act.Action]) -> Result:
    session = _session(state)
    if session.index + 1 >= len(session.listing):
        state, more = main_menu(flow, state, session,
                                (*preface, say(flow, state, system(flow, "mailbox_no_more"))),
                                counts=True)
        return state, out + more
    state, more = _envelope(flow, state, replace(session, index=session.index + 1), preface)
    return state, out + more


def _heard(state: CallState, session: MailboxSession) -> Result:
    """A new message heard (to its end, or left with a key) is read: saved folder."""
    message = _current(session)
    if message.status != "new":
        return state, []
    return _mark(state, session, message, "read")


def _mark(state: CallState, session: MailboxSession, message: StoredMessage,
          status: str) -> Result:
    changed = message.filed(status)
    messages = tuple(changed if m.id == message.id else m for m in session.messages)
    state = update(state, mailbox=replace(session, messages=messages))
    return state, [act.MarkMessage(message.id, status)]  # type: ignore[arg-type]


def _call_back(flow: Flow, state: CallState, session: MailboxSession,
               message: StoredMessage) -> Result:
    """Ring the message's caller, if the external allow-list lets this number be dialled;
    a call back nobody answers comes back to the mailbox menu (still open)."""
    number = flow.number(message.caller) if message.caller else ""
    if not number or not allowed(number, flow.external_numbers):
        return _prompt(flow, state, replace(session, step="options"),
                       (say(flow, state, system(flow, "mailbox_cannot_call_back")),))
    state, out = _heard(state, session)
    route = ToExternal(number, fallback=MailboxMenu(session.box))
    state, more = routes.run(flow, state, route)
    return state, out + more


# --- numbers and times, spoken ---------------------------------------------------------


def _number(state: CallState, value: int) -> act.Say:
    return act.Say("", state.language, (Number(value, state.language),))


_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_FR_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FR_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre")


def spoken_time(when: datetime, language: str) -> str:
    """When a message came, as a voice reads it in ``language`` (its local time)."""
    if language.startswith("fr"):
        minutes = f" {when.minute:02d}" if when.minute else ""
        return (f"{_FR_DAYS[when.weekday()]} {when.day} {_FR_MONTHS[when.month - 1]} "
                f"à {when.hour} heures{minutes}")
    if language.startswith("en"):
        hour = when.hour % 12 or 12
        return (f"{_EN_DAYS[when.weekday()]}, {_EN_MONTHS[when.month - 1]} {when.day}, at "
                f"{hour}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'}")
    return f"{when:%Y-%m-%d %H:%M}"
