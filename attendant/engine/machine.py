"""The engine: one pure function that moves a call through a compiled flow.

Theory of operation
-------------------
``step(flow, state, event) -> (state, actions)`` is the whole interface. The
state (:class:`CallState`) is a frozen value; the actions are instructions
for whoever drives the call (the pjsua2 endpoint, the simulator). There is no
I/O, no clock and no asyncio here, so the same call gives the same answers
everywhere, and a property test can throw any event at any state.

A call is always in one *phase*: playing a menu and waiting for keys,
spelling a name, typing an extension, listening to an announcement, being
transferred, waiting in a queue, leaving a message, hearing goodbye. The
table :data:`TRANSITIONS` maps (phase, event type) to a handler; a pair not in
the table is ignored on purpose (a late digit while transferring, a timer
that was already cancelled) and never raises.

Staleness is handled with tokens: every ``Play`` carries a number and every
timer a unique name, and the state remembers which one it is waiting for, so
a ``PromptFinished`` or ``TimerFired`` that arrives after the caller moved on
is recognised and dropped.

*Routes* (what a key leads to, from :mod:`attendant.model`) are carried out
by :func:`_run`, with one function per kind of route (:data:`_ROUTES`); they
may chain (an announcement, then a menu) but never loop: a depth guard turns
a misconfigured cycle into a goodbye.

What a step needs of the flow and does not change from call to call (a
menu's key table, a prompt resolved for a language) is made once per flow
and kept in ``Flow.memo``; see ``bench/bench_engine.py`` for why it matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from attendant.engine import actions as act
from attendant.engine import schedule
from attendant.engine.events import (
    DTMF_KEYS,
    CallStarted,
    Digit,
    Event,
    Hangup,
    PinChecked,
    PromptFinished,
    QueueAnnouncement,
    QueueOutcome,
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.model import (
    AgentFeature,
    Announce,
    Attendant,
    Back,
    DialByExtension,
    DialByName,
    Digits,
    Disconnect,
    ExtensionEntry,
    File,
    Flow,
    Fragment,
    MainMenu,
    Menu,
    Number,
    Operator,
    Prompt,
    Repeat,
    Route,
    SetLanguage,
    Text,
    ToAttendant,
    ToDepartment,
    ToExternal,
    ToMenu,
    ToQueue,
    ToUser,
    ToVoicemail,
)
from attendant.system_prompts import DEFAULTS as SYSTEM_PROMPTS

#: Chained routes deeper than this are a configuration loop; the call ends politely.
MAX_ROUTE_DEPTH = 16
#: Failed transfers in one call before we stop trying fallbacks and say goodbye.
MAX_FAILED_TRANSFERS = 4
_DEFAULT_MENU = Menu("", Prompt("", ()), {})
_STOP_PLAYBACK = act.StopPlayback()  # it has no fields: one instance serves every call
#: Music on hold when a queue has no ``music``: adapters play their music-on-hold file.
MUSIC_ON_HOLD = Prompt("system.music_on_hold", ((None, (File("<music on hold>"),)),))


class Phase(StrEnum):
    """Where a call is."""

    NEW = "new"
    MENU = "menu"
    ANNOUNCE = "announce"
    NAME_ENTRY = "name_entry"
    NAME_CHOICE = "name_choice"
    EXTENSION_ENTRY = "extension_entry"
    TRANSFERRING = "transferring"
    QUEUED = "queued"
    VOICEMAIL_GREETING = "voicemail_greeting"
    VOICEMAIL_BEEP = "voicemail_beep"
    RECORDING = "recording"
    PIN_ENTRY = "pin_entry"
    PIN_CHECK = "pin_check"
    GOODBYE = "goodbye"
    CONNECTED = "connected"
    ENDED = "ended"


class CallState(NamedTuple):
    """Everything the engine knows about one call. Immutable; ``step`` returns a new one.

    A NamedTuple rather than a frozen dataclass: ``_replace`` is several times
    faster than ``dataclasses.replace``, and the engine replaces state on every step.
    """

    phase: Phase = Phase.NEW
    attendant: str = ""
    language: str = "en-US"
    flow_label: str = ""
    started: datetime | None = None
    caller: str = ""
    entry: Route | None = None
    menu: str | None = None
    stack: tuple[str, ...] = ()
    buffer: str = ""
    invalid: int = 0
    timeouts: int = 0
    token: int = 0
    playing: int | None = None
    barge_in: bool = True
    timer: str | None = None
    timer_seq: int = 0
    pending: Route | None = None
    candidates: tuple[str, ...] = ()
    dial: DialByName | ExtensionEntry | None = None
    handover: Route | None = None
    failed_transfers: int = 0
    box: str | None = None
    outcome: str = ""
    #: In a queue: music on hold plays (again) whenever a prompt ends.
    queue_music: bool = False
    #: From a trusted source (``CallStarted.trusted``): feature codes need no PIN.
    trusted: bool = False
    #: The feature code waiting for its PIN, and the wrong PINs entered so far.
    feature: AgentFeature | None = None
    pin_tries: int = 0


Result = tuple[CallState, list[act.Action]]
Handler = Callable[[Flow, CallState, Any], Result]


#: Where each field sits in the tuple, for :func:`_update`.
_FIELD_INDEX = {name: i for i, name in enumerate(CallState._fields)}


def _update(state: CallState, **changes: Any) -> CallState:
    """``state._replace(**changes)``, about twice as fast.

    Replacing the state is the engine's main cost (several times a step), and
    ``_replace`` pops each of the 25 fields from a dict; this copies the tuple into a
    list and sets only the fields that change.
    """
    values = list(state)
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return tuple.__new__(CallState, values)


def initial_state() -> CallState:
    """The state of a call before :class:`CallStarted`."""
    return CallState()


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


# --- small helpers ------------------------------------------------------------------


def _system(flow: Flow, name: str) -> Prompt:
    return flow.system_prompts.get(name) or SYSTEM_PROMPTS[name]


#: Entries of ``Flow.memo`` before it is emptied (only prompts that arrive in events, not
#: from the flow, could keep adding entries).
_MEMO_LIMIT = 4096


def _say(flow: Flow, state: CallState, prompt: Prompt) -> act.Say:
    # The same (prompt, language, attendant) always gives the same Say: it is made once per
    # flow and kept in ``flow.memo``. The key holds ``id(prompt)`` (hashing a prompt hashes
    # every fragment); the entry holds the prompt itself, so that id stays this prompt's.
    key = (id(prompt), state.language, state.attendant)
    said: tuple[Prompt, act.Say] | None = flow.memo.get(key)
    if said is not None and said[0] is prompt:
        return said[1]
    default = flow.attendants[state.attendant].default_language if state.attendant else "en-US"
    language, fragments = prompt.for_language(state.language, default)
    say = act.Say(prompt.id, language, tuple(_localise(f, language) for f in fragments))
    _remember(flow, key, (prompt, say))
    return say


def _remember(flow: Flow, key: object, value: object) -> None:
    if len(flow.memo) >= _MEMO_LIMIT:
        flow.memo.clear()
    flow.memo[key] = value


def _localise(fragment: Fragment, language: str) -> Fragment:
    # Direct construction: dataclasses.replace is several times slower, on every Play.
    if isinstance(fragment, Text) and fragment.language is None:
        return Text(fragment.text, language, fragment.voice)
    if isinstance(fragment, Digits) and fragment.language is None:
        return Digits(fragment.digits, language)
    return fragment


def _play(state: CallState, items: tuple[act.Say, ...], barge_in: bool = True,
          **changes: Any) -> Result:
    """Start playing ``items``; ``changes`` go into the same state update (one copy per step
    matters: replacing the state is the engine's main cost, see bench/bench_engine.py)."""
    token = state.token + 1
    new = _update(state, token=token, playing=token, barge_in=barge_in, **changes)
    return new, [act.Play(token, items, barge_in)]


def _timer(state: CallState, kind: str, seconds: float, **changes: Any) -> Result:
    """Arm the call's one timer (cancelling the previous one); ``changes`` as in :func:`_play`."""
    seq = state.timer_seq + 1
    name = f"{kind}:{seq}"
    out: list[act.Action] = []
    if state.timer is not None:
        out.append(act.CancelTimer(state.timer))
    out.append(act.StartTimer(name, seconds))
    return _update(state, timer=name, timer_seq=seq, **changes), out


def _interrupt(state: CallState) -> list[act.Action]:
    """What stops when a key is pressed: the prompt playing, the timer running (the caller
    of this sets ``playing`` and ``timer`` to None in its own state update)."""
    out: list[act.Action] = []
    if state.playing is not None:
        out.append(_STOP_PLAYBACK)
    if state.timer is not None:
        out.append(act.CancelTimer(state.timer))
    return out


def _cancel_timer(state: CallState) -> Result:
    if state.timer is None:
        return state, []
    return _update(state, timer=None), [act.CancelTimer(state.timer)]


def _stop_playback(state: CallState) -> Result:
    if state.playing is None:
        return state, []
    return _update(state, playing=None), [_STOP_PLAYBACK]


def _current_menu(flow: Flow, state: CallState) -> Menu:
    menu = flow.menus.get(state.menu) if state.menu is not None else None
    return _DEFAULT_MENU if menu is None else menu


class _MenuTable(NamedTuple):
    """What :func:`_resolve` needs of a menu, made once per flow (see ``Flow.memo``)."""

    menu: Menu
    #: ``menu.choices()``: every key sequence that does something, defaults included.
    choices: Mapping[str, Route]
    #: Every proper prefix of those key sequences: typed so far, a longer one may follow.
    prefixes: frozenset[str]


def _menu_table(flow: Flow, state: CallState) -> _MenuTable:
    key = ("menu", state.menu)
    table: _MenuTable | None = flow.memo.get(key)
    if table is None:
        menu = _current_menu(flow, state)
        choices = menu.choices()
        table = _MenuTable(menu, choices, _proper_prefixes(choices))
        _remember(flow, key, table)
    return table


def _extension_prefixes(flow: Flow) -> frozenset[str]:
    """Every proper prefix of an extension: typed so far, a longer extension may follow."""
    prefixes: frozenset[str] | None = flow.memo.get("extension prefixes")
    if prefixes is None:
        prefixes = _proper_prefixes(flow.extensions)
        _remember(flow, "extension prefixes", prefixes)
    return prefixes


def _proper_prefixes(keys: Iterable[str]) -> frozenset[str]:
    # ``buffer in _proper_prefixes(keys)`` is ``any(k != buffer and k.startswith(buffer)...)``.
    return frozenset(key[:i] for key in keys for i in range(len(key)))


def _timer_kind(state: CallState) -> str:
    return state.timer.split(":", 1)[0] if state.timer else ""


# --- starting and ending -------------------------------------------------------------


def _start(flow: Flow, state: CallState, event: CallStarted) -> Result:
    attendant = flow.attendant_for(event.called)
    language = event.language if event.language in attendant.languages else None
    label, route = schedule.select(attendant, event.at)
    state = _update(
        state,
        attendant=attendant.key,
        language=language or attendant.default_language,
        flow_label=label,
        started=event.at,
        caller=event.caller,
        entry=route,
        trusted=event.trusted,
    )
    return _run(flow, state, route)


_HUNG_UP_WHERE = {
    Phase.RECORDING: "while recording (message kept)",
    Phase.TRANSFERRING: "while the transfer was ringing",
    Phase.QUEUED: "while waiting in the queue",
    Phase.PIN_ENTRY: "while entering a PIN",
    Phase.PIN_CHECK: "while a PIN was checked",
}


def _hangup(state: CallState) -> Result:
    outcome = state.outcome
    if state.phase is Phase.RECORDING:
        outcome = f"voicemail left for {state.box} (caller hung up)"
    elif state.phase not in (Phase.CONNECTED, Phase.GOODBYE):
        # During the goodbye the outcome is already decided (a message saved, say).
        if state.phase is Phase.MENU:
            where = f"in menu {state.menu}"
        else:
            where = _HUNG_UP_WHERE.get(state.phase) or (
                f"during {state.phase.value.replace('_', ' ')}")
        outcome = f"caller hung up {where}"
    ended = _update(state, phase=Phase.ENDED, playing=None, timer=None, outcome=outcome)
    out: list[act.Action] = [act.CancelTimer(state.timer)] if state.timer else []
    if state.phase is Phase.RECORDING:
        out.append(act.StopRecording())
    return ended, out


def _goodbye(flow: Flow, state: CallState, prompt: Prompt | None,
             preface: tuple[act.Say, ...] = (), reason: str = "disconnected") -> Result:
    state, out = _cancel_timer(state)
    items = (*preface, _say(flow, state, prompt or _system(flow, "goodbye")))
    state, play = _play(state, items, False, phase=Phase.GOODBYE, outcome=reason)
    return state, out + play


# --- routes -------------------------------------------------------------------------


def _run(flow: Flow, state: CallState, route: Route, preface: tuple[act.Say, ...] = (),
         depth: int = 0) -> Result:
    """Carry out a route. ``preface`` is played first (an "invalid choice" message, say)."""
    if depth > MAX_ROUTE_DEPTH:
        return _goodbye(flow, state, None, preface, "routing loop in configuration")
    timer = state.timer
    if timer is not None or state.buffer or state.pending is not None:
        state = _update(state, timer=None, buffer="", pending=None)
    attendant = flow.attendants[state.attendant]
    kind = type(route)
    handler = _ROUTES.get(kind) or next(  # by type; a subclass like its base class
        (_ROUTES[k] for k in kind.__mro__ if k in _ROUTES), _route_transfer)
    result = handler(flow, state, attendant, route, preface, depth)
    if timer is None:
        return result
    return result[0], [act.CancelTimer(timer), *result[1]]


# One function per kind of route, chosen by :data:`_ROUTES`; each gets the call's attendant.


def _route_menu(flow: Flow, state: CallState, attendant: Attendant, route: ToMenu,
                preface: tuple[act.Say, ...], depth: int) -> Result:
    stack = state.stack
    if state.menu is not None and state.menu != route.menu and state.phase is not Phase.NEW:
        stack = (*stack, state.menu)
    return _enter_menu(flow, state, route.menu, preface, reset=True, stack=stack)


def _route_back(flow: Flow, state: CallState, attendant: Attendant, route: Back,
                preface: tuple[act.Say, ...], depth: int) -> Result:
    if state.stack:
        previous = state.stack[-1]
        return _enter_menu(flow, state, previous, preface, reset=True, stack=state.stack[:-1])
    return _replay(flow, state, preface, depth)


def _route_repeat(flow: Flow, state: CallState, attendant: Attendant, route: Repeat,
                  preface: tuple[act.Say, ...], depth: int) -> Result:
    return _replay(flow, state, preface, depth)


def _route_main_menu(flow: Flow, state: CallState, attendant: Attendant, route: MainMenu,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    entry = state.entry or attendant.business_hours
    return _run(flow, _update(state, stack=(), menu=None, phase=Phase.NEW), entry, preface,
                depth + 1)


def _route_operator(flow: Flow, state: CallState, attendant: Attendant, route: Operator,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    if attendant.operator is None:
        return _goodbye(flow, state, None, preface, "no operator configured")
    return _run(flow, state, attendant.operator, preface, depth + 1)


def _route_language(flow: Flow, state: CallState, attendant: Attendant, route: SetLanguage,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    language = route.language if route.language in attendant.languages else state.language
    return _run(flow, _update(state, language=language), route.then, preface, depth + 1)


def _route_announce(flow: Flow, state: CallState, attendant: Attendant, route: Announce,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    return _play(state, (*preface, _say(flow, state, route.prompt)), route.barge_in,
                 phase=Phase.ANNOUNCE, pending=route.then)


def _route_disconnect(flow: Flow, state: CallState, attendant: Attendant, route: Disconnect,
                      preface: tuple[act.Say, ...], depth: int) -> Result:
    return _goodbye(flow, state, route.prompt, preface)


def _route_attendant(flow: Flow, state: CallState, attendant: Attendant, route: ToAttendant,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    other = flow.attendants.get(route.attendant)
    if other is None:
        return _goodbye(flow, state, None, preface, "unknown attendant")
    label, entry = schedule.select(other, state.started or datetime(2000, 1, 1))
    language = state.language if state.language in other.languages else other.default_language
    state = _update(state, attendant=other.key, flow_label=label, entry=entry, stack=(),
                    menu=None, phase=Phase.NEW, language=language)
    return _run(flow, state, entry, preface, depth + 1)


def _route_dial_by_name(flow: Flow, state: CallState, attendant: Attendant, route: DialByName,
                        preface: tuple[act.Say, ...], depth: int) -> Result:
    prompt = route.prompt or _system(flow, "dial_by_name")
    return _enter_entry(flow, state, Phase.NAME_ENTRY, route, prompt, preface)


def _route_dial_by_extension(flow: Flow, state: CallState, attendant: Attendant,
                             route: DialByExtension, preface: tuple[act.Say, ...],
                             depth: int) -> Result:
    prompt = route.entry.prompt or _system(flow, _extension_prompt_name(route.entry))
    return _enter_entry(flow, state, Phase.EXTENSION_ENTRY, route.entry, prompt, preface)


def _route_voicemail(flow: Flow, state: CallState, attendant: Attendant, route: ToVoicemail,
                     preface: tuple[act.Say, ...], depth: int) -> Result:
    return _voicemail(flow, state, route.box, preface)


def _route_agent(flow: Flow, state: CallState, attendant: Attendant, route: AgentFeature,
                 preface: tuple[act.Say, ...], depth: int) -> Result:
    return _agent_feature(flow, state, route, preface)


def _route_queue(flow: Flow, state: CallState, attendant: Attendant, route: ToQueue,
                 preface: tuple[act.Say, ...], depth: int) -> Result:
    played: list[act.Action] = []
    if preface:
        state, played = _play(state, preface)
    state = _update(state, phase=Phase.QUEUED, handover=route,
                    outcome=f"queued in {route.queue}")
    return state, [*played, act.EnqueueCall(route.queue, route.priority)]


def _route_transfer(flow: Flow, state: CallState, attendant: Attendant, route: Route,
                    preface: tuple[act.Say, ...], depth: int) -> Result:
    return _transfer(flow, state, route, preface, depth)


def sip_user(uri: str) -> str:
    """The user part of a ``sip:`` URI (``sip:anna@pbx;transport=tcp`` -> ``anna``)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    return rest.split("@", 1)[0].split(";", 1)[0] if "@" in rest else ""


def agent_for_caller(flow: Flow, caller: str, *, agents_only: bool = False) -> str | None:
    """The directory user calling from ``caller``: their extension, their ``sip:`` URI's user
    or one of their ``phones`` (with ``agents_only``, the first such user who answers a
    queue). None when nobody matches (or the caller is unknown)."""
    if not caller:
        return None
    for user in flow.users.values():
        if (caller == user.extension or caller in user.phones or (
                user.sip is not None and caller == sip_user(user.sip))) and (
                not agents_only or _is_agent(flow, user.key)):
            return user.key
    return None


def _is_agent(flow: Flow, user: str) -> bool:
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


def _agent_feature(flow: Flow, state: CallState, route: AgentFeature,
                   preface: tuple[act.Say, ...]) -> Result:
    """An agent's feature code: tell the queues, confirm, say goodbye."""
    user = agent_for_caller(flow, state.caller, agents_only=True)
    opting = route.command in ("opt_in", "opt_out")
    if user is None or (opting and route.queue not in flow.queues):
        said = _say(flow, state, _system(flow, "agent_unknown"))
        return _goodbye(flow, state, None, (*preface, said),
                        f"feature code {route.command}: caller {state.caller or '?'} is not an "
                        "agent")
    if state.trusted:
        return _agent_command(flow, state, user, route, preface)
    if flow.users[user].pin is None:
        said = _say(flow, state, _system(flow, "pin_not_set"))
        return _goodbye(flow, state, None, (*preface, said),
                        f"feature code {route.command} refused: agent {user} has no PIN and "
                        "the call is not from a trusted source")
    return _ask_pin(flow, _update(state, feature=route, pin_tries=0), preface)


def _agent_command(flow: Flow, state: CallState, user: str, route: AgentFeature,
                   preface: tuple[act.Say, ...]) -> Result:
    """The feature code is allowed: tell the queues, confirm, say goodbye."""
    queue = route.queue if route.command in ("opt_in", "opt_out") else None
    said = _say(flow, state, _system(flow, _AGENT_PROMPTS[route.command]))
    reason = f"agent {user} {AGENT_COMMAND_WORDS[route.command]}" + (f" {queue}" if queue else "")
    state, out = _goodbye(flow, _update(state, feature=None), None, (*preface, said), reason)
    return state, [act.AgentCommand(user, route.command, queue), *out]


#: Wrong PINs one call may enter before it is ended.
MAX_PIN_TRIES = 3
#: Digits kept of a PIN being typed (more are ignored; the check then fails).
MAX_PIN_DIGITS = 12


def _ask_pin(flow: Flow, state: CallState, preface: tuple[act.Say, ...]) -> Result:
    return _play(state, (*preface, _say(flow, state, _system(flow, "pin_prompt"))),
                 phase=Phase.PIN_ENTRY, buffer="")


def _pin_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    out = _interrupt(state)
    state = _update(state, playing=None, timer=None)
    if event.key == "#":
        user = agent_for_caller(flow, state.caller, agents_only=True) or ""
        # The digits leave the state at once: nothing else keeps or logs them.
        return _update(state, phase=Phase.PIN_CHECK, buffer=""), [
            *out, act.VerifyPin(user, state.buffer)]
    if event.key.isdigit() and len(state.buffer) < MAX_PIN_DIGITS:
        state = _update(state, buffer=state.buffer + event.key)
    state, timer = _timer(state, "pin", _current_menu(flow, state).timeout)
    return state, out + timer


def _pin_checked(flow: Flow, state: CallState, event: PinChecked) -> Result:
    route = state.feature
    user = agent_for_caller(flow, state.caller, agents_only=True)
    if route is None or user is None:
        return _goodbye(flow, state, None, (), "feature code lost its agent")
    if event.ok:
        return _agent_command(flow, state, user, route, ())
    tries = state.pin_tries + 1
    wrong = (_say(flow, state, _system(flow, "pin_wrong")),)
    if tries >= MAX_PIN_TRIES:
        return _goodbye(flow, _update(state, feature=None), None, wrong,
                        f"feature code {route.command} refused: wrong PIN {tries} times "
                        f"for agent {user}")
    return _ask_pin(flow, _update(state, pin_tries=tries), wrong)


def _pin_timeout(flow: Flow, state: CallState) -> Result:
    route = state.feature
    command = route.command if route is not None else "?"
    return _goodbye(flow, _update(state, feature=None), None, (),
                    f"feature code {command}: no PIN entered")


def _extension_prompt_name(entry: ExtensionEntry) -> str:
    """Fixed-length entries need no terminator, so their default prompt does not ask for one."""
    if entry.length is not None:
        return "enter_extension"
    return "dial_by_extension" if entry.terminator == "#" else "dial_by_extension_star"


def _replay(flow: Flow, state: CallState, preface: tuple[act.Say, ...], depth: int) -> Result:
    if state.menu is not None and state.menu in flow.menus:
        return _enter_menu(flow, state, state.menu, preface, reset=False)
    entry = state.entry
    if entry is None or isinstance(entry, Repeat | Back | MainMenu) or depth > 0:
        return _goodbye(flow, state, None, preface)
    return _run(flow, _update(state, phase=Phase.NEW), entry, preface, depth + 1)


def _enter_menu(flow: Flow, state: CallState, name: str, preface: tuple[act.Say, ...],
                reset: bool, stack: tuple[str, ...] | None = None) -> Result:
    """Play menu ``name``; ``reset`` its counters; ``stack`` replaces the call's, if given."""
    menu = flow.menus.get(name)
    if menu is None:
        if stack is not None:
            state = _update(state, stack=stack)
        return _goodbye(flow, state, None, preface, f"unknown menu {name}")
    items = (*preface, _say(flow, state, menu.prompt))
    changes: dict[str, Any] = {"phase": Phase.MENU, "menu": name, "buffer": "",
                               "dial": menu.extension_dialing, "candidates": ()}
    if reset:
        changes.update(invalid=0, timeouts=0)
    if stack is not None:
        changes["stack"] = stack
    return _play(state, items, menu.barge_in, **changes)


def _enter_entry(flow: Flow, state: CallState, phase: Phase, dial: DialByName | ExtensionEntry,
                 prompt: Prompt, preface: tuple[act.Say, ...]) -> Result:
    return _play(state, (*preface, _say(flow, state, prompt)), phase=phase, dial=dial, buffer="",
                 candidates=())


def _voicemail(flow: Flow, state: CallState, key: str, preface: tuple[act.Say, ...]) -> Result:
    box = flow.voicemail.get(key)
    if box is None:
        return _goodbye(flow, state, None, preface, f"unknown voicemail box {key}")
    greeting = box.greeting or _system(flow, "voicemail_greeting")
    return _play(state, (*preface, _say(flow, state, greeting)), phase=Phase.VOICEMAIL_GREETING,
                 box=key, outcome=f"voicemail for {key} (no message)")


def _transfer(flow: Flow, state: CallState, route: Route, preface: tuple[act.Say, ...],
              depth: int) -> Result:
    action = _transfer_action(flow, route)
    if action is None:
        return _transfer_failed(flow, _update(state, handover=route), "unreachable", depth)
    out: list[act.Action] = []
    if preface:
        state, out = _play(state, preface)
    state = _update(state, phase=Phase.TRANSFERRING, handover=route,
                    outcome=f"transferred to {action.kind} {action.key}")
    return state, [*out, action]


def _transfer_action(flow: Flow, route: Route) -> act.Transfer | None:
    if isinstance(route, ToUser):
        user = flow.users.get(route.user)
        if user is None:
            return None
        where = user.sip or (f"sip:{user.extension}" if user.extension else None)
        if where is None:
            return None
        return act.Transfer("user", user.key, user.name, (where,),
                            ring_seconds=route.ring_seconds or 30, mode=route.mode)
    if isinstance(route, ToDepartment):
        dept = flow.departments.get(route.department)
        if dept is None:
            return None
        members = [flow.users[m] for m in dept.members if m in flow.users]
        destinations = tuple(u.sip or f"sip:{u.extension}" for u in members
                             if u.sip or u.extension)
        if not destinations:
            return None
        return act.Transfer("department", dept.key, dept.name, destinations, dept.ring,
                            route.ring_seconds or dept.ring_seconds, route.mode)
    if isinstance(route, ToExternal):
        return act.Transfer("external", route.number, route.number, (route.number,),
                            ring_seconds=route.ring_seconds or 30, mode=route.mode)
    return None


def _fallback_for(flow: Flow, state: CallState, route: Route | None) -> Route:
    """Where a caller goes when ``route`` could not reach anyone (see docs/menu-language.md)."""
    if isinstance(route, ToUser | ToDepartment | ToExternal) and route.fallback is not None:
        return route.fallback
    box = None
    if isinstance(route, ToUser) and route.user in flow.users:
        box = flow.users[route.user].voicemail
    elif isinstance(route, ToDepartment) and route.department in flow.departments:
        box = flow.departments[route.department].voicemail
    if box is not None and box in flow.voicemail:
        return ToVoicemail(box)
    attendant = flow.attendants[state.attendant]
    if attendant.operator is not None and attendant.operator != route:
        return Operator()
    if state.menu is not None:
        return Repeat()
    return Disconnect()


def _transfer_failed(flow: Flow, state: CallState, reason: str, depth: int = 0) -> Result:
    failures = state.failed_transfers + 1
    state = _update(state, failed_transfers=failures, outcome=f"transfer failed ({reason})")
    sorry = (_say(flow, state, _system(flow, "unavailable")),)
    if failures >= MAX_FAILED_TRANSFERS:
        return _goodbye(flow, state, None, sorry, f"gave up after {failures} failed transfers")
    fallback = _fallback_for(flow, state, state.handover)
    return _run(flow, state, fallback, sorry, depth + 1)


# --- menus: keys and timeouts ---------------------------------------------------------


def _on_max(flow: Flow, state: CallState, menu: Menu) -> Route:
    if menu.on_max is not None:
        return menu.on_max
    if flow.attendants[state.attendant].operator is not None:
        return Operator()
    return Disconnect()


def _invalid(flow: Flow, state: CallState, prompt_name: str = "invalid") -> Result:
    menu = _current_menu(flow, state)
    invalid = state.invalid + 1
    state = _update(state, invalid=invalid, buffer="", timeouts=0)
    sorry_prompt = (menu.invalid_prompt if prompt_name == "invalid" else None) or _system(
        flow, prompt_name)
    sorry = (_say(flow, state, sorry_prompt),)
    if invalid >= menu.max_invalid:
        return _run(flow, _update(state, invalid=0), _on_max(flow, state, menu), sorry)
    if state.phase is Phase.MENU:
        return _run(flow, state, menu.on_invalid, sorry)
    return _retry_entry(flow, state, sorry)


def _no_input(flow: Flow, state: CallState) -> Result:
    menu = _current_menu(flow, state)
    timeouts = state.timeouts + 1
    state = _update(state, timeouts=timeouts, timer=None, buffer="")
    if timeouts >= menu.max_timeouts:
        sorry = (_say(flow, state, menu.no_input_prompt or _system(flow, "no_input")),)
        return _run(flow, _update(state, timeouts=0), _on_max(flow, state, menu), sorry)
    preface = (_say(flow, state, menu.no_input_prompt),) if menu.no_input_prompt else ()
    if state.phase is Phase.MENU:
        return _run(flow, state, menu.on_no_input, preface)
    return _retry_entry(flow, state, preface)


def _retry_entry(flow: Flow, state: CallState, preface: tuple[act.Say, ...]) -> Result:
    """Prompt again inside dial by name or dial by extension."""
    if state.phase is Phase.NAME_CHOICE:
        return _offer_candidates(flow, state, state.candidates, preface)
    if isinstance(state.dial, DialByName):
        prompt = state.dial.prompt or _system(flow, "dial_by_name")
        return _enter_entry(flow, state, Phase.NAME_ENTRY, state.dial, prompt, preface)
    entry = state.dial if isinstance(state.dial, ExtensionEntry) else ExtensionEntry()
    prompt = entry.prompt or _system(flow, _extension_prompt_name(entry))
    return _enter_entry(flow, state, Phase.EXTENSION_ENTRY, entry, prompt, preface)


def _prompt_finished(flow: Flow, state: CallState, event: PromptFinished) -> Result:
    if event.token != state.playing:
        return state, []
    if state.phase is Phase.MENU:
        return _timer(state, "input", _current_menu(flow, state).timeout, playing=None)
    if state.phase in (Phase.NAME_ENTRY, Phase.EXTENSION_ENTRY, Phase.NAME_CHOICE):
        if state.buffer:
            return _timer(state, "digits", _current_menu(flow, state).inter_digit_timeout,
                          playing=None)
        return _timer(state, "input", _current_menu(flow, state).timeout, playing=None)
    state = _update(state, playing=None)
    if state.phase is Phase.ANNOUNCE:
        return _run(flow, state, state.pending or Repeat())
    if state.phase is Phase.GOODBYE:
        return _update(state, phase=Phase.ENDED), [act.Disconnect(state.outcome or "goodbye")]
    if state.phase is Phase.PIN_ENTRY:
        return _timer(state, "pin", _current_menu(flow, state).timeout)
    if state.phase is Phase.VOICEMAIL_GREETING:
        return _beep(flow, state)
    if state.phase is Phase.VOICEMAIL_BEEP:
        return _record(flow, state)
    if state.phase is Phase.QUEUED and state.queue_music:
        return _play(state, (_say(flow, state, queue_music(flow, state)),), barge_in=False)
    return state, []


def _timer_fired(flow: Flow, state: CallState, event: TimerFired) -> Result:
    if event.name != state.timer:
        return state, []
    kind = _timer_kind(state)
    state = _update(state, timer=None)
    if state.phase is Phase.RECORDING:
        return _stop_recording(flow, state)
    if state.phase is Phase.PIN_ENTRY:
        return _pin_timeout(flow, state)
    if kind == "digits":
        return _resolve(flow, state, final=True)
    return _no_input(flow, state)


def _menu_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if state.playing is not None and not state.barge_in:
        return state, []  # this prompt cannot be interrupted; the key is dropped
    out = _interrupt(state)
    if event.key not in DTMF_KEYS:
        result = _invalid(flow, _update(state, playing=None, timer=None))
        return result[0], out + result[1]
    state = _update(state, playing=None, timer=None, buffer=state.buffer + event.key, timeouts=0)
    result = _resolve(flow, state, final=False)
    return result[0], out + result[1]


def _extension_owner(flow: Flow, number: str) -> Route | None:
    owner = flow.extensions.get(number)
    if owner is None:
        return None
    kind, key = owner
    return ToUser(key) if kind == "user" else ToDepartment(key)


def _resolve(flow: Flow, state: CallState, final: bool) -> Result:
    """Decide what the digits typed so far in a menu mean, or wait for more."""
    if state.phase is not Phase.MENU:
        return _resolve_entry(flow, state, final)
    menu, choices, prefixes = _menu_table(flow, state)
    buffer = state.buffer
    entry = menu.extension_dialing
    if entry is not None and len(buffer) > 1 and buffer.endswith(entry.terminator):
        number = buffer[:-1]
        target = _extension_owner(flow, number)
        if target is not None:
            return _announce_transfer(flow, state, target, _name_of(flow, state, target))
        if number in choices:
            return _run(flow, state, choices[number])
        return _invalid(flow, state, "no_such_extension")
    exact = choices.get(buffer)
    longer_option = buffer in prefixes
    extension_prefix = entry is not None and buffer in _extension_prefixes(flow)
    is_extension = entry is not None and buffer in flow.extensions and (
        entry.length is None or len(buffer) == entry.length
    )
    if entry is not None and entry.length is not None and len(buffer) >= entry.length:
        extension_prefix = False
    if not final and (longer_option or extension_prefix):
        return _timer(state, "digits", menu.inter_digit_timeout)
    if exact is not None:
        return _run(flow, state, exact)
    if is_extension:
        target = _extension_owner(flow, buffer)
        assert target is not None
        return _announce_transfer(flow, state, target, _name_of(flow, state, target))
    return _invalid(flow, state)


def _announce_transfer(flow: Flow, state: CallState, target: Route,
                       name: act.Say | None = None) -> Result:
    """Say "transferring" (and whose name) before a transfer found by extension or name."""
    items = [_say(flow, state, _system(flow, "transferring"))]
    if name is not None:
        items.append(name)
    return _play(state, tuple(items), False, phase=Phase.ANNOUNCE, pending=target)


# --- dial by name and by extension ----------------------------------------------------


def _entry_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    out = _interrupt(state)
    key = event.key
    phase = state.phase
    terminator = state.dial.terminator if isinstance(state.dial, ExtensionEntry) else "#"
    if (key in DTMF_KEYS and phase is not Phase.NAME_CHOICE and key != terminator
            and not (key == "*" and phase is Phase.NAME_ENTRY)):
        # One more digit typed (the common case, so a single state update).
        state = _update(state, playing=None, timer=None, buffer=state.buffer + key, timeouts=0,
                        candidates=())
        result = _resolve_entry(flow, state, final=False)
        return result[0], out + result[1]
    if out:
        state = _update(state, playing=None, timer=None)
    if key not in DTMF_KEYS:
        result = _invalid(flow, state)
    elif phase is Phase.NAME_CHOICE:
        result = _choose_candidate(flow, state, key)
    elif key == "*" and phase is Phase.NAME_ENTRY:
        # Back to the menu dial by name was chosen from (not the one before it).
        result = _run(flow, state, Repeat() if state.menu else Disconnect())
    else:  # the terminator
        result = _resolve_entry(flow, state, final=True)
    return result[0], out + result[1]


def _resolve_entry(flow: Flow, state: CallState, final: bool) -> Result:
    menu = _current_menu(flow, state)
    if state.phase is Phase.EXTENSION_ENTRY:
        entry = state.dial if isinstance(state.dial, ExtensionEntry) else ExtensionEntry()
        complete = final or (entry.length is not None and len(state.buffer) >= entry.length)
        if not complete:
            return _timer(state, "digits", menu.inter_digit_timeout)
        if not state.buffer:
            return _no_input(flow, state)
        target = _extension_owner(flow, state.buffer)
        if target is None:
            return _invalid(flow, state, "no_such_extension")
        return _announce_transfer(flow, state, target, _name_of(flow, state, target))
    if not final:
        return _timer(state, "digits", menu.inter_digit_timeout)
    return _search_names(flow, state)


def _name_of(flow: Flow, state: CallState, target: Route) -> act.Say | None:
    """The person's (or department's) name as the caller should hear it, in their language.

    Ids follow the directory's paths so the prompt builder can render names ahead of time.
    """
    if isinstance(target, ToUser) and target.user in flow.users:
        user = flow.users[target.user]
        if user.name_prompt is not None:
            return _say(flow, state, user.name_prompt)
        return act.Say(f"directory.users.{user.key}.name", state.language,
                       (Text(user.name, state.language),))
    if isinstance(target, ToDepartment) and target.department in flow.departments:
        dept = flow.departments[target.department]
        return act.Say(f"directory.departments.{dept.key}.name", state.language,
                       (Text(dept.name, state.language),))
    return None


def _search_names(flow: Flow, state: CallState) -> Result:
    dial = state.dial if isinstance(state.dial, DialByName) else DialByName()
    if not state.buffer:
        return _no_input(flow, state)
    if len(state.buffer) < dial.min_digits:
        return _invalid(flow, state, "dial_by_name_too_few")
    found = sorted({
        user for digits, which, user in flow.names
        if digits.startswith(state.buffer) and dial.match in ("either", which)
    }, key=lambda k: (flow.users[k].last_name, flow.users[k].first_name, k))
    if not found:
        return _invalid(flow, state, "dial_by_name_no_match")
    if len(found) == 1:
        target = ToUser(found[0])
        return _announce_transfer(flow, state, target, _name_of(flow, state, target))
    if len(found) > dial.max_matches:
        # The letters typed so far are kept, so the caller can add more. ``candidates`` holds
        # the matches until a key is pressed: the same search again with nothing typed since
        # is silence, a timeout (or a silent caller would hear "several people match" for ever).
        if tuple(found) == state.candidates:
            return _no_input(flow, state)
        return _play(state, (_say(flow, state, _system(flow, "dial_by_name_too_many")),),
                     phase=Phase.NAME_ENTRY, candidates=tuple(found))
    return _offer_candidates(flow, _update(state, buffer=""), tuple(found), ())


def _offer_candidates(flow: Flow, state: CallState, candidates: tuple[str, ...],
                      preface: tuple[act.Say, ...]) -> Result:
    items = list(preface)
    for number, key in enumerate(candidates, start=1):
        items.append(_say(flow, state, _system(flow, "for_person")))
        name = _name_of(flow, state, ToUser(key))
        if name is not None:
            items.append(name)
        items.append(_say(flow, state, _system(flow, "press")))
        items.append(act.Say("", state.language, (Digits(str(number), state.language),)))
    items.append(_say(flow, state, _system(flow, "star_to_retry")))
    return _play(state, tuple(items), phase=Phase.NAME_CHOICE, candidates=candidates, buffer="")


def _choose_candidate(flow: Flow, state: CallState, key: str) -> Result:
    if key == "*":
        dial = state.dial if isinstance(state.dial, DialByName) else DialByName()
        prompt = dial.prompt or _system(flow, "dial_by_name")
        return _enter_entry(flow, state, Phase.NAME_ENTRY, dial, prompt, ())
    if key.isdigit() and 1 <= int(key) <= len(state.candidates):
        target = ToUser(state.candidates[int(key) - 1])
        return _announce_transfer(flow, state, target, _name_of(flow, state, target))
    return _invalid(flow, state)


# --- announcements, transfers, queues, voicemail --------------------------------------


def _announce_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if state.playing is None or not state.barge_in:
        return state, []
    state, out = _stop_playback(state)
    result = _run(flow, state, state.pending or Repeat())
    return result[0], out + result[1]


def _handover_result(flow: Flow, state: CallState, event: TransferResult) -> Result:
    if event.answered:
        return _update(state, phase=Phase.CONNECTED), []
    return _transfer_failed(flow, state, event.reason or "failed")


def queue_music(flow: Flow, state: CallState) -> Prompt:
    """What a queued caller hears between announcements: the queue's music or the default."""
    queue = flow.queues.get(state.handover.queue) if isinstance(state.handover, ToQueue) else None
    return queue.music if queue is not None and queue.music is not None else MUSIC_ON_HOLD


def _queue_part(flow: Flow, state: CallState, kind: str, number: int) -> list[act.Say]:
    """One piece of what the queue core says: greeting, position, estimated wait..."""
    queue = flow.queues.get(state.handover.queue) if isinstance(state.handover, ToQueue) else None

    def n(value: int) -> act.Say:
        return act.Say("", state.language, (Number(value, state.language),))

    minutes = _say(flow, state, _system(flow, "queue_minute" if number == 1 else "queue_minutes"))
    if kind == "greeting":
        return [_say(flow, state, queue.greeting)] if queue and queue.greeting else []
    if kind == "position":
        return [_say(flow, state, _system(flow, "queue_position")), n(number),
                _say(flow, state, _system(flow, "queue_position_end"))]
    if kind == "wait":
        return [_say(flow, state, _system(flow, "queue_wait")), n(number), minutes]
    if kind == "wait_more":
        return [_say(flow, state, _system(flow, "queue_wait_more")), n(number), minutes]
    if kind == "callback_refused":
        return [_say(flow, state, _system(flow, "queue_callback_refused"))]
    return []


def _queue_announcement(flow: Flow, state: CallState, event: QueueAnnouncement) -> Result:
    """Say what the queue core asks for (interrupting the music), then music again."""
    state, out = _stop_playback(state)
    items = [say for kind, number in event.parts for say in _queue_part(flow, state, kind, number)]
    state = _update(state, queue_music=True)
    if not items:
        items = [_say(flow, state, queue_music(flow, state))]
    state, play = _play(state, tuple(items), barge_in=False)
    return state, out + play


def _queue_outcome(flow: Flow, state: CallState, event: QueueOutcome) -> Result:
    """The queue is done with the caller: connected, sent elsewhere, or to be called back."""
    state, out = _stop_playback(state)
    queue = state.handover.queue if isinstance(state.handover, ToQueue) else ""
    state = _update(state, queue_music=False)
    if event.kind == "connected":
        return _update(state, phase=Phase.CONNECTED,
                       outcome=f"answered by {event.agent} from queue {queue}"), out
    if event.kind == "callback":
        result = _goodbye(flow, state, _system(flow, "queue_callback_confirm"),
                          reason=f"callback requested from queue {queue}")
    else:
        result = _run(flow, state, event.route or Disconnect())
    return result[0], out + result[1]


def _beep(flow: Flow, state: CallState) -> Result:
    return _play(state, (_say(flow, state, _system(flow, "beep")),), False,
                 phase=Phase.VOICEMAIL_BEEP)


def _greeting_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if event.key != "#":
        return state, []
    state, out = _stop_playback(state)
    result = _beep(flow, state)
    return result[0], out + result[1]


def _record(flow: Flow, state: CallState) -> Result:
    box = flow.voicemail[state.box or ""]
    state = _update(state, phase=Phase.RECORDING, outcome=f"voicemail left for {box.key}")
    state, timer = _timer(state, "record", box.max_seconds)
    return state, [act.RecordVoicemail(box.key, box.max_seconds), *timer]


def _stop_recording(flow: Flow, state: CallState) -> Result:
    return _thank_for_message(flow, state, stop_recorder=True)


def _thank_for_message(flow: Flow, state: CallState, stop_recorder: bool) -> Result:
    """The message is kept: thank the caller, then hang up (``stop_recorder`` if it still runs)."""
    state, out = _cancel_timer(state)
    if stop_recorder:
        out.append(act.StopRecording())
    state, play = _play(state, (_say(flow, state, _system(flow, "voicemail_thanks")),), False,
                        phase=Phase.GOODBYE)
    return state, out + play


def _recording_digit(flow: Flow, state: CallState, event: Digit) -> Result:
    if event.key != "#":
        return state, []
    return _stop_recording(flow, state)


def _recording_finished(flow: Flow, state: CallState, event: RecordingFinished) -> Result:
    if event.box_full:
        return _box_full(flow, state, event.error)
    if not event.error:
        return _thank_for_message(flow, state, stop_recorder=False)
    # Storage failed: never silence, never a false "saved". Apologise and end the call.
    box = state.box or "?"
    outcome = (f"voicemail left for {box} (cut short: {event.error})" if event.seconds > 0
               else f"voicemail failed for {box}: {event.error}")
    state, out = _cancel_timer(_update(state, outcome=outcome))
    state, play = _play(state, (_say(flow, state, _system(flow, "voicemail_failed")),), False,
                        phase=Phase.GOODBYE)
    return state, out + play


def _box_full(flow: Flow, state: CallState, why: str) -> Result:
    """The box takes no more messages: say so, then its ``when_full`` route or goodbye."""
    box = flow.voicemail[state.box or ""]
    state, out = _cancel_timer(_update(state, outcome=f"voicemail box {box.key} full"))
    sorry = (_say(flow, state, _system(flow, "voicemail_full")),)
    if box.when_full is None:
        result = _goodbye(flow, state, None, sorry, f"voicemail box {box.key} full ({why})")
    else:
        result = _run(flow, state, box.when_full, sorry)
    return result[0], out + result[1]


def _ignore(flow: Flow, state: CallState, event: Any) -> Result:
    return state, []


_WAITING = (Phase.MENU, Phase.NAME_ENTRY, Phase.NAME_CHOICE, Phase.EXTENSION_ENTRY,
            Phase.ANNOUNCE, Phase.GOODBYE, Phase.VOICEMAIL_GREETING, Phase.VOICEMAIL_BEEP,
            Phase.PIN_ENTRY)

#: (phase, event type) -> handler. Pairs not listed are ignored (see the module docstring).
TRANSITIONS: dict[tuple[Phase, type], Handler] = {
    (Phase.NEW, CallStarted): _start,
    **{(phase, PromptFinished): _prompt_finished for phase in _WAITING},
    **{(phase, PromptFinished): _prompt_finished for phase in
       (Phase.TRANSFERRING, Phase.QUEUED, Phase.RECORDING)},
    **{(phase, TimerFired): _timer_fired for phase in
       (Phase.MENU, Phase.NAME_ENTRY, Phase.NAME_CHOICE, Phase.EXTENSION_ENTRY, Phase.RECORDING,
        Phase.PIN_ENTRY)},
    (Phase.MENU, Digit): _menu_digit,
    (Phase.PIN_ENTRY, Digit): _pin_digit,
    (Phase.PIN_CHECK, PinChecked): _pin_checked,
    (Phase.NAME_ENTRY, Digit): _entry_digit,
    (Phase.NAME_CHOICE, Digit): _entry_digit,
    (Phase.EXTENSION_ENTRY, Digit): _entry_digit,
    (Phase.ANNOUNCE, Digit): _announce_digit,
    (Phase.VOICEMAIL_GREETING, Digit): _greeting_digit,
    (Phase.RECORDING, Digit): _recording_digit,
    (Phase.RECORDING, RecordingFinished): _recording_finished,
    (Phase.TRANSFERRING, TransferResult): _handover_result,
    (Phase.QUEUED, TransferResult): _handover_result,
    (Phase.QUEUED, QueueAnnouncement): _queue_announcement,
    (Phase.QUEUED, QueueOutcome): _queue_outcome,
    (Phase.CONNECTED, Digit): _ignore,
}

#: Route type -> the function carrying it out (see :func:`_run`); any other route transfers.
_ROUTES: dict[type, Callable[..., Result]] = {
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
    ToQueue: _route_queue,
}
