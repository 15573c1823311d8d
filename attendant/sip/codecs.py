"""The audio codecs calls may use, in the order the server prefers them.

pjsua enables every codec its build has, speex first: a softphone offering speex would
get it, and cost far more CPU per call than G.711. The server settings' ``codecs`` (or
``--codecs``) name the codecs allowed, best first; every other codec is switched off.
The default keeps G.711 first (what the telephone network carries, and the cheapest),
then G.722 and Opus for callers that offer nothing else. RFC 4733 events
(telephone-event) are not a codec here: pjsua offers them at each codec's clock rate.
"""

from __future__ import annotations

from typing import Any

#: Our name of each codec → the pjsua codec id prefix it selects.
CODECS = {
    "pcmu": "PCMU/8000",
    "pcma": "PCMA/8000",
    "g722": "G722/16000",
    "opus": "opus/48000",
    "speex": "speex/",
    "gsm": "GSM/8000",
    "ilbc": "iLBC/8000",
}
DEFAULT_CODECS = ("pcmu", "pcma", "g722", "opus")
#: pjsua's highest priority; each later codec gets one less.
_TOP_PRIORITY = 254


def parse_codecs(text: str) -> tuple[str, ...]:
    """``--codecs`` (``pcmu,g722``): the names in order; ValueError saying what is wrong."""
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if not names:
        raise ValueError("name at least one codec, e.g. pcmu,pcma")
    unknown = [n for n in names if n not in CODECS]
    if unknown:
        raise ValueError(f"unknown codec {unknown[0]!r}; choose from {', '.join(CODECS)}")
    if len(set(names)) != len(names):
        raise ValueError("a codec is named twice; name each once, best first")
    return names


def codec_names(ids: list[str]) -> tuple[str, ...]:
    """Our names of the codecs a build has, from pjsua codec ids (``G722/16000/1``)."""
    return tuple(name for name, prefix in CODECS.items()
                 if any(i.lower().startswith(prefix.lower()) for i in ids))


def missing_codecs(wanted: tuple[str, ...], available: tuple[str, ...]) -> list[str]:
    """The codecs asked for that the build lacks."""
    return [name for name in wanted if name not in available]


def apply_codecs(ep: Any, order: tuple[str, ...]) -> None:
    """Switch every codec of endpoint ``ep`` off, then on in ``order`` (best first).
    Raises RuntimeError naming a codec the build does not have."""
    ids = [str(info.codecId) for info in ep.codecEnum2()]
    lacking = missing_codecs(order, codec_names(ids))
    if lacking:
        raise RuntimeError(f"this pjsua2 build has no {', '.join(lacking)} codec "
                           f"(it has {', '.join(codec_names(ids))}); remove it from codecs "
                           "or rebuild: bash scripts/build-pjsua2.sh --force")
    for codec_id in ids:
        ep.codecSetPriority(codec_id, 0)
    for rank, name in enumerate(order):
        ep.codecSetPriority(CODECS[name], _TOP_PRIORITY - rank)
