"""Benchmark: engine steps per second on the bundled main-line example.

Replays a realistic call (language choice, main menu, support submenu, back,
dial by name, transfer) over and over through the pure ``step`` function and
prints steps per second; the target is at least 100,000. Figures, not assertions.

    .venv/bin/python bench/bench_engine.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

from attendant import (
    CallStarted,
    Digit,
    Hangup,
    PromptFinished,
    TimerFired,
    TransferResult,
    initial_state,
    load_flow,
    step,
)
from attendant.engine.actions import Play, StartTimer
from attendant.engine.events import Event

MENU = Path(__file__).resolve().parent.parent / "menus" / "northwind-main-line.yaml"
KEYS = ["1", "2", "#", "4", "7", "6", "4", "#", "2"]


def one_call(flow: object, at: datetime) -> int:
    """Run one scripted call; returns the number of steps taken."""
    state = initial_state()
    steps = 0
    pending: list[Event] = [CallStarted(at, "+12125550142")]
    keys = iter(KEYS)
    while pending or state.phase.value != "ended":
        event = pending.pop(0) if pending else None
        if event is None:
            key = next(keys, None)
            if key is None:
                event = TransferResult(True) if state.phase.value == "transferring" else Hangup()
            else:
                event = Digit(key)
        state, actions = step(flow, state, event)  # type: ignore[arg-type]
        steps += 1
        for action in actions:
            if isinstance(action, Play) and not action.barge_in:
                pending.append(PromptFinished(action.token))
            elif isinstance(action, StartTimer) and action.name.startswith("digits"):
                pending.append(TimerFired(action.name))
        if state.phase.value == "connected":
            state, _ = step(flow, state, Hangup())  # type: ignore[arg-type]
            steps += 1
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    flow = load_flow(MENU)
    at = datetime(2026, 12, 1, 10, 0)
    one_call(flow, at)  # warm caches (time zones, holidays)
    start = time.perf_counter()
    total = sum(one_call(flow, at) for _ in range(args.calls))
    elapsed = time.perf_counter() - start
    rate = total / elapsed
    print(f"{args.calls:,} calls, {total:,} steps in {elapsed:.2f} s")
    print(f"engine steps per second: {rate:,.0f} ({total / args.calls:.1f} steps per call)")
    print(f"target: >= 100,000 steps/s: {'met' if rate >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
