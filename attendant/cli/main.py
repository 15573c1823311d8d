"""The ``attendant`` command line: validate, compile, simulate, test and draw menus.

A thin adapter over the core: it reads files and the terminal, calls the
compiler, the simulator and the scenario runner, and prints. Exit codes: 0
when all is well, 1 when a configuration or scenario has errors or fails,
2 for a wrong command line.
"""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from pathlib import Path
from typing import Literal

import click

from attendant import __name__ as _package
from attendant.cli.common import compile_or_exit
from attendant.cli.greeting import greeting
from attendant.cli.override import override
from attendant.cli.pin import pin
from attendant.cli.prompts import audio_simulator, prompts
from attendant.cli.queues import queues
from attendant.cli.serve import doctor, reload, serve, stop
from attendant.cli.status import status
from attendant.cli.voicemail import voicemail
from attendant.config.compiler import compile_path
from attendant.config.diagnostics import Diagnostic, format_json, format_text, sort_diagnostics
from attendant.config.loader import ROOT_FILE, SETTINGS_FILE, discover
from attendant.config.reach import OutboundRoutes
from attendant.config.settings import load_settings, settings_schema_text
from attendant.engine import actions as act
from attendant.engine.state import Phase
from attendant.errors import ScenarioError, SimulationError
from attendant.model import Flow
from attendant.sim.call import TRANSFER_OUTCOMES, Simulator
from attendant.sim.mailboxes import SimMailbox

_PATHS = click.Path(path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=_package)
def main() -> None:
    """Auto attendant and call-queue engine: menus in YAML, simulated offline, served over SIP."""


def _compile_or_exit(path: Path) -> Flow:
    return compile_or_exit(path)[0]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=_PATHS)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for editors and tools")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
@click.option("--settings", "settings_path", type=click.Path(exists=True, dir_okay=False,
                                                            path_type=Path),
              help="the server settings the menus run with (server.yaml)")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, settings_path: Path | None) -> None:
    """Check menu files (or folders of them) and report every problem with file:line:col.

    A server settings file (server.yaml) among them, or given with --settings, is checked
    against its own schema, and the menus with it: every number they ring must leave
    through one of its trunks."""
    found: list[Diagnostic] = []
    configs = discover(list(paths))
    if settings_path is not None and settings_path not in configs:
        configs.append(settings_path)
    routes: dict[Path, OutboundRoutes | None] = {}
    for config in configs:
        if config.name == SETTINGS_FILE or config == settings_path:
            settings, problems = load_settings(config)
            found.extend(problems)
            routes[config] = OutboundRoutes.of(settings) if settings is not None else None
    # Menus go with the settings beside them (a folder's own server.yaml), else with the
    # one given by --settings or named alone among the paths.
    loose = [p for p in routes if p == settings_path or not (p.parent / ROOT_FILE).exists()]
    shared = routes.get(settings_path) if settings_path else (
        routes[loose[0]] if len(loose) == 1 else None)
    for config in configs:
        if config not in routes:
            own = config / SETTINGS_FILE if config.is_dir() else None
            outbound = routes[own] if own in routes and not settings_path else shared
            found.extend(compile_path(config, outbound).diagnostics)
    found = sort_diagnostics(found)
    failed = any(d.is_error or strict for d in found)
    if fmt == "json":
        click.echo(format_json(found))
    else:
        if found:
            click.echo(format_text(found))
        names = ", ".join(str(c) for c in configs)
        if not failed:
            click.echo(f"ok: {len(configs)} configuration(s) valid ({names})")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--server", is_flag=True,
              help="the schema of the server settings file (server.yaml) instead")
def schema(server: bool) -> None:
    """Print the JSON Schema of the menu language (for editors)."""
    from attendant.config.schema import schema_text

    click.echo(settings_schema_text() if server else schema_text(), nl=False)


@main.command("compile")
@click.argument("path", type=_PATHS)
@click.option("--json", "as_json", is_flag=True, help="print the compiled flow as JSON")
def compile_command(path: Path, as_json: bool) -> None:
    """Compile a configuration and print a summary (or the whole flow with --json)."""
    from attendant.export.serialize import flow_json

    flow = _compile_or_exit(path)
    if as_json:
        click.echo(flow_json(flow), nl=False)
        return
    click.echo(f"{path}: {len(flow.attendants)} attendant(s), {len(flow.menus)} menu(s), "
               f"{len(flow.users)} user(s), {len(flow.departments)} department(s), "
               f"{len(flow.queues)} queue(s), {len(flow.voicemail)} voicemail box(es)")


@main.command()
@click.argument("path", type=_PATHS)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True)
def graph(path: Path, fmt: Literal["mermaid", "dot"]) -> None:
    """Draw the compiled flow as a Mermaid or Graphviz diagram."""
    from attendant.export.graph import render

    click.echo(render(_compile_or_exit(path), fmt), nl=False)


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now().astimezone()
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f'"{value}" is not a date and time; write it like '
                                 "2026-12-25T10:00", param_hint="--at") from None


_HELP = """\
Type what the caller does:
  1, 23#          press keys (several at once is fine)
  wait 6          stay silent for 6 seconds (prompts finish first)
  listen          let the current prompt finish
  answer | busy | no_answer | unreachable | rejected
                  how the transfer being rung ends
  hangup          hang up
  help, quit"""


def _interpret(sim: Simulator, line: str) -> bool:
    """Carry out one typed command; False when the user wants to stop."""
    words = shlex.split(line)
    if not words:
        return True
    head, rest = words[0].lower(), words[1:]
    if head in ("quit", "exit", "q"):
        return False
    if head in ("help", "?"):
        click.echo(_HELP)
    elif head == "wait":
        try:
            seconds = float(rest[0]) if rest else 5.0
        except ValueError:
            raise SimulationError(f'"{rest[0]}" is not a number of seconds') from None
        sim.wait(seconds)
    elif head == "listen":
        sim.listen()
    elif head == "hangup":
        sim.hangup()
    elif head == "press" and rest:
        sim.press("".join(rest))
    elif head in ("answer", "answered"):
        sim.transfer_result("answered")
    elif head in TRANSFER_OUTCOMES or (head == "transfer" and rest):
        sim.transfer_result(rest[0] if head == "transfer" else head)
    elif all(c in "0123456789*#" for c in "".join(words)):
        sim.press("".join(words))
    else:
        raise SimulationError(f'I did not understand "{line}"; type help')
    return True


def _unfinished(sim: Simulator) -> str:
    """What a call that has not ended is doing, in words (not an engine phase's name)."""
    state = sim.state
    waited = f"after {sim.clock:.0f} s"
    if state.phase is Phase.QUEUED:
        queue = sim.ringing.queue if isinstance(sim.ringing, act.EnqueueCall) else "?"
        return (f"still waiting in queue {queue} {waited} (no agent answers here: answer, "
                "busy or no_answer decide; a scenario with agents: plays them)")
    if sim.ringing is not None:
        return f"still ringing {waited}: type answer, busy or no_answer"
    if state.phase is Phase.RECORDING:
        return f"still recording a message for {state.box} {waited}"
    where = f" in menu {state.menu}" if state.menu else ""
    return f"still on the line{where} {waited}"


def _mailboxes(path: Path) -> dict[str, SimMailbox]:
    """``--mailboxes``: the boxes a simulated mailbox menu opens, errors at file:line."""
    from attendant.config.loader import load_file
    from attendant.config.source_map import SourceMap
    from attendant.errors import ScenarioError
    from attendant.sim.mailboxes import parse_mailboxes

    sources = SourceMap()
    data, diags = load_file(path, sources)
    errors = [d.format() for d in diags if d.is_error]
    if errors:
        raise click.ClickException("\n".join(errors))
    try:
        return parse_mailboxes(data, lambda *p: str(sources.value_pos(tuple(p))),
                               lambda when: when)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("path", type=_PATHS)
@click.option("--at", "at", help="when the call happens, attendant local time "
                                 "(2026-12-25T10:00); default now")
@click.option("--caller", default="+15550000000", show_default=True, help="caller's number")
@click.option("--called", default="", help="number or SIP user called (selects the attendant)")
@click.option("--language", default=None, help="start in this language, e.g. fr-FR")
@click.option("--override", default=None, metavar="NAME",
              help="as if staff had switched the line to NAME: closed, open or one of the "
                   "attendant's overrides")
@click.option("--show-audio", is_flag=True,
              help="build the prompts and show each one's audio file and duration")
@click.option("--play", "play", type=_PATHS, default=None,
              help="build the prompts and write the caller's whole session to this WAV file")
@click.option("--prompts", "prompts_dir", type=_PATHS, default=Path("build/prompts"),
              show_default=True, help="prompt build folder for --show-audio and --play")
@click.option("--mailboxes", "mailboxes_path", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of mailboxes' PINs, messages and greetings for the mailbox "
                   "menu, in the form of a scenario's mailboxes: (docs/simulator.md)")
def simulate(path: Path, at: str | None, caller: str, called: str, language: str | None,
             override: str | None, show_audio: bool, play: Path | None,
             prompts_dir: Path, mailboxes_path: Path | None) -> None:
    """Call a menu from the terminal: hear prompts as text, press keys, let time pass."""
    flow = _compile_or_exit(path)
    mailboxes = _mailboxes(mailboxes_path) if mailboxes_path is not None else {}
    if override is not None:
        names = flow.attendant_for(called).override_names()
        if override not in names:
            raise click.BadParameter(f'"{override}" is not an override of this attendant; it '
                                     f"has {', '.join(names)}", param_hint="--override")
    if language is not None:
        offered = flow.attendant_for(called).languages
        if language not in offered:
            raise click.BadParameter(f'"{language}" is not offered; this attendant speaks '
                                     f"{', '.join(offered)}", param_hint="--language")
    sim: Simulator
    if show_audio or play is not None:
        sim = audio_simulator(path, flow, prompts_dir, show_audio, _parse_at(at), caller,
                              called, language)
    else:
        sim = Simulator(flow, _parse_at(at), caller, called, language)
    sim.override = override
    sim.mailboxes = mailboxes
    shown = 0

    def show() -> None:
        nonlocal shown
        for line in sim.lines[shown:]:
            click.echo(line)
        shown = len(sim.lines)

    sim.start()
    show()
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo("(type help for commands)")
    while not sim.ended:
        try:
            line = input("caller> " if interactive else "")
        except EOFError:
            # Input is over: the caller says nothing more, and the call goes on as a
            # real one would (timeouts fire, transfers ring out) to its end.
            sim.run_out()
            show()
            break
        try:
            keep_going = _interpret(sim, line.strip())
        except SimulationError as exc:
            click.echo(f"error: {exc}", err=True)
            continue
        show()
        if not keep_going:
            break
    state = sim.state
    # The wording, then the label the call log and the metrics would count it under.
    label = f" [{state.ending}]" if state.outcome else ""
    click.echo(f"-- outcome: {state.outcome or _unfinished(sim)}{label}")
    if play is not None:
        from attendant.sim.audio import AudioSimulator

        assert isinstance(sim, AudioSimulator)
        click.echo(f"-- session audio: {play} ({sim.write_session(play):.2f} s)")


main.add_command(prompts)


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=_PATHS)
@click.option("--show", is_flag=True, help="print every transcript, to write or update expect:")
def test_command(paths: tuple[Path, ...], show: bool) -> None:
    """Run scenario files and compare each call's transcript with its expect: block."""
    from attendant.sim.scenario import run_file

    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.yaml")) if path.is_dir() else [path])
    passed = failed = 0
    for file in files:
        try:
            outcomes = list(run_file(file))
        except ScenarioError as exc:
            click.echo(f"ERROR {file}\n{exc}", err=True)
            failed += 1
            continue
        for outcome in outcomes:
            name = f"{file}: {outcome.scenario.name}"
            if outcome.passed:
                passed += 1
                click.echo(f"PASS {name}")
            else:
                failed += 1
                click.echo(f"FAIL {name} ({outcome.scenario.where})")
                if outcome.error:
                    click.echo(f"  {outcome.error}")
                for problem in outcome.problems():
                    click.echo(f"  {problem}")
                if outcome.scenario.expect is not None:
                    click.echo(outcome.diff())
            if show or (outcome.scenario.expect is None and not outcome.error
                        and not outcome.passed):
                click.echo(outcome.transcript)
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not (passed + failed) else 0)


voicemail.add_command(greeting)
main.add_command(voicemail)
main.add_command(override)
main.add_command(serve)
main.add_command(doctor)
main.add_command(reload)
main.add_command(stop)
main.add_command(status)
main.add_command(pin)
main.add_command(queues)
