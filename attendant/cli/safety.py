"""The ``attendant serve`` options that bound vanished callers and hostile sources.

Kept apart from :mod:`attendant.cli.serve` so the serve command's signature stays
readable: :func:`safety_options` adds the options, :func:`safety_from` turns the
values click passed into an :class:`attendant.sip.safety.Safety`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from attendant.sip.admission import parse_sources
from attendant.sip.safety import MIN_SESSION_EXPIRES, Safety

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULT = Safety()

_OPTIONS = [
    click.option("--ack-grace", default=_DEFAULT.ack_grace, show_default=True,
                 type=click.FloatRange(0, 60), metavar="SECONDS",
                 help="Hang up an answered call whose 200 OK is not ACKed within this "
                      "(a spoofed INVITE aims our RTP at someone else).  0: pjsip's 64 s."),
    click.option("--rtp-timeout", default=_DEFAULT.rtp_timeout, show_default=True,
                 type=click.FloatRange(0, 86_400), metavar="SECONDS",
                 help="Hang up a caller who sends no RTP for this long (not on hold).  0: off."),
    click.option("--hold-timeout", default=_DEFAULT.hold_timeout, show_default=True,
                 type=click.FloatRange(0, 86_400), metavar="SECONDS",
                 help="Hang up a caller who keeps us on hold this long.  0: off."),
    click.option("--session-expires", default=_DEFAULT.session_expires, show_default=True,
                 type=click.IntRange(0, 86_400), metavar="SECONDS",
                 help=f"RFC 4028 session interval (at least {MIN_SESSION_EXPIRES}); a "
                      "caller who stops answering refreshes is hung up.  0: off."),
    click.option("--min-free-mb", default=_DEFAULT.min_free_mb, show_default=True,
                 type=click.FloatRange(0, 10_000_000), metavar="MB",
                 help="Free disk space the data folder must keep: below it no voicemail is "
                      "recorded (the caller is told) and a recording is stopped, its audio "
                      "kept.  0: off."),
    click.option("--log-rotate-mb", default=_DEFAULT.log_rotate_mb, show_default=True,
                 type=click.FloatRange(0, 1_000_000), metavar="MB",
                 help="Rotate calls.jsonl past this size.  0: never by size."),
    click.option("--log-rotate-days", default=_DEFAULT.log_rotate_days, show_default=True,
                 type=click.FloatRange(0, 36_500), metavar="DAYS",
                 help="Rotate calls.jsonl past this age.  0: never by age."),
    click.option("--log-keep", default=_DEFAULT.log_keep, show_default=True,
                 type=click.IntRange(0, 100_000), metavar="N",
                 help="Rotated call logs kept (calls-<time>.jsonl); older ones are deleted."),
    click.option("--max-calls-per-source", default=_DEFAULT.calls_per_source,
                 show_default=True, type=click.IntRange(0, 100_000), metavar="N",
                 help="Calls one source address may have at once; the next gets 503.  0: off."),
    click.option("--invite-rate", default=_DEFAULT.invite_rate, show_default=True,
                 type=click.FloatRange(0, 10_000), metavar="PER_SECOND",
                 help="INVITEs a second one source address may send (with --invite-burst "
                      "at once); beyond it, 503.  0: off."),
    click.option("--invite-burst", default=_DEFAULT.invite_burst, show_default=True,
                 type=click.IntRange(1, 100_000), metavar="N",
                 help="INVITEs one source may send at once before --invite-rate applies."),
    click.option("--trusted-source", "trusted_sources", multiple=True, metavar="ADDRESS[/BITS]",
                 help="A carrier or PBX address (or network) exempt from the per-source "
                      "limits; repeat for several."),
]


def safety_options(command: F) -> F:
    """Add the safety options to a click command (they arrive as keyword arguments)."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def safety_from(values: dict[str, Any]) -> Safety:
    """The :class:`Safety` for the option values of :func:`safety_options`.

    Raises:
        click.BadParameter: a --trusted-source that is no address, or bad combinations.
    """
    try:
        trusted = parse_sources(values["trusted_sources"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--trusted-source") from None
    safety = Safety(ack_grace=values["ack_grace"], rtp_timeout=values["rtp_timeout"],
                    hold_timeout=values["hold_timeout"],
                    session_expires=values["session_expires"],
                    min_free_mb=values["min_free_mb"],
                    log_rotate_mb=values["log_rotate_mb"],
                    log_rotate_days=values["log_rotate_days"], log_keep=values["log_keep"],
                    calls_per_source=values["max_calls_per_source"],
                    invite_rate=values["invite_rate"], invite_burst=values["invite_burst"],
                    trusted=trusted)
    problems = safety.problems()
    if problems:
        raise click.UsageError("; ".join(problems))
    return safety


__all__ = ["safety_from", "safety_options"]
