"""The load harness: SIPp callers against `attendant serve` or the bare pjsua2 floor.

Used by bench/run_load.py (the measured ramp) and tests/sip/test_bench_smoke.py
(the CI smoke run). One *step* starts a server (``engine``: `attendant serve`
through bench/serve_probe.py; ``floor``: bench/floor_pjsua2.py), the SIPp agents
the menu transfers to (engine only), and four SIPp caller processes, one per
path through the example main line (menus/northwind-main-line.yaml, made open
24/7 and pointed at the agents):

=========  ======  ===============================================================
path       share   keys (RFC 4733 pcap, one sequence per call)
=========  ======  ===============================================================
menu       1/2     1 (English) 2 (support) 3 (status announcement): stays in menus
queue      1/6     1 2 2: support queue (where queues are not served: operator transfer)
transfer   1/6     1 0: operator, a SIPp agent that answers and echoes RTP
voicemail  1/6     1 3: billing, both agents busy (486), then the billing mailbox
=========  ======  ===============================================================

Every caller listens to the greeting for 2 s, sends its keys 1.5 s apart (the
first barges in), and hangs up after the hold time, so all callers of a step
are up at once between the end of the ramp and the first hang-up (the
*plateau*, where CPU is averaged). The floor gets exactly the same callers.

Measured per step: calls answered/failed (SIPp's own counts), INVITE→200
(SIPp ``-trace_rtt``), DTMF→next prompt (from the time SIPp sent the digit's
first packet, logged by the scenario, to the server starting the next prompt;
and from the server's DTMF callback to that prompt), server CPU (``/proc``
every 0.5 s) and peak RSS, SIPp's CPU, and UDP datagrams the kernel dropped
on this host (``/proc/net/snmp``: RTP lost on loopback is lost there).

Every process is started here and stopped by its PID; every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT / "tests" / "sip"))
from sip_harness import RTP_PORTS, SCENARIOS, free_udp_ports  # noqa: E402

MENU = ROOT / "menus" / "northwind-main-line.yaml"
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

#: (path, share of the callers, keys)
PATHS = (("menu", 3, "123"), ("queue", 1, "122"), ("transfer", 1, "10"),
         ("voicemail", 1, "13"))
GREETING_MS = 2000
DIGIT_GAP_MS = 1300
DIGIT_MS = 200
#: Callers started per second at most (the ramp takes N / this many seconds, at least 2).
MAX_CPS = 50
#: Length of one call in a soak (greeting, keys, then listening until the hang-up).
SOAK_CALL_S = 20.0
#: The soak's RSS trend leaves out its first seconds (allocator and caches warming up).
SOAK_WARMUP_S = 120.0
SAMPLE_S = 0.5


def raise_nofile() -> None:
    """Give this process (and so every child) the hard limit of open files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def digit_offsets(keys: str) -> list[float]:
    """Seconds from the start of the pcap to the first packet of each key (see pcap.py)."""
    return [k * (DIGIT_MS + DIGIT_GAP_MS) / 1000 for k in range(len(keys))]


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Workspace:
    """Files shared by every step: the menu, its prompt build, pcaps and agents' ports."""

    root: Path
    menu: Path
    prompts: Path
    wav: Path
    answer_port: int
    busy_port: int
    audio: bool = True


def bench_menu(answer_port: int, busy_port: int) -> str:
    """The example main line, open every hour of every day, ringing the SIPp agents."""
    data = yaml.safe_load(MENU.read_text())
    main = data["attendants"]["main"]
    main["hours"] = {day: ["00:00-24:00"] for day in (
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
    main.pop("holidays", None)
    for key, user in data["directory"]["users"].items():
        port = busy_port if key in ("dmitri", "grace") else answer_port
        user["sip"] = f"sip:{key}@127.0.0.1:{port}"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def prepare(root: Path, audio: bool = True) -> Workspace:
    """Write the menu, build its prompts once (espeak-ng), write the pcaps."""
    root.mkdir(parents=True, exist_ok=True)
    answer_port, busy_port = free_udp_ports(1), free_udp_ports(1)
    menu = root / "menu.yaml"
    menu.write_text(bench_menu(answer_port, busy_port))
    prompts = root / "prompts"
    subprocess.run([PYTHON, "-c", "from attendant.cli import main; main()", "prompts",
                    "build", str(menu), "--out", str(prompts), "-j", "2"], check=True,
                   stdout=subprocess.DEVNULL, timeout=600)
    manifest = json.loads((prompts / "manifest.json").read_text())
    wav = _greeting_wav(prompts, manifest)
    ws = Workspace(root, menu, prompts, wav, answer_port, busy_port)
    ws.audio = audio
    return ws


def _greeting_wav(prompts: Path, manifest: dict[str, Any]) -> Path:
    """The WAV of the first menu's prompt (what the floor plays)."""
    text = json.dumps(manifest)
    found = re.findall(r'"([^"]+\.wav)"', text)
    for name in found:
        if "language" in text[max(0, text.find(name) - 400):text.find(name)]:
            candidate = prompts / name if not Path(name).is_absolute() else Path(name)
            if candidate.exists():
                return candidate
    wavs = sorted((prompts / "cache").glob("*.wav"), key=lambda p: p.stat().st_size)
    return wavs[len(wavs) // 2]


def write_call_pcap(path: Path, keys: str, seconds: float, audio: bool) -> Path:
    """One caller's RTP as a pcap for SIPp's play_pcap_audio: one SSRC, one sequence.

    With ``audio`` a G.711 µ-law packet every 20 ms for ``seconds`` (a quiet tone),
    and the RFC 4733 events of ``keys`` (tests/sip/pcap.py's packets) in their
    place at :func:`digit_offsets`; without, the events alone.
    """
    import pcap as pcap_mod

    tone = _ulaw_tone(1.0)
    ssrc = random.getrandbits(32)
    seq = random.getrandbits(15)
    base = random.getrandbits(31)
    events = [(at, packet) for at, packet in pcap_mod.rtp_events(
        keys, gap_ms=DIGIT_GAP_MS, duration_ms=DIGIT_MS, ssrc=ssrc)]
    busy = [(off, off + DIGIT_MS / 1000 + 0.06) for off in digit_offsets(keys)]
    packets: list[tuple[float, bytes]] = []
    for at, packet in events:  # re-stamp: the same SSRC, timestamps on the audio clock
        packets.append((at, packet))
    if audio:
        for i in range(int(seconds * 50)):
            at = i * 0.02
            if any(lo <= at < hi for lo, hi in busy):
                continue
            chunk = tone[(i * 160) % len(tone):][:160]
            header = struct.pack("!BBHII", 0x80, 0, 0, (base + i * 160) & 0xFFFFFFFF, ssrc)
            packets.append((at, header + chunk))
    packets.sort(key=lambda item: item[0])
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for at, packet in packets:
        body = bytearray(packet)
        struct.pack_into("!H", body, 2, seq & 0xFFFF)
        if body[1] & 0x7F == 101:  # an event: its timestamp on the audio clock
            start = round(at * 1000) // 20 * 20
            for off in digit_offsets(keys):
                if off - 0.001 <= at <= off + 1.0:
                    start = round(off * 1000)
            struct.pack_into("!I", body, 4, (base + start * 8) & 0xFFFFFFFF)
        seq += 1
        frame = pcap_mod._frame(bytes(body), 6000, 6000)
        sec = int(at)
        usec = round((at - sec) * 1_000_000)
        out += struct.pack("<IIII", 1_700_000_000 + sec, usec, len(frame), len(frame)) + frame
    path.write_bytes(bytes(out))
    return path


def _ulaw_tone(seconds: float, rate: int = 8000) -> bytes:
    """A quiet 425 Hz tone in G.711 µ-law, what the callers stream as their voice."""
    import math

    out = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(2000 * math.sin(2 * math.pi * 425 * i / rate))
        sign = 0x80 if sample < 0 else 0
        mag = min(abs(sample), 32635) + 0x84
        exponent = max(0, mag.bit_length() - 8)
        mantissa = (mag >> (exponent + 3)) & 0x0F
        out.append(~(sign | (exponent << 4) | mantissa) & 0xFF)
    return bytes(out)


# --- one step ----------------------------------------------------------------------


@dataclass
class StepResult:
    """The figures of one step (one server kind at one concurrency)."""

    kind: str
    concurrency: int
    cps: float
    hold_s: float
    calls: int = 0
    answered: int = 0
    failed: int = 0
    invite_p50_ms: float | None = None
    invite_p99_ms: float | None = None
    dtmf_p50_ms: float | None = None
    dtmf_p99_ms: float | None = None
    dtmf_cb_p50_ms: float | None = None
    dtmf_cb_p99_ms: float | None = None
    digits_sent: int = 0
    digits_seen: int = 0
    cpu_plateau_pct: float | None = None
    cpu_total_s: float = 0.0
    peak_rss_mb: float = 0.0
    rss_end_mb: float = 0.0
    #: Soaks only: mean RSS over the first and the last minute, and its trend.
    rss_first_min_mb: float | None = None
    rss_last_min_mb: float | None = None
    rss_slope_mb_per_min: float | None = None
    sipp_cpu_pct: float | None = None
    #: Host-wide UDP receive errors during the step (mostly SIPp not reading its RTP).
    udp_drops: int = 0
    #: CPU % of a core over the plateau per server thread name (pjsip-worker: our one
    #: Python/pjsip thread; clock: pjmedia's conference clock; media: RTP receive).
    threads_pct: dict[str, float] = field(default_factory=dict)
    rtp_rx: int | None = None
    rtp_loss: int | None = None
    active_after: int | None = None
    server_errors: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("samples")
        return data


def _proc_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _proc_rss_mb(pid: int) -> tuple[float, float]:
    rss = hwm = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, hwm


def _thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of ``pid``, summed by thread name (``comm``)."""
    found: dict[str, float] = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
    return found


def _udp_drops() -> int:
    lines = [ln.split() for ln in Path("/proc/net/snmp").read_text().splitlines()
             if ln.startswith("Udp:")]
    header, values = lines[0], lines[1]
    row = dict(zip(header[1:], (int(v) for v in values[1:]), strict=True))
    return row.get("InErrors", 0) + row.get("RcvbufErrors", 0)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _scenario(ws: Workspace, out: Path, path: str, keys: str, hold_s: float) -> Path:
    pcap = write_call_pcap(out / f"rtp-{path}.pcap", keys, hold_s - 0.5, ws.audio)
    text = (BENCH / "scenarios" / "uac_bench.xml").read_text()
    text = (text.replace("@PCAP@", str(pcap)).replace("@GREETING_MS@", str(GREETING_MS)))
    target = out / f"uac_{path}.xml"
    target.write_text(text)
    return target


def _wait_listening(check: Any, proc: subprocess.Popen[bytes], log: Path,
                    timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n"
                               + log.read_text(errors="replace")[-3000:])
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError("the server did not start listening:\n"
                       + log.read_text(errors="replace")[-3000:])


def run_step(ws: Workspace, kind: str, concurrency: int, *, plateau_s: float = 15.0,
             max_cps: float = MAX_CPS, log_level: str = "info",
             patches: str = "", mix: str = "main-line", soak_s: float = 0.0) -> StepResult:
    """Run ``concurrency`` callers (one call each) against a fresh server of ``kind``.

    ``patches``: experiments bench/serve_probe.py applies to serve (``poll-1ms``,
    ``trace-feed``; the earlier ones are in attendant/ now). ``mix``: ``main-line`` (the
    four paths) or ``menus`` (every caller stays in the menus: the same work as the floor's).

    ``soak_s`` > 0: a soak instead of one wave. Calls of SOAK_CALL_S seconds are placed
    without a break for ``soak_s`` seconds, ``concurrency`` of them up at once (each
    path's SIPp starts a new call as one ends), so thousands of calls come and go through
    one server; RSS is sampled throughout (:func:`rss_trend`). The timing probe is off
    (its notes would grow the server's memory); DTMF→prompt is not measured.
    """
    paths = PATHS if mix == "main-line" else PATHS[:1]
    raise_nofile()
    out = ws.root / f"{kind}-{concurrency}-{'soak-' if soak_s else ''}{int(time.time())}"
    out.mkdir(parents=True)
    last_key_s = max(digit_offsets(keys)[-1] for _, _, keys in paths)
    if soak_s:
        hold_s = SOAK_CALL_S - GREETING_MS / 1000
        ramp_s = SOAK_CALL_S  # the first calls end as the last of the first round start
    else:
        ramp_s = max(2.0, concurrency / max_cps)
        hold_s = max(ramp_s + plateau_s - GREETING_MS / 1000, last_key_s + 4.0)
    call_s = hold_s + GREETING_MS / 1000
    label = kind + (f"+{patches}" if patches else "") + ("" if mix == "main-line" else f"/{mix}")
    result = StepResult(label, concurrency, round(concurrency / ramp_s, 1), round(call_s, 1))
    port = free_udp_ports(1)
    rtp = free_udp_ports(1, *RTP_PORTS)
    rtp_range = f"{rtp}-{rtp + 8 * concurrency + 200}"
    max_calls = min(512, concurrency + 10)
    server_log = out / "server.log"
    probe = out / "probe.jsonl"
    data = out / "data"
    procs: list[subprocess.Popen[bytes]] = []
    agents: list[subprocess.Popen[bytes]] = []
    callers: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        with server_log.open("wb") as log:
            if kind == "engine":
                cmd = [PYTHON, str(BENCH / "serve_probe.py"), str(probe), "serve",
                       str(ws.menu), "--port", str(port), "--data", str(data), "--prompts",
                       str(ws.prompts), "--rtp-ports", rtp_range, "--max-calls",
                       str(max_calls), "--metrics-port", "0", "--grace", "5",
                       "--log-level", log_level,
                       # SIPp places every call from 127.0.0.1, as a carrier's trunk
                       # would: exempt it from the per-source limits, like a trunk.
                       "--trusted-source", "127.0.0.1"]
            else:
                cmd = [PYTHON, str(BENCH / "floor_pjsua2.py"), "--port", str(port),
                       "--rtp-ports", rtp_range, "--wav", str(ws.wav), "--probe", str(probe),
                       "--max-calls", str(max_calls)]
                if kind == "floor+legs":
                    cmd += ["--legs-to", f"sip:agent@127.0.0.1:{ws.answer_port}"]
            server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=out,
                                      env={**os.environ, "BENCH_PATCHES": patches,
                                           "BENCH_PROBE": "off" if soak_s else "on"})
        procs.append(server)
        if kind == "engine":
            _wait_listening(lambda: _status(data).get("accepting"), server, server_log)
        else:
            _wait_listening(lambda: b"listening" in server_log.read_bytes(), server,
                            server_log)
        if kind in ("engine", "floor+legs"):
            for scen, port_ in (("uas_answer.xml", ws.answer_port),
                                ("uas_busy.xml", ws.busy_port)):
                agents.append(_sipp(out, ["-sf", str(SCENARIOS / scen), "-p", str(port_)],
                                    f"agent-{scen[:-4]}", echo=scen == "uas_answer.xml"))
        drops_before = _udp_drops()
        cpu0 = _proc_cpu(server.pid) or 0.0
        t0 = time.monotonic()
        for (path, _, keys), n in zip(paths, _split(concurrency, paths), strict=True):
            if n <= 0:
                continue
            scen = _scenario(ws, out, path, keys, hold_s)
            # A wave: n calls over the ramp. A soak: n calls every call length, n at most up.
            total = max(n, round(n * soak_s / call_s)) if soak_s else n
            runs_s = (soak_s or ramp_s) + call_s
            args = [f"127.0.0.1:{port}", "-sf", str(scen), "-s", "main", "-p",
                    str(free_udp_ports(1)), "-mp", str(free_udp_ports(4)), "-l", str(n),
                    "-m", str(total), "-r", str(n), "-rp", str(int(ramp_s * 1000)),
                    "-d", str(int(hold_s * 1000)), "-timeout", str(int(runs_s + 60)),
                    "-timeout_error", "-trace_stat", "-fd", "1", "-trace_rtt", "-rtt_freq",
                    "1", "-trace_logs", "-trace_err", "-recv_timeout", "30000"]
            callers.append((path, _sipp(out, args, f"uac-{path}")))
        result.calls = concurrency if not soak_s else sum(
            max(n, round(n * soak_s / call_s)) for n in _split(concurrency, paths))
        all_sipp = [p for _, p in callers] + agents
        sipp_cpu0 = sum(_proc_cpu(p.pid) or 0.0 for p in all_sipp)
        deadline = t0 + (soak_s or ramp_s) + call_s + 90
        plateau = ((t0 + ramp_s + 1.0, t0 + soak_s - 1.0) if soak_s
                   else (t0 + ramp_s + 1.0, t0 + GREETING_MS / 1000 + hold_s - 0.5))
        plateau_cpu: list[tuple[float, float]] = []
        threads_at: list[tuple[float, dict[str, float]]] = []
        plateau_sipp: list[tuple[float, float]] = []
        while time.monotonic() < deadline and any(p.poll() is None for _, p in callers):
            now = time.monotonic()
            cpu = _proc_cpu(server.pid)
            rss, hwm = _proc_rss_mb(server.pid)
            if cpu is not None:
                result.samples.append((now - t0, cpu - cpu0, rss))
                result.peak_rss_mb = max(result.peak_rss_mb, hwm, rss)
                if plateau[0] <= now <= plateau[1]:
                    plateau_cpu.append((now, cpu))
                    if not threads_at:
                        threads_at.append((now, _thread_cpu(server.pid)))
                    else:
                        threads_at[1:] = [(now, _thread_cpu(server.pid))]
                    plateau_sipp.append((now, sum(_proc_cpu(p.pid) or 0.0 for p in all_sipp)))
            time.sleep(SAMPLE_S)
        for path, proc in callers:
            if proc.poll() is None:
                result.notes.append(f"SIPp {path} callers still running at the deadline")
                _kill(proc)
        if len(plateau_cpu) >= 2:
            (ta, ca), (tb, cb) = plateau_cpu[0], plateau_cpu[-1]
            result.cpu_plateau_pct = round(100 * (cb - ca) / (tb - ta), 1)
            (sa, xa), (sb, xb) = plateau_sipp[0], plateau_sipp[-1]
            result.sipp_cpu_pct = round(100 * (xb - xa) / (sb - sa), 1)
        if len(threads_at) == 2:
            (ta, first), (tb, last) = threads_at
            result.threads_pct = {
                name: round(100 * (last[name] - first.get(name, 0.0)) / (tb - ta), 1)
                for name in sorted(last) if last[name] - first.get(name, 0.0) > 0}
        else:
            result.notes.append("plateau too short to measure CPU")
        del sipp_cpu0
        result.cpu_total_s = round((_proc_cpu(server.pid) or 0.0) - cpu0, 2)
        time.sleep(1.0)  # the last BYEs, and the agents' legs
        if kind == "engine":
            status = _status(data)
            result.active_after = status.get("active_calls")
            _scrape_metrics(result, status.get("metrics_port"))
        rss, hwm = _proc_rss_mb(server.pid)
        result.rss_end_mb = round(rss, 1)
        if soak_s:
            (result.rss_first_min_mb, result.rss_last_min_mb,
             result.rss_slope_mb_per_min) = rss_trend(
                result.samples, max(ramp_s + 1.0, min(SOAK_WARMUP_S, soak_s / 3)), soak_s - 1.0)
        result.peak_rss_mb = round(max(result.peak_rss_mb, hwm), 1)
        _stop(server)
        result.udp_drops = _udp_drops() - drops_before
        for agent in agents:
            _stop(agent, 5)
    finally:
        for proc in [p for _, p in callers] + agents + procs:
            _kill(proc)
    _collect_sipp(result, out)
    if not soak_s:
        _collect_probe(result, out, probe, kind)
    if kind == "engine":
        _collect_calllog(result, data)
        text = server_log.read_text(errors="replace")
        result.server_errors = len(re.findall(r"\b(ERROR|Traceback)\b", text))
    (out / "result.json").write_text(json.dumps(result.row(), indent=1))
    return result


def _split(concurrency: int, paths: tuple[tuple[str, int, str], ...]) -> list[int]:
    """How many of ``concurrency`` callers take each path (by share; the last gets the rest)."""
    total_share = sum(share for _, share, _ in paths)
    counts = [round(concurrency * share / total_share) for _, share, _ in paths[:-1]]
    return [*counts, concurrency - sum(counts)]


def rss_trend(samples: list[tuple[float, float, float]], start: float,
              end: float) -> tuple[float | None, float | None, float | None]:
    """RSS over ``start``..``end`` seconds of a run: (first minute's mean MB, last minute's
    mean MB, least-squares slope in MB per minute)."""
    points = [(t, rss) for t, _, rss in samples if start <= t <= end and rss > 0]
    if len(points) < 4:
        return None, None, None
    first = [rss for t, rss in points if t <= points[0][0] + 60]
    last = [rss for t, rss in points if t >= points[-1][0] - 60]
    mean_t = sum(t for t, _ in points) / len(points)
    mean_r = sum(r for _, r in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (r - mean_r) for t, r in points) / var if var else 0.0
    return (round(sum(first) / len(first), 1), round(sum(last) / len(last), 1),
            round(slope * 60, 3))


def _sipp(out: Path, args: list[str], name: str, echo: bool = False) -> subprocess.Popen[bytes]:
    cmd = ["sipp", *args, "-i", "127.0.0.1", "-nostdin", *(["-rtp_echo"] if echo else [])]
    if name.startswith("agent"):
        cmd += ["-mp", str(free_udp_ports(4))]
    with (out / f"{name}.out").open("wb") as log:
        return subprocess.Popen(cmd, cwd=out, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def _status(data: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads((data / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return found


def _scrape_metrics(result: StepResult, port: int | None) -> None:
    if not port:
        return
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError as exc:
        result.notes.append(f"metrics not scraped: {exc}")
        return
    for line in text.splitlines():
        if line.startswith("attendant_calls_ended_total{"):
            label = re.search(r'outcome="([^"]*)"', line)
            if label:
                result.outcomes[label.group(1)] = int(float(line.rsplit(" ", 1)[1]))


def _collect_sipp(result: StepResult, out: Path) -> None:
    success = failed = 0
    rtts: list[float] = []
    for stat in out.glob("uac_*_[0-9]*_.csv"):
        lines = [ln for ln in stat.read_text().splitlines() if ln.strip()]
        if len(lines) < 2:
            continue
        header = lines[0].split(";")
        last = lines[-1].split(";")
        row = dict(zip(header, last, strict=False))
        success += int(row.get("SuccessfulCall(C)", 0) or 0)
        failed += int(row.get("FailedCall(C)", 0) or 0)
    for rtt in out.glob("uac_*_rtt.csv"):
        for line in rtt.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                try:
                    rtts.append(float(parts[1]))
                except ValueError:
                    continue
    result.answered = success
    result.failed = max(failed, result.calls - success)
    result.invite_p50_ms = _round(percentile(rtts, 50))
    result.invite_p99_ms = _round(percentile(rtts, 99))
    if not rtts:
        result.notes.append("no INVITE→200 times found")


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _sent_times(out: Path) -> dict[str, tuple[str, float]]:
    """caller → (keys, wall time SIPp started its pcap), from the scenarios' <log>."""
    sent: dict[str, tuple[str, float]] = {}
    keys_of = {name: keys for name, _, keys in PATHS}
    for logf in out.glob("uac_*_logs.log"):
        path = logf.name.split("_")[1]
        for line in logf.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("b"):
                try:
                    sent[parts[0]] = (keys_of[path], float(parts[-1]))
                except ValueError:
                    continue
    return sent


def _collect_probe(result: StepResult, out: Path, probe: Path, kind: str) -> None:
    if not probe.exists():
        result.notes.append("no probe file (the server did not exit cleanly)")
        return
    events: dict[str, list[dict[str, Any]]] = {}
    for line in probe.read_text().splitlines():
        note = json.loads(line)
        if note["k"] == "s":
            result.active_after = note.get("active_calls")
            continue
        if note["k"] == "l":
            if "/" in note["w"]:
                rx, lost = (int(v) for v in note["w"].split("/"))
                result.rtp_rx = (result.rtp_rx or 0) + rx
                result.rtp_loss = (result.rtp_loss or 0) + lost
            continue
        events.setdefault(note["c"], []).append(note)
    sent = _sent_times(out)
    wire: list[float] = []
    callback: list[float] = []
    for caller, (keys, start) in sent.items():
        offsets = digit_offsets(keys)
        result.digits_sent += len(keys)
        notes = sorted(events.get(caller, []), key=lambda n: n["t"])
        digits = [n for n in notes if n["k"] == "d"]
        result.digits_seen += len(digits)
        for index, digit in enumerate(digits[:len(offsets)]):
            nxt = next((n for n in notes if n["k"] == "p" and n["t"] >= digit["t"]
                        and n["t"] - digit["t"] < 2.0), None)
            following = digits[index + 1]["t"] if index + 1 < len(digits) else float("inf")
            if nxt is None or nxt["t"] > following:
                continue  # this key leads to a transfer or a recording, not a prompt
            wire.append((nxt["t"] - (start + offsets[index])) * 1000)
            callback.append((nxt["t"] - digit["t"]) * 1000)
    result.dtmf_p50_ms = _round(percentile(wire, 50))
    result.dtmf_p99_ms = _round(percentile(wire, 99))
    result.dtmf_cb_p50_ms = _round(percentile(callback, 50), 2)
    result.dtmf_cb_p99_ms = _round(percentile(callback, 99), 2)
    del kind


def _collect_calllog(result: StepResult, data: Path) -> None:
    path = data / "calls.jsonl"
    if not path.exists():
        return
    outcomes: dict[str, int] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "end":
            kind = record.get("outcome_kind") or "?"
            outcomes[kind] = outcomes.get(kind, 0) + 1
    result.outcomes = outcomes


def summary_line(r: StepResult) -> str:
    return (f"{r.kind:6} N={r.concurrency:<4} answered {r.answered}/{r.calls} failed {r.failed} "
            f"INVITE→200 p50/p99 {r.invite_p50_ms}/{r.invite_p99_ms} ms, DTMF→prompt "
            f"{r.dtmf_p50_ms}/{r.dtmf_p99_ms} ms (callback {r.dtmf_cb_p50_ms}/"
            f"{r.dtmf_cb_p99_ms}), digits {r.digits_seen}/{r.digits_sent}, CPU "
            f"{r.cpu_plateau_pct} %, RSS {r.peak_rss_mb} MB, SIPp {r.sipp_cpu_pct} %, "
            f"RTP rx/lost {r.rtp_rx}/{r.rtp_loss}, active after {r.active_after}, threads "
            f"{r.threads_pct} {r.notes or ''}")


def which_missing() -> list[str]:
    """Tools a load run needs that are not installed."""
    missing = [tool for tool in ("sipp", "espeak-ng") if shutil.which(tool) is None]
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        missing.append("pjsua2")
    return missing


__all__ = ["PATHS", "StepResult", "Workspace", "percentile", "prepare", "run_step",
           "summary_line", "which_missing"]
