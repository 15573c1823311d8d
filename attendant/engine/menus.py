"""Menus: what typed keys mean (an option, a longer option, an extension), and what
happens on an invalid key or on silence, up to the menu's maximum.
"""

from __future__ import annotations

from typing import Literal

from attendant.engine import directory, routes, tables, transfers
from attendant.engine.events import DTMF_KEYS, Digit
from attendant.engine.playback import (
    arm_timer,
    current_menu,
    interrupt,
    say,
    stop_playback,
    system,
)
from attendant.engine.state import CallState, Phase, Result, update
from attendant.engine.tables import MenuTable
from attendant.model import Disconnect, Flow, Menu, Operator, Repeat, Route


def menu_table(flow: Flow, state: CallState) -> MenuTable:
    table = flow.tables.menus.get(state.menu)
    if table is None:
        return tables.menu_table(current_menu(flow, state))
    return table


def on_max(flow: Flow, state: CallState, menu: Menu,
           kind: Literal["invalid", "timeouts"]) -> Route:
    written = menu.after_max(kind)
    if written is not None:
        return written
    if flow.attendants[state.attendant].operator is not None:
        return Operator()
    return Disconnect()


def invalid_entry(flow: Flow, state: CallState, prompt_name: str = "invalid") -> Result:
    menu = current_menu(flow, state)
    invalid = state.invalid + 1
    state = update(state, invalid=invalid, buffer="", timeouts=0)
    sorry_prompt = (menu.invalid_prompt if prompt_name == "invalid" else None) or system(
        flow, prompt_name)
    sorry = (say(flow, state, sorry_prompt),)
    if invalid >= menu.max_invalid:
        return routes.run(flow, update(state, invalid=0), on_max(flow, state, menu, "invalid"),
                          sorry)
    if state.phase is Phase.MENU:
        return routes.run(flow, state, menu.on_invalid, sorry)
    return directory.retry_entry(flow, state, sorry)


def no_input(flow: Flow, state: CallState) -> Result:
    menu = current_menu(flow, state)
    timeouts = state.timeouts + 1
    state = update(state, timeouts=timeouts, timer=None, buffer="")
    if timeouts >= menu.max_timeouts:
        sorry = (say(flow, state, menu.no_input_prompt or system(flow, "no_input")),)
        return routes.run(flow, update(state, timeouts=0), on_max(flow, state, menu, "timeouts"),
                          sorry)
    preface = (say(flow, state, menu.no_input_prompt),) if menu.no_input_prompt else ()
    if state.phase is Phase.MENU:
        return routes.run(flow, state, menu.on_no_input, preface)
    return directory.retry_entry(flow, state, preface)


def menu_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if state.playing is not None and not state.barge_in:
        return state, []  # this prompt cannot be interrupted; the key is dropped
    out = interrupt(state)
    if event.key not in DTMF_KEYS:
        result = invalid_entry(flow, update(state, playing=None, timer=None))
        return result[0], out + result[1]
    state = update(state, playing=None, timer=None, buffer=state.buffer + event.key, timeouts=0)
    result = resolve_menu(flow, state, final=False)
    return result[0], out + result[1]


def resolve_menu(flow: Flow, state: CallState, final: bool) -> Result:
    """Decide what the digits typed so far in a menu mean, or wait for more."""
    if state.phase is not Phase.MENU:
        return directory.resolve_entry(flow, state, final)
    menu, choices, prefixes = menu_table(flow, state)
    buffer = state.buffer
    entry = menu.extension_dialing
    if entry is not None and len(buffer) > 1 and buffer.endswith(entry.terminator):
        number = buffer[:-1]
        target = transfers.extension_owner(flow, number)
        if target is not None:
            return directory.announce_transfer(flow, state, target)
        if number in choices:
            return routes.run(flow, state, choices[number])
        return invalid_entry(flow, state, "no_such_extension")
    exact = choices.get(buffer)
    longer_option = buffer in prefixes
    extension_prefix = entry is not None and buffer in flow.tables.extension_prefixes
    is_extension = entry is not None and buffer in flow.extensions and (
        entry.length is None or len(buffer) == entry.length
    )
    if entry is not None and entry.length is not None and len(buffer) >= entry.length:
        extension_prefix = False
    if not final and (longer_option or extension_prefix):
        return arm_timer(state, "digits", menu.inter_digit_timeout)
    if exact is not None:
        return routes.run(flow, state, exact)
    if is_extension:
        target = transfers.extension_owner(flow, buffer)
        assert target is not None
        return directory.announce_transfer(flow, state, target)
    return invalid_entry(flow, state)


def announce_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if state.playing is None or not state.barge_in:
        return state, []
    state, out = stop_playback(state)
    result = routes.run(flow, state, state.pending or Repeat())
    return result[0], out + result[1]
