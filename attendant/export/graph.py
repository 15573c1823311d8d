"""Draw a compiled flow as a Mermaid or Graphviz (dot) diagram.

Menus are boxes, attendants rounded boxes, and every place a caller can end
up (a person, a queue, voicemail, goodbye) a node of its own. Edges are
labelled with the key or event that takes them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Literal

from attendant.config.checks import children, closure, entry_menus, menu_routes, next_menus
from attendant.engine.transfers import voicemail_fallback
from attendant.model import (
    AgentFeature,
    Announce,
    Back,
    DialByExtension,
    DialByName,
    Disconnect,
    Flow,
    MailboxMenu,
    MainMenu,
    Operator,
    Queue,
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
)
from attendant.queues.core import default_route

Edge = tuple[str, str, str]  # (from node, to node, label)


def _node_id(kind: str, name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if safe != name:  # keep "after-hours" and "after_hours" apart: a short checksum of the name
        safe += f"_{zlib.crc32(name.encode()):08x}"
    return f"{kind}_{safe}"


def _target(flow: Flow, route: Route, here: str) -> tuple[str, str]:
    """(node id, label) for where ``route`` leads."""
    if isinstance(route, ToMenu):
        return _node_id("menu", route.menu), f"menu {route.menu}"
    if isinstance(route, ToUser):
        user = flow.users.get(route.user)
        return _node_id("user", route.user), f"user {user.name if user else route.user}"
    if isinstance(route, ToDepartment):
        dept = flow.departments.get(route.department)
        return (_node_id("dept", route.department),
                f"department {dept.name if dept else route.department}")
    if isinstance(route, ToExternal):
        return _node_id("ext", route.number), f"external {route.number}"
    if isinstance(route, ToQueue):
        return _node_id("queue", route.queue), f"queue {route.queue}"
    if isinstance(route, ToVoicemail):
        return _node_id("vm", route.box), f"voicemail {route.box}"
    if isinstance(route, ToAttendant):
        return _node_id("att", route.attendant), f"attendant {route.attendant}"
    if isinstance(route, Repeat):
        return here, "repeat"
    if isinstance(route, Back):
        return "special_back", "back"
    if isinstance(route, MainMenu):
        return "special_main", "main menu"
    if isinstance(route, Operator):
        return "special_operator", "operator"
    if isinstance(route, Disconnect):
        return "special_goodbye", "goodbye"
    if isinstance(route, DialByName):
        return "special_dial_by_name", "dial by name"
    if isinstance(route, DialByExtension):
        return "special_dial_by_extension", "dial by extension"
    if isinstance(route, Announce):
        return _node_id("announce", route.prompt.id), "announcement"
    if isinstance(route, AgentFeature):
        words = route.command.replace("_", " ") + (f" {route.queue}" if route.queue else "")
        return _node_id("agent", words), f"agent {words}"
    if isinstance(route, SetOverride):
        words = f"{route.attendant or 'this line'} {route.name or 'clear'}"
        return _node_id("override", words), f"switch {words}"
    if isinstance(route, MailboxMenu):
        box = route.box or "own"
        return _node_id("mailbox", box), f"mailbox menu ({box if route.box else 'own box'})"
    assert isinstance(route, SetLanguage)
    return _node_id("lang", f"{here}_{route.language}"), f"language {route.language}"


def _edges(flow: Flow, source: str, route: Route, label: str,
           menu: str) -> Iterator[tuple[Edge, str]]:
    """Edges for ``route`` taken from ``source``; ``menu`` is where "repeat" leads."""
    node, node_label = _target(flow, route, menu)
    yield (source, node, label), node_label
    for child in children(route):
        sub_label = "no answer" if isinstance(route, ToUser | ToDepartment | ToExternal) else "then"
        yield from _edges(flow, node, child, sub_label, menu)
    if isinstance(route, ToUser | ToDepartment | ToExternal) and route.fallback is None:
        default = voicemail_fallback(flow, route)
        if default is not None:
            yield from _edges(flow, node, default, "no answer (default)", menu)
        else:
            yield (node, "special_no_answer", "no answer (default)"), (
                "operator, else the menu again, else goodbye")


def default_max(flow: Flow, menu: str,
                reach: dict[str, set[str]]) -> list[Route]:
    """Where a menu's maximum without an action leads: the operator, for the attendants
    that reach the menu and have one; goodbye for those that have none."""
    found: list[Route] = []
    for key in sorted(reach.get(menu) or flow.attendants):
        default: Route = Operator() if flow.attendants[key].operator is not None else Disconnect()
        if default not in found:
            found.append(default)
    return found


def attendants_of_menus(flow: Flow) -> dict[str, set[str]]:
    """Which attendants' calls can reach each menu (as validation works it out)."""
    reach: dict[str, set[str]] = {}
    for key, attendant in flow.attendants.items():
        entries = entry_menus(attendant) & set(flow.menus)

        def step(menu: str, entries: set[str] = entries) -> set[str]:
            return next_menus(menu_routes(flow.menus[menu]), entries, flow.attendants,
                              flow.menus)

        for name in closure(entries, step):
            reach.setdefault(name, set()).add(key)
    return reach


def queue_exits(flow: Flow, queue: Queue) -> list[tuple[str, Route]]:
    """(label, route) of every way a caller leaves ``queue`` other than an agent: written,
    or the queue core's default."""
    found = []
    if queue.max_callers:
        found.append((f"full ({queue.max_callers} waiting)",
                      queue.on_overflow or default_route(flow, "overflow")))
    if queue.max_wait:
        found.append((f"waited {queue.max_wait} s", queue.on_timeout
                      or default_route(flow, "timeout")))
    if queue.no_agents == "act":
        found.append(("no agents", queue.on_no_agents or default_route(flow, "no_agents")))
    if queue.leave_key is not None:
        found.append((f"key {queue.leave_key}: leave", queue.leave_to
                      or default_route(flow, "leave")))
    return found


def collect(flow: Flow) -> tuple[dict[str, str], list[Edge]]:
    """All nodes (id -> label) and edges of the flow."""
    nodes: dict[str, str] = {}
    edges: list[Edge] = []

    def add(source: str, route: Route, label: str) -> None:
        for edge, node_label in _edges(flow, source, route, label, source):
            nodes.setdefault(edge[1], node_label)
            edges.append(edge)

    for key, attendant in flow.attendants.items():
        source = _node_id("att", key)
        nodes[source] = f"attendant {key}: {attendant.name}"
        add(source, attendant.business_hours, "business hours")
        if attendant.after_hours is not None:
            add(source, attendant.after_hours, "after hours")
        for holiday in attendant.holidays:
            add(source, holiday.flow, f"holiday: {holiday.name}")
        for name, route in attendant.overrides.items():
            add(source, route, f"override: {name}")
        if attendant.operator is not None:
            add("special_operator", attendant.operator, f"operator of {key}")
    reach = attendants_of_menus(flow)
    for name, menu in flow.menus.items():
        source = _node_id("menu", name)
        nodes[source] = f"menu {name}"
        for key, route in menu.options.items():
            add(source, route, f"key {key}")
        if menu.extension_dialing is not None:
            nodes.setdefault("special_dial_by_extension", "dial by extension")
            edges.append((source, "special_dial_by_extension", "extension"))
        add(source, menu.on_no_input, "no input")
        add(source, menu.on_invalid, "invalid key")
        invalid, timeouts = menu.after_max("invalid"), menu.after_max("timeouts")
        if invalid == timeouts:
            for route in [invalid] if invalid is not None else default_max(flow, name, reach):
                add(source, route, "after max tries")
        else:
            for kind, written in ((f"after {menu.max_invalid} invalid", invalid),
                                  (f"after {menu.max_timeouts} timeouts", timeouts)):
                for route in [written] if written is not None else default_max(flow, name, reach):
                    add(source, route, kind)
    for key, queue in flow.queues.items():
        source = _node_id("queue", key)
        nodes.setdefault(source, f"queue {key}")
        for label, route in queue_exits(flow, queue):
            add(source, route, label)
    for key, box in flow.voicemail.items():
        if box.when_full is not None:
            source = _node_id("vm", key)
            nodes.setdefault(source, f"voicemail {key}")
            add(source, box.when_full, "when full")
    return nodes, list(dict.fromkeys(edges))


def _quote(text: str) -> str:
    return text.replace('"', "'")


def render(flow: Flow, fmt: Literal["mermaid", "dot"]) -> str:
    """The diagram source in the requested format."""
    nodes, edges = collect(flow)
    if fmt == "mermaid":
        lines = ["flowchart TD"]
        for node, label in sorted(nodes.items()):
            shape = ('(["', '"])') if node.startswith("att_") else (
                ('["', '"]') if node.startswith("menu_") else ('[["', '"]]'))
            lines.append(f"  {node}{shape[0]}{_quote(label)}{shape[1]}")
        lines.extend(f'  {a} -->|"{_quote(label)}"| {b}' for a, b, label in edges)
        return "\n".join(lines) + "\n"
    lines = ["digraph attendant {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for node, label in sorted(nodes.items()):
        dot_shape = "oval" if node.startswith("att_") else (
            "box" if node.startswith("menu_") else "box3d")
        lines.append(f'  {node} [label="{_quote(label)}", shape={dot_shape}];')
    lines.extend(f'  {a} -> {b} [label="{_quote(label)}"];' for a, b, label in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"
