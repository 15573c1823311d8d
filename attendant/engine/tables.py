"""What the engine reads of a flow on every step, made once when the flow is made.

A step must not recompute what depends only on the flow: a menu's key table and its
prefixes, the prefixes of the extensions, and every prompt resolved into the ``Say`` a
caller of some language hears (see ``bench/bench_engine.py`` for why it matters).
:func:`build` makes them all when a :class:`~attendant.model.Flow` is constructed, so a
flow is never written after it is made and calls on many threads may share it. What
the tables lack (a prompt that arrives in an event, a menu name no flow has) is
resolved on the spot and not kept.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from attendant.engine import actions as act
from attendant.model import (
    Announce,
    DialByExtension,
    DialByName,
    Disconnect,
    File,
    Menu,
    Prompt,
    Route,
    SetLanguage,
    ToDepartment,
    ToExternal,
    ToUser,
    frozen_map,
    localise,
)
from attendant.system_prompts import DEFAULTS as SYSTEM_PROMPTS

if TYPE_CHECKING:
    from attendant.model import Flow

#: The menu of a call that is in none (or in one the flow does not have).
DEFAULT_MENU = Menu("", Prompt("", ()), frozen_map())
#: Music on hold when a queue has no ``music``: adapters play their music-on-hold file.
MUSIC_ON_HOLD = Prompt("system.music_on_hold", ((None, (File("<music on hold>"),)),))


class MenuTable(NamedTuple):
    """What a menu's keys mean, made once per flow."""

    menu: Menu
    #: ``menu.choices()``: every key sequence that does something, defaults included.
    choices: Mapping[str, Route]
    #: Every proper prefix of those key sequences: typed so far, a longer one may follow.
    prefixes: frozenset[str]


#: id(prompt) -> (the prompt, the Say it becomes). The key is the id because hashing a
#: prompt hashes every fragment; the entry keeps the prompt, so a lookup can check that
#: the id is still this prompt's.
SayTable = Mapping[int, tuple[Prompt, act.Say]]


@dataclass(frozen=True, slots=True)
class EngineTables:
    """The tables of one flow; read-only mappings."""

    #: (caller's language, attendant key) -> that attendant's callers' Says in that language.
    says: Mapping[tuple[str, str], SayTable]
    #: Menu name (None: no menu) -> its key table.
    menus: Mapping[str | None, MenuTable]
    #: Every proper prefix of an extension: typed so far, a longer extension may follow.
    extension_prefixes: frozenset[str]


def resolve(prompt: Prompt, language: str, default_language: str) -> act.Say:
    """The Say of ``prompt`` for a caller in ``language`` (the rule is ``Prompt.variant``)."""
    _, spoken, fragments = prompt.variant(language, default_language)
    return act.Say(prompt.id, spoken, tuple([localise(f, spoken) for f in fragments]))


def menu_table(menu: Menu) -> MenuTable:
    choices = menu.choices()
    return MenuTable(menu, frozen_map(choices), proper_prefixes(choices))


def proper_prefixes(keys: Collection[str]) -> frozenset[str]:
    """``buffer in proper_prefixes(keys)``: ``any(k != buffer and k.startswith(buffer))``."""
    found = {key[:i] for key in keys for i in range(1, len(key))}
    if found or keys:
        found.add("")  # nothing typed yet: any key may follow
    return frozenset(found)


def build(flow: Flow) -> EngineTables:
    """Every table the engine needs of ``flow``."""
    prompts = {id(p): p for p in (*flow_prompts(flow), MUSIC_ON_HOLD)}.values()
    # Attendants with the same default language share one table per caller language.
    shared: dict[tuple[str, str], SayTable] = {}
    says: dict[tuple[str, str], SayTable] = {}
    for key, attendant in flow.attendants.items():
        for language in attendant.languages:
            pair = (language, attendant.default_language)
            if pair not in shared:
                shared[pair] = frozen_map(
                    {id(p): (p, resolve(p, language, attendant.default_language))
                     for p in prompts})
            says[(language, key)] = shared[pair]
    menus: dict[str | None, MenuTable] = {name: menu_table(m) for name, m in flow.menus.items()}
    menus[None] = menu_table(DEFAULT_MENU)
    return EngineTables(frozen_map(says), frozen_map(menus), proper_prefixes(flow.extensions))


def flow_prompts(flow: Flow) -> list[Prompt]:
    """Every prompt the configuration writes, plus the system prompts in force (a prompt
    written in several places may come more than once). The engine's tables and the
    prompt builder (:mod:`attendant.prompts.collect`) both read this list."""
    found: list[Prompt] = []
    add, add_route = found.append, _route_prompts
    for attendant in flow.attendants.values():
        for route in (attendant.business_hours, attendant.after_hours, attendant.operator,
                      *(h.flow for h in attendant.holidays)):
            add_route(route, found)
    for menu in flow.menus.values():
        add(menu.prompt)
        for extra in (menu.invalid_prompt, menu.no_input_prompt,
                      menu.extension_dialing.prompt if menu.extension_dialing else None):
            if extra is not None:
                add(extra)
        for route in menu.options.values():
            add_route(route, found)
        for route in (menu.on_no_input, menu.on_invalid, *menu.max_routes()):
            add_route(route, found)
    for queue in flow.queues.values():
        for prompt in (queue.greeting, queue.music):
            if prompt is not None:
                add(prompt)
        for route in (queue.on_overflow, queue.on_timeout, queue.on_no_agents, queue.leave_to):
            add_route(route, found)
    for box in flow.voicemail.values():
        if box.greeting is not None:
            add(box.greeting)
        add_route(box.when_full, found)
    for name, default in SYSTEM_PROMPTS.items():
        add(flow.system_prompts.get(name) or default)
    for user in flow.users.values():
        if user.name_prompt is not None:
            add(user.name_prompt)
    return found


def _route_prompts(route: Route | None, found: list[Prompt]) -> None:
    """Add the prompts ``route`` (and the routes it leads on to) says to ``found``."""
    while route is not None:
        if isinstance(route, Announce):
            found.append(route.prompt)
            route = route.then
        elif isinstance(route, SetLanguage):
            route = route.then
        elif isinstance(route, ToUser | ToDepartment | ToExternal):
            route = route.fallback
        else:
            if isinstance(route, Disconnect | DialByName) and route.prompt is not None:
                found.append(route.prompt)
            elif isinstance(route, DialByExtension) and route.entry.prompt is not None:
                found.append(route.entry.prompt)
            return
