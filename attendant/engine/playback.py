"""Speaking, timers and goodbye: the small helpers every phase uses.

:func:`say` turns a prompt into the ``Say`` the caller hears in their language;
:func:`start_play` and :func:`arm_timer` start the call's one playback and its one timer,
carrying a token or a unique name so a late ``PromptFinished`` or ``TimerFired`` is
recognised and dropped; :func:`goodbye` says goodbye and ends the call.
"""

from __future__ import annotations

from typing import Any

from attendant.engine import actions as act
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase, Result, update
from attendant.engine.tables import DEFAULT_MENU, resolve
from attendant.model import Flow, Menu, Prompt
from attendant.system_prompts import DEFAULTS as SYSTEM_PROMPTS

_STOP_PLAYBACK = act.StopPlayback()  # it has no fields: one instance serves every call


def system(flow: Flow, name: str) -> Prompt:
    return flow.system_prompts.get(name) or SYSTEM_PROMPTS[name]


def say(flow: Flow, state: CallState, prompt: Prompt) -> act.Say:
    """The Say of ``prompt`` for this call's language and attendant: from the flow's
    tables (:mod:`attendant.engine.tables`), made on the spot only for a prompt they lack."""
    table = flow.tables.says.get((state.language, state.attendant))
    if table is not None:
        said = table.get(id(prompt))
        if said is not None and said[0] is prompt:
            return said[1]
    default = flow.attendants[state.attendant].default_language if state.attendant else "en-US"
    return resolve(prompt, state.language, default)


def start_play(state: CallState, items: tuple[act.Say, ...], barge_in: bool = True,
               **changes: Any) -> Result:
    """Start playing ``items``; ``changes`` go into the same state update (one copy per step
    matters: replacing the state is the engine's main cost, see bench/bench_engine.py)."""
    token = state.token + 1
    new = update(state, token=token, playing=token, barge_in=barge_in, **changes)
    return new, [act.Play(token, items, barge_in)]


def arm_timer(state: CallState, kind: str, seconds: float, **changes: Any) -> Result:
    """Arm the call's one timer (cancelling the previous one); ``changes`` as in
    :func:`start_play`."""
    seq = state.timer_seq + 1
    name = f"{kind}:{seq}"
    out: list[act.Action] = []
    if state.timer is not None:
        out.append(act.CancelTimer(state.timer))
    out.append(act.StartTimer(name, seconds))
    return update(state, timer=name, timer_seq=seq, **changes), out


def interrupt(state: CallState) -> list[act.Action]:
    """What stops when a key is pressed: the prompt playing, the timer running (the caller
    of this sets ``playing`` and ``timer`` to None in its own state update)."""
    out: list[act.Action] = []
    if state.playing is not None:
        out.append(_STOP_PLAYBACK)
    if state.timer is not None:
        out.append(act.CancelTimer(state.timer))
    return out


def cancel_timer(state: CallState) -> Result:
    if state.timer is None:
        return state, []
    return update(state, timer=None), [act.CancelTimer(state.timer)]


def stop_playback(state: CallState) -> Result:
    if state.playing is None:
        return state, []
    return update(state, playing=None), [_STOP_PLAYBACK]


def current_menu(flow: Flow, state: CallState) -> Menu:
    menu = flow.menus.get(state.menu) if state.menu is not None else None
    return DEFAULT_MENU if menu is None else menu


def timer_kind(state: CallState) -> str:
    return state.timer.split(":", 1)[0] if state.timer else ""


def goodbye(flow: Flow, state: CallState, prompt: Prompt | None,
            preface: tuple[act.Say, ...] = (), reason: str = "disconnected",
            ending: Outcome = Outcome.DISCONNECTED) -> Result:
    """Say ``prompt`` (or goodbye) after ``preface``, then end the call: ``reason`` is the
    outcome's wording, ``ending`` its label."""
    state, out = cancel_timer(state)
    items = (*preface, say(flow, state, prompt or system(flow, "goodbye")))
    state, play = start_play(state, items, False, phase=Phase.GOODBYE, outcome=reason,
                             ending=ending)
    return state, out + play
