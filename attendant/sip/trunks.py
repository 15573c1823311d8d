"""Registration to carrier trunks and PBXs: one pjsua2 account per trunk of the settings.

Each trunk of ``server.yaml`` (:mod:`attendant.config.settings`) becomes a
:class:`TrunkAccount` that registers ``sip:username@domain`` at its registrar,
answering 401/407 challenges with the trunk's credentials, and re-registers before
the registration expires (pjsua refreshes it ``delayBeforeRefreshSec`` early).

pjsua's own retry after a failure is a fixed interval; ours backs off: the first
retry after ``retry_seconds``, each next one twice as late, up to
``retry_max_seconds``, back to the start once a registration succeeds. A failure is
logged with the registrar's answer and shown in ``status.json`` and the metrics; it
never ends the server. Calls the carrier sends to the registered contact arrive on
the server like any other; the contact registered carries a token naming the trunk,
so the call log names the trunk a call came in on.

Everything here runs on the pjsip worker thread; ``onRegState`` (called inside
pjsip's processing) only posts.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.sip.account import ServerAccount, account_config
from attendant.sip.digest import DigestGate
from attendant.sip.endpoint import TimerHandle
from attendant.sip.identity import TRUNK_PARAM, leg_identity
from attendant.sip.inbound import InboundPolicy
from attendant.sip.options import PhoneLogins, TrunkLogin
from attendant.sip.trunk_pings import TrunkPings, ping_code
from attendant.storage import printable
from attendant.uris import dialled_number

if TYPE_CHECKING:
    from attendant.sip.server import Server

log = logging.getLogger("attendant.sip.trunks")

#: Seconds before expiry when pjsua sends the refreshing REGISTER.
REFRESH_BEFORE_S = 30
_serials = itertools.count(1)


#: Why pjsip refused a carrier's TLS certificate, and what to change.
_CERT_HINT = ("; the carrier's TLS certificate is not trusted: it must chain to a CA in "
              "tls_ca (default: the system's) and name the registrar's host; see "
              "docs/serving.md#checking-certificates")


@dataclass
class TrunkState:
    """What status.json and the metrics show of one trunk's registration."""

    state: str = "registering"  # registering, registered, failing, stopped
    #: The registrar's last final answer to a REGISTER (0: none yet).
    code: int = 0
    reason: str = ""
    #: Wall-clock time (epoch seconds) the registration runs out; 0 when not registered.
    expires_at: float = 0.0
    #: Wall-clock time of the next retry after a failure; 0 when none is planned.
    retry_at: float = 0.0
    failures: int = 0
    #: Whether the last OPTIONS ping was answered (None: none yet), and how fast.
    reachable: bool | None = None
    ping_ms: float | None = None

    def snapshot(self, trunk: TrunkLogin) -> dict[str, Any]:
        return {"trunk": trunk.trunk.name, "registrar": trunk.trunk.registrar,
                "address": trunk.trunk.address, "state": self.state, "code": self.code,
                "reason": self.reason, "expires_at": round(self.expires_at) or None,
                "retry_at": round(self.retry_at) or None, "failures": self.failures,
                "keepalive_seconds": trunk.trunk.keepalive_seconds,
                "qualify_seconds": trunk.trunk.qualify_seconds, "reachable": self.reachable,
                "ping_ms": self.ping_ms}


class TrunkAccount(ServerAccount):
    """The account registered to one trunk; its INVITEs are the server's like any other."""

    def __init__(self, server: Server, login: TrunkLogin):
        super().__init__(server, trunk=login.trunk.name)
        self.login = login
        #: Tells this account's reports from those of the account a reload replaced.
        self.serial = next(_serials)
        self.state = TrunkState()

    def onRegState(self, prm: Any) -> None:
        # Inside pjsip's processing: post only.
        code, reason = int(prm.code), printable(str(prm.reason))
        expiration = int(prm.expiration)
        self._server.worker.post(self._server.trunks.reg_state, self.trunk, self.serial, code,
                                 reason, expiration)

    def onSendRequest(self, prm: Any) -> None:
        # The answer to an OPTIONS ping (trunk_pings); inside pjsip: post only.
        self._server.worker.post(self._server.trunks.pings.answered, self.trunk, self.serial,
                                 ping_code(prm))


class Trunks:
    """Every trunk's account and registration state, the routes out through them, and who
    may call in (worker thread, but for the constructor)."""

    def __init__(self, server: Server, logins: tuple[TrunkLogin, ...]):
        self._server = server
        self._initial = logins
        phones = server.options.phones
        #: Phones that may call in from anywhere with a password (digest.py); None: none.
        self.phones = _gate(phones)
        self._phone_logins = phones
        #: Who may call in (attendant/sip/inbound.py), from the trunks of the settings.
        self.inbound = self.policy(logins, phones)
        log.info("calls in: %s", self.inbound.describe())
        #: Each trunk's account, which holds its settings (login) and state.
        self.accounts: dict[str, TrunkAccount] = {}
        #: Contact token → trunk, and called number → trunk (identity.arrived_on).
        self.tokens: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        self._retries: dict[str, TimerHandle] = {}
        #: OPTIONS pings to each trunk (``qualify_seconds``).
        self.pings = TrunkPings(server)

    def start(self) -> None:
        """Create and register every trunk's account."""
        for login in self._initial:
            self._add(login)

    def policy(self, logins: tuple[TrunkLogin, ...],
               phones: PhoneLogins | None) -> InboundPolicy:
        """Who may call in with these trunks and phones: the trunks' sources and
        allow_from, with --trusted-source let in too, and the phones that log in.
        Resolves host names: never on the worker thread."""
        options = self._server.options
        named = [*options.allow_from,
                 *(host for login in logins for host in login.trunk.source_hosts)]
        return InboundPolicy.build(options.endpoint.listen, named,
                                   [str(n) for n in options.safety.trusted],
                                   len(phones.passwords) if phones is not None else 0)

    def route_call(self, destination: str) -> tuple[str, Any, str]:
        """Where a leg goes: a number some ``outbound_prefixes`` match leaves through that
        trunk (``sip:number@registrar``, its account's credentials and proxy); anything
        else from the server's account, as ``destination_uri`` says. Raises ValueError when it
        cannot be rung."""
        number = dialled_number(destination)
        account = self.route(number) if number is not None else None
        if account is not None:
            trunk = account.login.trunk
            return f"sip:{number}@{trunk.registrar_host}", account, trunk.name
        uri = self._server.destination_uri(destination)
        return uri, self._server.account_for(uri), ""

    def leg_headers(self, session: int, trunk: str) -> tuple[tuple[str, str], ...]:
        """The caller's identity on a leg for call ``session`` out through ``trunk``
        (identity.leg_identity); none for a leg through no trunk."""
        account = self.accounts.get(trunk)
        if account is None:
            return ()
        login = account.login
        call = self._server.calls.get(session)
        return leg_identity(call.caller if call is not None else "",
                            call.private if call is not None else False,
                            login.trunk.username, login.trunk.domain,
                            login.trunk.caller_id == "main")

    def _add(self, login: TrunkLogin) -> None:
        trunk = login.trunk
        server = self._server
        ids = server.worker.transport_ids
        transport = trunk.transport or server.options.endpoint.transports[0]
        if transport not in ids:  # serve refuses this at start; a reload may bring it
            log.error("trunk %s: not registered: its transport %s is not open (serve "
                      "--transport %s,%s)", trunk.name, transport, ",".join(ids), transport)
            return
        cfg = account_config(server.options, ids[transport], transport, trunk.srtp,
                             trunk.srtp_signaling)
        cfg.idUri = trunk.address
        reg = cfg.regConfig
        reg.registrarUri = trunk.registrar
        reg.timeoutSec = trunk.expires
        reg.retryIntervalSec = 0  # we retry, with back-off (_failed)
        reg.firstRetryIntervalSec = 0
        reg.delayBeforeRefreshSec = min(REFRESH_BEFORE_S, max(5, trunk.expires // 4))
        reg.registerOnAdd = True
        cfg.natConfig.udpKaIntervalSec = trunk.keepalive_seconds  # holds the NAT binding
        cred = pj.AuthCredInfo("digest", trunk.realm, trunk.auth_username, 0, login.password)
        cfg.sipConfig.authCreds.append(cred)
        if trunk.outbound_proxy:
            cfg.sipConfig.proxies.append(trunk.outbound_proxy)
        # pjsua would pick an account for an INVITE by its Request-URI's user and host,
        # which the server's own account matches first: the contact we register names
        # the trunk instead, with a token a stranger cannot guess (identity.arrived_on).
        token = secrets.token_hex(8)
        cfg.sipConfig.contactUriParams = f";{TRUNK_PARAM}={token}"
        self.tokens[token] = trunk.name
        for number in trunk.numbers:
            self.numbers[number] = trunk.name
        account = TrunkAccount(server, login)
        self.accounts[trunk.name] = account
        log.info("trunk %s: registering %s at %s (expires %d s)", trunk.name, trunk.address,
                 trunk.registrar, trunk.expires)
        try:
            account.create(cfg, False)
        except pj.Error as exc:
            self._failed(trunk.name, 0, f"cannot register: {exc.info()}")
            return
        self.pings.start(account)

    def apply(self, logins: tuple[TrunkLogin, ...], policy: InboundPolicy,
              phones: PhoneLogins | None) -> None:
        """A reload: trunks gone unregister, new ones register, changed ones (any setting,
        or the password) register anew; unchanged ones and every call go on. ``policy``
        (who may call in) was built by the main thread: it may resolve host names. The
        phones' logins are replaced when they changed (a challenge already sent is then
        answered stale, and the phone simply logs in again)."""
        if phones != self._phone_logins:
            log.info("reload: phones that log in changed (%d now)",
                     len(phones.passwords) if phones is not None else 0)
            self.phones, self._phone_logins = _gate(phones), phones
        wanted = {login.trunk.name: login for login in logins}
        for name in [n for n, a in self.accounts.items() if wanted.get(n) != a.login]:
            log.info("reload: trunk %s %s", name, "changed" if name in wanted else "removed")
            self._remove(name)
        for name, login in wanted.items():
            if name not in self.accounts:
                self._add(login)
        self.inbound = policy
        log.info("calls in: %s", self.inbound.describe())
        self._server.status_changed()

    def _remove(self, name: str) -> None:
        self.pings.stop(name)
        retry = self._retries.pop(name, None)
        if retry is not None:
            retry.cancel()
        account = self.accounts.pop(name, None)
        if account is not None:
            with contextlib.suppress(pj.Error):
                account.shutdown()  # sends the un-REGISTER
        self.tokens = {token: trunk for token, trunk in self.tokens.items() if trunk != name}
        self.numbers = {number: trunk for number, trunk in self.numbers.items() if trunk != name}

    def reg_state(self, name: str, serial: int, code: int, reason: str,
                  expiration: int) -> None:
        """A REGISTER of account ``serial`` got its final answer (or failed to be sent)."""
        account = self.accounts.get(name)
        if account is None or account.serial != serial:
            return  # an account a reload removed or replaced (its un-REGISTER)
        state, login = account.state, account.login
        state.code, state.reason = code, reason
        if 200 <= code < 300 and expiration > 0:
            if state.state != "registered":
                log.info("trunk %s: registered at %s for %d s", name, login.trunk.registrar,
                         expiration)
            state.state, state.failures, state.retry_at = "registered", 0, 0.0
            state.expires_at = time.time() + expiration
            self._server.metrics.trunk_registered(name, True)
        elif 200 <= code < 300:
            state.state, state.expires_at = "stopped", 0.0  # our own un-REGISTER
        else:
            self._failed(name, code, reason)
        self._server.status_changed()

    def _failed(self, name: str, code: int, reason: str) -> None:
        account = self.accounts[name]
        state, trunk = account.state, account.login.trunk
        state.failures += 1
        delay = min(trunk.retry_max_seconds, trunk.retry_seconds * 2 ** (state.failures - 1))
        state.state, state.expires_at = "failing", 0.0
        state.code, state.reason = code, reason
        state.retry_at = time.time() + delay
        log.warning("trunk %s: registration at %s failed: %s %s; retry %d in %d s%s", name,
                    trunk.registrar, code or "-", reason or "no answer", state.failures, delay,
                    _CERT_HINT if "ECERTVERIF" in reason else "")
        self._server.metrics.trunk_registered(name, False)
        self._server.metrics.trunk_failure(name, code)
        old = self._retries.pop(name, None)
        if old is not None:
            old.cancel()
        self._retries[name] = self._server.worker.call_later(delay, lambda: self._retry(name))

    def _retry(self, name: str) -> None:
        self._retries.pop(name, None)
        account = self.accounts.get(name)
        if account is None:
            return
        account.state.state = "registering"
        try:
            account.setRegistration(True)
        except pj.Error as exc:
            self._failed(name, 0, f"cannot send REGISTER: {exc.info()}")

    def route(self, number: str) -> TrunkAccount | None:
        """The account of the trunk a dialled number leaves through: the longest of the
        trunks' ``outbound_prefixes`` it starts with (None: no trunk carries it)."""
        best: tuple[int, str] | None = None
        for name, account in self.accounts.items():
            for prefix in account.login.trunk.outbound_prefixes:
                if number.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), name)
        return self.accounts.get(best[1]) if best is not None else None

    def snapshot(self) -> list[dict[str, Any]]:
        """Every trunk's registration, for status.json."""
        return [account.state.snapshot(account.login) for account in self.accounts.values()]

    def close(self) -> None:
        """Before the library goes: stop retrying, drop the accounts (pjsua unregisters)."""
        self.pings.close()
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        for account in self.accounts.values():
            with contextlib.suppress(pj.Error):
                account.shutdown()
        self.accounts.clear()


def _gate(phones: PhoneLogins | None) -> DigestGate | None:
    return DigestGate(phones.realm, phones.passwords) if phones is not None else None
