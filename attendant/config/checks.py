"""Meaning checks: what the schema cannot see because it needs the whole configuration.

* every route points at something that exists (with the known names listed);
* external numbers are on the allow-list, languages are the attendant's;
* extensions are unique across users and departments;
* menus are reachable, and every menu has a way out: from each menu some
  path must reach a person, a queue, voicemail or a goodbye, otherwise callers
  go round for ever ("no way out" for one menu, "loop with no exit" for several);
* ambiguous keys (``1`` next to ``12``) and options that shadow extensions are
  pointed out, since they make callers wait for the inter-digit timeout.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from attendant.config.diagnostics import Diagnostic, Severity
from attendant.config.source_map import PathKey, SourceMap
from attendant.model import (
    AgentFeature,
    Announce,
    Attendant,
    Back,
    DialByExtension,
    DialByName,
    Disconnect,
    MailboxMenu,
    MainMenu,
    Menu,
    Operator,
    Prompt,
    Repeat,
    Route,
    SetLanguage,
    SetOverride,
    ToAttendant,
    ToDepartment,
    ToExternal,
    ToMenu,
    ToQueue,
    ToUser,
    ToVoicemail,
    VoicemailBox,
)
from attendant.numbers import allowed
from attendant.pins import hash_problem


@dataclass
class Config:
    """The parsed parts of a configuration, before indexes are built."""

    attendants: dict[str, Attendant]
    menus: dict[str, Menu]
    users: Mapping[str, object] = field(default_factory=dict)
    departments: Mapping[str, object] = field(default_factory=dict)
    queues: Mapping[str, object] = field(default_factory=dict)
    voicemail: Mapping[str, VoicemailBox] = field(default_factory=dict)
    external_numbers: tuple[str, ...] = ()
    extensions: dict[str, list[tuple[str, str, PathKey]]] = field(default_factory=dict)


def known(names: Mapping[str, object] | list[str], missing: str) -> str:
    """A hint listing known names, closest first."""
    pool = sorted(names)
    if not pool:
        return "none are defined yet"
    close = difflib.get_close_matches(missing, pool, n=1)
    listed = ", ".join(pool[:15]) + (" ..." if len(pool) > 15 else "")
    return (f'did you mean "{close[0]}"? ' if close else "") + f"known: {listed}"


def children(route: Route) -> Iterator[Route]:
    """Routes nested inside ``route`` (fallbacks, then-clauses)."""
    if isinstance(route, ToUser | ToDepartment | ToExternal) and route.fallback is not None:
        yield route.fallback
    if isinstance(route, Announce | SetLanguage):
        yield route.then


def walk(route: Route) -> Iterator[Route]:
    """``route`` and every route nested in it."""
    yield route
    for child in children(route):
        yield from walk(child)


def _chain(route: Route) -> list[Route]:
    """``list(walk(route))`` without generators: a route nests at most one other."""
    out = [route]
    while True:
        if isinstance(route, ToUser | ToDepartment | ToExternal):
            if route.fallback is None:
                return out
            route = route.fallback
        elif isinstance(route, Announce | SetLanguage):
            route = route.then
        else:
            return out
        out.append(route)


def menu_routes(menu: Menu) -> Iterator[Route]:
    """Every route a menu can take, nested ones included."""
    for route in (*menu.options.values(), menu.on_no_input, menu.on_invalid):
        yield from walk(route)
    for route in menu.max_routes():
        yield from walk(route)


def attendant_routes(attendant: Attendant) -> Iterator[Route]:
    """Routes an attendant starts calls on (and its operator)."""
    tops = [attendant.business_hours, *(h.flow for h in attendant.holidays),
            *attendant.overrides.values()]
    if attendant.after_hours is not None:
        tops.append(attendant.after_hours)
    if attendant.operator is not None:
        tops.append(attendant.operator)
    for route in tops:
        yield from walk(route)


def queue_routes(queue: object) -> Iterator[Route]:
    """Every route a queue takes by itself (overflow, timeout, no agents, the caller
    leaving), nested ones included."""
    for attr in ("on_overflow", "on_timeout", "on_no_agents", "leave_to"):
        route = getattr(queue, attr, None)
        if route is not None:
            yield from walk(route)


def entry_menus(attendant: Attendant) -> set[str]:
    """The menus an attendant's calls start in (hours, holidays, overrides, operator)."""
    return {r.menu for r in attendant_routes(attendant) if isinstance(r, ToMenu)}


def next_menus(routes: Iterable[Route], entries: set[str],
               attendants: Mapping[str, Attendant], menus: Mapping[str, object]) -> set[str]:
    """The menus ``routes`` (a menu's) lead to; ``entries`` is where "main" leads."""
    out: set[str] = set()
    for route in routes:
        if isinstance(route, ToMenu):
            out.add(route.menu)
        elif isinstance(route, MainMenu):
            out |= entries
        elif isinstance(route, ToAttendant) and route.attendant in attendants:
            out |= entry_menus(attendants[route.attendant])
    return {m for m in out if m in menus}


def closure(start: set[str], step: Callable[[str], set[str]]) -> set[str]:
    """``start`` and everything ``step`` leads to from it, transitively."""
    seen = set(start)
    todo = list(start)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def subject(path: PathKey) -> str:
    """Name the place a route is written, as an admin would: ``option "1" of menu "main"``."""
    if len(path) < 3:
        return "this action"
    section, owner, rest = str(path[0]), path[1], list(path[2:])
    kind = {"menus": "menu", "attendants": "attendant", "queues": "queue",
            "voicemail": "voicemail box"}.get(section, section)
    if kind == "menu" and rest[0] == "options" and len(rest) >= 2:
        base = f'option "{rest[1]}" of menu "{owner}"'
        rest = rest[2:]
    elif kind == "attendant" and rest[0] == "holidays" and len(rest) >= 3:
        base = f'holiday flow {rest[1]} of attendant "{owner}"'
        rest = rest[3:]
    else:
        base = f'{rest[0]} of {kind} "{owner}"'
        rest = rest[1:]
    for part in rest:
        if part in ("fallback", "then"):
            base = f"the {part} of {base}"
    return base


#: Routes :meth:`Checker.target` has nothing to say about (the commonest: repeat, operator).
_NOTHING_TO_CHECK = frozenset({Back, MainMenu, Repeat, Operator, Announce, Disconnect})


class Checker:
    """Runs every whole-configuration check and collects diagnostics."""

    def __init__(self, config: Config, sources: SourceMap) -> None:
        self.c = config
        self.sources = sources
        self.diags: list[Diagnostic] = []
        self._reachable: dict[str, set[str]] = {}
        self.languages = sorted({lang for a in config.attendants.values() for lang in a.languages})
        #: Every route of each menu (by ``id``), listed once: several checks walk them all.
        self._menu_routes: dict[int, tuple[Route, ...]] = {}
        #: (route type, its attribute naming the target, the table it names, what to call it)
        self._targets: list[tuple[type, str, Mapping[str, object], str]] = [
            (ToMenu, "menu", config.menus, "menu"),
            (ToUser, "user", config.users, "user"),
            (ToDepartment, "department", config.departments, "department"),
            (ToQueue, "queue", config.queues, "queue"),
            (ToAttendant, "attendant", config.attendants, "attendant"),
            (ToVoicemail, "box", config.voicemail, "voicemail box"),
        ]
        self._extensions: list[str] | None = None
        self._pin_warned = False

    def routes(self, menu: Menu) -> tuple[Route, ...]:
        """``tuple(menu_routes(menu))``, computed once per menu."""
        found = self._menu_routes.get(id(menu))
        if found is None:
            tops = (*menu.options.values(), menu.on_no_input, menu.on_invalid,
                    *menu.max_routes())
            found = self._menu_routes[id(menu)] = tuple(
                nested for top in tops for nested in _chain(top))
        return found

    def error(self, path: PathKey, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.diags.append(self.sources.diag(path, message, hint, at_key=at_key))

    def warn(self, path: PathKey, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.diags.append(self.sources.diag(path, message, hint, severity=Severity.WARNING,
                                            at_key=at_key))

    def run(self) -> list[Diagnostic]:
        """All checks, in a stable order."""
        languages = self.languages
        for menu in self.c.menus.values():
            for route in self.routes(menu):
                self.target(route, languages)
            self.keys(menu)
        for attendant in self.c.attendants.values():
            for route in attendant_routes(attendant):
                self.target(route, languages)
            self.operator_available(attendant)
            self.override_users(attendant)
            self.entry_loops(attendant)
            self.prompt_languages(attendant)
        self.directory()
        self.duplicate_extensions()
        self.duplicate_mailbox_numbers()
        self.reachability()
        self.ways_out()
        return self.diags

    # --- references ------------------------------------------------------------

    def target(self, route: Route, languages: list[str]) -> None:
        if type(route) in _NOTHING_TO_CHECK:
            return
        for kind, attr, table, label in self._targets:
            if isinstance(route, kind):
                name = getattr(route, attr)
                if name not in table:
                    self.error(route.path, f'{subject(route.path)} goes to unknown {label} '
                                           f'"{name}"', known(table, name))
                elif isinstance(route, ToUser):
                    user = self.c.users[name]
                    if not getattr(user, "sip", None) and not getattr(user, "extension", None):
                        self.warn(route.path, f'{subject(route.path)} transfers to user "{name}", '
                                              "who has neither sip: nor extension:, so every "
                                              "transfer to them fails over to the fallback",
                                  f"add sip: (for example sip:{name}@pbx.example.com) to the user")
                return
        if isinstance(route, ToExternal) and not allowed(route.number,
                                                                self.c.external_numbers):
            self.error(route.path, f'{subject(route.path)} dials external number '
                                   f'"{route.number}", which is not on the allow-list',
                       "add it (or a prefix such as \"+1555*\") to directory.external_numbers; "
                       "the list guards against toll fraud")
        elif isinstance(route, SetLanguage) and route.language not in languages:
            self.error(route.path, f'{subject(route.path)} switches to language '
                                   f'"{route.language}", which no attendant offers',
                       f"add it to an attendant's languages: (now: {', '.join(languages)})")
        elif isinstance(route, DialByName) and not any(
            getattr(u, "dial_by_name", False) for u in self.c.users.values()
        ):
            self.error(route.path, f"{subject(route.path)} starts dial by name, but nobody "
                                   "can be found by name",
                       "add users to directory.users (with dial_by_name not set to false)")
        elif isinstance(route, SetOverride):
            self.override_target(route)
        elif isinstance(route, MailboxMenu):
            self.mailbox_target(route)
        elif isinstance(route, AgentFeature):
            self.agent_feature(route)
        elif isinstance(route, DialByExtension) and not self.c.extensions:
            self.error(route.path, f"{subject(route.path)} starts dial by extension, but no "
                                   "user or department has an extension",
                       "give users or departments an extension: in the directory")

    def mailbox_target(self, route: MailboxMenu) -> None:
        """``{mailbox: BOX}`` names a box; ``{mailbox: self}`` needs mailbox numbers."""
        boxes = self.c.voicemail
        if route.box is not None and route.box not in boxes:
            self.error(route.path, f'{subject(route.path)} opens unknown voicemail box '
                                   f'"{route.box}"', known(boxes, route.box))
        elif route.box is None and not any(b.number for b in boxes.values()):
            self.error(route.path, f"{subject(route.path)} opens the caller's own mailbox, "
                                   "but no mailbox has a number to log in with",
                       "give users an extension (their mailbox's number), or a box a number:")

    def agent_feature(self, route: AgentFeature) -> None:
        """A feature code needs its queue (to opt in or out) and agents who can be recognised."""
        where = subject(route.path)
        if route.command in ("opt_in", "opt_out"):
            if route.queue is None:
                self.error(route.path, f"{where} ({route.command}) needs a queue",
                           f"write {{agent: {route.command}, queue: NAME}}; "
                           + known(self.c.queues, ""))
            elif route.queue not in self.c.queues:
                self.error(route.path, f'{where} ({route.command}) names unknown queue '
                                       f'"{route.queue}"', known(self.c.queues, route.queue))
        elif route.queue is not None:
            self.warn(route.path, f"{where} ({route.command}) acts on every queue; its queue: "
                                  f'"{route.queue}" is ignored',
                      "remove queue:, or use opt_in / opt_out for one queue")
        unpinned = sorted(k for k in self._agents() if self._recognisable_agent(k)
                          and getattr(self.c.users.get(k), "pin", None) is None)
        if unpinned and not self._pin_warned:
            self._pin_warned = True  # once: every feature code would say the same
            self.warn(route.path, f"{where} is an agent feature code on a menu any caller can "
                                  f"reach, and {', '.join(unpinned[:5])}"
                                  f"{' and others' if len(unpinned) > 5 else ''} "
                                  "have no pin:, so they can use it only from a "
                                  "--trusted-source (a caller ID alone proves nothing)",
                      "give each agent a pin: made with `attendant pin hash`")
        if not any(self._recognisable_agent(key) for key in self._agents()):
            self.warn(route.path, f"{where} is an agent feature code, but no queue agent has "
                                  "an extension, a sip: address or phones: to recognise them by, "
                                  "so every caller hears that they are not an agent",
                      "add agents to a queue, and give them extension:, sip: or phones:")

    def _agents(self) -> set[str]:
        """Users who answer some queue (listed, or through a department)."""
        out: set[str] = set()
        for queue in self.c.queues.values():
            for agent in getattr(queue, "agents", ()):
                if agent.kind == "user":
                    out.add(agent.key)
                    continue
                dept = self.c.departments.get(agent.key)
                out |= set(getattr(dept, "members", ()))
                out |= {k for k, u in self.c.users.items()
                        if agent.key in getattr(u, "departments", ())}
        return out

    def _recognisable_agent(self, key: str) -> bool:
        user = self.c.users.get(key)
        return any(getattr(user, attr, None) for attr in ("extension", "sip", "phones"))

    def entry_loops(self, attendant: Attendant) -> None:
        """A call that starts with announcements and then repeats, goes back or to main loops."""
        starts = [attendant.business_hours, attendant.after_hours,
                  *(h.flow for h in attendant.holidays)]
        for start in starts:
            route = start
            while isinstance(route, Announce | SetLanguage):
                route = route.then
            if start is not None and isinstance(route, Repeat | Back | MainMenu):
                self.error(start.path, f"{subject(start.path)} plays again for ever: calls that "
                                       "start here never reach a menu, a person or a goodbye",
                           "end the chain with then: {menu: ...}, a transfer, a voicemail box or "
                           "disconnect")

    def override_target(self, route: SetOverride) -> None:
        """``{override: NAME, attendant: A}``: A exists, has NAME and someone may use it."""
        if route.attendant is None:
            targets = list(self.c.attendants.values())  # whichever line the call reached
        elif route.attendant in self.c.attendants:
            targets = [self.c.attendants[route.attendant]]
        else:
            self.error(route.path, f'{subject(route.path)} switches unknown attendant '
                                   f'"{route.attendant}"',
                       known(self.c.attendants, route.attendant))
            return
        for attendant in targets:
            if route.name is not None and attendant.override_route(route.name) is None:
                self.error(route.path, f'{subject(route.path)} switches attendant '
                                       f'"{attendant.key}" to "{route.name}", which it does '
                                       "not have",
                           f"use clear, {', '.join(attendant.override_names())}, or add it to "
                           f"the attendant's overrides:")
            elif not attendant.override_by:
                self.warn(route.path, f'{subject(route.path)} switches attendant '
                                      f'"{attendant.key}", but nobody may: its override_by is '
                                      "empty",
                          "list the users who may, with their PIN, in override_by:")

    def override_users(self, attendant: Attendant) -> None:
        for i, key in enumerate(attendant.override_by):
            user = self.c.users.get(key)
            where = (*attendant.path, "override_by", i)
            if user is None:
                self.error(where, f'override_by of attendant "{attendant.key}" names unknown '
                                  f'user "{key}"', known(self.c.users, key))
            elif getattr(user, "pin", None) is None:
                self.warn(where, f'user "{key}" may set overrides of attendant '
                                 f'"{attendant.key}" but has no PIN',
                          "give them a pin: (attendant pin hash) or they can set overrides "
                          "only from a --trusted-source phone")

    def operator_available(self, attendant: Attendant) -> None:
        if attendant.operator is not None:
            return
        for menu_name in sorted(self.reachable_from(attendant)):
            menu = self.c.menus[menu_name]
            for route in self.routes(menu):
                if isinstance(route, Operator):
                    self.error(route.path, f'{subject(route.path)} goes to the operator, but '
                                           f'attendant "{attendant.key}" has no operator',
                               f"add operator: (for example {{user: reception}}) to attendant "
                               f"{attendant.key}")
        for route in attendant_routes(attendant):
            if isinstance(route, Operator):
                self.error(route.path, f'{subject(route.path)} goes to the operator, but '
                                       f'attendant "{attendant.key}" has none',
                           "add operator: to the attendant")

    def prompt_languages(self, attendant: Attendant) -> None:
        if len(attendant.languages) < 2:
            return
        for menu_name in sorted(self.reachable_from(attendant)):
            prompt = self.c.menus[menu_name].prompt
            self._prompt_language(prompt, attendant, self.c.menus[menu_name].path)

    def _prompt_language(self, prompt: Prompt, attendant: Attendant, path: PathKey) -> None:
        if not prompt.languages:
            return
        missing = [lang for lang in attendant.languages if lang not in prompt.languages]
        if missing:
            # The engine's rule (Prompt.variant): what every missing language hears.
            _, heard, _ = prompt.variant(missing[0], attendant.default_language)
            self.warn((*path, "prompt"),
                      f"prompt has no {', '.join(missing)} version; those callers hear the "
                      f"{heard} one",
                      f"add {missing[0]}: to the prompt")

    def directory(self) -> None:
        for key, user in self.c.users.items():
            path: PathKey = getattr(user, "path", ())
            box = getattr(user, "voicemail", None)
            if box is not None and box == key and box not in self.c.voicemail:
                self.error((*path, "voicemail"), f'user "{key}" has no mailbox of their own '
                           "(mailbox: false, or directory.personal_mailboxes: false)",
                           "remove mailbox: false, or name a shared box instead of self")
            elif box is not None and box not in self.c.voicemail:
                self.error((*path, "voicemail"), f'user "{key}" has unknown voicemail box "{box}"',
                           known(self.c.voicemail, box))
            for i, dept in enumerate(getattr(user, "departments", ())):
                if dept not in self.c.departments:
                    self.error((*path, "departments", i),
                               f'user "{key}" is in unknown department "{dept}"',
                               known(self.c.departments, dept))
            pin = getattr(user, "pin", None)
            problem = hash_problem(pin) if pin is not None else None
            if problem is not None:
                self.error((*path, "pin"), f'the pin of user "{key}" is {problem}',
                           "write the hash `attendant pin hash` prints, never the PIN itself")
        for key, dept in self.c.departments.items():
            path = getattr(dept, "path", ())
            for i, member in enumerate(getattr(dept, "members", ())):
                if member not in self.c.users:
                    self.error((*path, "members", i), f'department "{key}" lists unknown user '
                                                      f'"{member}"', known(self.c.users, member))
            box = getattr(dept, "voicemail", None)
            if box is not None and box not in self.c.voicemail:
                self.error((*path, "voicemail"),
                           f'department "{key}" has unknown voicemail box "{box}"',
                           known(self.c.voicemail, box))
        for key, queue in self.c.queues.items():
            path = getattr(queue, "path", ())
            for i, agent in enumerate(getattr(queue, "agents", ())):
                table = self.c.users if agent.kind == "user" else self.c.departments
                if agent.key not in table:
                    self.error((*path, "agents", i), f'queue "{key}" has unknown {agent.kind} '
                                                     f'"{agent.key}"', known(table, agent.key))
            for nested in queue_routes(queue):
                self.target(nested, self.languages)
        for key, box in self.c.voicemail.items():
            path = getattr(box, "path", ())
            for i, owner in enumerate(getattr(box, "owners", ())):
                if owner not in self.c.users:
                    self.error((*path, "owners", i), f'voicemail box "{key}" has unknown owner '
                                                     f'"{owner}"', known(self.c.users, owner))
            if box.when_full is not None:
                for nested in walk(box.when_full):
                    self.target(nested, self.languages)
                self.full_box_loop(key, box.when_full)

    def full_box_loop(self, start: str, route: Route) -> None:
        """``when_full`` must not lead back to its own box through other full boxes."""
        seen, todo = {start}, [route]
        while todo:
            for nested in walk(todo.pop()):
                if not isinstance(nested, ToVoicemail):
                    continue
                if nested.box == start:
                    self.error(route.path, f'when_full of voicemail box "{start}" leads back '
                                           f'to box "{start}": a caller would go round while '
                                           "it is full",
                               "send callers to a person, a queue, a menu or another box, or "
                               "leave when_full out to end the call")
                    return
                box = self.c.voicemail.get(nested.box)
                if nested.box not in seen and box is not None and box.when_full is not None:
                    seen.add(nested.box)
                    todo.append(box.when_full)

    def duplicate_mailbox_numbers(self) -> None:
        seen: dict[str, str] = {}
        for key, box in self.c.voicemail.items():
            if box.number is None:
                continue
            if len(self.c.extensions.get(box.number, ())) > 1:
                continue  # users sharing an extension: reported as such
            if box.number in seen:
                self.error((*box.path, "number") if box.path[:1] == ("voicemail",) else box.path,
                           f'mailbox number {box.number} of voicemail box "{key}" is already '
                           f'the number of box "{seen[box.number]}"',
                           "give each box its own number (a user's mailbox has the user's "
                           "extension)")
            else:
                seen[box.number] = key

    def duplicate_extensions(self) -> None:
        for ext, owners in sorted(self.c.extensions.items()):
            if len(owners) > 1:
                first_kind, first_key, _ = owners[0]
                for kind, key, path in owners[1:]:
                    self.error((*path, "extension"),
                               f'extension {ext} of {kind} "{key}" is already used by '
                               f'{first_kind} "{first_key}"',
                               "every user and department needs its own extension")

    def keys(self, menu: Menu) -> None:
        if None not in (menu.on_max, menu.on_max_invalid, menu.on_max_timeouts):
            self.warn((*menu.path, "on_max"),
                      f'on_max of menu "{menu.name}" is never taken: on_max_invalid and '
                      "on_max_timeouts say what happens after each maximum",
                      "remove on_max, or one of the other two to let on_max stand for it",
                      at_key=True)
        choices = menu.choices()
        if not menu.options and menu.extension_dialing is None:
            self.warn((*menu.path, "prompt"),
                      f'menu "{menu.name}" has no options; callers can only wait for the timeout',
                      "add options:, or use an announcement action instead of a menu")
        ordered = sorted(choices)
        for i, key in enumerate(ordered):
            # The keys that start with ``key`` follow it in sorted order, before any other.
            end = i + 1
            while end < len(ordered) and ordered[end].startswith(key):
                end += 1
            longer = ordered[i + 1:end]
            if longer and (key in menu.options or key in (menu.repeat_key, menu.back_key)):
                self.warn((*menu.path, "options", key),
                          f'pressing "{key}" waits {menu.inter_digit_timeout:g} s for more keys, '
                          f'because "{longer[0]}" starts with it',
                          "give multi-digit entries their own first key to keep menus snappy",
                          at_key=True)
        if menu.extension_dialing is not None:
            if self._extensions is None:
                self._extensions = sorted(self.c.extensions)
            extensions = self._extensions
            for key in sorted(menu.options):
                # The first extension from ``key`` on in sorted order starts with it, if any does.
                at = bisect_left(extensions, key)
                if at < len(extensions) and extensions[at].startswith(key):
                    self.warn((*menu.path, "options", key),
                              f'option "{key}" is also how extension {extensions[at]} starts; '
                              f"callers who press {key} wait {menu.inter_digit_timeout:g} s "
                              "before it acts",
                              "choose option keys no extension starts with", at_key=True)

    # --- the graph of menus ---------------------------------------------------

    def entry_menus(self, attendant: Attendant) -> set[str]:
        return entry_menus(attendant)

    def edges(self, menu: Menu, entries: set[str]) -> set[str]:
        """Menus a caller can move to from ``menu`` (back is resolved by the caller graph)."""
        return next_menus(self.routes(menu), entries, self.c.attendants, self.c.menus)

    def reachable_from(self, attendant: Attendant) -> set[str]:
        """Menus callers of ``attendant`` can reach (computed once per attendant)."""
        cached = self._reachable.get(attendant.key)
        if cached is None:
            entries = self.entry_menus(attendant)
            cached = self._closure(entries & set(self.c.menus), entries)
            self._reachable[attendant.key] = cached
        return cached

    def _closure(self, start: set[str], entries: set[str] | None = None) -> set[str]:
        """Every menu reachable from ``start`` (``entries`` is where "main" leads)."""
        entries = start if entries is None else entries
        return closure(start, lambda name: self.edges(self.c.menus[name], entries))

    def reachability(self) -> None:
        reached: set[str] = set()
        for attendant in self.c.attendants.values():
            reached |= self.reachable_from(attendant)
        from_queues: set[str] = set()
        for queue in self.c.queues.values():
            from_queues |= {r.menu for r in queue_routes(queue) if isinstance(r, ToMenu)}
        for box in self.c.voicemail.values():
            if box.when_full is not None:
                from_queues |= {r.menu for r in walk(box.when_full) if isinstance(r, ToMenu)}
        reached |= self._closure(from_queues & set(self.c.menus))
        for name, menu in self.c.menus.items():
            if name not in reached:
                self.warn(menu.path, f'menu "{name}" is never reached',
                          "link to it from an option (for example {menu: " + name + "}) or "
                          "delete it", at_key=True)

    def ways_out(self) -> None:
        """Find menus from which no path ever leaves the menus (see the module docstring)."""
        all_entries: set[str] = set()
        for attendant in self.c.attendants.values():
            all_entries |= self.entry_menus(attendant)
        graph = {name: self.edges(menu, all_entries) for name, menu in self.c.menus.items()}
        parents: dict[str, set[str]] = {name: set() for name in self.c.menus}
        for name, outs in graph.items():
            for nxt in outs:
                parents[nxt].add(name)
        for name, menu in self.c.menus.items():
            if any(isinstance(r, Back) for r in self.routes(menu)):
                graph[name] = graph[name] | parents[name]
        exits = {name for name, menu in self.c.menus.items() if self._has_exit(menu)}
        can_leave = set(exits)
        changed = True
        while changed:
            changed = False
            for name, outs in graph.items():
                if name not in can_leave and outs & can_leave:
                    can_leave.add(name)
                    changed = True
        trapped = set(self.c.menus) - can_leave
        reach = {name: self._reach(name, graph, trapped) for name in trapped}
        reported: set[str] = set()
        for name in sorted(trapped):
            if name in reported:
                continue
            group = {other for other in reach[name] if name in reach[other]}  # its loop, if any
            reported |= group
            menu = self.c.menus[name]
            if len(group) >= 2:
                loop = self._loop_order(name, graph, group)
                also = sorted(group - set(loop))
                self.error(menu.path, f"loop with no exit: {' -> '.join(loop)}"
                                      + (f" (also through {', '.join(also)})" if also else ""),
                           "give one of these menus an option or on_max that transfers, takes a "
                           "message or hangs up", at_key=True)
                continue
            onward = sorted(graph[name] & trapped - {name})
            if onward:
                message = (f'menu "{name}" has no way out: its choices lead only to '
                           f"{', '.join(onward)}, which {'has' if len(onward) == 1 else 'have'} "
                           "no way out either")
            else:
                message = (f'menu "{name}" has no way out: every choice, timeout and retry '
                           "leads back into it")
            self.error(menu.path, message,
                       "add an option that transfers, takes a message or hangs up, or set "
                       "on_max: to operator or disconnect", at_key=True)

    @staticmethod
    def _reach(name: str, graph: dict[str, set[str]], within: set[str]) -> set[str]:
        """Menus in ``within`` that can be reached from ``name`` (``name`` included)."""
        seen = {name}
        todo = [name]
        while todo:
            for nxt in graph[todo.pop()] & within:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    @staticmethod
    def _loop_order(start: str, graph: dict[str, set[str]], group: set[str]) -> list[str]:
        """The shortest way round from ``start`` back to itself inside ``group``, as names."""
        came_from: dict[str, str] = {}
        frontier = [start]
        while frontier:
            following: list[str] = []
            for here in frontier:
                for nxt in sorted(graph[here] & group):
                    if nxt == start:
                        path = [here]
                        while path[-1] != start:
                            path.append(came_from[path[-1]])
                        return [*reversed(path), start]
                    if nxt not in came_from:
                        came_from[nxt] = here
                        following.append(nxt)
            frontier = following
        return [start, start]  # unreachable: every member of a loop group leads back

    def _has_exit(self, menu: Menu) -> bool:
        if menu.after_max("invalid") is None or menu.after_max("timeouts") is None:
            return True  # a default maximum is the operator or a goodbye
        if menu.extension_dialing is not None:
            return True
        leaving = (ToUser, ToDepartment, ToExternal, ToQueue, ToVoicemail, Disconnect, Operator,
                   DialByName, DialByExtension, ToAttendant, AgentFeature, SetOverride,
                   MailboxMenu)
        return any(isinstance(r, leaving) for r in self.routes(menu))
