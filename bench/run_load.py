"""Benchmarks under real load: `attendant serve` vs a bare pjsua2 floor, driven by SIPp.

    .venv/bin/python bench/run_load.py [--steps 50,100,200,500] [--quick]

For every concurrency step, runs the same SIPp callers (bench/loadlib.py) first
against `attendant serve` on the example main line, then against the bare
pjsua2 floor (bench/floor_pjsua2.py); then the micro benchmarks
(bench_compile.py, bench_engine.py, bench_prompts.py). Writes
docs/BENCHMARKS.md (table, targets, machine, how to reproduce),
docs/benchmarks.png (CPU and latency against concurrent calls) and the raw
figures to bench/results/latest.json.

Needs: scripts/setup.sh (pjsua2 with raised limits), sipp, espeak-ng, and
``pip install -e '.[bench]'`` (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadlib

ROOT = loadlib.ROOT
DOC = ROOT / "docs" / "BENCHMARKS.md"
PNG = ROOT / "docs" / "benchmarks.png"
RESULTS = ROOT / "bench" / "results"


def wait_idle(limit_s: float) -> tuple[float, bool]:
    """Poll the 1-minute load average until < 1.0, for at most ``limit_s`` seconds."""
    deadline = time.monotonic() + limit_s
    while True:
        load = os.getloadavg()[0]
        if load < 1.0:
            return load, True
        if time.monotonic() >= deadline:
            return load, False
        print(f"load average {load:.2f}: waiting for the machine to be idle", flush=True)
        time.sleep(min(20.0, max(1.0, deadline - time.monotonic())))


def micro(quick: bool) -> dict[str, str]:
    """Run the three micro benchmarks; their printed figures, by name."""
    runs = {
        "compile": ["bench/bench_compile.py", *(["--menus", "2000", "--repeat", "1"]
                                                if quick else [])],
        "engine": ["bench/bench_engine.py", *(["--calls", "2000"] if quick else [])],
        "prompts": ["bench/bench_prompts.py", *(["--prompts", "20"] if quick else [])],
    }
    found: dict[str, str] = {}
    for name, args in runs.items():
        try:
            done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True,
                                  text=True, timeout=900, check=False)
            found[name] = (done.stdout + (done.stderr if done.returncode else "")).strip()
        except subprocess.TimeoutExpired:
            found[name] = "timed out after 900 s"
    return found


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        doctor = subprocess.run([sys.executable, "-c", "from attendant.cli import main; main()",
                                 "doctor", "--json"], capture_output=True, text=True,
                                timeout=120, check=False)
        limits = json.loads(doctor.stdout).get("pjsua2") or {}
        pj = f"{limits.get('version', '?')}, max calls {limits.get('max_calls', '?')}"
    except (subprocess.SubprocessError, ValueError, OSError):
        pj = "?"
    sipp = subprocess.run(["sipp", "-v"], capture_output=True, text=True,
                          check=False).stdout.strip()
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem,
            "os": platform.platform(), "python": platform.python_version(),
            "pjsua2": str(pj), "sipp": sipp.splitlines()[-1].strip() if sipp else "?"}


def fmt(value: Any, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}" if isinstance(value, float) \
        else f"{value}{unit}"


#: serve_probe.py patches to measure next to serve (none by default: the measured fixes
#: are in attendant/ now; the option stays for the next experiment).
FIXES = ""
FINDINGS = ROOT / "bench" / "findings.md"
Pair = tuple[loadlib.StepResult, loadlib.StepResult | None, loadlib.StepResult | None]


def ratio(engine: loadlib.StepResult | None, floor: loadlib.StepResult | None) -> float | None:
    if engine is None or floor is None or not engine.cpu_plateau_pct or not floor.cpu_plateau_pct:
        return None
    return round(engine.cpu_plateau_pct / floor.cpu_plateau_pct, 2)


def plot(pairs: list[Pair], path: Path, before: dict[int, loadlib.StepResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [e.concurrency for e, _, _ in pairs]
    old = [before.get(n) for n in xs]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.plot(xs, [e.cpu_plateau_pct for e, _, _ in pairs], "o-", label="attendant serve")
    if any(old):
        ax1.plot(xs, [b.cpu_plateau_pct if b else None for b in old], "o:", alpha=0.6,
                 label="serve before the fixes")
    if any(x for _, x, _ in pairs):
        ax1.plot(xs, [x.cpu_plateau_pct if x else None for _, x, _ in pairs], "d-.",
                 label="serve with patches")
    ax1.plot(xs, [f.cpu_plateau_pct if f else None for _, _, f in pairs], "s--",
             label="bare pjsua2 floor")
    ax1.set_xlabel("concurrent calls")
    ax1.set_ylabel("server CPU, % of one core")
    ax1.set_title("CPU at the plateau")
    ax1.grid(alpha=0.3)
    ax1.legend()
    for label, attr, style in (("INVITE→200 p99", "invite_p99_ms", "o-"),
                               ("DTMF→prompt p99", "dtmf_p99_ms", "^-")):
        ax2.plot(xs, [getattr(e, attr) for e, _, _ in pairs], style, label=f"serve {label}")
        if any(old):
            ax2.plot(xs, [getattr(b, attr) if b else None for b in old], style[0] + ":",
                     alpha=0.6, label=f"before {label}")
        if any(x for _, x, _ in pairs):
            ax2.plot(xs, [getattr(x, attr) if x else None for _, x, _ in pairs],
                     style[0] + "-.", label=f"serve+patches {label}")
        ax2.plot(xs, [getattr(f, attr) if f else None for _, _, f in pairs], style[0] + "--",
                 label=f"floor {label}")
    ax2.axhline(20, color="grey", lw=0.8, ls=":")
    ax2.axhline(50, color="grey", lw=0.8, ls=":")
    ax2.set_xlabel("concurrent calls")
    ax2.set_ylabel("ms")
    ax2.set_yscale("symlog", linthresh=1)
    ax2.set_ylim(bottom=0)
    ax2.set_title("latency p99 (targets 20 / 50 ms dotted)")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_soak(points: list[tuple[float, float]], path: Path) -> None:
    """Server RSS over the soak (``points``: seconds, MB)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot([t / 60 for t, _ in points], [mb for _, mb in points], "-", lw=1)
    ax.set_xlabel("minutes")
    ax.set_ylabel("server RSS, MB")
    ax.set_ylim(bottom=0)
    ax.set_title("RSS during the soak")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _met(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def targets(pairs: list[Pair], extra: list[loadlib.StepResult],
            soak: loadlib.StepResult | None, legs: dict[int, loadlib.StepResult]) -> list[str]:
    """One line per target of the issue: met or not, at which steps, with the figures."""
    clean = [e for e, _, _ in pairs if e.failed == 0 and e.answered == e.calls]
    best = max((e.concurrency for e in clean), default=0)
    lines = [f"- **≥ 500 concurrent calls, 0 failed**: "
             f"{'met' if best >= 500 else 'NOT met'}: the largest step with 0 failures "
             f"was {best} (steps run: {', '.join(str(e.concurrency) for e, _, _ in pairs)}; "
             "serve caps callers at 512, half the build's 1024 calls)."]
    for label, attr, limit in (("INVITE→200 p99 ≤ 20 ms", "invite_p99_ms", 20.0),
                               ("DTMF→next prompt p99 ≤ 50 ms", "dtmf_p99_ms", 50.0)):
        runs = [e for e, _, _ in pairs]
        bad = [f"{r.concurrency} ({getattr(r, attr)} ms)" for r in runs
               if not _met(getattr(r, attr), limit)]
        good = [f"{r.concurrency} ({getattr(r, attr)} ms)" for r in runs
                if _met(getattr(r, attr), limit)]
        lines.append(f"- **{label}**: " + (
            "met at every step: " + ", ".join(good) if not bad else
            (f"met at {', '.join(good)}; " if good else "") + "NOT met at " + ", ".join(bad)))
    ratios = [(e.concurrency, ratio(e, f)) for e, _, f in pairs if f is not None]
    if ratios:
        text = ", ".join(f"{n} ({r}x)" for n, r in ratios)
        lines.append("- **engine CPU ≤ 1.25x the floor**, main line (a third of the callers "
                     "also carry a bridged agent leg the floor has not): "
                     + ("met at every step: " if all(_met(r, 1.25) for _, r in ratios)
                        else "") + text)
    same = [(e.concurrency, ratio(e, legs.get(e.concurrency))) for e, _, _ in pairs
            if e.concurrency in legs]
    if same:
        lines.append("- **engine CPU ≤ 1.25x the floor**, main line against the floor doing "
                     "the same media (`floor + legs`: the same agent legs bridged and "
                     "messages recorded): "
                     + ("met at every step: " if all(_met(r, 1.25) for _, r in same) else "")
                     + ", ".join(f"{n} ({r}x)" for n, r in same))
    floors = [r for r in extra if r.kind.startswith("floor")]
    for r in extra:
        if r.kind.startswith("engine") and floors:
            value = ratio(r, floors[0])
            lines.append(f"- **engine CPU ≤ 1.25x the floor**, every caller in the menus "
                         f"(the floor's own workload, `{r.kind}`, {r.concurrency} calls): "
                         f"{'met' if _met(value, 1.25) else 'NOT met'} ({value}x)")
    if soak is None:
        lines.append("- **10-minute soak at 70 % of the maximum**: not run in this "
                      "measurement (`--soak 600`).")
    else:
        ok = (soak.failed == 0 and soak.active_after == 0
              and _met(soak.rss_slope_mb_per_min, 0.5))
        lines.append(
            f"- **10-minute soak at 70 % of the maximum**: {'met' if ok else 'NOT met'}: "
            f"{soak.concurrency} callers up at once for {soak_minutes(soak):g} min, "
            f"{soak.answered} calls answered, {soak.failed} failed, active calls afterwards "
            f"{soak.active_after}, RSS {fmt(soak.rss_first_min_mb)} MB in the first minute "
            f"after the warm-up and {fmt(soak.rss_last_min_mb)} MB in the last (trend "
            f"{fmt(soak.rss_slope_mb_per_min)} MB/min; flat means under 0.5 MB/min).")
    return lines


def soak_minutes(soak: loadlib.StepResult) -> float:
    return round((soak.samples[-1][0] if soak.samples else 0.0) / 60, 1)


def table(pairs: list[Pair], before: dict[int, loadlib.StepResult],
          before_label: str, legs: dict[int, loadlib.StepResult]) -> list[str]:
    head = ("| calls | side | answered / failed | INVITE→200 p50 / p99 ms | "
            "DTMF→prompt p50 / p99 ms | (from callback) | CPU % of a core | peak RSS MB | "
            "RTP rx / lost | SIPp CPU % | CPU ratio |")
    rows = [head, "|" + "---|" * 11]
    for engine, patched, floor in pairs:
        sides = (("serve", engine), (before_label, before.get(engine.concurrency)),
                 ("serve + patches", patched), ("floor", floor),
                 ("floor + legs", legs.get(engine.concurrency)))
        for side, r in sides:
            if r is None:
                continue
            same = legs.get(r.concurrency) if side == "serve" else None
            same_text = f" ({fmt(ratio(r, same))}x same media)" if same else ""
            rows.append(
                f"| {r.concurrency} | {side} | {r.answered} / {r.failed} | "
                f"{fmt(r.invite_p50_ms)} / {fmt(r.invite_p99_ms)} | {fmt(r.dtmf_p50_ms)} / "
                f"{fmt(r.dtmf_p99_ms)} | {fmt(r.dtmf_cb_p50_ms)} / {fmt(r.dtmf_cb_p99_ms)} | "
                f"{fmt(r.cpu_plateau_pct)} | {fmt(r.peak_rss_mb)} | {fmt(r.rtp_rx)} / "
                f"{fmt(r.rtp_loss)} | {fmt(r.sipp_cpu_pct)} | "
                f"{fmt(ratio(r, floor)) + 'x' if not side.startswith('floor') and floor else ''}"
                f"{same_text} |")
    return rows


def write_doc(pairs: list[Pair], micro_out: dict[str, str], info: dict[str, str],
              command: str, load: tuple[float, bool], started: str,
              soak: loadlib.StepResult | None, extra: list[loadlib.StepResult],
              before: dict[int, loadlib.StepResult], before_label: str,
              legs: dict[int, loadlib.StepResult] | None = None,
              notes: list[str] | None = None) -> str:
    legs = legs or {}
    outcomes = "\n".join(f"- {e.concurrency} calls: " + ", ".join(
        f"{k} {v}" for k, v in sorted(e.outcomes.items())) + (
        f"; notes: {'; '.join(e.notes)}" if e.notes else "") for e, _, _ in pairs)
    micro_text = "\n\n".join(f"**{name}** (`bench/bench_{name}.py`)\n\n```\n{text}\n```"
                             for name, text in micro_out.items()) or "Not run (`--no-micro`)."
    extra_text = "\n".join(f"- `{r.kind}` at {r.concurrency}: CPU {fmt(r.cpu_plateau_pct)} %, "
                           f"failed {r.failed}, INVITE→200 p99 {fmt(r.invite_p99_ms)} ms, "
                           f"DTMF→prompt p99 {fmt(r.dtmf_p99_ms)} ms"
                           for r in extra) or "- not run (`--menus-only`)"
    threads_text = "\n".join(
        f"- {r.concurrency} calls, {side}: " + ", ".join(
            f"{name} {pct:g}" for name, pct in sorted(r.threads_pct.items(),
                                                      key=lambda kv: -kv[1]))
        for e, _, f in pairs for side, r in (("serve", e), ("floor", f),
                                             ("floor + legs", legs.get(e.concurrency)))
        if r is not None and r.threads_pct) or "- not measured"
    soak_text = ("Not run in this measurement (`--soak SECONDS` runs it)." if soak is None
                 else f"`{loadlib.summary_line(soak)}`; calls by outcome: " + ", ".join(
                     f"{k} {v}" for k, v in sorted(soak.outcomes.items())))
    busy = "".join(f"\n> {note}\n" for note in notes or [])
    busy += ("" if load[1] else
             f"\n> **The machine was busy**: the 1-minute load average was {load[0]:.2f} "
             "when the run started (other work on the box); figures are pessimistic.\n")
    findings = FINDINGS.read_text().strip() if FINDINGS.exists() else ""
    before_text = ("" if not before else f"""
**{before_label}** rows: the same steps run with the code before the fixes described
below (`--before`, raw figures in `bench/results/{BEFORE.name}`), on the same machine
shortly before.
""")
    return f"""# Benchmarks

Measured {started} with `{command}`.
{busy}
Every step runs the same SIPp callers first against `attendant serve` (the example
main line, `menus/northwind-main-line.yaml`, opened 24/7 and pointed at SIPp agents)
and then against the **floor**, a bare pjsua2 script on the same build and endpoint
settings that only answers, plays a prompt and restarts it on every RFC 4733 digit
(`bench/floor_pjsua2.py`). Callers: half stay in the menus (keys 1, 2, 3), a sixth
each join the support queue (1 2 2; its agent is a SIPp answerer, and as the example
sets `max_callers: 3`, most of them overflow to the support mailbox), are transferred
to a SIPp agent that echoes RTP (1 0), or leave a message after two busy agents
(1 3). Every caller streams G.711 audio (50 packets/s) with its keys in the same RTP
sequence, listens to the greeting for 2 s, sends a key every 1.5 s, and hangs up
after the hold time so that all callers of a step are up at once.

## Results

{chr(10).join(table(pairs, before, before_label, legs))}

- **answered / failed**: SIPp's counts of successful and failed calls (a 503, a
  timeout or an unexpected message is a failure).
- **INVITE→200**: SIPp's response times (`-trace_rtt`, whole milliseconds).
- **DTMF→prompt**: from the moment SIPp starts sending a key's first RTP packet (its
  pcap offset after the time the scenario logs) to the server starting the next
  prompt's player; **(from callback)**: from pjsua2's DTMF callback to that player.
  Measured in the server by `bench/serve_probe.py`, which wraps two methods of
  `InboundCall` (the floor notes the same two moments). Keys that lead to a transfer
  or a recording have no next prompt and are not counted.
- **CPU**: the server process's user+system time (`/proc/<pid>/stat`, sampled every
  0.5 s) over the plateau, when every caller of the step is up; % of one core.
- **CPU ratio**: serve's CPU / the floor's at the same step (target ≤ 1.25). Serve
  also carries the agent legs (a second RTP stream and a bridge for a third of the
  callers) and the voicemail recorders that the floor does not have; **floor + legs**
  is the floor with that media too (`--legs-to`: callers pressing 1 0 or 1 2 2 are
  bridged to the same SIPp agent, 1 3 is recorded to a WAV), and "same media" is
  serve's ratio to it.
- **RTP rx / lost**: packets pjmedia received from the callers and counted lost
  (sequence gaps), summed over the calls when their streams ended.
{before_text}
Every caller in the menus (no agent legs: the floor's exact workload):

{extra_text}

Where the CPU goes: % of a core per server thread over the plateau (`pjsip-worker`
runs SIP and every line of Python of serve; `clock` is pjmedia's conference bridge
clock, which mixes, encodes and sends every stream's RTP every 20 ms; `media`
receives RTP; `python` is the floor's pjsua2 thread, or a thread without a name):

{threads_text}

Call outcomes (serve, from `calls.jsonl`):

{outcomes}

![CPU and latency against concurrent calls](benchmarks.png)

## Against the targets

{chr(10).join(targets(pairs, extra, soak, legs))}

### Soak

{soak_text}
{"" if soak is None else chr(10) + "![RSS during the soak](soak-rss.png)" + chr(10)}
{findings}

## Offline figures

{micro_text}

## Reproduce

```sh
bash scripts/setup.sh                         # pjsua2 with raised limits, espeak-ng
apt-get install -y sip-tester                # SIPp 3.6 with pcap play
.venv/bin/pip install -e '.[bench]'           # matplotlib
.venv/bin/python bench/run_load.py --menus-only --soak 600   # about 25 minutes
```

`--steps 50,100,200,500` (the default) sets the concurrency steps, `--quick` runs 20
and 50 callers with a short plateau, `--soak SECONDS` adds the soak at 70 % of the
largest clean step, `--before FILE` adds the rows of an earlier run
(`bench/results/*.json`). Raw figures: `bench/results/latest.json`. CI runs a 30-call
smoke version (`tests/sip/test_bench_smoke.py`) that only checks that no call fails.

## The machine

{chr(10).join(f'- {k}: {v}' for k, v in info.items())}
- load generator (SIPp) on the same machine; 1-minute load average at the start:
  {load[0]:.2f}
"""


BEFORE = RESULTS / "before-fixes.json"


def _result(row: dict[str, Any] | None) -> loadlib.StepResult | None:
    return None if row is None else loadlib.StepResult(**row)


def load_before(path: Path | None) -> tuple[dict[int, loadlib.StepResult], str]:
    """The serve rows of an earlier run's JSON, by concurrency, and their label."""
    if path is None or not path.exists():
        return {}, ""
    data = json.loads(path.read_text())
    found = {}
    for step in data["steps"]:
        engine = _result(step["engine"])
        if engine is not None:
            found[engine.concurrency] = engine
    return found, data.get("label") or "serve before"


def render_again(doc: Path, png: Path, before_path: Path | None) -> None:
    """The doc and the plot from the last run's raw figures (no load is run)."""
    data = json.loads((RESULTS / "latest.json").read_text())
    pairs: list[Pair] = []
    for step in data["steps"]:
        engine = _result(step["engine"])
        assert engine is not None
        pairs.append((engine, _result(step.get("engine_fixed")), _result(step["floor"])))
    extra = [r for r in (_result(row) for row in data.get("menus_only", [])) if r]
    legs = {r.concurrency: r for r in (_result(step.get("floor_legs"))
                                       for step in data["steps"]) if r}
    before, label = load_before(before_path)
    plot(pairs, png, before)
    load = data["load_average"]
    soak = _result(data["soak"])
    if soak is not None and data.get("soak_minutes"):
        soak.samples = [(data["soak_minutes"] * 60, 0.0, 0.0)]
    doc.write_text(write_doc(pairs, data["micro"], data["machine"], data["command"],
                             (load, load < 1.0), data["started"], soak, extra, before,
                             label, legs, data.get("notes", [])))
    print(f"wrote {doc} and {png} from {RESULTS / 'latest.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="50,100,200,500",
                        help="concurrent calls per step, comma separated")
    parser.add_argument("--quick", action="store_true",
                        help="steps 20,50 with a short plateau and small micro benchmarks")
    parser.add_argument("--plateau", type=float, default=None,
                        help="seconds every caller of a step is up at once (default 15)")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--no-floor-legs", action="store_true",
                        help="skip the floor that also bridges agent legs and records")
    parser.add_argument("--no-micro", action="store_true")
    parser.add_argument("--soak", type=float, default=0,
                        help="seconds of soak at 70 %% of the largest clean step (0: none)")
    parser.add_argument("--soak-calls", type=int, default=0,
                        help="callers up at once in the soak (default: 70 %% of the largest "
                             "clean step)")
    parser.add_argument("--wait-idle", type=float, default=600,
                        help="seconds to wait for a load average below 1.0 first")
    parser.add_argument("--fixes", default=FIXES,
                        help="also run serve with these bench/serve_probe.py patches ('' : no)")
    parser.add_argument("--menus-only", action="store_true",
                        help="also run serve and floor with every caller in the menus at "
                             "the largest step")
    parser.add_argument("--before", type=Path, default=BEFORE,
                        help="an earlier run's JSON whose serve rows the doc shows beside "
                             "these (default: bench/results/before-fixes.json if present)")
    parser.add_argument("--label", default="",
                        help="what the doc calls this run's serve rows when it is the "
                             "--before of a later run (stored in the JSON)")
    parser.add_argument("--render-only", action="store_true",
                        help="write the doc and plot again from bench/results/latest.json")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json",
                        help="where the raw figures go")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--png", type=Path, default=PNG)
    args = parser.parse_args()
    if args.render_only:
        render_again(args.doc, args.png, args.before)
        return
    missing = loadlib.which_missing()
    if missing:
        sys.exit(f"missing: {', '.join(missing)} "
                 "(bash scripts/setup.sh; apt-get install sip-tester)")
    steps = [20, 50] if args.quick and args.steps == "50,100,200,500" else [
        int(s) for s in args.steps.split(",") if s]
    plateau = args.plateau if args.plateau is not None else (5.0 if args.quick else 15.0)
    command = "python bench/run_load.py " + " ".join(sys.argv[1:])
    load = wait_idle(args.wait_idle)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    workdir = Path(tempfile.mkdtemp(prefix="attendant-bench-"))
    print(f"work folder {workdir}", flush=True)
    ws = loadlib.prepare(workdir)
    pairs: list[Pair] = []
    legs: dict[int, loadlib.StepResult] = {}
    for n in steps:
        engine = loadlib.run_step(ws, "engine", n, plateau_s=plateau)
        print(loadlib.summary_line(engine), flush=True)
        floor = None
        if not args.no_floor:
            time.sleep(2)
            floor = loadlib.run_step(ws, "floor", n, plateau_s=plateau)
            print(loadlib.summary_line(floor), flush=True)
            if not args.no_floor_legs:
                time.sleep(2)
                legs[n] = loadlib.run_step(ws, "floor+legs", n, plateau_s=plateau)
                print(loadlib.summary_line(legs[n]), flush=True)
        fixed = None
        if args.fixes:
            time.sleep(2)
            fixed = loadlib.run_step(ws, "engine", n, plateau_s=plateau, patches=args.fixes)
            print(loadlib.summary_line(fixed), flush=True)
        pairs.append((engine, fixed, floor))
        time.sleep(2)
    extra: list[loadlib.StepResult] = []
    if args.menus_only:
        kinds = [("engine", ""), *([("engine", args.fixes)] if args.fixes else []),
                 ("floor", "")]
        for kind, patches in kinds:
            r = loadlib.run_step(ws, kind, steps[-1], plateau_s=plateau, patches=patches,
                                 mix="menus")
            print(loadlib.summary_line(r), flush=True)
            extra.append(r)
            time.sleep(2)
    soak = None
    if args.soak > 0:
        clean = [e.concurrency for e, _, _ in pairs if e.failed == 0]
        n = args.soak_calls or (max(1, int(0.7 * max(clean))) if clean else 0)
        if n:
            soak = loadlib.run_step(ws, "engine", n, soak_s=args.soak)
            print("soak:", loadlib.summary_line(soak), flush=True)
            print(f"soak RSS: first minute {soak.rss_first_min_mb} MB, last minute "
                  f"{soak.rss_last_min_mb} MB, trend {soak.rss_slope_mb_per_min} MB/min",
                  flush=True)
    micro_out = {} if args.no_micro else micro(args.quick)
    info = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "started": started, "command": command, "label": args.label, "machine": info,
        "load_average": load[0],
        "steps": [{"engine": e.row(), "engine_fixed": x.row() if x else None,
                   "floor": f.row() if f else None, "ratio": ratio(e, f),
                   "floor_legs": legs[e.concurrency].row() if e.concurrency in legs else None,
                   "ratio_same_media": ratio(e, legs.get(e.concurrency)),
                   "ratio_fixed": ratio(x, f)} for e, x, f in pairs],
        "menus_only": [r.row() for r in extra],
        "soak": soak.row() if soak else None,
        "soak_minutes": soak_minutes(soak) if soak else None,
        "soak_rss": [(round(t, 1), round(rss, 1)) for t, _, rss in soak.samples]
        if soak else None,
        "micro": micro_out}, indent=1))
    before, label = load_before(args.before)
    plot(pairs, args.png, before)
    if soak is not None:
        plot_soak([(t, rss) for t, _, rss in soak.samples], args.png.with_name("soak-rss.png"))
    args.doc.write_text(write_doc(pairs, micro_out, info, command, load, started, soak,
                                  extra, before, label, legs))
    print(f"wrote {args.doc}, {args.png} and {args.out}")


if __name__ == "__main__":
    main()
