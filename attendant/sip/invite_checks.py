"""An INVITE's text checked before a call is made of it (RFC 3261, RFC 4475's torture tests).

pjsip's parser is lenient: it set up calls from INVITEs that RFC 3261 says must be
refused. A parser that accepts what another rejects is a disagreement an attacker can
use (a proxy and the attendant reading two different requests), so the server answers
these before anything else, from the raw text of the request (pure, unit-tested):

* 400: spaces before the method; the CSeq method differs from the request line's;
  a header that may appear once appears several times (From, To, Call-ID, CSeq,
  Max-Forwards, Content-Length, Content-Type, compact forms included); a Content-Length
  longer than the body that arrived (RFC 3261 18.3: on UDP that is an error);
* 420 with ``Unsupported``: ``Require`` names an extension we do not support;
* 406: an ``Accept`` without ``application/sdp`` on an INVITE whose offer we would
  answer with SDP;
* 415: a multipart body with another multipart body inside it, at any depth.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from attendant.sip.identity import split_message

#: Option tags this server supports in Require: the ``Supported`` header pjsua sends.
SUPPORTED = frozenset({"replaces", "100rel", "timer", "norefersub"})
#: Headers that may appear once, by every name they go by (compact forms, RFC 3261 7.3.3).
_SINGLE = {"from": "From", "f": "From", "to": "To", "t": "To", "call-id": "Call-ID",
           "i": "Call-ID", "cseq": "CSeq", "max-forwards": "Max-Forwards",
           "content-length": "Content-Length", "l": "Content-Length",
           "content-type": "Content-Type", "c": "Content-Type"}
_SDP_TYPES = ("application/sdp", "application/*", "*/*")
_NESTED_MULTIPART = re.compile(r"^(?:content-type|c)[ \t]*:[ \t]*multipart/",
                               re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The answer to give instead of a call, and why (for the log)."""

    status: int
    why: str
    headers: tuple[tuple[str, str], ...] = ()


def invite_problem(message: str) -> Refusal | None:
    """Why the INVITE ``message`` (its whole text) must be refused, or None."""
    text = message.lstrip("\r\n")  # leading empty lines are allowed (RFC 3261 7.5)
    if text[:1] in (" ", "\t"):
        return Refusal(400, "whitespace before the request line")
    first, headers, body = split_message(text)
    method = first.split(" ", 1)[0]
    counts = Counter(_SINGLE[name] for name, values in headers.items() if name in _SINGLE
                     for _ in values)
    for name, count in counts.items():
        if count > 1:
            return Refusal(400, f"{count} {name} headers (one allowed)")
    cseq = _first(headers, "cseq").split()
    if len(cseq) != 2 or cseq[1] != method:
        return Refusal(400, f"CSeq {' '.join(cseq) or '(none)'} does not match the request "
                            f"line's {method}")
    declared = _first(headers, "content-length", "l")
    if declared:
        if not declared.isdigit():
            return Refusal(400, f"Content-Length {declared!r} is not a number")
        received = len(body.replace("\n", "\r\n").encode("utf-8", "surrogateescape"))
        if int(declared) > received:
            return Refusal(400, f"Content-Length {declared} but {received} bytes of body "
                                "arrived")
    required = {tag.strip() for value in headers.get("require", [])
                for tag in value.split(",") if tag.strip()}
    unsupported = sorted(required - SUPPORTED)
    if unsupported:
        return Refusal(420, f"Require: {', '.join(unsupported)} is not supported",
                       (("Unsupported", ", ".join(unsupported)),))
    if _first(headers, "content-type", "c").lower().startswith("multipart/") \
            and _NESTED_MULTIPART.search(body):
        # pjsip found no SDP at 2-53 levels (415) but answered 200 past 100: one rule.
        return Refusal(415, "a multipart body nested inside another",
                       (("Accept", "application/sdp, multipart/mixed"),))
    accept = headers.get("accept")
    content_type = _first(headers, "content-type", "c").split(";")[0].strip().lower()
    if accept is not None and content_type == "application/sdp":
        types = {t.split(";")[0].strip().lower() for v in accept for t in v.split(",")}
        if not types & set(_SDP_TYPES):
            return Refusal(406, "Accept does not include application/sdp, the only answer "
                                "we can give", (("Accept", "application/sdp"),))
    return None


def _first(headers: dict[str, list[str]], *names: str) -> str:
    for name in names:
        values = headers.get(name)
        if values:
            return values[0]
    return ""
