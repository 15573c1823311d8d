"""Voicemail for a running server: quotas, message files, finishing, e-mail.

:class:`MessageDesk` is what a call's recorder (:mod:`attendant.sip.recording`)
asks before and after it records: whether the box or the disk is full, a new
message's id and file, and the message's end. Finishing a message (waiting for
the file, its row in ``voicemail.sqlite3``, the e-mail) runs on the server's
pool, never on the pjsip worker; a row that cannot be written yet is retried by
the storage writer, and whatever a crash leaves is recovered at the next start.
"""

from __future__ import annotations

import functools
import logging
import shutil
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from attendant.model import Flow
from attendant.ops.metrics import Metrics
from attendant.ops.notify import VoicemailNotifier
from attendant.sip.options import ServeOptions
from attendant.storage import StorageError
from attendant.storage.voicemail import Message, Recording, Retention, VoicemailStore
from attendant.storage.writer import StorageWriter

log = logging.getLogger("attendant.sip.server")

#: Seconds the shutdown waits for queued voicemail e-mail before leaving it in the outbox.
NOTIFY_FLUSH_S = 5.0
#: Seconds the shutdown waits for voicemail still being finished (then: recovered at start).
FINISH_DRAIN_S = 30.0


class MessageDesk:
    """The voicemail store of one server and the messages being recorded into it."""

    def __init__(self, options: ServeOptions, metrics: Metrics, writer: StorageWriter,
                 pool: ThreadPoolExecutor, call_id_of: Callable[[int], str]):
        self._options = options
        self._metrics = metrics
        self._writer = writer
        self._pool = pool
        self._call_id_of = call_id_of
        self.store = VoicemailStore(options.data_dir)
        self.notifier: VoicemailNotifier | None = None
        #: Messages being recorded, by id (worker thread).
        self._recordings: dict[int, Recording] = {}
        #: Messages being finished on the pool (the shutdown waits for them).
        self._finishing: set[Future[None]] = set()

    def open(self, recipients: Callable[[str], list[str]]) -> None:
        """Start e-mail (with SMTP settings) and recover what a crash left unfinished."""
        smtp = self._options.smtp
        if smtp is None:
            log.info("voicemail e-mail is off (no --smtp-host); messages are kept in %s",
                     self._options.data_dir / "messages")
        else:
            self.notifier = VoicemailNotifier(
                self.store, smtp.host, smtp.port, smtp.sender, recipients,
                use_starttls=smtp.starttls,
                username=smtp.username, password=smtp.password, plain_login=smtp.plain_login)
            log.info("voicemail e-mail via %s:%d%s from %s", smtp.host, smtp.port,
                     " (STARTTLS)" if smtp.starttls else "", smtp.sender)
        for message in self.store.recover():
            log.warning("recovered voicemail %d for %s left by a crash", message.id, message.box)
            if self.notifier is not None:
                self.notifier.notify(message)
        self.store.refresh_usage()
        if self.notifier is not None:
            queued = self.notifier.catch_up()
            if queued:
                log.info("voicemail e-mail: %d message(s) never sent queued again", queued)

    def drain(self) -> None:
        """Shutdown: let queued voicemail finish (and be queued for e-mail) before exit."""
        pending = list(self._finishing)
        if not pending:
            return
        log.info("shutting down: finishing %d voicemail message(s)", len(pending))
        _, late = wait(pending, timeout=FINISH_DRAIN_S)
        if late:
            log.warning("%d voicemail message(s) still being finished after %g s: the next "
                        "start recovers them and sends their e-mail", len(late), FINISH_DRAIN_S)

    def close(self) -> None:
        """Shutdown, after the storage writer: send what e-mail can go, close the store."""
        notifier, self.notifier = self.notifier, None
        if notifier is not None:
            if not notifier.flush(NOTIFY_FLUSH_S):
                log.warning("voicemail e-mail: %d message(s) not sent yet; they stay in the "
                            "outbox for the next start", notifier.pending())
            notifier.stop()
        self.store.close()

    def callback_given_up(self, queue: str, number: str, attempts: int,
                          recipients: list[str]) -> None:
        """E-mail ``recipients`` that a callback was given up (on the pool, sent once)."""
        notifier = self.notifier
        if notifier is None:
            log.warning("queue %s: callback to %s given up; not e-mailed to %s (no "
                        "--smtp-host)", queue, number, ", ".join(recipients))
            return
        mail = notifier.callback_failed_email(queue, number, attempts, recipients)

        def send() -> None:
            try:
                refused = notifier.send_mail(mail, recipients)
            except Exception as exc:  # SMTP, socket, TLS: logged, not retried
                log.error("queue %s: the e-mail about the callback to %s given up could not "
                          "be sent to %s: %s: %s", queue, number, ", ".join(recipients),
                          type(exc).__name__, exc)
                return
            log.info("queue %s: callback to %s given up; e-mailed %s%s", queue, number,
                     ", ".join(r for r in recipients if r not in refused),
                     f" (refused: {', '.join(refused)})" if refused else "")

        self._pool.submit(send)

    def recount(self) -> None:
        """Recount the boxes on the storage writer (messages deleted by the CLI free space)."""
        self._writer.submit("counting the voicemail boxes", self.store.refresh_usage)

    def purge(self, flow: Flow) -> None:
        """Apply the boxes' retention (``retention_days``) on the storage writer."""
        rules = {key: Retention(box.keep_saved_days, box.keep_deleted_days)
                 for key, box in flow.voicemail.items()}

        def purge() -> None:
            try:
                done = self.store.purge(rules)
            except (StorageError, sqlite3.Error) as exc:  # not retried: the next round is
                log.error("voicemail retention not applied: %s", exc)
                return
            for message in done.moved:
                log.info("voicemail %d in %s: saved longer than its box keeps saved "
                         "messages; deleted (undelete it with attendant voicemail "
                         "undelete %d)", message.id, message.box, message.id)
            for message in done.removed:
                log.info("voicemail %d in %s: deleted longer than its box keeps deleted "
                         "messages; its audio is removed", message.id, message.box)
            for message, why in done.failed:
                log.error("voicemail %d in %s: past its retention but not removed: %s",
                          message.id, message.box, why)
            if done.removed:
                self.store.refresh_usage()

        self._writer.submit("applying the voicemail boxes' retention", purge)

    # --- what a call's recorder asks (worker thread) ------------------------------------

    def recording_problem(self) -> str | None:
        """Why no message can be recorded now: the data folder's disk nearly full."""
        data_dir, minimum = self._options.data_dir, self._options.safety.min_free_mb
        if minimum <= 0:
            return None
        try:
            free = shutil.disk_usage(data_dir).free / 1e6
        except OSError as exc:
            return f"cannot check the free space of {data_dir}: {exc.strerror}"
        if free < minimum:
            return (f"disk nearly full: {free:.0f} MB free in {data_dir}, "
                    f"below --min-free-mb {minimum:g}")
        return None

    def box_full(self, flow: Flow, box: str) -> str | None:
        """Why ``box`` takes no more messages (its max_messages or max_mb), or None; from
        the store's counts in memory."""
        found = flow.voicemail.get(box)
        if found is None:
            return None
        count, size = self.store.usage(box)
        why = None
        if count >= found.max_messages:
            why = f"{count} message(s), its max_messages is {found.max_messages}"
        elif found.max_mb is not None and size >= found.max_mb * 1_000_000:
            why = f"{size / 1_000_000:.1f} MB of messages, its max_mb is {found.max_mb:g}"
        if why is not None:
            self._metrics.voicemail_box_full(box)
        return why

    def recording_failed(self) -> None:
        """A message was not recorded, or cut short, because storage failed: count it."""
        self._metrics.voicemail_failures.inc()

    def begin(self, box: str, caller: str, session: int) -> tuple[int, Path]:
        """A new message's id and path at once; its row is written by the storage writer,
        so a locked voicemail.sqlite3 holds up neither this call nor any other."""
        recording = self.store.plan(box, caller, self._call_id_of(session) or str(session))
        self._recordings[recording.id] = recording
        self._writer.submit(f"registering voicemail {recording.id}",
                            functools.partial(self.store.register, recording))
        return recording.id, recording.path

    def finish(self, recording_id: int, reason: str) -> None:
        """The recorder is destroyed: finalise the message on the pool (``finish`` may
        wait for the file to settle)."""
        recording = self._recordings.pop(recording_id, None)
        if recording is None:
            log.error("voicemail %d: finished twice or never begun", recording_id)
            return
        future = self._pool.submit(self._finish_message, recording, reason)
        self._finishing.add(future)
        future.add_done_callback(self._finishing.discard)

    # --- the pool ---------------------------------------------------------------------

    def _finish_message(self, recording: Recording, reason: str) -> None:
        try:
            self._store_message(recording, reason)
        except (StorageError, sqlite3.Error) as exc:
            # The audio is on disk; only its row waits. The writer retries until it lands.
            log.warning("voicemail %d for %s is on disk but not yet in %s (%s); retrying",
                        recording.id, recording.box, self.store.db_path, exc)
            self._writer.submit(f"finishing voicemail {recording.id}",
                                functools.partial(self._store_message, recording, reason))
        except Exception:
            log.exception("cannot finish voicemail %d", recording.id)

    def _store_message(self, recording: Recording, reason: str) -> None:
        """Register (if the writer has not yet), finish, count and e-mail one message."""
        self.store.register(recording)
        message = self.store.finish(recording.id, reason)
        log.info("voicemail %d for %s saved: %.1f s (%s)%s", recording.id, message.box,
                 message.duration, reason, f" [{message.flag}]" if message.flag else "")
        self._metrics.voicemail_recorded(message.box)
        self._notify(message)

    def _notify(self, message: Message) -> None:
        notifier = self.notifier
        if notifier is None:
            return
        try:
            notifier.notify(message)
        except Exception:
            log.exception("cannot queue the e-mail for voicemail %d", message.id)
