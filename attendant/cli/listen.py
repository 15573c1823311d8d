"""``serve --listen``: the address as people write it, and what a failed start means.

``--listen`` takes ``ADDRESS``, ``ADDRESS:PORT`` or ``[IPv6]:PORT``; the port part is
the same as ``--port``. pjsip's own words when it cannot open a transport (``PJ_ERESOLVE``,
``Cannot assign requested address``) are kept and followed by what to change.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import click

_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>[^:]*))?\Z")


def split_listen(text: str) -> tuple[str, int | None]:
    """``127.0.0.1:5099`` → (``127.0.0.1``, 5099); BadParameter saying what is wrong."""
    value = text.strip()
    match = _HOST_PORT.match(value)
    if match is None:
        if value.count(":") >= 2:
            raise click.BadParameter(f"{text!r}: IPv6 is not served yet; listen on an IPv4 "
                                     "address (0.0.0.0 for all of them)")
        raise click.BadParameter(f"{text!r} is not an address; write 127.0.0.1, "
                                 "0.0.0.0 (every address of this host) or ADDRESS:PORT")
    if match["v6"] is not None:
        raise click.BadParameter(f"{text!r}: IPv6 is not served yet; listen on an IPv4 "
                                 "address (0.0.0.0 for all of them)")
    host, port_text = match["host"], match["port"]
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise click.BadParameter(f"{text!r}: the port {port_text!r} is not a number from "
                                     "1 to 65535")
        port = int(port_text)
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        try:
            socket.gethostbyname(host)
        except OSError:
            raise click.BadParameter(f"{text!r}: {host!r} is neither an IPv4 address nor a "
                                     "name this host can resolve; write an address such as "
                                     "192.0.2.10, or 0.0.0.0 for all of them") from None
    return host, port


def failure_hint(message: str, listen: str) -> str:
    """What to change when the server could not start with ``message`` (may be '')."""
    text = message.lower()
    if "cannot assign requested address" in text:
        return (f"{listen} is not an address of this host: use one that `ip address` "
                "lists, or 0.0.0.0 for all of them")
    if "address already in use" in text:
        return ("another program already listens on that port (another attendant serve? "
                "`ss -lunpt` shows which); stop it or choose --port / --tls-port")
    if "permission denied" in text:
        return "ports below 1024 need root or CAP_NET_BIND_SERVICE; use 5060 or above"
    if "eresolve" in text:
        return f"{listen} cannot be resolved; write an IPv4 address"
    return ""
