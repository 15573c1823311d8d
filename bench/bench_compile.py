"""Benchmark: validate and compile a generated menu tree of N menus (default 10,000).

Prints the time of each phase and the total; the target for 10,000 menus is
under one second on the project's 2-core machines. Figures, not assertions.

    .venv/bin/python bench/bench_compile.py [--menus 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from attendant import schema
from attendant.compiler import compile_path
from attendant.loader import load


def generate(menus: int, fanout: int = 3) -> str:
    """A menu tree: every menu has `fanout` submenus (until `menus` exist), a transfer and 0."""
    lines = [
        "version: 1",
        "attendants:",
        "  main:",
        "    name: Generated",
        "    timezone: Europe/Paris",
        "    operator: {user: op}",
        "    business_hours: {menu: m0}",
        "directory:",
        "  users:",
        "    op: {name: Operator Person, extension: '100', sip: 'sip:op@127.0.0.1'}",
        "menus:",
    ]
    for i in range(menus):
        lines.append(f"  m{i}:")
        lines.append(f'    prompt: "Menu {i}. Press 1 to 3 for submenus, 9 for a person."')
        lines.append("    options:")
        for k in range(1, fanout + 1):
            child = i * fanout + k
            if child < menus:
                lines.append(f'      "{k}": {{menu: m{child}}}')
        lines.append('      "9": {user: op}')
        lines.append('      "0": operator')
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--menus", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.yaml"
        path.write_text(generate(args.menus), encoding="utf-8")
        size = path.stat().st_size
        print(f"generated {args.menus:,} menus ({size / 1024:.0f} KiB of YAML)")
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            doc = load(path)
            t1 = time.perf_counter()
            diags = schema.check(doc.data, doc.sources)
            t2 = time.perf_counter()
            result = compile_path(path)
            t3 = time.perf_counter()
            if diags or result.flow is None:
                raise SystemExit(f"generated menu does not compile: {result.errors[:3]}")
            for name, value in (("load YAML", t1 - t0), ("schema check", t2 - t1),
                                ("validate+compile (all phases)", t3 - t2)):
                best[name] = min(best.get(name, value), value)
        for name, value in best.items():
            print(f"{name:32s} {value * 1000:8.1f} ms (best of {args.repeat})")
        if args.menus == 10_000:
            verdict = "met" if best["validate+compile (all phases)"] < 1.0 else "NOT met"
            print(f"target: validate+compile < 1 s for 10,000 menus: {verdict}")


if __name__ == "__main__":
    main()
