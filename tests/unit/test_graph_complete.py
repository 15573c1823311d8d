"""`attendant graph` draws every way a call can move, so no menu or box looks unconnected.

The test walks each compiled example flow itself, transition by transition (keys,
silence, wrong keys, both maxima with their defaults, queue exits, transfer
fallbacks, full boxes), and checks the Mermaid and the DOT text each have that edge.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flow_surgery import compile_text

from attendant.config.checks import walk
from attendant.config.compiler import compile_path
from attendant.export.graph import _node_id, _target, render
from attendant.model import Disconnect, Flow, Operator, Route, ToDepartment, ToExternal, ToUser

ROOT = Path(__file__).resolve().parents[2]
#: Stands for "the operator or goodbye" in an expected edge.
DEFAULT_MAX = "<default>"
EXAMPLES = [ROOT / "menus" / "northwind-main-line.yaml", ROOT / "menus" / "small-office.yaml",
            ROOT / "menus" / "branch-office"]


def _drawn(flow: Flow) -> dict[str, set[tuple[str, str, str]]]:
    mermaid = {(a, b, label) for a, label, b in re.findall(
        r'^  (\S+) -->\|"([^"]*)"\| (\S+)$', render(flow, "mermaid"), re.M)}
    dot = {(a, b, label) for a, b, label in re.findall(
        r'^  (\S+) -> (\S+) \[label="([^"]*)"\];$', render(flow, "dot"), re.M)}
    return {"mermaid": mermaid, "dot": dot}


def _node(flow: Flow, route: Route, menu_node: str) -> str:
    return _target(flow, route, menu_node)[0]


def _expected(flow: Flow) -> set[tuple[str, str, str]]:
    """(from, to, label) of every transition, found by walking the flow."""
    want: set[tuple[str, str, str]] = set()
    for name, menu in flow.menus.items():
        here = _node_id("menu", name)
        for key, route in menu.options.items():
            want.add((here, _node(flow, route, here), f"key {key}"))
        want.add((here, _node(flow, menu.on_no_input, here), "no input"))
        want.add((here, _node(flow, menu.on_invalid, here), "invalid key"))
        for kind in ("invalid", "timeouts"):
            written = menu.after_max(kind)
            if written is not None:
                want.add((here, _node(flow, written, here), None))  # type: ignore[arg-type]
            else:  # the operator of the attendant that reaches it, or goodbye
                want.add((here, DEFAULT_MAX, None))  # type: ignore[arg-type]
    for key, queue in flow.queues.items():
        here = _node_id("queue", key)
        for route, on in ((queue.on_overflow, queue.max_callers), (queue.on_timeout,
                          queue.max_wait), (queue.on_no_agents, queue.no_agents == "act")):
            if on:
                want.add((here, _node(flow, route or Disconnect(), here), None))  # type: ignore[arg-type]
    for key, box in flow.voicemail.items():
        if box.when_full is not None:
            here = _node_id("vm", key)
            want.add((here, _node(flow, box.when_full, here), "when full"))
    routes = [r for m in flow.menus.values() for top in (*m.options.values(),)
              for r in walk(top)]
    for route in routes:
        if isinstance(route, ToUser | ToDepartment | ToExternal):
            node = _node(flow, route, "")
            want.add((node, "", "no answer"))  # some "no answer" edge leaves it
    return want


def _has(edges: set[tuple[str, str, str]], want: tuple[str, str, str | None]) -> bool:
    source, target, label = want
    defaults = {"special_operator", "special_goodbye"}
    for a, b, drawn in edges:
        if a != source:
            continue
        if target == DEFAULT_MAX and b in defaults and drawn.startswith("after"):
            return True
        if label == "no answer" and target == "" and drawn.startswith("no answer"):
            return True
        if b == target and (label is None or drawn == label):
            return True
    return False


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_transition_of_the_flow_is_drawn_in_mermaid_and_dot(path: Path) -> None:
    flow = compile_path(path).flow
    assert flow is not None
    drawn = _drawn(flow)
    assert drawn["mermaid"] == drawn["dot"]
    missing = [w for w in _expected(flow) if not _has(drawn["mermaid"], w)]
    assert missing == []


def test_queue_exits_defaults_and_maxima_are_drawn(tmp_path: Path) -> None:
    flow = compile_text(tmp_path, """\
version: 1
attendants:
  main: {name: Office, timezone: UTC, business_hours: {menu: welcome}}
menus:
  welcome:
    prompt: Press 1.
    options: {"1": {queue: sales}, "2": {user: ann}}
    max_invalid: 2
    on_max_invalid: {voicemail: box}
queues:
  sales:
    name: Sales
    agents: [{user: ann}]
    max_callers: 3
    max_wait: 60
    on_timeout: {voicemail: box}
    leave_key: "#"
voicemail:
  box: {name: Box}
directory:
  users:
    ann: {name: Ann Lee, sip: "sip:ann@pbx.example"}
""")
    edges = _drawn(flow)["mermaid"]
    assert ("menu_welcome", "vm_box", "after 2 invalid") in edges
    assert ("menu_welcome", _node(flow, Disconnect(), ""), "after 3 timeouts") in edges
    assert ("queue_sales", "vm_box", "waited 60 s") in edges
    assert ("queue_sales", _node(flow, Disconnect(), ""), "full (3 waiting)") in edges
    assert ("queue_sales", _node(flow, Operator(), ""), "key #: leave") in edges
    assert ("user_ann", "special_no_answer", "no answer (default)") in edges
