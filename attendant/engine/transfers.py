"""Transfers: the ``Transfer`` action for a user, a department or an outside number, and
where the caller goes when nobody answers (the route's fallback, a voicemail box, the
operator, the menu again, goodbye).
"""

from __future__ import annotations

from attendant.engine import actions as act
from attendant.engine import routes
from attendant.engine.events import TransferResult
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import goodbye, say, start_play, system
from attendant.engine.state import CallState, Phase, Result, update
from attendant.model import (
    Disconnect,
    Flow,
    Operator,
    Repeat,
    Route,
    ToDepartment,
    ToExternal,
    ToUser,
    ToVoicemail,
)

#: Failed transfers in one call before we stop trying fallbacks and say goodbye.
MAX_FAILED_TRANSFERS = 4


def transfer(flow: Flow, state: CallState, route: Route, preface: tuple[act.Say, ...],
             depth: int) -> Result:
    action = transfer_action(flow, route)
    if action is None:
        return transfer_failed(flow, update(state, handover=route), "unreachable", depth)
    out: list[act.Action] = []
    if preface:
        state, out = start_play(state, preface)
    state = update(state, phase=Phase.TRANSFERRING, handover=route,
                   outcome=f"transferred to {action.kind} {action.key}",
                   ending=Outcome.ANSWERED_TRANSFER, transfer_reason="")
    return state, [*out, action]


def transfer_action(flow: Flow, route: Route) -> act.Transfer | None:
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


def voicemail_fallback(flow: Flow, route: Route | None) -> ToVoicemail | None:
    """The voicemail box of the user or department ``route`` rings, when it has one."""
    box = None
    if isinstance(route, ToUser) and route.user in flow.users:
        box = flow.users[route.user].voicemail
    elif isinstance(route, ToDepartment) and route.department in flow.departments:
        box = flow.departments[route.department].voicemail
    return ToVoicemail(box) if box is not None and box in flow.voicemail else None


def fallback_for(flow: Flow, state: CallState, route: Route | None) -> Route:
    """Where a caller goes when ``route`` could not reach anyone (see docs/menu-language.md)."""
    if isinstance(route, ToUser | ToDepartment | ToExternal) and route.fallback is not None:
        return route.fallback
    box = voicemail_fallback(flow, route)
    if box is not None:
        return box
    attendant = flow.attendants[state.attendant]
    if attendant.operator is not None and attendant.operator != route:
        return Operator()
    if state.menu is not None:
        return Repeat()
    return Disconnect()


def transfer_failed(flow: Flow, state: CallState, reason: str, depth: int = 0) -> Result:
    failures = state.failed_transfers + 1
    state = update(state, failed_transfers=failures, outcome=f"transfer failed ({reason})",
                   ending=Outcome.TRANSFER_FAILED, transfer_reason=reason)
    sorry = (say(flow, state, system(flow, "unavailable")),)
    if failures >= MAX_FAILED_TRANSFERS:
        return goodbye(flow, state, None, sorry, f"gave up after {failures} failed transfers",
                       Outcome.TRANSFER_FAILED)
    fallback = fallback_for(flow, state, state.handover)
    return routes.run(flow, state, fallback, sorry, depth + 1)


def extension_owner(flow: Flow, number: str) -> Route | None:
    owner = flow.extensions.get(number)
    if owner is None:
        return None
    kind, key = owner
    return ToUser(key) if kind == "user" else ToDepartment(key)


def handover_result(flow: Flow, state: CallState, event: TransferResult) -> Result:
    if event.answered:
        return update(state, phase=Phase.CONNECTED), []
    return transfer_failed(flow, state, event.reason or "failed")
