"""OPTIONS pings to each trunk (``qualify_seconds``): is the carrier there, and how far.

Every ``qualify_seconds`` the trunk's account sends OPTIONS to its registrar (through the
trunk's outbound proxy, like every request of that account). Any answer means the trunk
is reachable, and how long it took is its round trip; no answer (pjsip's 408 after its
transaction timeout) or a transport error (503 made by pjsip) means it is not. The state
shows in ``status.json`` and the metrics, and a change is logged once. Worker thread.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.sip.endpoint import TimerHandle

if TYPE_CHECKING:
    from attendant.sip.server import Server
    from attendant.sip.trunks import TrunkAccount

log = logging.getLogger("attendant.sip.trunks")

#: Answers pjsip makes itself when nobody answered: the peer is not there.
_NO_ANSWER = (408, 503)


class TrunkPings:
    """The OPTIONS pings of every trunk's account."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._timers: dict[str, TimerHandle] = {}
        #: trunk → (account serial, when the ping in flight was sent)
        self._sent: dict[str, tuple[int, float]] = {}

    def start(self, account: TrunkAccount) -> None:
        """Ping ``account``'s registrar now and every ``qualify_seconds`` (0: never)."""
        if account.login.trunk.qualify_seconds:
            self._schedule(account.trunk, 0.5)

    def stop(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self._sent.pop(name, None)

    def close(self) -> None:
        for name in list(self._timers):
            self.stop(name)

    def answered(self, name: str, serial: int, code: int) -> None:
        """The ping of account ``serial`` of trunk ``name`` got ``code`` (posted)."""
        sent = self._sent.get(name)
        account = self._server.trunks.accounts.get(name)
        if sent is None or account is None or sent[0] != serial:
            return  # a reload replaced the account since
        del self._sent[name]
        self._record(account, code not in _NO_ANSWER, time.monotonic() - sent[1], code)

    def _schedule(self, name: str, delay: float) -> None:
        self._timers[name] = self._server.worker.call_later(delay, lambda: self._ping(name))

    def _ping(self, name: str) -> None:
        self._timers.pop(name, None)
        account = self._server.trunks.accounts.get(name)
        if account is None:
            return
        trunk = account.login.trunk
        self._schedule(name, trunk.qualify_seconds)
        if name in self._sent:  # the last one is still unanswered: it will time out
            return
        prm = pj.SendRequestParam()
        prm.method = "OPTIONS"
        prm.txOption.targetUri = trunk.registrar
        try:
            account.sendRequest(prm)
        except pj.Error as exc:
            self._record(account, False, None, 0, exc.info())
            return
        self._sent[name] = (account.serial, time.monotonic())

    def _record(self, account: TrunkAccount, reachable: bool, seconds: float | None,
                code: int, why: str = "") -> None:
        state, name = account.state, account.trunk
        if state.reachable is not reachable:
            if reachable:
                log.info("trunk %s: reachable (OPTIONS answered %d in %.0f ms)", name, code,
                         (seconds or 0) * 1000)
            else:
                log.warning("trunk %s: NOT reachable: OPTIONS to %s %s", name,
                            account.login.trunk.registrar,
                            why or f"got no answer ({code})")
        state.reachable = reachable
        state.ping_ms = round(seconds * 1000, 1) if reachable and seconds is not None else None
        self._server.metrics.trunk_reachable(name, reachable, seconds if reachable else None)
        self._server.status_changed()


def ping_code(prm: Any) -> int:
    """The final status of a ping's transaction, from ``Account.onSendRequest``."""
    try:
        return int(prm.e.body.tsxState.tsx.statusCode)
    except (AttributeError, pj.Error, ValueError):
        return 0
