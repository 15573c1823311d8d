"""Durations as people write them: ``300s``, ``5m``, ``1h``, ``1m30s``, ``90 seconds``.

Every setting that is a number of seconds (:data:`DURATION_KEYS`) may be written as a
plain number or as a duration with units. :func:`to_seconds` turns the written forms
into numbers before the JSON Schema check, so the schema, the model and the engine
only ever see seconds; a string that is no duration is left alone for the schema to
report, with :data:`HINT`.
"""

from __future__ import annotations

import re
from typing import Any

#: Menu-language keys whose value is a number of seconds.
DURATION_KEYS = frozenset({
    "after_seconds", "alert_seconds", "announce_interval", "inter_digit_timeout",
    "max_prompt_seconds", "max_seconds", "max_wait", "ring_seconds", "service_level_seconds",
    "silence", "timeout", "wrap_up_seconds", "callback_retry_seconds",
})
HINT = "write seconds as a number (300) or a duration with units: 300s, 5m, 1h or 1m30s"

_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)",
                   re.IGNORECASE)


def parse_duration(text: str) -> float | int | None:
    """Seconds in ``text`` (``5m`` → 300, ``1.5s`` → 1.5), or None when it is no duration."""
    total, at, parts = 0.0, 0, 0
    stripped = text.strip()
    while at < len(stripped):
        match = _PART.match(stripped, at)
        if match is None:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)[0].lower()]
        at, parts = match.end(), parts + 1
    if parts == 0:
        return None
    return int(total) if total.is_integer() else total


def to_seconds(data: Any, _seen: set[int] | None = None) -> None:
    """Replace, in place, every duration string under a key of :data:`DURATION_KEYS`."""
    seen = set() if _seen is None else _seen
    if not isinstance(data, dict | list) or id(data) in seen:
        return  # a container shared through a YAML alias is walked once
    seen.add(id(data))
    if isinstance(data, list):
        for item in data:
            to_seconds(item, seen)
        return
    for key, value in data.items():
        if key in DURATION_KEYS and isinstance(value, str):
            seconds = parse_duration(value)
            if seconds is not None:
                data[key] = seconds
        else:
            to_seconds(value, seen)
