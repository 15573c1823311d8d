"""Who may start a call: per-source limits on concurrent calls and on the INVITE rate.

Anyone who can reach the SIP port can send INVITEs. Without a limit one address
could take every call slot (issue 10: 198 answered, 102 refused, all from one
SIPp) and lock real callers out. :class:`Admission` keeps, per source address,
the calls it has up and a token bucket of INVITEs; a carrier's or PBX's
addresses, which legitimately carry every call, are listed as trusted and
bypass both limits.

Pure bookkeeping with an injected clock, so the unit tests drive it without
sockets; the SIP server asks :meth:`Admission.admit` for each INVITE and calls
:meth:`Admission.release` when the call ends. :class:`LogThrottle` keeps a
flood of refusals from one source from flooding the log as well.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from attendant.uris import host_of

#: Concurrent calls one untrusted address may have up (a busy office PBX: list it trusted).
DEFAULT_CALLS_PER_SOURCE = 30
#: INVITEs per second one untrusted address may send, sustained ...
DEFAULT_INVITE_RATE = 10.0
#: ... and in a burst.
DEFAULT_INVITE_BURST = 20


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_sources(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``192.0.2.10``, ``198.51.100.0/24``) for ``--trusted-source``.

    Raises:
        ValueError: naming the value that is neither.
    """
    found = []
    for value in values:
        try:
            found.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (write e.g. "
                             "192.0.2.10 or 198.51.100.0/24)") from None
    return tuple(found)


def source_host(address: str) -> str:
    """The host part of pjsip's ``srcAddress`` (``127.0.0.1:5060``, ``[::1]:5060``)."""
    return host_of(address)


@dataclass
class _Source:
    calls: int = 0
    tokens: float = 0.0
    updated: float = 0.0


@dataclass
class Admission:
    """Per-source admission control for new calls (0 turns a limit off)."""

    calls_per_source: int = DEFAULT_CALLS_PER_SOURCE
    invite_rate: float = DEFAULT_INVITE_RATE
    invite_burst: int = DEFAULT_INVITE_BURST
    trusted: tuple[Network, ...] = ()
    clock: Callable[[], float] = time.monotonic
    _sources: dict[str, _Source] = field(default_factory=dict)

    def is_trusted(self, host: str) -> bool:
        """True when ``host`` is in one of the ``--trusted-source`` networks."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def admit(self, host: str) -> str | None:
        """None if a call from ``host`` may start (and counts it), else why not."""
        if self.is_trusted(host):
            return None
        self._forget_idle()
        now = self.clock()
        source = self._sources.get(host)
        if source is None:
            source = self._sources[host] = _Source(tokens=float(self.invite_burst), updated=now)
        source.tokens = min(float(self.invite_burst),
                            source.tokens + (now - source.updated) * self.invite_rate)
        source.updated = now
        if self.invite_rate > 0:
            if source.tokens < 1.0:
                return f"more than {self.invite_rate:g} INVITEs a second from {host}"
            source.tokens -= 1.0
        if 0 < self.calls_per_source <= source.calls:
            return f"{source.calls} calls from {host} already, the per-source limit"
        source.calls += 1
        return None

    def release(self, host: str) -> None:
        """A call admitted from ``host`` ended."""
        source = self._sources.get(host)
        if source is None:
            return
        source.calls = max(0, source.calls - 1)
        self._forget_idle()

    def _forget_idle(self) -> None:
        # Keep the table small under a spoofed-source flood: a source with no calls and a
        # full bucket carries no state worth keeping.
        if len(self._sources) < 1024:
            return
        now = self.clock()
        for host in [h for h, s in self._sources.items() if s.calls == 0 and
                     s.tokens + (now - s.updated) * self.invite_rate >= self.invite_burst]:
            del self._sources[host]

    def calls_from(self, host: str) -> int:
        """Calls admitted from ``host`` that are still up."""
        source = self._sources.get(host)
        return source.calls if source is not None else 0


@dataclass
class LogThrottle:
    """Says whether to log a refusal: the first of each (kind, source), then one a minute.

    Every refusal is still counted (status.json, metrics); only the log lines are
    thinned, so one hostile source cannot fill the disk with warnings.
    """

    interval: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _last: dict[tuple[str, str], float] = field(default_factory=dict)
    _skipped: dict[tuple[str, str], int] = field(default_factory=dict)

    def allow(self, kind: str, source: str) -> int | None:
        """None to stay quiet, else how many were left unlogged since the last line."""
        key = (kind, source)
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return None
        if len(self._last) >= 1024:  # a spoofed-source flood: forget, log afresh
            self._last.clear()
            self._skipped.clear()
        self._last[key] = now
        return self._skipped.pop(key, 0)
