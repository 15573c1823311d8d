"""Who is calling and whom they called, read from SIP headers in one place.

Everything here is pure text handling (no pjsua2), so it is unit-tested on its own.

A caller controls every byte of the From header, display name included, so the
identity is only ever the *URI*: ``"sip:101@x" <sip:evil@203.0.113.9>`` is the user
``evil``, never extension ``101`` (the display name used to be searched first).
P-Asserted-Identity (RFC 3325) is believed only from a trusted source (a carrier or
PBX listed with ``--trusted-source``); from anyone else it is ignored, since anyone
can write it.
"""

from __future__ import annotations

import re

_SCHEME_USER = re.compile(r"(?:sips?|tel):([^@;?>\s]*)", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^([A-Za-z0-9!%*_+`'~.-]+)[ \t]*:[ \t]*(.*)$")
_REQUEST_LINE = re.compile(r"^INVITE\s+(\S+)\s+SIP/2\.0", re.IGNORECASE)


def addr_spec(value: str) -> str:
    """The URI of a From/To/P-Asserted-Identity value, without display name or params.

    ``"Anna" <sip:anna@host>;tag=x`` -> ``sip:anna@host``; ``sip:anna@host;tag=x`` ->
    ``sip:anna@host``. A ``<`` inside a quoted display name is not the URI's. Returns ""
    for a value with an opened but unclosed ``<``.
    """
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            end = value.find(">", index + 1)
            return value[index + 1:end].strip() if end >= 0 else ""
    if quoted:
        return ""  # an unterminated display name: no URI we could trust
    return value.strip().split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """The user of a ``sip:``/``sips:`` URI, or the number of a ``tel:`` URI; "" if none.

    Only the URI's own user counts: ``sip:host`` (no user) gives "".
    """
    uri = uri.strip()
    found = _SCHEME_USER.match(uri)
    if found is None:
        return ""
    user = found.group(1)
    if uri[:4].lower() == "tel:":
        return user
    if "@" not in uri[found.start(1):]:
        return ""
    return user.split(":", 1)[0]  # sip:user:password@host: never the password


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


def caller_user(remote_uri: str, message: str, *, trusted: bool) -> str:
    """The caller's user: P-Asserted-Identity when ``trusted`` sends one, else From's URI.

    ``remote_uri`` is the From value pjsua reports (display name and all).
    """
    if trusted:
        for value in header_values(message, "P-Asserted-Identity"):
            user = uri_user(addr_spec(value.split(",", 1)[0]))
            if user:
                return user
    return uri_user(addr_spec(remote_uri))
