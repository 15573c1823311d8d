"""Staff calling in: who a caller is (:func:`agent_for_caller`), agents' feature codes
(sign in and out, opt in and out of a queue), switching a line (the ``override``
action, for users in the attendant's ``override_by``) and the PIN those ask for when
the call is not from a trusted source.
"""

from __future__ import annotations

from attendant.engine import actions as act
from attendant.engine.events import Digit, PinChecked
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import (
    arm_timer,
    current_menu,
    goodbye,
    interrupt,
    say,
    start_play,
    system,
)
from attendant.engine.state import CallState, Phase, Result, update
from attendant.model import AgentFeature, Flow, SetOverride
from attendant.uris import address_user


def agent_for_caller(flow: Flow, caller: str, *, agents_only: bool = False) -> str | None:
    """The directory user calling from ``caller``: their extension, their ``sip:`` URI's user
    or one of their ``phones`` (with ``agents_only``, the first such user who answers a
    queue). None when nobody matches (or the caller is unknown)."""
    if not caller:
        return None
    for user in flow.users.values():
        if (caller == user.extension or caller in user.phones or (
                user.sip is not None and caller == address_user(user.sip))) and (
                not agents_only or is_agent(flow, user.key)):
            return user.key
    return None


def is_agent(flow: Flow, user: str) -> bool:
    """Whether ``user`` answers some queue (listed, or through a department)."""
    for queue in flow.queues.values():
        for agent in queue.agents:
            if agent.kind == "user" and agent.key == user:
                return True
            dept = flow.departments.get(agent.key) if agent.kind == "department" else None
            if dept is not None and (user in dept.members
                                     or agent.key in flow.users[user].departments):
                return True
    return False


_AGENT_PROMPTS = {"sign_in": "agent_signed_in", "sign_out": "agent_signed_out",
                  "opt_in": "agent_opted_in", "opt_out": "agent_opted_out"}


#: How transcripts and call outcomes word an agent command.
AGENT_COMMAND_WORDS = {"sign_in": "signs in", "sign_out": "signs out",
                       "opt_in": "opts in to", "opt_out": "opts out of"}


def agent_feature(flow: Flow, state: CallState, route: AgentFeature,
                  preface: tuple[act.Say, ...]) -> Result:
    """An agent's feature code: tell the queues, confirm, say goodbye."""
    user = agent_for_caller(flow, state.caller, agents_only=True)
    opting = route.command in ("opt_in", "opt_out")
    if user is None or (opting and route.queue not in flow.queues):
        said = say(flow, state, system(flow, "agent_unknown"))
        return goodbye(flow, state, None, (*preface, said),
                       f"feature code {route.command}: caller {state.caller or '?'} is not an "
                       "agent", Outcome.FEATURE_REFUSED)
    return _allowed_caller(flow, state, user, route, preface)


def override_feature(flow: Flow, state: CallState, route: SetOverride,
                     preface: tuple[act.Say, ...]) -> Result:
    """Switch a line (or end its override), for a user the attendant lets do it."""
    target = route.attendant or state.attendant
    attendant = flow.attendants.get(target)
    user = agent_for_caller(flow, state.caller)
    if attendant is None or user is None or user not in attendant.override_by:
        said = say(flow, state, system(flow, "override_refused"))
        return goodbye(flow, state, None, (*preface, said),
                       f"{_feature_words(route)} refused: caller {state.caller or '?'} is "
                       f"not in override_by of {target}", Outcome.FEATURE_REFUSED)
    return _allowed_caller(flow, state, user, route, preface)


def _allowed_caller(flow: Flow, state: CallState, user: str, route: AgentFeature | SetOverride,
                    preface: tuple[act.Say, ...]) -> Result:
    """``user`` may use ``route``: at once from a trusted source, else after their PIN."""
    if state.trusted:
        return _carry_out(flow, state, user, route, preface)
    if flow.users[user].pin is None:
        said = say(flow, state, system(flow, "pin_not_set"))
        return goodbye(flow, state, None, (*preface, said),
                       f"{_feature_words(route)} refused: {_who(route, user)} has no PIN and "
                       "the call is not from a trusted source", Outcome.FEATURE_REFUSED)
    return ask_pin(flow, update(state, feature=route, pin_tries=0), preface)


def _carry_out(flow: Flow, state: CallState, user: str, route: AgentFeature | SetOverride,
               preface: tuple[act.Say, ...]) -> Result:
    if isinstance(route, SetOverride):
        return override_command(flow, state, user, route, preface)
    return agent_command(flow, state, user, route, preface)


def _who(route: AgentFeature | SetOverride, user: str) -> str:
    return f"agent {user}" if isinstance(route, AgentFeature) else user


def override_command(flow: Flow, state: CallState, user: str, route: SetOverride,
                     preface: tuple[act.Say, ...]) -> Result:
    """The switch is allowed: tell the server, confirm, say goodbye."""
    target = route.attendant or state.attendant
    said = say(flow, state, system(flow, "override_set" if route.name else "override_cleared"))
    reason = (f"{user} switched {target} to {route.name}" if route.name
              else f"{user} ended the override of {target}")
    state, out = goodbye(flow, update(state, feature=None), None, (*preface, said), reason,
                         Outcome.OVERRIDE_SET)
    return state, [act.SetOverride(target, route.name, user), *out]


def _feature_words(route: AgentFeature | SetOverride) -> str:
    if isinstance(route, SetOverride):
        return f"override {route.name or 'clear'}"
    return f"feature code {route.command}"


def _feature_user(flow: Flow, state: CallState) -> str | None:
    """Who the feature code waiting for its PIN is for: an agent, or any user switching
    a line."""
    if isinstance(state.feature, SetOverride):
        return agent_for_caller(flow, state.caller)
    return agent_for_caller(flow, state.caller, agents_only=True)


def agent_command(flow: Flow, state: CallState, user: str, route: AgentFeature,
                  preface: tuple[act.Say, ...]) -> Result:
    """The feature code is allowed: tell the queues, confirm, say goodbye."""
    queue = route.queue if route.command in ("opt_in", "opt_out") else None
    said = say(flow, state, system(flow, _AGENT_PROMPTS[route.command]))
    reason = f"agent {user} {AGENT_COMMAND_WORDS[route.command]}" + (f" {queue}" if queue else "")
    state, out = goodbye(flow, update(state, feature=None), None, (*preface, said), reason,
                         Outcome.AGENT_COMMAND)
    return state, [act.AgentCommand(user, route.command, queue), *out]


#: Wrong PINs one call may enter before it is ended.
MAX_PIN_TRIES = 3
#: Digits kept of a PIN being typed (more are ignored; the check then fails).
MAX_PIN_DIGITS = 12


def ask_pin(flow: Flow, state: CallState, preface: tuple[act.Say, ...]) -> Result:
    return start_play(state, (*preface, say(flow, state, system(flow, "pin_prompt"))),
                      phase=Phase.PIN_ENTRY, buffer="")


def pin_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    out = interrupt(state)
    state = update(state, playing=None, timer=None)
    if event.key == "#":
        user = _feature_user(flow, state) or ""
        # The digits leave the state at once: nothing else keeps or logs them.
        return update(state, phase=Phase.PIN_CHECK, buffer=""), [
            *out, act.VerifyPin(user, state.buffer)]
    if event.key.isdigit() and len(state.buffer) < MAX_PIN_DIGITS:
        state = update(state, buffer=state.buffer + event.key)
    state, timer = arm_timer(state, "pin", current_menu(flow, state).timeout)
    return state, out + timer


def pin_checked(flow: Flow, state: CallState, event: PinChecked) -> Result:
    route = state.feature
    user = _feature_user(flow, state)
    if route is None or user is None:
        return goodbye(flow, state, None, (), "feature code lost its caller",
                       Outcome.FEATURE_REFUSED)
    if event.ok:
        return _carry_out(flow, state, user, route, ())
    tries = state.pin_tries + 1
    wrong = (say(flow, state, system(flow, "pin_wrong")),)
    if tries >= MAX_PIN_TRIES:
        return goodbye(flow, update(state, feature=None), None, wrong,
                       f"{_feature_words(route)} refused: wrong PIN {tries} times for "
                       f"{_who(route, user)}", Outcome.FEATURE_REFUSED)
    return ask_pin(flow, update(state, pin_tries=tries), wrong)


def pin_timeout(flow: Flow, state: CallState) -> Result:
    route = state.feature
    what = _feature_words(route) if route is not None else "feature code ?"
    return goodbye(flow, update(state, feature=None), None, (),
                   f"{what}: no PIN entered", Outcome.FEATURE_REFUSED)
