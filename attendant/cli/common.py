"""Helpers every ``attendant`` subcommand shares: compiling a menu for a command, or
finding the menus a running server serves."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from attendant.config.compiler import CompileResult, compile_path
from attendant.config.diagnostics import format_text
from attendant.config.reach import OutboundRoutes
from attendant.model import Flow


def compile_or_exit(path: Path, outbound: OutboundRoutes | None = None
                    ) -> tuple[Flow, CompileResult]:
    """Compile ``path``; print every diagnostic to stderr and exit 1 if there are errors.

    Warnings are printed and the command goes on with the flow (also returned on its
    own, so callers need not check ``result.flow``). ``outbound``: the trunks numbers
    must leave through (:func:`compile_path`).
    """
    result = compile_path(path, outbound)
    if result.flow is None:
        click.echo(format_text(result.diagnostics), err=True)
        sys.exit(1)
    for diag in result.diagnostics:
        click.echo(diag.format(), err=True)
    return result.flow, result


def served_flow(menu: Path | None, data_dir: Path) -> Flow:
    """The menus ``--menu`` names, else those the server running on ``data_dir`` serves
    (its status.json); UsageError when neither is known, ClickException when invalid."""
    from attendant.cli.status import running_status

    if menu is None:
        status = running_status(data_dir)
        if status is None or not status.get("menu"):
            raise click.UsageError(f"no attendant serve is running on {data_dir}: give "
                                   "--menu MENU so the names can be checked")
        menu = Path(str(status["menu"]))
    result = compile_path(menu)
    if result.flow is None:
        raise click.ClickException(f"{menu} is invalid:\n{format_text(result.diagnostics)}")
    return result.flow
