"""``attendant reload`` (SIGHUP): the menus, trunks and TLS files read again, calls untouched.

In the main thread, never on the pjsip worker: the menus are compiled again and their
prompts built, and the settings file (``--settings``) is read again with its trunks'
passwords. What is valid is handed to the worker: new calls get the new flow (calls in
progress keep theirs), changed trunks register anew. What is not is logged, counted as
a failed reload, and the old menus or trunks are kept. The TLS listener reads its
certificate, key and CA list again (a renewed certificate at the same paths); connections
already open keep the certificate they were shown.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from attendant.config.compiler import compile_path
from attendant.config.diagnostics import Severity, format_text
from attendant.config.reach import OutboundRoutes
from attendant.config.settings import ServerSettings, SettingsError, load_settings
from attendant.model import Flow
from attendant.prompts.store import PromptStore
from attendant.sip.options import open_prompts, read_logins, read_phones
from attendant.sip.tls import problems as tls_problems

if TYPE_CHECKING:
    from attendant.sip.server import Server

log = logging.getLogger("attendant.sip.server")


def reload_server(server: Server) -> None:
    """Main thread: read the TLS certificate, the trunks, then the menus, again."""
    _reload_tls(server)
    settings = _reload_trunks(server)
    options = server.options
    started = time.monotonic()
    outbound = (OutboundRoutes.of(settings, options.endpoint.outbound_proxy, Severity.WARNING)
                if settings is not None else None)
    result = compile_path(options.menu, outbound)
    if result.flow is None:
        _failed(server, f"{options.menu} is invalid", format_text(result.diagnostics))
        return
    for warning in result.diagnostics:  # numbers no trunk carries, among others
        log.warning("reload: %s", warning.format())
    flow = result.flow
    store, errors = open_prompts(options, flow, result.prompt_sites)
    if store is None:
        _failed(server, f"the prompts of {options.menu} cannot be built", "\n".join(errors))
        return
    server.worker.post(_swap_flow, server, flow, store)
    log.info("reload: %s compiled and its prompts built in %.0f ms; new calls use it, "
             "calls in progress keep their menus", options.menu,
             (time.monotonic() - started) * 1000)


def _reload_trunks(server: Server) -> ServerSettings | None:
    """Read the settings file again: changed trunks register anew (calls go on), the
    phones' passwords are read again. The settings read, when they are valid."""
    path = server.options.settings_path
    if path is None:
        return None
    settings, found = load_settings(path)
    try:
        logins = read_logins(settings) if settings is not None else None
        phones = read_phones(settings)
    except SettingsError as exc:
        _failed(server, "a trunk's or phone's password cannot be read", str(exc),
                "trunks and phones")
        return None
    if logins is None:
        _failed(server, f"{path} is invalid", format_text(found), "trunks")
        return None
    server.worker.post(server.trunks.apply, logins, server.trunks.policy(logins, phones),
                       phones)
    return settings


def _reload_tls(server: Server) -> None:
    """A renewed certificate (same files, new contents) is served to new connections;
    one that cannot be served is reported and the one in use kept."""
    endpoint = server.options.endpoint
    if "tls" not in endpoint.transports:
        return
    found = tls_problems(endpoint.tls)
    if found:
        _failed(server, "the TLS files cannot be served", "\n".join(found), "TLS certificate")
        return
    server.worker.post(_restart_tls_listener, server)


def _restart_tls_listener(server: Server) -> None:
    """Worker thread: the TLS listener reads its files again."""
    why = server.worker.reload_tls()
    if why is not None:
        server.totals["reload_failures"] += 1
        log.error("reload: the TLS certificate was not read again: %s", why)
        server.status_changed()
        return
    log.info("reload: TLS files read again, new connections get them: %s",
             server.options.endpoint.tls.describe())


def _failed(server: Server, why: str, details: str, kept: str = "menus") -> None:
    server.totals["reload_failures"] += 1
    log.error("reload: %s, keeping the %s already loaded:\n%s", why, kept, details)
    server.worker.post(server.status_changed)


def _swap_flow(server: Server, flow: Flow, store: PromptStore) -> None:
    """Worker thread: new calls get ``flow``; the queues and prompt stores follow."""
    server.flow = flow
    server.queues.set_flow(flow)
    server.overrides.set_flow(flow)
    server.prompts.add(flow, store)
    server.forget_unused_stores()
    server.totals["reloads"] += 1
    server.status_changed()
