"""Who is calling and whom they called, read from SIP headers in one place.

Everything here is pure text handling (no pjsua2), so it is unit-tested on its own;
URIs are read by :mod:`attendant.uris`, the parser the engine uses too.

A caller controls every byte of the From header, display name included, so the
identity is only ever the *URI*: ``"sip:101@x" <sip:evil@203.0.113.9>`` is the user
``evil``, never extension ``101`` (the display name used to be searched first).
P-Asserted-Identity (RFC 3325) is believed only from a trusted source (a carrier or
PBX listed with ``--trusted-source``); from anyone else it is ignored, since anyone
can write it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from attendant.uris import address_user, uri_user

_HEADER_LINE = re.compile(r"^([A-Za-z0-9!%*_+`'~.-]+)[ \t]*:[ \t]*(.*)$")
_REQUEST_LINE = re.compile(r"^INVITE\s+(\S+)\s+SIP/2\.0", re.IGNORECASE)
#: A caller's user that may be written into a header of ours as it is.
_SAFE_USER = re.compile(r"^[A-Za-z0-9+*#._-]{1,64}\Z")
#: The Contact parameter a trunk's registration carries, naming it to us.
TRUNK_PARAM = "attendant-trunk"


def split_message(message: str) -> tuple[str, dict[str, list[str]], str]:
    """A SIP message's text as its first line, its header values by lower-cased name
    (folded continuation lines joined, comma-separated values not split) and its body
    (line ends as ``\\n``)."""
    head, _, body = message.replace("\r\n", "\n").partition("\n\n")
    first, *lines = head.split("\n")
    headers: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in lines:
        if line[:1] in (" ", "\t"):
            if last is not None:
                last[-1] += " " + line.strip()
            continue
        found = _HEADER_LINE.match(line)
        if found is None:
            last = None
            continue
        last = headers.setdefault(found.group(1).lower(), [])
        last.append(found.group(2).strip())
    return first, headers, body


def header_values(message: str, name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive) in a SIP message's text."""
    return split_message(message)[1].get(name.lower(), [])


def request_user(message: str) -> str:
    """The user of an INVITE's Request-URI (the number the caller dialled)."""
    found = _REQUEST_LINE.match(message.lstrip())
    return uri_user(found.group(1)) if found else ""


def request_uri_param(message: str, name: str) -> str:
    """The value of URI parameter ``name`` in an INVITE's Request-URI ("" when absent)."""
    found = _REQUEST_LINE.match(message.lstrip())
    if not found:
        return ""
    uri = found.group(1).split("?", 1)[0]
    for param in uri.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def arrived_on(message: str, tokens: Mapping[str, str], numbers: Mapping[str, str]) -> str:
    """The trunk an INVITE came in on: the one whose token is in the Request-URI (the
    contact it registered), else the one the number dialled belongs to; "" for none.

    The token is a random value of each start, so a stranger sending straight to us
    cannot name a trunk by guessing; a number only says which trunk carries it.
    """
    token = request_uri_param(message, TRUNK_PARAM)
    if token in tokens:
        return tokens[token]
    return numbers.get(request_user(message), "")


def wants_privacy(message: str) -> bool:
    """Whether an INVITE asks for its caller's identity to be withheld (RFC 3323/3325
    ``Privacy: id``, ``user`` or ``header``)."""
    values = {part.strip().lower() for value in header_values(message, "Privacy")
              for part in value.split(";")}
    return bool(values & {"id", "user", "header"})


def leg_identity(caller: str, private: bool, main_number: str, domain: str,
                 present_main: bool) -> tuple[tuple[str, str], ...]:
    """The identity headers of a leg out through a trunk, for a caller forwarded to it.

    P-Asserted-Identity names the original caller (the main number when there is none,
    or ``present_main``); Diversion names the main number the call was made to; a caller
    who asked for privacy keeps it (``Privacy: id``: the carrier withholds the identity
    from the far end).
    """
    if not _SAFE_USER.match(caller):
        caller = ""  # the caller wrote this From: nothing of it goes into our headers
    who = main_number if present_main or not caller else caller
    headers = [("P-Asserted-Identity", f"<sip:{who}@{domain}>")]
    if caller and who != main_number:
        headers.append(("Diversion", f"<sip:{main_number}@{domain}>;reason=unconditional"))
    if private and caller:
        headers.append(("Privacy", "id"))
    return tuple(headers)


def caller_user(remote_uri: str, message: str, *, trusted: bool) -> str:
    """The caller's user: P-Asserted-Identity when ``trusted`` sends one, else From's URI.

    ``remote_uri`` is the From value pjsua reports (display name and all).
    """
    if trusted:
        for value in header_values(message, "P-Asserted-Identity"):
            user = address_user(value.split(",", 1)[0])
            if user:
                return user
    return address_user(remote_uri)
