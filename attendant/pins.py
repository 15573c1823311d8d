"""PINs for feature codes: stored only as scrypt hashes, checked in constant time.

A caller ID proves nothing (anyone can send any From), so an agent's feature code from
an untrusted source asks for the agent's PIN. The menus hold only its hash, made by
``attendant pin hash``::

    scrypt$16384$8$1$<salt, base64>$<key, base64>

scrypt (RFC 7914) with N=16384, r=8, p=1 costs about 16 MB and tens of milliseconds per
check, so a stolen menu file does not give the 4-12 digit PINs away cheaply; that same
cost is why ``attendant serve`` checks a PIN on a pool thread, never on its SIP thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: Digits a PIN may have.
MIN_DIGITS, MAX_DIGITS = 4, 12
_N, _R, _P, _KEY_BYTES, _SALT_BYTES = 16384, 8, 1, 32, 16
_FORM = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)")
#: Bounds on the parameters a hash may name (a huge N would make each check a DoS).
_MAX_N, _MAX_R, _MAX_P = 1 << 17, 16, 4


class PinError(ValueError):
    """A PIN or a PIN hash that cannot be used; the message says why."""


def check_digits(pin: str) -> None:
    """Raise :class:`PinError` unless ``pin`` is 4 to 12 digits."""
    if not (pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        raise PinError(f"a PIN is {MIN_DIGITS} to {MAX_DIGITS} digits (0-9), nothing else")


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``pin`` (a fresh random salt unless one is given)."""
    check_digits(pin)
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    key = _derive(pin, salt, _N, _R, _P)
    return (f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}$"
            f"{base64.b64encode(key).decode()}")


def hash_problem(stored: str) -> str | None:
    """Why ``stored`` is not a usable PIN hash, or None."""
    found = _FORM.fullmatch(stored)
    if found is None:
        return "not a PIN hash (scrypt$N$r$p$salt$key)"
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    if n < 2 or n & (n - 1) or n > _MAX_N or not 1 <= r <= _MAX_R or not 1 <= p <= _MAX_P:
        return f"scrypt parameters N={n}, r={r}, p={p} are out of range"
    try:
        base64.b64decode(found.group(4), validate=True)
        key = base64.b64decode(found.group(5), validate=True)
    except ValueError:
        return "its salt or key is not base64"
    if len(key) < 16:
        return "its key is too short"
    return None


def verify_pin(stored: str, pin: str) -> bool:
    """Whether ``pin`` matches ``stored``; False for any malformed input (never raises)."""
    if hash_problem(stored) is not None:
        return False
    try:
        check_digits(pin)
    except PinError:
        return False
    found = _FORM.fullmatch(stored)
    assert found is not None
    n, r, p = (int(found.group(i)) for i in (1, 2, 3))
    salt, key = base64.b64decode(found.group(4)), base64.b64decode(found.group(5))
    return hmac.compare_digest(_derive(pin, salt, n, r, p, len(key)), key)


def _derive(pin: str, salt: bytes, n: int, r: int, p: int, length: int = _KEY_BYTES) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * n * r * p + (1 << 20), dklen=length)
