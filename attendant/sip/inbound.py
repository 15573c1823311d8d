"""Who may call in: the source addresses INVITEs are accepted from.

The sources a server knows are each trunk's ``sources`` (or, for a trunk registered
without them, the addresses its registrar and outbound proxy resolve to at start), the
settings' ``allow_from`` (phones and PBXs on the company network) and
``--trusted-source``. A server with trunks, ``allow_from`` or ``phones``, or listening
beyond loopback, answers INVITEs from anywhere else 403 before anything plays (with no
source at all it takes none, and says so at start), unless they come from one of the
settings' ``phones`` and prove it (:mod:`attendant.sip.digest`). Otherwise (loopback,
and at most ``--trusted-source``: the README's first command, the tests) it takes calls
from anyone on this host.
Pure (``ipaddress``), unit-tested without pjsua2.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger("attendant.sip.server")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def network(text: str) -> Network:
    """An address or network as written (``203.0.113.7``, ``10.0.0.0/8``, ``::1``)."""
    return ipaddress.ip_network(text.strip(), strict=False)


def is_loopback(address: str) -> bool:
    """Whether listening on ``address`` reaches this host only."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def resolved(host: str) -> list[Network]:
    """The addresses a host name resolves to now (none when it does not)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
    except OSError as exc:
        log.warning("cannot resolve %s (%s): calls from it are refused until a restart or "
                    "reload resolves it", host, exc)
        return []
    return [network(str(info[4][0])) for info in infos]


@dataclass(frozen=True)
class InboundPolicy:
    """Which sources may send INVITEs."""

    open: bool
    allowed: tuple[Network, ...] = ()
    #: How many phones may call in from elsewhere with their password.
    phones: int = 0

    @classmethod
    def build(cls, listen: str, named: Iterable[str],
              trusted: Iterable[str] = (), phones: int = 0) -> InboundPolicy:
        """Only the ``named`` sources (trunks', ``allow_from``: addresses, networks or host
        names) and the ``trusted`` ones, and ``phones`` that log in; open on loopback when
        nothing is named and no phone must log in."""
        named = list(named)
        if not named and not phones and is_loopback(listen):
            return cls(open=True)
        allowed: list[Network] = []
        for source in [*named, *trusted]:
            try:
                allowed.append(network(source))
            except ValueError:
                allowed.extend(resolved(source))
        return cls(open=False, allowed=tuple(dict.fromkeys(allowed)), phones=phones)

    def allows(self, source: str) -> bool:
        """Whether an INVITE from ``source`` (an address) may become a call."""
        if self.open:
            return True
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(address in allowed for allowed in self.allowed)

    def describe(self) -> str:
        if self.open:
            return "from anyone on this host (it listens on loopback, and no trunk, " \
                   "allow_from or phone names a source)"
        phones = (f"{self.phones} phone(s) from anywhere with their password"
                  if self.phones else "")
        if not self.allowed:
            return phones + " only" if phones else (
                "NONE: it listens beyond loopback and no trunk, allow_from, phones or "
                "--trusted-source names a source; every INVITE gets 403 (see "
                "docs/trunks.md)")
        return ("from " + ", ".join(str(n) for n in self.allowed)
                + (f", and {phones}" if phones else " only"))
