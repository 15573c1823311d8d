"""Server settings (``server.yaml``): how ``attendant serve`` runs on this host, and its trunks.

The menus say what callers hear; this file says where the server listens, which
folders it uses, where voicemail e-mail goes and which carrier trunks or PBXs it
registers to. Its keys are the ``serve`` options' names (``--max-calls`` is
``max_calls``) and an option given on the command line wins over the file. It has
its own JSON Schema (``attendant schema --server``) and is checked like the menus:
every problem with file:line:col and a hint (``attendant validate server.yaml``).

Secrets are never in it. A trunk's password is ``{env: NAME}`` or ``{file: PATH}``;
:meth:`Secret.read` reads it when the server starts, refuses a file other users may
read, and its errors name the setting, never the value.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator

from attendant.config.diagnostics import Diagnostic, Position, sort_diagnostics
from attendant.config.loader import SETTINGS_FILE, load_file
from attendant.config.schema import check_against, schema_text
from attendant.config.source_map import PathKey, SourceMap
from attendant.errors import AttendantError
from attendant.uris import host_of, uri_host

SCHEMA_FILE = "server-v1.schema.json"
#: Where the settings' hints send the reader.
DOC = "docs/trunks.md"
#: Settings that name files or folders: relative to the settings file's folder.
_PATH_OPTIONS = ("data", "prompts", "tls_cert", "tls_key", "tls_ca")
_HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*"
                        r"[A-Za-z0-9])?)*\Z")
#: Defaults of a trunk's registration, in seconds.
DEFAULT_EXPIRES = 3600
DEFAULT_RETRY = 30
DEFAULT_RETRY_MAX = 600
DEFAULT_PHONE_REALM = "attendant"
DEFAULT_KEEPALIVE = 15
DEFAULT_QUALIFY = 60
MIN_KEEPALIVE = 5

__all__ = ["DEFAULT_EXPIRES", "SETTINGS_FILE", "Secret", "ServerSettings", "SettingsError",
           "Trunk", "load_settings", "settings_schema_text"]


class SettingsError(AttendantError):
    """A setting cannot be used as written (a secret that cannot be read)."""


@dataclass(frozen=True)
class Secret:
    """Where a password is read from; the value itself is never kept in the settings."""

    setting: str  # "trunks.carrier.password"
    where: Position = field(compare=False)  # moving the line changes no secret
    env: str | None = None
    file: Path | None = None

    def describe(self) -> str:
        """Where the value comes from, for logs and status (never the value)."""
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def read(self) -> str:
        """The password, read now; SettingsError naming the setting when it cannot be."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise SettingsError(f"{self.where}: {self.setting}: the environment variable "
                                    f"{self.env} is {'empty' if value == '' else 'not set'}; "
                                    f"set it to the password before starting the server")
            return value
        assert self.file is not None
        try:
            info = self.file.stat()
        except OSError as exc:
            raise SettingsError(f"{self.where}: {self.setting}: cannot read {self.file} "
                                f"({exc.strerror}); create it holding only the password, "
                                f"readable by this user only (chmod 600)") from exc
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(f"{self.where}: {self.setting}: {self.file} is not a file")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SettingsError(f"{self.where}: {self.setting}: {self.file} may be read by "
                                f"other users (mode {stat.S_IMODE(info.st_mode):o}); run: "
                                f"chmod 600 {self.file}")
        if info.st_uid != os.geteuid():
            raise SettingsError(f"{self.where}: {self.setting}: {self.file} belongs to another "
                                f"user (uid {info.st_uid}); it must be this user's own file")
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{self.where}: {self.setting}: cannot read {self.file} "
                                f"({exc})") from exc
        if not value:
            raise SettingsError(f"{self.where}: {self.setting}: {self.file} is empty; write the "
                                f"password in it")
        return value


@dataclass(frozen=True)
class Trunk:
    """A carrier trunk or PBX the server registers to."""

    name: str
    registrar: str
    username: str
    password: Secret
    auth_username: str
    realm: str  # "*": any realm
    domain: str
    expires: int = DEFAULT_EXPIRES
    retry_seconds: int = DEFAULT_RETRY
    retry_max_seconds: int = DEFAULT_RETRY_MAX
    outbound_proxy: str | None = None
    transport: str | None = None
    #: SRTP on this trunk's calls, and over which signalling its keys may go: None for
    #: the server's (``srtp``, ``srtp_signaling``).
    srtp: str | None = None
    srtp_signaling: str | None = None
    #: Seconds between keep-alives to the registrar over UDP (0: none).
    keepalive_seconds: int = DEFAULT_KEEPALIVE
    #: Seconds between OPTIONS pings to the registrar (0: none).
    qualify_seconds: int = DEFAULT_QUALIFY
    #: Called numbers that arrive on this trunk.
    numbers: tuple[str, ...] = ()
    #: Numbers dialled out through this trunk: those starting with one of these.
    outbound_prefixes: tuple[str, ...] = ()
    #: Who legs out through the trunk present as calling: "original" or "main".
    caller_id: str = "original"
    #: Where the trunk sends calls from (addresses, networks, host names); () for the
    #: registrar's and outbound proxy's hosts.
    sources: tuple[str, ...] = ()

    @property
    def source_hosts(self) -> tuple[str, ...]:
        """What calls from this trunk may come from: ``sources``, else the hosts of its
        registrar and outbound proxy."""
        if self.sources:
            return self.sources
        uris = [self.registrar, *([self.outbound_proxy] if self.outbound_proxy else [])]
        return tuple(host_of(uri_host(uri)) for uri in uris)

    @property
    def registrar_host(self) -> str:
        """The registrar's host and port (``sip.carrier.example:5060``): where numbers
        dialled through the trunk are sent, as ``sip:number@host``."""
        return uri_host(self.registrar)

    @property
    def address(self) -> str:
        """The address of record registered: ``sip:username@domain``."""
        scheme = "sips" if self.registrar.startswith("sips:") else "sip"
        return f"{scheme}:{self.username}@{self.domain}"


@dataclass(frozen=True)
class ServerSettings:
    """A loaded, checked server settings file."""

    path: Path
    #: ``serve`` option name → value as the file gives it (paths made absolute).
    options: Mapping[str, Any]
    trunks: Mapping[str, Trunk]
    #: Phones that may call in with digest authentication: user name → password's place.
    phones: Mapping[str, Secret] = field(default_factory=lambda: MappingProxyType({}))
    phone_realm: str = DEFAULT_PHONE_REALM


@cache
def settings_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(settings_schema_text())
    return data


def settings_schema_text() -> str:
    """The settings schema as shipped, for ``attendant schema --server``."""
    return schema_text(SCHEMA_FILE)


def load_settings(path: Path) -> tuple[ServerSettings | None, list[Diagnostic]]:
    """Read and check a settings file: the settings, or None and every problem found."""
    sources = SourceMap()
    if not path.is_file():
        return None, [Diagnostic(str(path), 1, 1, "$", "no such file",
                                 f"check the path; see {DOC} for a settings file to start from")]
    data, found = load_file(path, sources)
    if data is None or any(d.is_error for d in found):
        return None, sort_diagnostics(found)
    found += _secrets_written(data, sources)
    found += check_against(Draft202012Validator(settings_schema()), data, sources, DOC)
    if not any(d.is_error for d in found):
        found += _meaning(data, sources)
    if any(d.is_error for d in found):
        return None, sort_diagnostics(found)
    return _build(path, data, sources), sort_diagnostics(found)


def _secrets_written(data: Any, sources: SourceMap) -> list[Diagnostic]:
    """A password written as text: refused before the schema could quote it back."""
    if not isinstance(data, dict):
        return []
    found = []
    for section in ("trunks", "phones"):
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if isinstance(entry, dict) and not isinstance(entry.get("password", {}), dict):
                # Not kept and never quoted: the schema check below sees a stand-in.
                entry["password"] = {"env": "PASSWORD_WRITTEN_IN_FILE"}
                found.append(sources.diag(
                    (section, name, "password"), f"{section}.{name}.password is written in the "
                    "file; passwords are never kept in server.yaml",
                    f"write password: {{env: NAME}} and set NAME in the server's environment, "
                    f"or password: {{file: /etc/attendant/{name}.secret}} with the password in "
                    f"a file only this user can read (chmod 600); see {DOC}"))
    return found


def _meaning(data: dict[str, Any], sources: SourceMap) -> list[Diagnostic]:
    found = []
    ports = data.get("rtp_ports")
    if isinstance(ports, str):
        low, high = (int(p) for p in ports.split("-"))
        if not 1024 <= low <= high <= 65535:
            found.append(sources.diag(("rtp_ports",), f"rtp_ports {ports} is not a range of "
                                      "ports", "write LOW-HIGH with 1024 <= LOW <= HIGH <= "
                                      "65535, e.g. 20000-30000"))
    transports = data.get("transport")
    if "tls" in ([transports] if isinstance(transports, str) else transports or []) and not (
            data.get("tls_cert") and data.get("tls_key")):
        found.append(sources.diag(("transport",), "transport tls needs tls_cert and tls_key",
                                  "add tls_cert: and tls_key: (PEM files)"))
    if data.get("tls_verify_client") and not data.get("tls_ca"):
        found.append(sources.diag(("tls_verify_client",), "tls_verify_client needs tls_ca",
                                  "add tls_ca: with the PEM file of the CA that signs the "
                                  "phones' certificates"))
    for index, text in enumerate(data.get("allow_from") or []):
        found += _network_problem(sources, ("allow_from", index), text, names=False)
    owner: dict[str, str] = {}
    for name, trunk in (data.get("trunks") or {}).items():
        first = trunk.get("retry_seconds", DEFAULT_RETRY)
        longest = trunk.get("retry_max_seconds", DEFAULT_RETRY_MAX)
        if longest < first:
            found.append(sources.diag(("trunks", name, "retry_max_seconds"),
                                      f"retry_max_seconds {longest} is shorter than "
                                      f"retry_seconds {first}",
                                      f"use a value of at least {first}"))
        for key, default, what in (("keepalive_seconds", DEFAULT_KEEPALIVE, "keep-alives"),
                                   ("qualify_seconds", DEFAULT_QUALIFY, "pings")):
            # pjsua waits a random 80-100 % of a keep-alive interval, in whole seconds:
            # 1 would be no wait; a ping every second or two is a flood for a carrier.
            value = trunk.get(key, default)
            if 0 < value < MIN_KEEPALIVE:
                found.append(sources.diag(("trunks", name, key), f"{key} {value} is too short",
                                          f"use 0 (no {what}) or {MIN_KEEPALIVE} or more; "
                                          f"{default} is the default"))
        for index, text in enumerate(trunk.get("sources") or []):
            found += _network_problem(sources, ("trunks", name, "sources", index), text,
                                      names=True)
        for index, number in enumerate(trunk.get("numbers") or [trunk["username"]]):
            if number in owner:
                where: PathKey = (("trunks", name, "numbers", index) if "numbers" in trunk
                                  else ("trunks", name, "username"))
                found.append(sources.diag(where, f"number {number} arrives on two trunks, "
                                          f"{owner[number]} and {name}",
                                          "list each called number under one trunk only"))
            owner.setdefault(number, name)
    return found


def _network_problem(sources: SourceMap, where: PathKey, text: str,
                     names: bool) -> list[Diagnostic]:
    """An address or network that is neither (a host name too, where ``names``)."""
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        if names and _HOST_NAME.match(text):
            return []
        kind = "an address, a network or a host name" if names else "an address or a network"
        return [sources.diag(where, f"{text!r} is not {kind}",
                             "write 203.0.113.7, 203.0.113.0/24 or 2001:db8::/32"
                             + (", or sip.carrier.example" if names else ""))]
    return []


def _build(path: Path, data: dict[str, Any], sources: SourceMap) -> ServerSettings:
    folder = path.resolve().parent
    options: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("version", "trunks", "phones", "phone_realm"):
            continue
        # Paths relative to this file; clock_rate, codecs, transport and stun_servers as
        # the serve options' strings (the choices, a comma-separated list).
        options[key] = (str(folder / value) if key in _PATH_OPTIONS
                        else str(value) if key == "clock_rate"
                        else ",".join(value) if key in ("codecs", "transport", "stun_servers")
                        and isinstance(value, list) else value)

    def secret(setting: PathKey, password: dict[str, str]) -> Secret:
        return Secret(".".join(map(str, setting)), sources.value_pos(setting),
                      env=password.get("env"),
                      file=(folder / password["file"]) if "file" in password else None)

    trunks = {}
    for name, raw in (data.get("trunks") or {}).items():
        secret_of = secret(("trunks", name, "password"), raw["password"])
        trunks[name] = Trunk(
            name=name, registrar=raw["registrar"], username=str(raw["username"]),
            password=secret_of, auth_username=str(raw.get("auth_username", raw["username"])),
            realm=raw.get("realm", "*"),
            domain=raw.get("domain", host_of(uri_host(raw["registrar"]))),
            expires=raw.get("expires", DEFAULT_EXPIRES),
            retry_seconds=raw.get("retry_seconds", DEFAULT_RETRY),
            retry_max_seconds=raw.get("retry_max_seconds", DEFAULT_RETRY_MAX),
            outbound_proxy=raw.get("outbound_proxy"), transport=raw.get("transport"),
            srtp=raw.get("srtp"), srtp_signaling=raw.get("srtp_signaling"),
            keepalive_seconds=raw.get("keepalive_seconds", DEFAULT_KEEPALIVE),
            qualify_seconds=raw.get("qualify_seconds", DEFAULT_QUALIFY),
            numbers=tuple(raw.get("numbers") or [str(raw["username"])]),
            outbound_prefixes=tuple(raw.get("outbound_prefixes") or ()),
            caller_id=raw.get("caller_id", "original"),
            sources=tuple(raw.get("sources") or ()))
    phones = {str(user): secret(("phones", user, "password"), raw["password"])
              for user, raw in (data.get("phones") or {}).items()}
    return ServerSettings(path, MappingProxyType(options), MappingProxyType(trunks),
                          MappingProxyType(phones),
                          data.get("phone_realm", DEFAULT_PHONE_REALM))
