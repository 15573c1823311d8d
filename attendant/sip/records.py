"""What a running server writes down about its calls: the call log and the metrics.

:class:`CallRecords` gives every call its call id (the run's start time and the
call's session number), writes each engine step to the call log
(:class:`attendant.storage.calllog.CallLog`) through the storage writer, and keeps
the Prometheus counters (:class:`attendant.ops.metrics.Metrics`). A failing disk
is logged and never takes a call down; rows the writer could not commit are
spooled and replayed at the next start.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attendant.engine.actions import Action
from attendant.engine.events import CallStarted, Event, TransferResult
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase
from attendant.ops.metrics import Metrics
from attendant.queues.actions import QueueLog
from attendant.sip.options import ServeOptions
from attendant.sip.pjsip_counters import UnreadableCounters
from attendant.storage import StorageError
from attendant.storage.calllog import CallLog
from attendant.storage.writer import StorageWriter

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.server")

#: Seconds the shutdown lets the storage writer commit what is left (then: spooled).
WRITER_STOP_S = 15.0
#: Outcome recorded for a call that ended before the engine saw it start.
NOT_STARTED = "caller hung up before the call was set up"


class CallRecords:
    """The call log, its writer thread, the metrics and the call ids of one server."""

    def __init__(self, options: ServeOptions):
        self._options = options
        safety = options.safety
        # The worker only appends lines and row writes; the writer commits and fsyncs.
        self.call_log = CallLog(options.data_dir, defer_rows=True, fsync_interval=None,
                                rotate_bytes=int(safety.log_rotate_mb * 1_000_000),
                                rotate_days=safety.log_rotate_days, keep_rotated=safety.log_keep)
        self.writer = StorageWriter(self.call_log)
        self.metrics = Metrics()
        self.metrics.count_unreadable(UnreadableCounters().read)
        self.metrics_port: int | None = None
        self._run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._call_ids: dict[int, str] = {}

    def open(self) -> None:
        """Main thread, before the worker: recover a crash's calls, start the writer and
        the metrics exporter."""
        closed = self.call_log.recover()
        if closed:
            log.warning("call log: %d call(s) left open by a crash marked interrupted", closed)
        self.writer.start()
        options = self._options
        if options.metrics_port is not None:
            self.metrics_port = self.metrics.serve_http(options.metrics_listen,
                                                        options.metrics_port)
            log.info("metrics on http://%s:%d/metrics", options.metrics_listen,
                     self.metrics_port)

    def stop_writer(self) -> None:
        """Shutdown: let the writer commit what is queued (the voicemail store's too)."""
        if not self.writer.stop(WRITER_STOP_S):
            log.error("storage writer: not done after %g s; %d call log row write(s) go to "
                      "%s and unfinished voicemail is recovered at the next start",
                      WRITER_STOP_S, self.call_log.pending_rows, self.call_log.spool_path)

    def close(self) -> None:
        """Shutdown, after the writer: close the call log and the metrics exporter."""
        try:
            self.call_log.close()
        except StorageError as exc:
            log.error("call log: %s; the rows are in %s for the next start", exc,
                      self.call_log.spool_path)
        self.metrics.stop_http()

    @staticmethod
    def write(method: Any, *args: Any) -> None:
        """Write to the call log; a full disk must not take the calls down with it."""
        try:
            method(*args)
        except Exception:
            log.exception("cannot write the call log")

    def call_id_of(self, session: int) -> str:
        """The call id of call ``session`` ("" when unknown)."""
        return self._call_ids.get(session, "")

    def started(self, call: InboundCall, attendant: str) -> str:
        """A call was accepted: its call id, counted and logged."""
        call_id = f"{self._run_id}-{call.session}"
        self._call_ids[call.session] = call_id
        self.metrics.call_started()
        self.write(self.call_log.call_started, call_id, call.caller, call.called, attendant,
                   None, call.trunk)
        return call_id

    def stepped(self, call: InboundCall, event: Event, state: CallState,
                actions: tuple[Action, ...]) -> None:
        """After every engine step: the call log, and the metrics the step tells about."""
        call_id = self._call_ids.get(call.session)
        if call_id is not None:
            self.write(self.call_log.record_step, call_id, event, state, actions)
        if isinstance(event, CallStarted):
            self.metrics.observe_call_setup(time.monotonic() - call.started_at)
        elif isinstance(event, TransferResult):
            self.metrics.transfer_result(True if event.answered else event.reason or "failed")

    def dtmf_applied(self, received_at: float) -> None:
        """A key was handled: count it, with the time from its callback to its actions."""
        self.metrics.dtmf_received(time.monotonic() - received_at)

    def ended(self, call: InboundCall) -> tuple[str, str]:
        """A call ended: its outcome counted and logged; returns its call id and outcome."""
        call_id = self._call_ids.pop(call.session, "")
        outcome, kind = call.state.outcome, call.state.ending
        if not outcome and call.state.phase is Phase.NEW:
            outcome = NOT_STARTED
        if call.ended_by:
            # The engine saw a hang-up; the truth is that a safety limit ended the call.
            outcome, kind = f"caller gone: {call.ended_by}", Outcome.CALLER_GONE
        self.metrics.call_ended(kind)
        if call_id:
            self.write(self.call_log.call_ended, call_id, outcome, kind)
            self.writer.wake()  # its row now, not at the next period
        return call_id, outcome

    def queue_log(self, line: QueueLog) -> None:
        """A queue core log line, into the call log."""
        self.write(self.call_log.queue_event, line.queue, line.call_id, line.agent,
                   line.message)
