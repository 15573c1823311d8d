"""Routing methods, table-driven: the order in which each method offers a caller to agents."""

from __future__ import annotations

import pytest

from attendant.queues import routing

AGENTS = ("anna", "samir", "jean", "chloe")
IDLE = {"anna": 50.0, "samir": 10.0, "jean": 30.0, "chloe": 10.0}
CALLS = {"anna": 4, "samir": 2, "jean": 0, "chloe": 2}


@pytest.mark.parametrize(
    ("method", "available", "last", "expected"),
    [
        ("attendant", AGENTS, None, ("anna", "samir", "jean", "chloe")),
        ("attendant", ("chloe", "anna"), None, ("anna", "chloe")),
        ("serial", AGENTS, None, ("anna", "samir", "jean", "chloe")),
        ("serial", AGENTS, "jean", ("anna", "samir", "jean", "chloe")),
        ("serial", ("jean", "samir"), None, ("samir", "jean")),
        ("round_robin", AGENTS, None, ("anna", "samir", "jean", "chloe")),
        ("round_robin", AGENTS, "anna", ("samir", "jean", "chloe", "anna")),
        ("round_robin", AGENTS, "chloe", ("anna", "samir", "jean", "chloe")),
        ("round_robin", ("anna", "jean"), "samir", ("jean", "anna")),
        ("round_robin", AGENTS, "nobody", ("anna", "samir", "jean", "chloe")),
        # idle since 10 (samir, chloe: tie -> configured order), 30, 50
        ("longest_idle", AGENTS, None, ("samir", "chloe", "jean", "anna")),
        ("longest_idle", ("anna", "jean"), None, ("jean", "anna")),
        # 0 calls, then 2 (samir, chloe: tie -> configured order), then 4
        ("fewest_calls", AGENTS, None, ("jean", "samir", "chloe", "anna")),
        ("fewest_calls", ("anna", "chloe"), None, ("chloe", "anna")),
        ("unknown-method", AGENTS, None, ("anna", "samir", "jean", "chloe")),
    ],
)
def test_order_per_method(method: str, available: tuple[str, ...], last: str | None,
                          expected: tuple[str, ...]) -> None:
    got, seed = routing.order(method, AGENTS, available, last_offered=last, idle_since=IDLE,
                              calls=CALLS, seed=7)
    assert got == expected
    assert seed == 7  # only random moves the generator


def test_only_available_agents_are_returned() -> None:
    for method in routing.METHODS:
        got, _ = routing.order(method, AGENTS, ("jean",), idle_since=IDLE, calls=CALLS)
        assert got == ("jean",)
        assert routing.order(method, AGENTS, ())[0] == ()


def test_random_is_a_seeded_permutation() -> None:
    first, seed1 = routing.order("random", AGENTS, AGENTS, seed=1)
    again, _ = routing.order("random", AGENTS, AGENTS, seed=1)
    assert first == again
    assert sorted(first) == sorted(AGENTS)
    assert seed1 != 1
    orders = set()
    seed = 1
    for _ in range(50):
        got, seed = routing.order("random", AGENTS, AGENTS, seed=seed)
        orders.add(got)
    assert len(orders) > 5  # it does vary from call to call


def test_only_attendant_rings_everyone() -> None:
    assert [m for m in routing.METHODS if routing.rings_all(m)] == ["attendant"]
