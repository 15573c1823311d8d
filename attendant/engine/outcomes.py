"""How a call ended, in a few words: the engine's outcome strings sorted into labels.

The engine writes a free-text outcome (``"caller hung up in menu sales"``) on the
call's state; the call log and the metrics both need it as one word from a small
closed set (:data:`OUTCOMES`), so the mapping lives here beside the engine that
writes those strings.
"""

from __future__ import annotations

#: Every value the ``outcome`` label can take.
OUTCOMES = ("answered_transfer", "queued", "voicemail", "caller_hangup", "caller_gone",
            "disconnected", "transfer_failed", "failed", "other")

# Prefixes of the outcome strings attendant.engine.machine writes, in the order tested.
_OUTCOME_PREFIXES = (
    ("transferred to", "answered_transfer"),
    ("queued in", "queued"),
    ("voicemail left", "voicemail"),
    ("voicemail failed", "failed"),
    ("caller hung up", "caller_hangup"),
    ("caller gone", "caller_gone"),
    ("transfer failed", "transfer_failed"),
    ("gave up after", "transfer_failed"),
    ("disconnected", "disconnected"),
    ("goodbye", "disconnected"),
    ("voicemail for", "disconnected"),
    ("no operator", "failed"),
    ("routing loop", "failed"),
    ("unknown", "failed"),
)


def outcome_label(outcome: str) -> str:
    """Map an engine outcome string (``CallState.outcome``) to one of :data:`OUTCOMES`.

    A value that already is a label (``"failed"`` from an adapter, say) is kept.
    """
    text = outcome.strip().lower()
    if text in OUTCOMES:
        return text
    for prefix, label in _OUTCOME_PREFIXES:
        if text.startswith(prefix):
            return label
    return "other"
