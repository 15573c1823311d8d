"""Routing methods: in which order a queue offers a caller to its agents.

Pure functions. What a method remembers (the last agent offered a call, when
each agent became idle, how many calls each took) is passed in, and the
random method carries its generator's state in and out as an integer, so a
run is reproducible from its seed. Every function returns only agents from
``available``, in the order to try them.

==============  =====================================================================
method          order
==============  =====================================================================
attendant       every available agent at once, in the configured order
serial          the configured order, starting from the top for each caller
round_robin     the configured order, starting after the agent last offered a call
longest_idle    idle the longest first (ties: configured order)
fewest_calls    fewest answered calls from this queue first (ties: configured order)
random          a random order (seeded)
==============  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

Method = Literal["attendant", "serial", "round_robin", "longest_idle", "fewest_calls", "random"]
METHODS: tuple[Method, ...] = ("attendant", "serial", "round_robin", "longest_idle",
                               "fewest_calls", "random")
_MASK = (1 << 64) - 1


def next_random(seed: int) -> tuple[int, int]:
    """SplitMix64: the next 64-bit number and the new generator state."""
    seed = (seed + 0x9E3779B97F4A7C15) & _MASK
    z = seed
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31), seed


def shuffled(items: Sequence[str], seed: int) -> tuple[tuple[str, ...], int]:
    """``items`` in a random order (Fisher-Yates), and the new generator state."""
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        value, seed = next_random(seed)
        j = value % (i + 1)
        out[i], out[j] = out[j], out[i]
    return tuple(out), seed


def order(method: str, configured: Sequence[str], available: Sequence[str] | frozenset[str], *,
          last_offered: str | None = None, idle_since: Mapping[str, float] | None = None,
          calls: Mapping[str, int] | None = None, seed: int = 0) -> tuple[tuple[str, ...], int]:
    """The available agents in the order ``method`` tries them, and the new random state.

    Args:
        method: one of :data:`METHODS` (anything else is treated as ``serial``).
        configured: every agent of the queue, in the configured order (departments expanded).
        available: the agents that may be offered a call now.
        last_offered: for ``round_robin``, the agent last offered a call by this queue.
        idle_since: for ``longest_idle``, when each agent became idle (missing: never busy).
        calls: for ``fewest_calls``, answered calls per agent (missing: none).
        seed: for ``random``, the generator state.
    """
    free = set(available)
    base = [a for a in configured if a in free]
    if method == "round_robin" and last_offered is not None and last_offered in configured:
        i = list(configured).index(last_offered) + 1
        rotated = [*configured[i:], *configured[:i]]
        return tuple(a for a in rotated if a in free), seed
    if method == "longest_idle":
        idle = idle_since or {}
        rank = {a: n for n, a in enumerate(base)}
        return tuple(sorted(base, key=lambda a: (idle.get(a, float("-inf")), rank[a]))), seed
    if method == "fewest_calls":
        count = calls or {}
        rank = {a: n for n, a in enumerate(base)}
        return tuple(sorted(base, key=lambda a: (count.get(a, 0), rank[a]))), seed
    if method == "random":
        return shuffled(base, seed)
    return tuple(base), seed


def rings_all(method: str) -> bool:
    """Whether ``method`` rings every available agent at once."""
    return method == "attendant"
