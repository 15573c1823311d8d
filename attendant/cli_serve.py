"""The ``serve``, ``doctor`` and ``reload`` commands: attendant on real SIP calls.

Kept apart from :mod:`attendant.cli` so that validating or simulating menus
never imports pjsua2. Everything SIP lives in :mod:`attendant.sip`; this
module parses options, compiles the menus, picks the prompt audio and starts
the server.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Literal

import click

from attendant.compiler import compile_path
from attendant.diagnostics import format_text
from attendant.ports import PromptAudio

_PATHS = click.Path(path_type=Path)
log = logging.getLogger("attendant.serve")


def _rtp_range(value: str) -> tuple[int, int]:
    try:
        low, high = (int(p) for p in value.split("-", 1))
    except ValueError:
        raise click.BadParameter(f'"{value}" is not a port range; write it like 20000-30000',
                                 param_hint="--rtp-ports") from None
    if not 1024 <= low < high <= 65535:
        raise click.BadParameter("the range must lie within 1024-65535, low before high",
                                 param_hint="--rtp-ports")
    return low, high


def _probe() -> dict[str, object] | None:
    """The pjsua2 limits, measured in a child process (pjsua is a per-process singleton)."""
    try:
        done = subprocess.run([sys.executable, "-m", "attendant.sip.limits", "--json"],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    return found


def _prompt_audio(prompts: Path | None, data_dir: Path, clock_rate: int,
                  menu: Path) -> PromptAudio:
    """The prompt build in ``prompts`` when given, else the espeak-ng fallback."""
    if prompts is not None:
        from attendant.errors import PromptError
        from attendant.prompts.store import PromptStore

        try:
            store = PromptStore(prompts)
        except PromptError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        if store.clock_rate != clock_rate:
            log.warning("prompts in %s are at %d Hz and the media clock at %d Hz: pjsua "
                        "resamples them on every call", prompts, store.clock_rate, clock_rate)
        return store
    from attendant.sip.fallback_audio import EspeakPromptAudio

    log.warning("no --prompts build given: speaking prompts with espeak-ng")
    base = menu if menu.is_dir() else menu.parent
    return EspeakPromptAudio(data_dir / "prompt-cache", clock_rate, base)


@click.command()
@click.argument("menu", type=_PATHS)
@click.option("--listen", default="127.0.0.1", show_default=True,
              help="address to listen on for SIP and RTP")
@click.option("--port", default=5060, show_default=True, type=click.IntRange(1, 65535),
              help="SIP port")
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp",
              show_default=True, help="SIP transport")
@click.option("--rtp-ports", default="20000-30000", show_default=True,
              help="RTP port range, LOW-HIGH")
@click.option("--clock-rate", type=click.Choice(["8000", "16000"]), default="8000",
              show_default=True, help="media clock rate in Hz")
@click.option("--max-calls", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help="callers at once; more get 503 with Retry-After")
@click.option("--public-address", default=None,
              help="address to put in SIP and SDP when behind NAT")
@click.option("--outbound-proxy", default=None,
              help="SIP URI of the proxy for outgoing legs (needed to ring bare numbers)")
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="folder for the pidfile, status.json, voicemail and the prompt cache")
@click.option("--prompts", default=None, type=_PATHS,
              help="prompt build folder (attendant prompts build MENU --out DIR); "
                   "default: speak with espeak-ng")
@click.option("--grace", default=30.0, show_default=True, type=click.FloatRange(0, 3600),
              help="seconds calls may go on after SIGTERM before they are hung up")
@click.option("--retry-after", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="Retry-After seconds in 503 answers")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True)
@click.option("--pj-log-level", default=1, show_default=True,
              type=click.IntRange(0, 6),
              help="pjsip's own log level (to stderr)")
def serve(menu: Path, listen: str, port: int, transport: Literal["udp", "tcp"], rtp_ports: str,
          clock_rate: str, max_calls: int, public_address: str | None,
          outbound_proxy: str | None, data_dir: Path, prompts: Path | None, grace: float,
          retry_after: int, log_level: str, pj_log_level: int) -> None:
    """Answer SIP calls on MENU (a menu file or folder) with pjsua2.

    SIGHUP (or `attendant reload`) reloads the menus; SIGTERM stops accepting calls,
    lets the ones in progress finish for --grace seconds, then hangs up and exits.
    """
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    low_high = _rtp_range(rtp_ports)
    result = compile_path(menu)
    if result.flow is None:
        click.echo(format_text(result.diagnostics), err=True)
        sys.exit(1)
    for diag in result.diagnostics:
        click.echo(diag.format(), err=True)
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        click.echo("error: pjsua2 is not installed; run: bash scripts/build-pjsua2.sh "
                   "--venv .venv", err=True)
        sys.exit(1)
    limits = _probe()
    if limits is not None:
        effective = int(str(limits["max_calls"]))
        # Each caller may need a second call for a bridged transfer.
        if effective < max_calls * 2:
            allowed = max(1, effective // 2)
            click.echo(f"warning: pjsua2 allows {effective} calls at once, so at most "
                       f"{allowed} callers with transfers; --max-calls lowered from "
                       f"{max_calls} to {allowed}" + _stock_hint(effective), err=True)
            max_calls = allowed

    from attendant.sip.endpoint import EndpointConfig
    from attendant.sip.server import ServeOptions, Server

    endpoint = EndpointConfig(listen=listen, port=port, transport=transport, rtp_ports=low_high,
                              clock_rate=int(clock_rate), max_calls=max_calls,
                              public_address=public_address, outbound_proxy=outbound_proxy,
                              pj_log_level=pj_log_level)
    options = ServeOptions(menu=menu, data_dir=data_dir, endpoint=endpoint, grace=grace,
                           retry_after=retry_after)
    data_dir.mkdir(parents=True, exist_ok=True)
    audio = _prompt_audio(prompts, data_dir, int(clock_rate), menu)
    server = Server(options, result.flow, audio)
    try:
        sys.exit(server.run())
    except Exception as exc:  # the endpoint could not start (port in use, ...)
        click.echo(f"error: cannot serve: {exc}", err=True)
        sys.exit(1)


def _stock_hint(effective: int) -> str:
    from attendant.sip.limits import FIX_COMMAND, STOCK_MAX_CALLS

    if effective > STOCK_MAX_CALLS:
        return ""
    return (f"\nWARNING: this is a stock pjsua2 build limited to {STOCK_MAX_CALLS} calls. "
            f"Install attendant's own build: {FIX_COMMAND}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def doctor(as_json: bool) -> None:
    """Check what `attendant serve` needs: pjsua2, its call limits, espeak-ng, SIPp."""
    import shutil

    from attendant.sip.limits import FIX_COMMAND, STOCK_MAX_CALLS

    limits = _probe()
    tools = {name: shutil.which(name) for name in ("espeak-ng", "sipp")}
    if as_json:
        click.echo(json.dumps({"pjsua2": limits, "tools": tools}))
        sys.exit(0 if limits else 1)
    problems = 0
    if limits is None:
        click.echo("pjsua2: NOT INSTALLED (or it does not start)")
        click.echo(f"  fix: {FIX_COMMAND}")
        problems += 1
    else:
        effective = int(str(limits["max_calls"]))
        click.echo(f"pjsua2 {limits['version']}: effective max calls {effective} "
                   f"(PJSUA_MAX_CALLS {limits['default_max_calls']}, "
                   f"conference ports {limits['default_max_conf_ports']})")
        if effective <= STOCK_MAX_CALLS:
            bar = "!" * 72
            click.echo(f"{bar}\nWARNING: this pjsua2 allows only {effective} calls at once "
                       f"(the PyPI wheel's limit):\na fifth caller hears busy. Fix: {FIX_COMMAND}"
                       f"\n{bar}")
            problems += 1
        else:
            click.echo(f"  serve --max-calls up to {effective // 2} (a transfer leg each)")
    for name, path in tools.items():
        use = "prompt fallback" if name == "espeak-ng" else "SIP tests"
        click.echo(f"{name}: {path or 'missing'} ({use})")
    sys.exit(1 if problems else 0)


@click.command()
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="the --data folder of the running `attendant serve`")
def reload(data_dir: Path) -> None:
    """Tell a running `attendant serve` to reload its menus (SIGHUP to its pidfile)."""
    pidfile = data_dir / "attendant.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        click.echo(f"error: no running server: cannot read {pidfile}", err=True)
        sys.exit(1)
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        click.echo(f"error: process {pid} from {pidfile} is not running", err=True)
        sys.exit(1)
    click.echo(f"reload requested (SIGHUP to {pid}); see its log for the result")
