"""The storage writer: one thread that does the storage work the SIP worker must not wait for.

``attendant serve`` runs every call on one pjsip worker thread. SQLite can make a writer
wait for seconds (``busy_timeout``) while another process holds the database — a backup,
an admin's query — and during that wait no call on the server could be answered. So
the worker only appends: call-log lines (a buffered file write) and deferred row writes
(:class:`attendant.storage.calllog.CallLog` with ``defer_rows``), and hands any other
storage job here with :meth:`StorageWriter.submit`. This thread:

* commits the deferred call-log rows every ``every`` seconds and fsyncs ``calls.jsonl``;
* runs submitted jobs one at a time, in order;
* retries what fails with back-off (``backoff``, the last value repeating): a failed
  job stays at the head of its queue and the rows stay in the call log's memory, then
  its spool file (:meth:`CallLog.flush_rows`), so nothing is dropped;
* logs the first failure of a run of failures and the recovery, not every retry.

:meth:`stop` drains both before returning (bounded by a timeout); a job still failing
then is logged with what it was, and the call log's :meth:`close` spools its rows.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from attendant.storage.calllog import CallLog

log = logging.getLogger("attendant.storage.writer")

#: Seconds between commits of the deferred call-log rows.
EVERY_S = 0.5
#: Seconds to wait before each retry of a failing commit or job (the last repeats).
BACKOFF_S = (1.0, 2.0, 5.0, 10.0)


@dataclass(slots=True)
class _Job:
    what: str
    run: Callable[[], object]


class _Retry:
    """The back-off and the logging of one kind of work that may fail."""

    def __init__(self, what: str, backoff: Sequence[float]) -> None:
        self.what, self.backoff = what, tuple(backoff)
        self.failures = 0
        self.failing_since = 0.0
        self.next_try = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_try

    def failed(self, now: float, exc: BaseException) -> None:
        if not self.failures:
            self.failing_since = now
            log.error("%s failed: %s; retrying with back-off until it succeeds", self.what,
                      exc)
        self.next_try = now + self.backoff[min(self.failures, len(self.backoff) - 1)]
        self.failures += 1

    def succeeded(self, now: float) -> None:
        if self.failures:
            log.warning("%s succeeded after %d failed tries (%.0f s)", self.what,
                        self.failures, now - self.failing_since)
        self.failures, self.next_try = 0, 0.0


class StorageWriter:
    """A daemon thread committing ``call_log``'s rows and running storage jobs in order.

    Args:
        call_log: the call log whose deferred rows to commit (``defer_rows=True``).
        every: seconds between row commits (a :meth:`wake` commits sooner).
        backoff: seconds before each retry of a failure.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, call_log: CallLog, *, every: float = EVERY_S,
                 backoff: Sequence[float] = BACKOFF_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not backoff:
            raise ValueError("backoff needs at least one delay")
        self.call_log = call_log
        self.every = every
        self._clock = clock
        self._jobs: collections.deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._abandoned = False
        self._rows = _Retry(f"committing the call log rows to {call_log.db_path}", backoff)
        self._job_retry = _Retry("a storage job", backoff)
        self._thread = threading.Thread(target=self._loop, name="attendant-storage",
                                        daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def submit(self, what: str, job: Callable[[], object]) -> None:
        """Run ``job`` on the writer thread after the jobs before it; retried until it
        returns. ``what`` names it in the log ("registering voicemail 7")."""
        with self._cond:
            self._jobs.append(_Job(what, job))
            self._cond.notify()

    def wake(self) -> None:
        """Commit soon (a call ended, say) rather than at the next period."""
        with self._cond:
            self._cond.notify()

    @property
    def backlog(self) -> int:
        """Jobs not done yet plus row writes not committed yet."""
        return len(self._jobs) + self.call_log.pending_rows

    def stop(self, timeout: float) -> bool:
        """Finish what is queued (trying for at most ``timeout`` seconds) and stop.

        Returns whether everything was done. Jobs left are logged by name.
        """
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        with self._cond:
            self._abandoned = True  # the caller closes the stores next: stop trying
            left = list(self._jobs)
            self._jobs.clear()
            done = not left and not self.call_log.pending_rows
        for job in left:
            log.error("storage writer stopped before %s could be done", job.what)
        return done

    # --- the thread -------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._stopping:
                    self._cond.wait(self._wait_time())
                stopping, abandoned = self._stopping, self._abandoned
            if abandoned:
                return
            self._run_jobs()
            self._commit_rows()
            if stopping:
                if self.backlog == 0:
                    return
                time.sleep(0.05)  # still failing: retry until stop() gives up on us

    def _wait_time(self) -> float:
        now = self._clock()
        waits = [self.every]
        if self._jobs:
            waits.append(self._job_retry.next_try - now)
        return max(0.01, min(waits))

    def _run_jobs(self) -> None:
        while True:
            now = self._clock()
            with self._cond:
                if not self._jobs or not (self._job_retry.due(now) or self._stopping):
                    return
                job = self._jobs[0]
            self._job_retry.what = job.what
            try:
                job.run()
            except Exception as exc:  # any failure is retried, none lost
                self._job_retry.failed(self._clock(), exc)
                return
            self._job_retry.succeeded(self._clock())
            with self._cond:
                self._jobs.popleft()

    def _commit_rows(self) -> None:
        now = self._clock()
        if not self._rows.due(now) and not self._stopping:
            return
        try:
            self.call_log.flush_rows()
            self.call_log.sync()
        except Exception as exc:  # the rows are kept; retried
            self._rows.failed(self._clock(), exc)
            return
        self._rows.succeeded(self._clock())
