"""Carrying out a route: what a key, a schedule or a fallback leads to.

:func:`run` picks one function per kind of route (:data:`ROUTES`); routes may chain
(an announcement, then a menu) but never loop: past :data:`MAX_ROUTE_DEPTH` the call
ends politely.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from attendant.engine import actions as act
from attendant.engine import agents, directory, mailbox, schedule, transfers, voicemail_phase
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import goodbye, say, start_play, system
from attendant.engine.state import CallState, Phase, Result, update
from attendant.model import (
    AgentFeature,
    Announce,
    Attendant,
    Back,
    DialByExtension,
    DialByName,
    Disconnect,
    Flow,
    MailboxMenu,
    MainMenu,
    Operator,
    Repeat,
    Route,
    SetLanguage,
    SetOverride,
    ToAttendant,
    ToMenu,
    ToQueue,
    ToVoicemail,
)

#: Chained routes deeper than this are a configuration loop; the call ends politely.
MAX_ROUTE_DEPTH = 16


def run(flow: Flow, state: CallState, route: Route, preface: tuple[act.Say, ...] = (),
        depth: int = 0) -> Result:
    """Carry out a route. ``preface`` is played first (an "invalid choice" message, say)."""
    if depth > MAX_ROUTE_DEPTH:
        return goodbye(flow, state, None, preface, "routing loop in configuration",
                       Outcome.FAILED)
    timer = state.timer
    if timer is not None or state.buffer or state.pending is not None:
        state = update(state, timer=None, buffer="", pending=None)
    attendant = flow.attendants[state.attendant]
    kind = type(route)
    handler = ROUTES.get(kind) or next(  # by type; a subclass like its base class
        (ROUTES[k] for k in kind.__mro__ if k in ROUTES), _route_transfer)
    result = handler(flow, state, attendant, route, preface, depth)
    if timer is None:
        return result
    return result[0], [act.CancelTimer(timer), *result[1]]


def _route_menu(flow: Flow, state: CallState, attendant: Attendant, route: ToMenu,
                preface: tuple[act.Say, ...], depth: int) -> Result:
    stack = state.stack
    if state.menu is not None and state.menu != route.menu and state.phase is not Phase.NEW:
        stack = (*stack, state.menu)
    return enter_menu(flow, state, route.menu, preface, reset=True, stack=stack)


def _route_back(flow: Flow, state: CallState, attendant: Attendant, route: Back,
                preface: tuple[act.Say, ...], depth: int) -> Result:
    if state.stack:
        previous = state.stack[-1]
        return enter_menu(flow, state, previous, preface, reset=True, stack=state.stack[:-1])
    return replay(flow, state, preface, depth)


def _route_repeat(flow: Flow, state: CallState, attendant: Attendant, route: Repeat,
                  preface: tuple[act.Say, ...], depth: int) -> Result:
    return replay(flow, state, preface, depth)


def _route_main_menu(flow: Flow, state: CallState, attendant: Attendant, route: MainMenu,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    entry = state.entry or attendant.business_hours
    return run(flow, update(state, stack=(), menu=None, phase=Phase.NEW), entry, preface,
               depth + 1)


def _route_operator(flow: Flow, state: CallState, attendant: Attendant, route: Operator,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    if attendant.operator is None:
        return goodbye(flow, state, None, preface, "no operator configured", Outcome.FAILED)
    return run(flow, state, attendant.operator, preface, depth + 1)


def _route_language(flow: Flow, state: CallState, attendant: Attendant, route: SetLanguage,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    language = route.language if route.language in attendant.languages else state.language
    return run(flow, update(state, language=language), route.then, preface, depth + 1)


def _route_announce(flow: Flow, state: CallState, attendant: Attendant, route: Announce,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    return start_play(state, (*preface, say(flow, state, route.prompt)), route.barge_in,
                      phase=Phase.ANNOUNCE, pending=route.then)


def _route_disconnect(flow: Flow, state: CallState, attendant: Attendant, route: Disconnect,
                      preface: tuple[act.Say, ...], depth: int) -> Result:
    return goodbye(flow, state, route.prompt, preface)


def _route_attendant(flow: Flow, state: CallState, attendant: Attendant, route: ToAttendant,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    other = flow.attendants.get(route.attendant)
    if other is None:
        return goodbye(flow, state, None, preface, "unknown attendant", Outcome.FAILED)
    label, entry = schedule.select(other, state.started or datetime(2000, 1, 1),
                                   state.overrides.get(other.key))
    language = state.language if state.language in other.languages else other.default_language
    state = update(state, attendant=other.key, flow_label=label, entry=entry, stack=(),
                   menu=None, phase=Phase.NEW, language=language)
    return run(flow, state, entry, preface, depth + 1)


def _route_dial_by_name(flow: Flow, state: CallState, attendant: Attendant, route: DialByName,
                        preface: tuple[act.Say, ...], depth: int) -> Result:
    prompt = route.prompt or system(flow, "dial_by_name")
    return directory.enter_entry(flow, state, Phase.NAME_ENTRY, route, prompt, preface)


def _route_dial_by_extension(flow: Flow, state: CallState, attendant: Attendant,
                             route: DialByExtension, preface: tuple[act.Say, ...],
                             depth: int) -> Result:
    prompt = route.entry.prompt or system(flow, directory.extension_prompt_name(route.entry))
    return directory.enter_entry(flow, state, Phase.EXTENSION_ENTRY, route.entry, prompt, preface)


def _route_voicemail(flow: Flow, state: CallState, attendant: Attendant, route: ToVoicemail,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    return voicemail_phase.enter_voicemail(flow, state, route.box, preface)


def _route_agent(flow: Flow, state: CallState, attendant: Attendant, route: AgentFeature,
                 preface: tuple[act.Say, ...], depth: int) -> Result:
    return agents.agent_feature(flow, state, route, preface)


def _route_override(flow: Flow, state: CallState, attendant: Attendant, route: SetOverride,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    return agents.override_feature(flow, state, route, preface)


def _route_mailbox(flow: Flow, state: CallState, attendant: Attendant, route: MailboxMenu,
                   preface: tuple[act.Say, ...], depth: int) -> Result:
    return mailbox.enter(flow, state, route, preface)


def _route_queue(flow: Flow, state: CallState, attendant: Attendant, route: ToQueue,
                 preface: tuple[act.Say, ...], depth: int) -> Result:
    played: list[act.Action] = []
    if preface:
        state, played = start_play(state, preface)
    state = update(state, phase=Phase.QUEUED, handover=route,
                   outcome=f"queued in {route.queue}", ending=Outcome.QUEUED)
    return state, [*played, act.EnqueueCall(route.queue, route.priority)]


def _route_transfer(flow: Flow, state: CallState, attendant: Attendant, route: Route,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    return transfers.transfer(flow, state, route, preface, depth)


def replay(flow: Flow, state: CallState, preface: tuple[act.Say, ...], depth: int) -> Result:
    if state.menu is not None and state.menu in flow.menus:
        return enter_menu(flow, state, state.menu, preface, reset=False)
    entry = state.entry
    if entry is None or isinstance(entry, Repeat | Back | MainMenu) or depth > 0:
        return goodbye(flow, state, None, preface)
    return run(flow, update(state, phase=Phase.NEW), entry, preface, depth + 1)


def enter_menu(flow: Flow, state: CallState, name: str, preface: tuple[act.Say, ...],
               reset: bool, stack: tuple[str, ...] | None = None) -> Result:
    """Play menu ``name``; ``reset`` its counters; ``stack`` replaces the call's, if given."""
    menu = flow.menus.get(name)
    if menu is None:
        if stack is not None:
            state = update(state, stack=stack)
        return goodbye(flow, state, None, preface, f"unknown menu {name}", Outcome.FAILED)
    items = (*preface, say(flow, state, menu.prompt))
    changes: dict[str, Any] = {"phase": Phase.MENU, "menu": name, "buffer": "",
                               "dial": menu.extension_dialing, "candidates": ()}
    if reset:
        changes.update(invalid=0, timeouts=0)
    if stack is not None:
        changes["stack"] = stack
    return start_play(state, items, menu.barge_in, **changes)


#: Route type -> the function carrying it out (see :func:`run`); any other route transfers.
ROUTES: dict[type, Callable[..., Result]] = {
    ToMenu: _route_menu,
    Back: _route_back,
    Repeat: _route_repeat,
    MainMenu: _route_main_menu,
    Operator: _route_operator,
    SetLanguage: _route_language,
    Announce: _route_announce,
    Disconnect: _route_disconnect,
    ToAttendant: _route_attendant,
    DialByName: _route_dial_by_name,
    DialByExtension: _route_dial_by_extension,
    ToVoicemail: _route_voicemail,
    AgentFeature: _route_agent,
    SetOverride: _route_override,
    MailboxMenu: _route_mailbox,
    ToQueue: _route_queue,
}
