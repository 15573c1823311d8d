"""Benchmark: build the prompts of a generated menu with about 200 prompts, cold then warm.

Cold renders everything with espeak-ng into an empty build folder; warm builds
again with nothing changed (every prompt comes from the cache). The target for
warm is under one second. Figures, not assertions.

    .venv/bin/python bench/bench_prompts.py [--prompts 200] [--jobs 2] [--rate 8000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from attendant.config.compiler import compile_path
from attendant.prompts.build import build
from attendant.prompts.collect import collect


def generate(menus: int) -> str:
    """One attendant, ``menus`` menus each with its own prompt and an announcement."""
    lines = ["version: 1", "attendants:", "  main:", "    name: Generated",
             "    timezone: Europe/Paris", "    business_hours: {menu: m0}", "menus:"]
    for i in range(menus):
        nxt = f"m{i + 1}" if i + 1 < menus else "m0"
        lines += [f"  m{i}:",
                  f'    prompt: "Menu number {i}. For the next menu, press 1. '
                  f'To hear announcement {i}, press 2."',
                  "    options:",
                  f'      "1": {{menu: {nxt}}}',
                  f'      "2": {{announcement: "This is announcement {i}.", then: repeat}}',
                  '      "0": disconnect']
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rate", type=int, default=8000, choices=(8000, 16000))
    args = parser.parse_args()
    # Each menu gives two prompts; the system prompts and digits (about 30) come on top.
    menus = max(1, (args.prompts - 30) // 2)
    with tempfile.TemporaryDirectory() as tmp:
        menu = Path(tmp) / "generated.yaml"
        menu.write_text(generate(menus), encoding="utf-8")
        result = compile_path(menu)
        assert result.flow is not None, result.diagnostics
        count = len(collect(result.flow))
        print(f"{count} prompts ({menus} menus), {args.jobs} job(s), {args.rate} Hz")
        for label in ("cold", "warm"):
            started = time.perf_counter()
            report = build(result.flow, Path(tmp) / "out", sites=result.prompt_sites,
                           rate=args.rate, jobs=args.jobs)
            elapsed = time.perf_counter() - started
            assert report.ok, [str(e) for e in report.errors]
            print(f"{label}: {elapsed:6.2f} s  ({report.rendered} rendered, "
                  f"{report.cached} from the cache)")


if __name__ == "__main__":
    main()
