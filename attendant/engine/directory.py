"""Dial by name and dial by extension: spelling a name or typing a number, choosing
among several people, and saying whose phone is about to ring.
"""

from __future__ import annotations

from attendant.engine import actions as act
from attendant.engine import menus, routes, transfers
from attendant.engine.events import DTMF_KEYS, Digit
from attendant.engine.playback import arm_timer, current_menu, interrupt, say, start_play, system
from attendant.engine.state import CallState, Phase, Result, update
from attendant.model import (
    DialByName,
    Digits,
    Disconnect,
    ExtensionEntry,
    Flow,
    Prompt,
    Repeat,
    Route,
    Text,
    ToDepartment,
    ToUser,
)


def extension_prompt_name(entry: ExtensionEntry) -> str:
    """Fixed-length entries need no terminator, so their default prompt does not ask for one."""
    if entry.length is not None:
        return "enter_extension"
    return "dial_by_extension" if entry.terminator == "#" else "dial_by_extension_star"


def enter_entry(flow: Flow, state: CallState, phase: Phase, dial: DialByName | ExtensionEntry,
                prompt: Prompt, preface: tuple[act.Say, ...]) -> Result:
    return start_play(state, (*preface, say(flow, state, prompt)), phase=phase, dial=dial,
                      buffer="", candidates=())


def retry_entry(flow: Flow, state: CallState, preface: tuple[act.Say, ...]) -> Result:
    """Prompt again inside dial by name or dial by extension."""
    if state.phase is Phase.NAME_CHOICE:
        return offer_candidates(flow, state, state.candidates, preface)
    if isinstance(state.dial, DialByName):
        prompt = state.dial.prompt or system(flow, "dial_by_name")
        return enter_entry(flow, state, Phase.NAME_ENTRY, state.dial, prompt, preface)
    entry = state.dial if isinstance(state.dial, ExtensionEntry) else ExtensionEntry()
    prompt = entry.prompt or system(flow, extension_prompt_name(entry))
    return enter_entry(flow, state, Phase.EXTENSION_ENTRY, entry, prompt, preface)


def entry_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    out = interrupt(state)
    key = event.key
    phase = state.phase
    terminator = state.dial.terminator if isinstance(state.dial, ExtensionEntry) else "#"
    if (key in DTMF_KEYS and phase is not Phase.NAME_CHOICE and key != terminator
            and not (key == "*" and phase is Phase.NAME_ENTRY)):
        # One more digit typed (the common case, so a single state update).
        state = update(state, playing=None, timer=None, buffer=state.buffer + key, timeouts=0,
                       candidates=())
        result = resolve_entry(flow, state, final=False)
        return result[0], out + result[1]
    if out:
        state = update(state, playing=None, timer=None)
    if key not in DTMF_KEYS:
        result = menus.invalid_entry(flow, state)
    elif phase is Phase.NAME_CHOICE:
        result = choose_candidate(flow, state, key)
    elif key == "*" and phase is Phase.NAME_ENTRY:
        # Back to the menu dial by name was chosen from (not the one before it).
        result = routes.run(flow, state, Repeat() if state.menu else Disconnect())
    else:  # the terminator
        result = resolve_entry(flow, state, final=True)
    return result[0], out + result[1]


def resolve_entry(flow: Flow, state: CallState, final: bool) -> Result:
    menu = current_menu(flow, state)
    if state.phase is Phase.EXTENSION_ENTRY:
        entry = state.dial if isinstance(state.dial, ExtensionEntry) else ExtensionEntry()
        complete = final or (entry.length is not None and len(state.buffer) >= entry.length)
        if not complete:
            return arm_timer(state, "digits", menu.inter_digit_timeout)
        if not state.buffer:
            return menus.no_input(flow, state)
        target = transfers.extension_owner(flow, state.buffer)
        if target is None:
            return menus.invalid_entry(flow, state, "no_such_extension")
        return announce_transfer(flow, state, target)
    if not final:
        return arm_timer(state, "digits", menu.inter_digit_timeout)
    return search_names(flow, state)


def announce_transfer(flow: Flow, state: CallState, target: Route) -> Result:
    """Say "transferring" and whose phone is about to ring, before a transfer found by
    extension or by name; the transfer follows when it has been said."""
    items = [say(flow, state, system(flow, "transferring"))]
    name = name_of(flow, state, target)
    if name is not None:
        items.append(name)
    return start_play(state, tuple(items), False, phase=Phase.ANNOUNCE, pending=target)


def name_of(flow: Flow, state: CallState, target: Route) -> act.Say | None:
    """The person's (or department's) name as the caller should hear it, in their language.

    Ids follow the directory's paths so the prompt builder can render names ahead of time.
    """
    if isinstance(target, ToUser) and target.user in flow.users:
        user = flow.users[target.user]
        if user.name_prompt is not None:
            return say(flow, state, user.name_prompt)
        return act.Say(f"directory.users.{user.key}.name", state.language,
                       (Text(user.name, state.language),))
    if isinstance(target, ToDepartment) and target.department in flow.departments:
        dept = flow.departments[target.department]
        return act.Say(f"directory.departments.{dept.key}.name", state.language,
                       (Text(dept.name, state.language),))
    return None


def search_names(flow: Flow, state: CallState) -> Result:
    dial = state.dial if isinstance(state.dial, DialByName) else DialByName()
    if not state.buffer:
        return menus.no_input(flow, state)
    if len(state.buffer) < dial.min_digits:
        return menus.invalid_entry(flow, state, "dial_by_name_too_few")
    found = sorted({
        user for digits, which, user in flow.names
        if digits.startswith(state.buffer) and dial.match in ("either", which)
    }, key=lambda k: (flow.users[k].last_name, flow.users[k].first_name, k))
    if not found:
        return menus.invalid_entry(flow, state, "dial_by_name_no_match")
    if len(found) == 1:
        target = ToUser(found[0])
        return announce_transfer(flow, state, target)
    if len(found) > dial.max_matches:
        # The letters typed so far are kept, so the caller can add more. ``candidates`` holds
        # the matches until a key is pressed: the same search again with nothing typed since
        # is silence, a timeout (or a silent caller would hear "several people match" for ever).
        if tuple(found) == state.candidates:
            return menus.no_input(flow, state)
        return start_play(state, (say(flow, state, system(flow, "dial_by_name_too_many")),),
                          phase=Phase.NAME_ENTRY, candidates=tuple(found))
    return offer_candidates(flow, update(state, buffer=""), tuple(found), ())


def offer_candidates(flow: Flow, state: CallState, candidates: tuple[str, ...],
                     preface: tuple[act.Say, ...]) -> Result:
    items = list(preface)
    for number, key in enumerate(candidates, start=1):
        items.append(say(flow, state, system(flow, "for_person")))
        name = name_of(flow, state, ToUser(key))
        if name is not None:
            items.append(name)
        items.append(say(flow, state, system(flow, "press")))
        items.append(act.Say("", state.language, (Digits(str(number), state.language),)))
    items.append(say(flow, state, system(flow, "star_to_retry")))
    return start_play(state, tuple(items), phase=Phase.NAME_CHOICE, candidates=candidates,
                      buffer="")


def choose_candidate(flow: Flow, state: CallState, key: str) -> Result:
    if key == "*":
        dial = state.dial if isinstance(state.dial, DialByName) else DialByName()
        prompt = dial.prompt or system(flow, "dial_by_name")
        return enter_entry(flow, state, Phase.NAME_ENTRY, dial, prompt, ())
    if key.isdigit() and 1 <= int(key) <= len(state.candidates):
        target = ToUser(state.candidates[int(key) - 1])
        return announce_transfer(flow, state, target)
    return menus.invalid_entry(flow, state)
