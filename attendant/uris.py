"""SIP and tel URIs: the one parser of the parts the attendant reads.

The engine matches a caller to a directory user by the user part of the user's
``sip:`` address; the SIP adapter reads the caller and the number dialled from
From, P-Asserted-Identity and the Request-URI. Both use these two functions, so a
URI means the same thing to both. Pure text handling, unit-tested on its own.
"""

from __future__ import annotations

import re

_SCHEME_USER = re.compile(r"(?:sips?|tel):([^@;?>\s]*)", re.IGNORECASE)


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


def address_user(value: str) -> str:
    """The user of an address as written in a header or a directory entry, display name
    and all: ``"A: B" <sip:anna@pbx>`` -> ``anna``."""
    return uri_user(addr_spec(value))


def uri_host(uri: str) -> str:
    """The host (and port) a SIP URI as an admin writes it points at: ``sip:h:5060;lr``,
    ``<sip:user@h>`` -> ``h:5060``, ``h`` (a registrar, a proxy)."""
    host = uri.strip().strip("<>")
    if host.startswith(("sip:", "sips:")):
        host = host.split(":", 1)[1]
    return host.split("@", 1)[-1].split(";")[0].split(">")[0].lstrip("/")


def host_of(address: str) -> str:
    """The host of ``host:port`` (``127.0.0.1:5060``, ``[::1]:5060``, a bare host)."""
    address = address.strip()
    if address.startswith("["):
        return address[1:address.find("]")] if "]" in address else address[1:]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def dialled_number(destination: str) -> str | None:
    """The number or extension of a destination without a host (``1001``, ``tel:+33...``,
    ``sip:1001``); None for a URI with a host, which is rung as written."""
    if destination.startswith(("sip:", "sips:")) and "@" in destination:
        return None
    return destination.split(":", 1)[1] if ":" in destination else destination


def ring_uri(destination: str, outbound_proxy: str | None) -> str:
    """The SIP URI to ring for a transfer destination or queue agent.

    A URI with a host is rung as written; an extension or number (``1001``,
    ``tel:+331...``) is rung at the outbound proxy's host. Raises ValueError when a
    bare number has no proxy to go through.
    """
    user = dialled_number(destination)
    if user is None:
        return destination
    if not outbound_proxy:
        raise ValueError(f"cannot ring {destination!r} without --outbound-proxy "
                         "(it has no host)")
    return f"sip:{user}@{uri_host(outbound_proxy)}"


def uri_transport(uri: str) -> str | None:
    """The transport a URI asks for: ``tls`` for ``sips:`` or ``;transport=tls``, ``tcp``
    for ``;transport=tcp``; None when it does not say (UDP, or the default)."""
    text = uri.strip().strip("<>").lower()
    if text.startswith("sips:"):
        return "tls"
    for param in text.split(">")[0].split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip() == "transport" and value.strip() in ("tcp", "tls"):
            return value.strip()
    return None
