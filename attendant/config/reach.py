"""Whether the numbers written in the menus can leave the server through its trunks.

A transfer, a queue agent or a callback to a bare number or extension (``+15551230000``,
``sip:1001``) is rung through the trunk whose ``outbound_prefixes`` match it, or through
the server's ``outbound_proxy``. When the menus are validated together with a server
settings file that has trunks and no outbound proxy, a number no trunk carries can never
be rung: every such number is reported where the menus write it. Allow-list entries
(``external_numbers``, a queue's ``callback_numbers``) are prefixes; one that only some
trunk prefixes cover gets a warning naming what does leave.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from attendant.config.checks import Config, attendant_routes, menu_routes, queue_routes
from attendant.config.diagnostics import Diagnostic, Severity
from attendant.config.settings import ServerSettings
from attendant.config.source_map import PathKey, SourceMap
from attendant.model import Queue, Route, ToExternal, User
from attendant.uris import dialled_number

__all__ = ["OutboundRoutes", "unreachable"]


class Carried(Enum):
    ALL = "all"
    SOME = "some"
    NONE = "none"


@dataclass(frozen=True)
class OutboundRoutes:
    """What the server settings let out: each trunk's ``outbound_prefixes``."""

    #: trunk name → the prefixes of the numbers dialled out through it
    trunks: Mapping[str, tuple[str, ...]]
    #: the settings file, named in hints
    settings: str
    #: How a number with no way out is reported: an error for ``validate``; a warning
    #: when the server starts anyway (the call takes the flow's fallback).
    severity: Severity = Severity.ERROR

    @classmethod
    def of(cls, settings: ServerSettings, outbound_proxy: str | None = None,
           severity: Severity = Severity.ERROR) -> OutboundRoutes | None:
        """The routes to check against; None when every number has a way out (an
        outbound proxy, given here or in the settings, takes what no trunk does) or
        nothing is known (no trunks)."""
        if outbound_proxy or settings.options.get("outbound_proxy") or not settings.trunks:
            return None
        return cls({name: trunk.outbound_prefixes for name, trunk in settings.trunks.items()},
                   str(settings.path), severity)

    def number(self, number: str) -> Carried:
        """Whether a number (or extension) dialled as written has a trunk."""
        return Carried.ALL if any(number.startswith(p) for p in self._prefixes) else Carried.NONE

    def prefix(self, prefix: str) -> Carried:
        """Whether every number starting with ``prefix`` has a trunk, some do, or none."""
        if any(prefix.startswith(p) for p in self._prefixes):
            return Carried.ALL
        if any(p.startswith(prefix) for p in self._prefixes):
            return Carried.SOME
        return Carried.NONE

    def narrower(self, prefix: str) -> list[str]:
        """The trunk prefixes inside ``prefix`` (what of it does leave)."""
        return sorted(p for p in self._prefixes if p.startswith(prefix))

    @property
    def _prefixes(self) -> tuple[str, ...]:
        return tuple(p for prefixes in self.trunks.values() for p in prefixes)

    def hint(self, example: str) -> str:
        """What to change so that ``example`` leaves."""
        listed = "; ".join(f"{name}: {_quoted(prefixes) or 'none'}"
                           for name, prefixes in sorted(self.trunks.items()))
        return (f'add "{example}" (or a shorter prefix of it) to a trunk\'s outbound_prefixes '
                f"in {self.settings} (now {listed}), or set outbound_proxy there")


def unreachable(config: Config, sources: SourceMap, routes: OutboundRoutes) -> list[Diagnostic]:
    """Every number written in ``config`` that no trunk of ``routes`` carries."""
    found: list[Diagnostic] = []
    for path, what, number in _dialled(config):
        if routes.number(number) is Carried.NONE:
            found.append(sources.diag(path, f"{what}: no trunk carries it out", routes.hint(number),
                                      severity=routes.severity))
    allow_lists: list[tuple[PathKey, str, str]] = []
    for i, entry in enumerate(config.external_numbers):
        where: PathKey = ("directory", "external_numbers", i)
        if not entry.endswith("*"):  # one number, not a prefix
            if routes.number(entry) is Carried.NONE:
                found.append(sources.diag(where, f'directory.external_numbers allows "{entry}", '
                                                 "but no trunk carries it out",
                                          routes.hint(entry), severity=routes.severity))
            continue
        allow_lists.append((where, "directory.external_numbers allows", entry[:-1]))
    for queue in config.queues.values():
        if isinstance(queue, Queue):
            allow_lists.extend(
                ((*queue.path, "callback_numbers", i), f'queue "{queue.key}" calls back', p)
                for i, p in enumerate(queue.callback_numbers))
    for path, what, prefix in allow_lists:
        carried = routes.prefix(prefix)
        if carried is Carried.NONE:
            found.append(sources.diag(path, f'{what} numbers starting "{prefix}", but no trunk '
                                            "carries them out", routes.hint(prefix),
                                      severity=routes.severity))
        elif carried is Carried.SOME:
            inside = _quoted(routes.narrower(prefix))
            found.append(sources.diag(
                path, f'{what} numbers starting "{prefix}", but only those starting {inside} '
                      "have a trunk", routes.hint(prefix), severity=Severity.WARNING))
    return found


def _dialled(config: Config) -> Iterator[tuple[PathKey, str, str]]:
    """(where it is written, what cannot be rung, the number) for each bare number or
    extension a call can ring: users' phones, external transfers."""
    for user in config.users.values():
        if not isinstance(user, User):
            continue
        if user.sip is not None:
            number = dialled_number(user.sip)
            if number is not None:
                yield ((*user.path, "sip"),
                       f'user "{user.key}" can never be rung at "{number}"', number)
        elif user.extension:
            yield ((*user.path, "extension"), f'user "{user.key}" can never be rung at '
                                              f'extension "{user.extension}"', user.extension)
    seen: set[int] = set()
    for route in _routes(config):
        if isinstance(route, ToExternal) and id(route) not in seen:
            seen.add(id(route))  # a route shared through a YAML anchor is one route
            number = dialled_number(route.number) or route.number
            yield route.path, f'the transfer to "{number}" can never be rung', number


def _routes(config: Config) -> Iterator[Route]:
    for menu in config.menus.values():
        yield from menu_routes(menu)
    for attendant in config.attendants.values():
        yield from attendant_routes(attendant)
    for queue in config.queues.values():
        yield from queue_routes(queue)



def _quoted(prefixes: Iterable[str]) -> str:
    return ", ".join(f'"{p}"' for p in prefixes)
