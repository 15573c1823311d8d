"""Digest authentication of phones that call the attendant directly (RFC 3261 §22, RFC 2617).

An INVITE from a source no trunk or ``allow_from`` lists may still become a call when it
proves it is one of the settings' ``phones``: it is answered 401 with a challenge, and
its second INVITE carries an ``Authorization`` whose digest only a holder of that
phone's password can compute. pjsua2 authenticates only as a client, so the server side
is here: pure, unit-tested, with no pjsua2.

- Nonces are stateless: the time they were made and an HMAC of it under a key made at
  start, valid ``NONCE_LIFETIME_S``; an older one is answered with a fresh challenge
  marked ``stale``.
- A nonce's answer is accepted once (for ``qop=auth``, once per nonce count): a
  captured INVITE replayed gets nothing.
- MD5 (what SIP phones implement), with ``qop=auth`` or without; the method in the
  digest is always INVITE, whatever else the request says.
- ``FAILURES_BEFORE_LOCK`` wrong answers from one source within ``LOCK_S`` lock that
  source out for ``LOCK_S``: guessing passwords costs time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

NONCE_LIFETIME_S = 300
FAILURES_BEFORE_LOCK = 10
LOCK_S = 600
#: Answers remembered to refuse replays, and sources whose failures are counted: bounded.
_REMEMBERED = 20_000
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]+)\s*(?:,|$)')

Outcome = Literal["ok", "missing", "stale", "failed", "locked"]


@dataclass(frozen=True)
class Verdict:
    """What to do with an INVITE: ``ok`` (a call from ``user``), ``missing`` or ``stale``
    (challenge it), ``failed`` (wrong answer: 403) or ``locked`` (too many: 403)."""

    outcome: Outcome
    user: str = ""
    why: str = ""


def parse_digest(value: str) -> dict[str, str] | None:
    """The parameters of ``Digest k=v, k="v"``; None for another scheme or bad syntax."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None:
            return None
        key, raw = match.group(1).lower(), match.group(2)
        if key in params:
            return None  # the same parameter twice: which one would a client mean?
        params[key] = (re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw)
        pos = match.end()
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def digest_response(user: str, realm: str, password: str, method: str, uri: str, nonce: str,
                    qop: str = "", nc: str = "", cnonce: str = "") -> str:
    """The ``response`` a client computes (RFC 2617 §3.2.2.1, MD5)."""
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def _same(given: str, expected: str) -> bool:
    """Constant-time equality; ``given`` comes off the network and may hold any text."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


class DigestGate:
    """Checks INVITEs' credentials against the phones' passwords (worker thread only)."""

    def __init__(self, realm: str, passwords: Mapping[str, str],
                 clock: Callable[[], float] = time.time) -> None:
        self.realm = realm
        self._passwords = dict(passwords)
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._used: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(sorted(self._passwords))

    def challenge(self, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        made = f"{int(self._clock()):x}"
        nonce = f"{made}.{self._mac(made)}"
        return (f'Digest realm="{self.realm}", nonce="{nonce}", algorithm=MD5, qop="auth"'
                + (", stale=true" if stale else ""))

    def check(self, source: str, authorizations: list[str]) -> Verdict:
        """The verdict on an INVITE from ``source`` carrying these ``Authorization`` values."""
        now = self._clock()
        if self._locked(source, now):
            return Verdict("locked", why=f"{source} is locked out after "
                                         f"{FAILURES_BEFORE_LOCK} failed logins")
        ours = [p for p in map(parse_digest, authorizations)
                if p is not None and p.get("realm") == self.realm]
        if not ours:
            return Verdict("missing")
        params = ours[0]
        user = params.get("username", "")
        verdict = self._verify(params, user, now)
        if verdict.outcome == "failed":
            self._failed(source, now)
        return verdict

    def _verify(self, params: dict[str, str], user: str, now: float) -> Verdict:
        nonce = params.get("nonce", "")
        made, _, mac = nonce.partition(".")
        if not _same(mac, self._mac(made)):
            return Verdict("stale", why="a nonce this server did not make")  # or a restart
        try:
            age = now - int(made, 16)
        except ValueError:
            return Verdict("stale", why="a malformed nonce")
        if not 0 <= age <= NONCE_LIFETIME_S:
            return Verdict("stale", why="an expired nonce")
        password = self._passwords.get(user)
        if password is None:
            return Verdict("failed", user, f'no phone "{user}" in the settings')
        algorithm = params.get("algorithm", "MD5")
        qop = params.get("qop", "")
        if algorithm.upper() != "MD5" or qop not in ("", "auth"):
            return Verdict("failed", user, f"unsupported algorithm {algorithm} or qop {qop}")
        nc, cnonce = params.get("nc", ""), params.get("cnonce", "")
        if qop and not (re.fullmatch(r"[0-9a-fA-F]{8}", nc) and cnonce):
            return Verdict("failed", user, "qop=auth without nc and cnonce")
        expected = digest_response(user, self.realm, password, "INVITE", params.get("uri", ""),
                                   nonce, qop, nc, cnonce)
        if not _same(expected, params.get("response", "").lower()):
            return Verdict("failed", user, "a wrong password")
        answer = (nonce, nc if qop else params.get("response", ""))
        if answer in self._used:
            return Verdict("failed", user, "a replayed answer (a nonce used before)")
        self._used[answer] = now
        while self._used and (len(self._used) > _REMEMBERED
                              or next(iter(self._used.values())) < now - NONCE_LIFETIME_S):
            self._used.popitem(last=False)  # oldest first: its nonce has expired anyway
        return Verdict("ok", user)

    def _mac(self, made: str) -> str:
        return hmac.new(self._key, made.encode(), hashlib.sha256).hexdigest()[:32]

    def _failed(self, source: str, now: float) -> None:
        recent = [t for t in self._failures.pop(source, []) if now - t < LOCK_S]
        self._failures[source] = [*recent, now][-FAILURES_BEFORE_LOCK:]
        while len(self._failures) > _REMEMBERED:
            self._failures.popitem(last=False)  # the source that failed longest ago

    def _locked(self, source: str, now: float) -> bool:
        recent = [t for t in self._failures.get(source, []) if now - t < LOCK_S]
        return len(recent) >= FAILURES_BEFORE_LOCK
