"""What ``attendant serve`` was asked for (:class:`ServeOptions`, :class:`SmtpOptions`),
and the prompt store it opens before taking calls (:func:`open_prompts`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from attendant.config.settings import ServerSettings, Trunk
from attendant.config.source_map import PromptSite, PromptSiteKey
from attendant.errors import PromptError
from attendant.model import Flow
from attendant.prompts.build import build
from attendant.prompts.store import PromptStore
from attendant.sip.endpoint import EndpointConfig
from attendant.sip.safety import Safety

log = logging.getLogger("attendant.sip.server")

#: Prompts rendered at once by the startup and reload builds.
BUILD_JOBS = max(1, min(4, os.cpu_count() or 1))

@dataclass(frozen=True)
class SmtpOptions:
    """Where voicemail e-mail goes (``--smtp-*``); the password comes from the environment."""

    host: str
    port: int = 25
    sender: str = "attendant@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    #: ``--smtp-tls none`` with a login: the admin accepts a password sent in the clear.
    plain_login: bool = False


@dataclass(frozen=True)
class TrunkLogin:
    """A trunk of the settings file with its password, read when the server started."""

    trunk: Trunk
    password: str = field(repr=False)  # never in a log line or a traceback's repr


def read_logins(settings: ServerSettings | None) -> tuple[TrunkLogin, ...]:
    """Every trunk of ``settings`` with its password, read now (at start and at reload).

    Raises SettingsError naming the setting (never the value) when one cannot be read.
    """
    if settings is None:
        return ()
    return tuple(TrunkLogin(trunk, trunk.password.read()) for trunk in settings.trunks.values())


@dataclass(frozen=True)
class PhoneLogins:
    """The settings' ``phones`` with their passwords, read when the server started."""

    realm: str
    passwords: Mapping[str, str] = field(repr=False)


def read_phones(settings: ServerSettings | None) -> PhoneLogins | None:
    """The phones that may call in with a password, passwords read now (at start and at
    reload); None without any. Raises SettingsError naming the setting, never the value."""
    if settings is None or not settings.phones:
        return None
    return PhoneLogins(settings.phone_realm,
                       MappingProxyType({user: secret.read()
                                         for user, secret in settings.phones.items()}))


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``attendant serve`` was asked for."""

    menu: Path
    data_dir: Path
    endpoint: EndpointConfig
    grace: float = 30.0
    retry_after: int = 30
    #: A prompt build to use as it is; None: build into ``<data>/prompts``.
    prompts: Path | None = None
    #: Port of the Prometheus exporter (0: any free port); None: no exporter.
    metrics_port: int | None = None
    metrics_listen: str = "127.0.0.1"
    #: Voicemail e-mail; None: no notification.
    smtp: SmtpOptions | None = None
    #: Limits on vanished callers and on one source (``--rtp-timeout`` ...).
    safety: Safety = field(default_factory=Safety)
    #: Carrier trunks and PBXs to register to (``--settings``).
    trunks: tuple[TrunkLogin, ...] = ()
    #: The settings file (``--settings``), read again by a reload for its trunks.
    settings_path: Path | None = None
    #: Phones and PBXs that may call in besides the trunks (settings ``allow_from``).
    allow_from: tuple[str, ...] = ()
    #: Phones that may call in from anywhere with a password (settings ``phones``).
    phones: PhoneLogins | None = None

    @property
    def prompt_dir(self) -> Path:
        """Where the prompts are read from (and built into, without ``--prompts``)."""
        return self.prompts if self.prompts is not None else self.data_dir / "prompts"


def open_prompts(options: ServeOptions, flow: Flow,
                 sites: Mapping[PromptSiteKey, PromptSite] | None = None,
                 ) -> tuple[PromptStore | None, list[str]]:
    """The prompt store for ``flow``: built (or found in the cache) unless ``--prompts``.

    Returns the store, or None and the errors (one text per failed prompt, with the
    menu file and line when known). Runs in the main thread, never on the worker.
    """
    rate = options.endpoint.clock_rate
    if options.prompts is None:
        report = build(flow, options.prompt_dir, sites=sites, rate=rate, jobs=BUILD_JOBS)
        if not report.ok:
            return None, [str(error) for error in report.errors]
        log.info("prompts: %s", report.summary())
        if report.fell_back:
            first, reason = report.fell_back[0]
            log.warning("prompt %s: %s; %d prompt(s) spoken by %s instead (speech.fallback)",
                        first, reason, len(report.fell_back), flow.speech.fallback)
    try:
        store = PromptStore(options.prompt_dir, clock_rate=rate, root=Path(flow.root),
                            speech=flow.speech)
    except PromptError as exc:
        return None, [str(exc)]
    if options.prompts is not None:
        if not (options.prompts / "manifest.json").is_file():
            log.warning("no prompt build in %s (no manifest.json): every prompt is rendered "
                        "on first use", options.prompts)
        elif store.clock_rate != rate:
            log.warning("the prompts in %s are not at %d Hz: they are rendered again on "
                        "first use; rebuild with attendant prompts build --rate %d",
                        options.prompts, rate, rate)
    return store, []
