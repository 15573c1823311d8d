"""``attendant prompts``: build the audio of every prompt a configuration can play.

A thin adapter over :mod:`attendant.prompts.build`: it compiles the menu,
shows a progress bar (rich) while clips render, prints the summary and every
error as ``file:line:col`` diagnostics. Exit status 1 when a prompt fails.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from attendant.cli.common import compile_or_exit
from attendant.model import Flow

if TYPE_CHECKING:
    from attendant.sim.audio import AudioSimulator

#: Where builds go unless --out says otherwise (relative to the current folder).
DEFAULT_OUT = Path("build/prompts")


@click.group()
def prompts() -> None:
    """Render prompts to audio: text-to-speech, recorded files, music on hold."""


def run_build(path: Path, out: Path, *, rate: int = 8000, jobs: int = 1,
              engine: str | None = None, languages: tuple[str, ...] = (),
              progress: bool = False, quiet: bool = False) -> Flow:
    """Compile ``path`` and build its prompts into ``out``; exit 1 on any error."""
    from attendant.prompts.build import build

    flow, result = compile_or_exit(path)
    if progress:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("rendering prompts", total=None)
            report = build(flow, out, sites=result.prompt_sites, rate=rate, jobs=jobs,
                           engine=engine, extra_languages=languages,
                           on_total=lambda n: bar.update(task, total=n),
                           progress=lambda n: bar.advance(task, n))
    else:
        report = build(flow, out, sites=result.prompt_sites, rate=rate, jobs=jobs,
                       engine=engine, extra_languages=languages)
    for error in report.errors:
        click.echo(str(error), err=True)
    if report.fell_back:
        first, reason = report.fell_back[0]
        click.echo(f"warning: prompt {first}: {reason}; {len(report.fell_back)} prompt(s) "
                   f"spoken by {flow.speech.fallback} instead (speech.fallback)",
                   err=True)
    if not report.ok:
        click.echo(f"{len(report.errors)} prompt(s) could not be built; "
                   "no manifest was written", err=True)
        sys.exit(1)
    if not quiet:
        click.echo(report.summary())
    return flow


def audio_simulator(path: Path, flow: Flow, prompts_dir: Path, show_audio: bool, at: datetime,
                    caller: str, called: str, language: str | None) -> AudioSimulator:
    """Build the prompts of ``path`` into ``prompts_dir`` (cached) and simulate with them."""
    from attendant.prompts.store import PromptStore
    from attendant.sim.audio import AudioSimulator

    run_build(path, prompts_dir, quiet=True)
    return AudioSimulator(flow, at, caller, called, language,
                          store=PromptStore(prompts_dir), show_audio=show_audio)


@prompts.command("build")
@click.argument("menu", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="build folder (manifest.json, cache/, moh/)")
@click.option("--rate", type=click.Choice(["8000", "16000"]), default="8000", show_default=True,
              help="the endpoint's clock rate in Hz: 8000 for G.711, 16000 for G.722")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="prompts rendered at once")
@click.option("--engine", default=None, help="text-to-speech engine, overriding speech.engine "
                                             "(espeak, gtts)")
@click.option("--language", "languages", multiple=True,
              help="also build this language (repeatable), e.g. before offering it")
def build_command(menu: Path, out: Path, rate: str, jobs: int, engine: str | None,
                  languages: tuple[str, ...]) -> None:
    """Render every prompt MENU can play, in every language, into a build folder."""
    run_build(menu, out, rate=int(rate), jobs=jobs, engine=engine, languages=languages,
              progress=sys.stderr.isatty())
