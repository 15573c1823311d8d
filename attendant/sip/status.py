"""``<data>/status.json``: what a running server shows operators and tests.

Active calls, totals, the last calls with their outcome and RTP packet counts, and
the queues. Writes are coalesced: a change marks the file due and it is written at
most every STATUS_EVERY_S, atomically (a temporary file renamed over the old).
"""

from __future__ import annotations

import collections
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attendant.sip.endpoint import TimerHandle, Worker

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.server")

#: status.json lags what it shows by at most this many seconds (writes are coalesced).
STATUS_EVERY_S = 0.25
#: How many ended calls status.json lists.
RECENT_CALLS = 50


def call_summary(call: InboundCall, call_id: str, outcome: str) -> dict[str, Any]:
    """One ended call as status.json lists it."""
    stats = call.stats
    return {
        "session": call.session, "call_id": call_id, "caller": call.caller,
        "called": call.called, "attendant": call.state.attendant, "trunk": call.trunk,
        "outcome": outcome,
        "seconds": round(time.monotonic() - call.started_at, 2),
        "recordings": [str(p) for p in call.recordings],
        "ended_by": call.ended_by,
        "rtp": {"caller_rx": stats.caller_rx, "caller_tx": stats.caller_tx,
                "transfer_rx": stats.leg_rx, "transfer_tx": stats.leg_tx},
    }


class StatusFile:
    """status.json, written from ``snapshot(stopped)`` on the worker thread."""

    def __init__(self, path: Path, worker: Worker,
                 snapshot: Callable[[bool], dict[str, Any]]):
        self.path = path
        self._worker = worker
        self._snapshot = snapshot
        self._due: TimerHandle | None = None
        #: The last calls that ended, oldest first.
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT_CALLS)

    def changed(self) -> None:
        """Something the file shows changed: write it within STATUS_EVERY_S.

        Writing it at every call start and end cost a JSON dump, a write and a rename per
        event on the worker thread (100 a second at 50 new calls a second).
        """
        if self._due is None:
            self._due = self._worker.call_later(STATUS_EVERY_S, self._flush)

    def _flush(self) -> None:
        self._due = None
        self.write()

    def write(self, stopped: bool = False) -> None:
        """Write the file now (start, shutdown, and the coalesced changes)."""
        status = {**self._snapshot(stopped), "recent": list(self.recent)}
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(status, indent=1))
            tmp.replace(self.path)
        except OSError as exc:
            log.error("cannot write %s: %s", self.path, exc)
