"""What the SIP final status of a call we placed means: the reason a transfer or a ring
failed, in the words the engine and the queue core use.

Pure (no pjsua2), so the queue runner and the unit tests use it without an endpoint.
"""

from __future__ import annotations

from attendant.queues.events import RingOutcome

_RING_OUTCOMES: dict[str, RingOutcome] = {"busy": "busy", "rejected": "rejected",
                                          "no_answer": "no_answer"}


def transfer_failure(code: int) -> str:
    """The engine's reason word for a SIP final status of an outgoing leg."""
    if code in (486, 600):
        return "busy"
    if code == 603:
        return "rejected"
    if code in (408, 480, 487):
        return "no_answer"
    return "unreachable"


def ring_outcome(code: int) -> RingOutcome:
    """How an agent's leg that ended with SIP status ``code`` missed, mapped as for
    transfers: 486/600 busy, 603 rejected, 408/480/487 no answer, else unreachable."""
    return _RING_OUTCOMES.get(transfer_failure(code), "unreachable")
