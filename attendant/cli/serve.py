"""The ``serve``, ``doctor`` and ``reload`` commands: attendant on real SIP calls.

Kept apart from :mod:`attendant.cli` so that validating or simulating menus
never imports pjsua2. Everything SIP lives in :mod:`attendant.sip`; this
module parses options, compiles the menus, builds their prompts and starts
the server.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from attendant.cli.common import compile_or_exit
from attendant.cli.listen import failure_hint, split_listen
from attendant.cli.safety import safety_from, safety_options
from attendant.cli.status import running_status, trunk_lines
from attendant.config.diagnostics import Severity, format_text
from attendant.config.reach import OutboundRoutes
from attendant.config.settings import ServerSettings, SettingsError, load_settings
from attendant.sip.codecs import CODECS, DEFAULT_CODECS, missing_codecs, parse_codecs
from attendant.sip.tls import TlsFiles
from attendant.sip.tls import problems as tls_problems
from attendant.uris import uri_transport

if TYPE_CHECKING:
    from attendant.sip.endpoint import Srtp, SrtpSignaling, Transport
    from attendant.sip.options import PhoneLogins, SmtpOptions, TrunkLogin

_PATHS = click.Path(path_type=Path)
log = logging.getLogger("attendant.serve")
#: The environment variable holding the SMTP password (never an option: ps shows options).
SMTP_PASSWORD_ENV = "ATTENDANT_SMTP_PASSWORD"


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


def _built_codecs(limits: dict[str, object]) -> tuple[str, ...]:
    """The codecs the pjsua2 build has, from the limits probe's JSON."""
    raw = limits.get("codecs")
    return tuple(str(c) for c in raw) if isinstance(raw, list) else ()


def _codecs(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    """``--codecs pcmu,g722``: checked names, best first."""
    try:
        return parse_codecs(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _transports(_ctx: click.Context, _param: click.Parameter,
                value: str) -> tuple[Transport, ...]:
    """``--transport udp,tls``: the transports, checked, in order."""
    names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    for name in names:
        if name not in ("udp", "tcp", "tls"):
            raise click.BadParameter(f"{name!r} is not a transport; write udp, tcp, tls or a "
                                     "list of them (udp,tcp,tls)")
    if not names or len(set(names)) != len(names):
        raise click.BadParameter("name each transport once, e.g. udp,tcp,tls")
    return names  # type: ignore[return-value]


def _smtp_options(host: str | None, port: int, sender: str | None, starttls: bool,
                  user: str | None, tls: str | None = None) -> SmtpOptions | None:
    """The ``--smtp-*`` options checked together; None when e-mail is off."""
    from attendant.sip.options import SmtpOptions

    if starttls and tls == "none":
        raise click.UsageError("--smtp-starttls and --smtp-tls none contradict each other")
    starttls = starttls or tls == "starttls"
    password = os.environ.get(SMTP_PASSWORD_ENV) or None
    if host is None:
        port_source = click.get_current_context().get_parameter_source("smtp_port")
        given = [name for name, value in (
            ("--smtp-port", port_source is not click.core.ParameterSource.DEFAULT),
            ("--smtp-from", sender), ("--smtp-user", user), ("--smtp-starttls", starttls),
            ("--smtp-tls", tls))
            if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} without --smtp-host: voicemail e-mail "
                                   "is sent only through an SMTP server")
        return None
    if user is not None and password is None:
        raise click.UsageError(f"--smtp-user {user} needs the password in the environment "
                               f"variable {SMTP_PASSWORD_ENV}")
    if user is not None and not starttls and tls != "none":
        raise click.UsageError(f"--smtp-user {user} would send the SMTP password in the clear: "
                               "add --smtp-starttls, or --smtp-tls none if the server is a "
                               "relay on this host")
    if user is not None and tls == "none":
        log.warning("SMTP login to %s without TLS (--smtp-tls none): the password crosses "
                    "the network in the clear", host)
    if user is None and password is not None:
        log.warning("%s is set but --smtp-user is not: not logging in to %s",
                    SMTP_PASSWORD_ENV, host)
        password = None
    sender = sender or f"attendant@{socket.getfqdn() or 'localhost'}"
    if "@" not in sender:
        raise click.BadParameter(f'"{sender}" is not an e-mail address',
                                 param_hint="--smtp-from")
    return SmtpOptions(host=host, port=port, sender=sender, starttls=starttls, username=user,
                       password=password, plain_login=tls == "none")


_HELP = f"""Answer SIP calls on MENU (a menu file or folder) with pjsua2.

Every call runs the compiled flow, the same one `attendant simulate` runs.
At startup the prompts are built into DATA/prompts (a warm build only checks
its cache), unless --prompts names a build of your own.

\b
Signals:
  SIGHUP (or `attendant reload --data DATA`)  compile the menus and build their
      prompts again; on any error the old menus stay. Calls in progress keep theirs.
  SIGTERM, SIGINT  new calls get 503; calls in progress have --grace seconds,
      then are hung up; the server exits 0. A second signal hangs up at once.

\b
In the --data folder:
  prompts/          prompt build (manifest.json, cache/, moh/)
  calls.jsonl       call log: one JSON line per engine step
  calls.sqlite3     one row per call, with its outcome
  voicemail.sqlite3, messages/<box>/*.wav   voicemail (attendant voicemail list)
  status.json, attendant.pid

Voicemail e-mail needs --smtp-host; the SMTP password is read from the
environment variable {SMTP_PASSWORD_ENV}. See docs/serving.md.
"""


def _read_settings(ctx: click.Context, _param: click.Parameter,
                   path: Path | None) -> ServerSettings | None:
    """``--settings FILE``: check it, and make its values the other options' defaults
    (read before them: an option given on the command line still wins)."""
    if path is None:
        return None
    settings, found = load_settings(path)
    if found:
        click.echo(format_text(found), err=True)
    if settings is None:
        click.echo(f"error: {path} has errors; not serving", err=True)
        ctx.exit(1)
    assert settings is not None
    ctx.default_map = {**(ctx.default_map or {}),
                       **{_OPTION_OF.get(k, k): v for k, v in settings.options.items()}}
    return settings


#: Settings keys whose serve option has another name.
_OPTION_OF = {"data": "data_dir", "transport": "transports"}


@click.command(help=_HELP)
@click.argument("menu", type=_PATHS)
@click.option("--settings", default=None, type=_PATHS, metavar="FILE", is_eager=True,
              callback=_read_settings,
              help="Server settings file (server.yaml): options and trunks; an option given "
                   "here wins over the file. See docs/trunks.md.")
@click.option("--listen", default="127.0.0.1", show_default=True, metavar="ADDRESS[:PORT]",
              help="Address for SIP and RTP (0.0.0.0: all of this host's); a port here is "
                   "the same as --port.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), metavar="PORT",
              help="SIP port of UDP and TCP (of TLS when it is the only transport).  "
                   "[default: 5060, 5061 with --transport tls]")
@click.option("--transport", "transports", default="udp", show_default=True,
              callback=_transports, metavar="LIST",
              help="SIP transports, all open at once: udp, tcp, tls or a list (udp,tcp,tls); "
                   "the first is the one calls out use by default.")
@click.option("--tls-port", default=None, type=click.IntRange(1, 65535), metavar="PORT",
              help="SIP port of TLS beside UDP or TCP.  [default: 5061]")
@click.option("--tls-cert", default=None, type=click.Path(path_type=Path, exists=True,
              dir_okay=False), metavar="FILE",
              help="PEM certificate (chain) of --transport tls.")
@click.option("--tls-key", default=None, type=click.Path(path_type=Path, exists=True,
              dir_okay=False), metavar="FILE",
              help="PEM private key (unencrypted) of --transport tls.")
@click.option("--tls-ca", default=None, type=click.Path(path_type=Path, exists=True,
              dir_okay=False), metavar="FILE",
              help="PEM file of the CAs trusted for peers' certificates.  [default: the "
                   "system's, /etc/ssl/certs/ca-certificates.crt]")
@click.option("--tls-verify-server/--no-tls-verify-server", default=False, show_default=True,
              help="Check the certificate (chain and host name) of every TLS server the "
                   "server connects to: trunks, legs out to sips: URIs.")
@click.option("--tls-verify-client/--no-tls-verify-client", default=False, show_default=True,
              help="Refuse TLS callers without a certificate signed by --tls-ca.")
@click.option("--rtp-ports", default="20000-30000", show_default=True, metavar="LOW-HIGH",
              help="RTP port range.")
@click.option("--clock-rate", type=click.Choice(["8000", "16000"]), default="8000",
              show_default=True, help="Media clock rate in Hz; prompts are built at this rate.")
@click.option("--codecs", default=",".join(DEFAULT_CODECS), show_default=True,
              callback=_codecs, metavar="LIST",
              help=f"Audio codecs calls may use, best first ({', '.join(CODECS)}); every "
                   "other codec is off.")
@click.option("--srtp", type=click.Choice(["off", "optional", "mandatory"]), default="optional",
              show_default=True,
              help="SRTP (SDES) for callers and calls out: optional encrypts when the other "
                   "side offers or accepts it; mandatory refuses plain RTP (488).")
@click.option("--srtp-signaling", type=click.Choice(["any", "tls", "sips"]), default="any",
              show_default=True,
              help="Over which signalling SRTP keys may travel: any transport, tls (this hop) "
                   "or sips (end to end).")
@click.option("--max-calls", default=200, show_default=True, type=click.IntRange(1, 100_000),
              metavar="N", help="Callers at once; the next one gets 503 with Retry-After.")
@click.option("--retry-after", default=30, show_default=True, type=click.IntRange(1, 3600),
              metavar="SECONDS", help="Seconds in the Retry-After header of 503 answers.")
@click.option("--public-address", default=None, metavar="ADDRESS",
              help="Address written in SIP and SDP when behind NAT.  [default: --listen]")
@click.option("--stun-servers", default="", metavar="LIST",
              help="STUN servers (host or host:port, comma separated) that tell the server its "
                   "public address behind NAT.  [default: none]")
@click.option("--outbound-proxy", default=None, metavar="URI",
              help="SIP proxy for transfer legs; needed to ring bare numbers and extensions.")
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              metavar="DIR", help="Folder for prompts, voicemail, the call log and status.")
@click.option("--prompts", default=None, type=_PATHS, metavar="DIR",
              help="Use this prompt build (attendant prompts build MENU --out DIR) as it is, "
                   "instead of building into DATA/prompts.")
@click.option("--grace", default=30.0, show_default=True, type=click.FloatRange(0, 3600),
              metavar="SECONDS",
              help="Seconds calls may go on after SIGTERM before they are hung up.")
@click.option("--metrics-port", default=None, type=click.IntRange(0, 65535), metavar="PORT",
              help="Serve Prometheus metrics on http://LISTEN:PORT/metrics (0: any free port, "
                   "written to status.json).  [default: off]")
@click.option("--metrics-listen", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address of the metrics exporter.")
@click.option("--smtp-host", default=None, metavar="HOST",
              help="SMTP server for voicemail e-mail.  [default: no e-mail]")
@click.option("--smtp-port", default=25, show_default=True, type=click.IntRange(1, 65535),
              metavar="PORT", help="SMTP port (587 with --smtp-starttls, usually).")
@click.option("--smtp-from", default=None, metavar="ADDRESS",
              help="From address of voicemail e-mail.  [default: attendant@this host's name]")
@click.option("--smtp-starttls", is_flag=True,
              help="Upgrade the SMTP connection with STARTTLS (certificate verified).")
@click.option("--smtp-tls", type=click.Choice(["starttls", "none"]), default=None,
              help="starttls: as --smtp-starttls.  none: allow --smtp-user without TLS (a "
                   "relay on this host only).  [default: STARTTLS required for a login]")
@click.option("--smtp-user", default=None, metavar="USER",
              help=f"SMTP login; the password is read from ${SMTP_PASSWORD_ENV}.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True, help="Our log level (to stderr).")
@click.option("--pj-log-level", default=1, show_default=True, type=click.IntRange(0, 6),
              metavar="0-6", help="pjsip's own log level (to stderr).")
@safety_options
def serve(menu: Path, settings: ServerSettings | None, listen: str, port: int | None,
          transports: tuple[Transport, ...], tls_port: int | None,
          tls_cert: Path | None, tls_key: Path | None, tls_ca: Path | None,
          tls_verify_server: bool, tls_verify_client: bool, rtp_ports: str,
          clock_rate: str, codecs: tuple[str, ...], srtp: Srtp, srtp_signaling: SrtpSignaling,
          max_calls: int, retry_after: int,
          public_address: str | None, stun_servers: str,
          outbound_proxy: str | None, data_dir: Path, prompts: Path | None, grace: float,
          metrics_port: int | None, metrics_listen: str, smtp_host: str | None,
          smtp_port: int, smtp_from: str | None, smtp_starttls: bool, smtp_tls: str | None,
          smtp_user: str | None,
          log_level: str, pj_log_level: int, **safety_values: Any) -> None:
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    low_high = _rtp_range(rtp_ports)
    listen, port = _listen_and_port(listen, port)
    tls = TlsFiles(cert=str(tls_cert) if tls_cert else None,
                   key=str(tls_key) if tls_key else None, ca=str(tls_ca) if tls_ca else None,
                   verify_server=tls_verify_server, verify_client=tls_verify_client)
    _check_tls_options(transports, tls, settings)
    if transports == ("tls",):
        tls_port = tls_port or port or 5061
    port, tls_port = port or 5060, tls_port or 5061
    if {"tls", "tcp"} <= set(transports) and tls_port == port:
        raise click.UsageError(f"TLS and TCP cannot share port {port}: give --tls-port "
                               "another one (5061)")
    _check_trunk_transports(settings, transports)
    smtp = _smtp_options(smtp_host, smtp_port, smtp_from, smtp_starttls, smtp_user, smtp_tls)
    safety = safety_from(safety_values)
    trunks, phones = _logins(settings)
    # A number no trunk carries is a warning here: the line answers, and a transfer to it
    # takes its fallback (``attendant validate --settings`` makes it an error).
    flow, result = compile_or_exit(menu, OutboundRoutes.of(settings, outbound_proxy,
                                                           Severity.WARNING)
                                   if settings is not None else None)
    if not trunks and not outbound_proxy:
        for queue in flow.queues.values():
            if queue.callback_key:
                log.warning("queue %s offers callbacks (key %s), but this server has no trunk "
                            "and no --outbound-proxy to ring numbers through: callers who ask "
                            "hear that no callback is possible, and no agent is rung for one",
                            queue.key, queue.callback_key)
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
            click.echo(f"warning: --max-calls lowered from {max_calls} to {allowed}: this "
                       f"pjsua2 build allows {effective} calls at once, and each caller may "
                       "need a second one for a transfer or a queue agent. To serve more, "
                       "raise PJSUA_MAX_CALLS (and PJSUA_MAX_CONF_PORTS) in "
                       "scripts/pjsua2/config_site.h and rebuild: bash "
                       "scripts/build-pjsua2.sh --venv .venv --force"
                       + _stock_hint(effective), err=True)
            max_calls = allowed
        if "tls" in transports and limits.get("tls") is False:
            click.echo("error: this pjsua2 was built without TLS (no OpenSSL), so --transport "
                       "tls cannot work; rebuild it with libssl-dev installed: bash "
                       "scripts/build-pjsua2.sh --venv .venv --force", err=True)
            sys.exit(1)
        built = _built_codecs(limits)
        lacking = missing_codecs(codecs, built)
        if lacking:
            click.echo(f"error: this pjsua2 build has no {', '.join(lacking)} codec (it has "
                       f"{', '.join(built)}); take it out of --codecs (codecs: in "
                       "server.yaml) or rebuild: bash scripts/build-pjsua2.sh --venv .venv "
                       "--force", err=True)
            sys.exit(1)

    from attendant.sip.endpoint import EndpointConfig
    from attendant.sip.options import ServeOptions, open_prompts
    from attendant.sip.server import Server

    endpoint = EndpointConfig(listen=listen, port=port, transports=transports,
                              tls_port=tls_port, rtp_ports=low_high,
                              clock_rate=int(clock_rate), max_calls=max_calls,
                              public_address=public_address, outbound_proxy=outbound_proxy,
                              pj_log_level=pj_log_level,
                              tls=tls, codecs=codecs,
                              srtp=srtp, srtp_signaling=srtp_signaling,
                              stun_servers=tuple(s.strip() for s in stun_servers.split(",")
                                                 if s.strip()))
    options = ServeOptions(menu=menu, data_dir=data_dir, endpoint=endpoint, grace=grace,
                           retry_after=retry_after, prompts=prompts, metrics_port=metrics_port,
                           metrics_listen=metrics_listen, smtp=smtp, safety=safety,
                           trunks=trunks, settings_path=settings.path if settings else None,
                           allow_from=tuple(settings.options.get("allow_from", ()))
                           if settings else (), phones=phones)
    from attendant.storage.permissions import exposed, make_private

    make_private()  # folders 0700, files 0600: recordings and call logs are personal data
    data_dir.mkdir(parents=True, exist_ok=True)
    from attendant.storage.pidfile import FILE_NAME, running_server

    other = running_server(data_dir / FILE_NAME).pid
    if other is not None:
        click.echo(f"error: attendant serve (pid {other}) already uses {data_dir}; stop it "
                   f"first (attendant stop --data {data_dir}) or give this one another --data",
                   err=True)
        sys.exit(1)
    for line in exposed(data_dir):
        logging.getLogger("attendant.serve").warning("data folder %s", line)
    store, errors = open_prompts(options, flow, result.prompt_sites)
    if store is None:
        for error in errors:
            click.echo(error, err=True)
        click.echo(f"error: {len(errors)} prompt(s) could not be built into "
                   f"{options.prompt_dir}; not serving", err=True)
        sys.exit(1)
    try:
        server = Server(options, flow, store)
        sys.exit(server.run())
    except Exception as exc:  # the endpoint could not start (port in use, ...)
        why = str(exc) or f"{type(exc).__name__} (no message)"
        hint = failure_hint(why, listen)
        click.echo(f"error: cannot serve: {why}" + (f"\n  hint: {hint}" if hint else ""),
                   err=True)
        sys.exit(1)


def _listen_and_port(listen: str, port: int | None) -> tuple[str, int | None]:
    """``--listen HOST:PORT`` is ``--listen HOST --port PORT``; both ways at once must agree."""
    try:
        host, listen_port = split_listen(listen)
    except click.BadParameter as exc:
        exc.param_hint = "'--listen'"
        raise
    if listen_port is not None and port is not None and listen_port != port:
        raise click.UsageError(f"--listen {listen} says port {listen_port} and --port says "
                               f"{port}; give the port once")
    return host, listen_port if listen_port is not None else port


def _logins(settings: ServerSettings | None) -> tuple[tuple[TrunkLogin, ...],
                                                       PhoneLogins | None]:
    """Every trunk and phone with its password, read now: a secret that cannot be read
    stops the start with an error naming the setting (never the value)."""
    from attendant.sip.options import read_logins, read_phones

    try:
        return read_logins(settings), read_phones(settings)
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _check_trunk_transports(settings: ServerSettings | None,
                            transports: tuple[Transport, ...]) -> None:
    """A trunk registering over a transport the server does not open: stop at start."""
    for trunk in (settings.trunks.values() if settings is not None else ()):
        if trunk.transport and trunk.transport not in transports:
            click.echo(f"error: {settings.path if settings else ''}: trunk {trunk.name} uses "
                       f"transport {trunk.transport}, which the server does not open; add it: "
                       f"--transport {','.join(transports)},{trunk.transport}", err=True)
            sys.exit(1)


def _check_tls_options(transports: tuple[Transport, ...], tls: TlsFiles,
                       settings: ServerSettings | None) -> None:
    """The TLS files can be served, and only with --transport tls; a trunk over TLS
    whose certificate nobody checks is worth a warning."""
    if "tls" not in transports:
        if tls.cert or tls.key or tls.ca or tls.verifies:
            raise click.UsageError("--tls-cert, --tls-key, --tls-ca and the --tls-verify "
                                   "options need --transport tls")
        return
    if tls.cert is None or tls.key is None:
        raise click.UsageError("--transport tls needs --tls-cert FILE and --tls-key FILE "
                               "(PEM certificate and its private key)")
    found = tls_problems(tls)
    if found:
        for problem in found:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    over_tls = [t.name for t in (settings.trunks.values() if settings else ())
                if (t.transport or uri_transport(t.registrar)) == "tls"]
    if over_tls and not tls.verify_server:
        log.warning("trunk(s) %s reached over TLS without checking the carrier's certificate: "
                    "anyone on the path can pose as the carrier; add tls_verify_server: true "
                    "(--tls-verify-server)", ", ".join(over_tls))


def _stock_hint(effective: int) -> str:
    from attendant.sip.limits import FIX_COMMAND, STOCK_MAX_CALLS

    if effective > STOCK_MAX_CALLS:
        return ""
    return (f"\nWARNING: this is a stock pjsua2 build limited to {STOCK_MAX_CALLS} calls. "
            f"Install attendant's own build: {FIX_COMMAND}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="the --data folder of `attendant serve`, checked for private modes")
def doctor(as_json: bool, data_dir: Path) -> None:
    """Check what `attendant serve` needs: pjsua2, its call limits, espeak-ng, SIPp, that
    its data folder is private and, when it runs, that its trunks are registered."""
    import shutil

    from attendant.sip.limits import FIX_COMMAND, STOCK_MAX_CALLS
    from attendant.storage.permissions import exposed

    limits = _probe()
    tools = {name: shutil.which(name) for name in ("espeak-ng", "sipp")}
    open_to_others = exposed(data_dir)
    if as_json:
        click.echo(json.dumps({"pjsua2": limits, "tools": tools,
                               "data_folder_exposed": open_to_others,
                               "trunks": (running_status(data_dir) or {}).get("trunks", [])}))
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
        tls = "yes" if limits.get("tls") else f"NO (serve --transport tls fails; {FIX_COMMAND})"
        click.echo(f"  TLS (serve --transport tls): {tls}")
        built = _built_codecs(limits)
        lacking = missing_codecs(DEFAULT_CODECS, built)
        click.echo(f"  codecs: {', '.join(built) or 'none?'}"
                   + (f" (NO {', '.join(lacking)}: {FIX_COMMAND} --force)" if lacking else ""))
        problems += bool(lacking)
    for name, path in tools.items():
        use = "text-to-speech, speech.engine: espeak" if name == "espeak-ng" else "SIP tests"
        click.echo(f"{name}: {path or 'missing'} ({use})")
    if open_to_others:
        click.echo(f"WARNING: data folder {data_dir}: " + "\n  ".join(open_to_others))
    else:
        click.echo(f"data folder {data_dir}: private (or not created yet)")
    running = running_status(data_dir)
    if running is not None:
        lines, failing = trunk_lines(running)
        for line in lines:
            click.echo(line)
        problems += failing
    sys.exit(1 if problems else 0)


@click.command()
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="the --data folder of the running `attendant serve`")
def reload(data_dir: Path) -> None:
    """Tell a running `attendant serve` to reload its menus (SIGHUP to its pidfile)."""
    pid = _signal_server(data_dir, signal.SIGHUP)
    click.echo(f"reload requested (SIGHUP to {pid}); see its log for the result")


@click.command()
@click.option("--data", "data_dir", default="var", show_default=True, type=_PATHS,
              help="the --data folder of the running `attendant serve`")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="seconds to wait for the server to exit (its calls get --grace first)")
def stop(data_dir: Path, wait: float) -> None:
    """Tell a running `attendant serve` to stop (SIGTERM): new calls get 503, calls in
    progress get its --grace to finish."""
    from attendant.storage.pidfile import process_start

    pid = _signal_server(data_dir, signal.SIGTERM)
    click.echo(f"stop requested (SIGTERM to {pid})")
    started, deadline = process_start(pid), time.monotonic() + wait
    while wait and time.monotonic() < deadline:
        if process_start(pid) != started:
            click.echo("stopped")
            return
        time.sleep(0.1)
    if wait:
        click.echo(f"error: still running after {wait:g} s (calls finishing?)", err=True)
        sys.exit(1)


def _signal_server(data_dir: Path, signum: signal.Signals) -> int:
    """Send ``signum`` to the data folder's server, after checking it is that server."""
    from attendant.storage.pidfile import FILE_NAME, running_server

    owner = running_server(data_dir / FILE_NAME)
    if owner.pid is None:
        click.echo(f"error: {owner.problem}", err=True)
        sys.exit(1)
    try:
        os.kill(owner.pid, signum)
    except ProcessLookupError:
        click.echo(f"error: process {owner.pid} ended just now", err=True)
        sys.exit(1)
    return owner.pid
