"""E-mail notification of new voicemail, through a persistent outbox.

:meth:`VoicemailNotifier.notify` only inserts a row in the ``outbox`` table of
the voicemail database (``voicemail.sqlite3``) and wakes a background worker
thread; the worker sends one e-mail per message over SMTP (stdlib ``smtplib``
and ``email``), with the WAV attached as ``audio/wav``. Because the outbox is in
SQLite, mail queued before a crash or restart is sent by the next process.

Retry policy (:class:`RetryPolicy`): a failed attempt (connection refused,
timeout, any SMTP error) is retried after ``base_delay * 2**(attempts-1)``
seconds, capped at ``max_delay``, until ``max_attempts`` attempts have failed.
The entry then becomes ``failed``: it is logged and kept with its last error,
never deleted, and :meth:`VoicemailNotifier.retry_failed` puts it back in the
queue (after the SMTP settings are fixed, say). Delivery is at least once: a
process killed mid-send resends that message after restart.

Startup, as ``attendant serve`` does it::

    store = VoicemailStore(data)
    notifier = VoicemailNotifier(store, "smtp.example.com", 587, "pbx@example.com",
                                 recipients_for=lambda box: flow.voicemail[box].email,
                                 use_starttls=True, username=..., password=...)
    for message in store.recover():
        notifier.notify(message)
    notifier.catch_up()        # messages finished but never queued (crash in between)
    ...
    notifier.flush(5.0); notifier.stop()   # on shutdown
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from attendant.errors import AttendantError
from attendant.storage.voicemail import Message, MessageNotFound, VoicemailStore

log = logging.getLogger(__name__)

_OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    last_error      TEXT,
    recipients      TEXT,
    created_at      REAL    NOT NULL,
    sent_at         REAL
)
"""
_MAX_IDLE_WAIT = 60.0


class NotificationError(AttendantError):
    """The notifier was configured or called wrongly; the message says what to change."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a failed e-mail is retried (see the module docstring)."""

    max_attempts: int = 8
    base_delay: float = 30.0
    max_delay: float = 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay:
            raise NotificationError(
                f"bad retry policy {self}: need max_attempts >= 1 and "
                "0 <= base_delay <= max_delay")

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One notification, as kept in the ``outbox`` table. Times are Unix seconds."""

    id: int
    message_id: int
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    recipients: tuple[str, ...]
    created_at: float
    sent_at: float | None


def _clean(text: str) -> str:
    """Caller ids come from SIP headers: strip anything that could break a mail header."""
    return "".join(c if c.isprintable() else " " for c in text).strip()[:200]


class VoicemailNotifier:
    """Sends each voicemail message to its box's owners; see the module docstring.

    Args:
        store: the voicemail store whose database holds the outbox.
        smtp_host, smtp_port: the SMTP server (port 25, 587 with ``use_starttls``...).
        sender: the ``From`` address.
        recipients_for: box key → e-mail addresses; called at send time, so a
            configuration reload takes effect for queued mail.
        use_starttls: upgrade the connection with STARTTLS (certificate verified).
        plain_login: allow SMTP AUTH on a connection without STARTTLS (refused otherwise).
        username, password: SMTP AUTH credentials, when the server needs them.
        retry: the retry policy.
        timeout: seconds allowed for each SMTP connection and command.
        local_hostname: the name sent in EHLO (default: the host's FQDN).
        start: start the worker thread now (tests may start it later with :meth:`start`).
    """

    def __init__(self, store: VoicemailStore, smtp_host: str, smtp_port: int, sender: str,
                 recipients_for: Callable[[str], list[str]], use_starttls: bool = False,
                 username: str | None = None, password: str | None = None, *,
                 plain_login: bool = False,
                 retry: RetryPolicy | None = None, timeout: float = 30.0,
                 local_hostname: str | None = None, start: bool = True) -> None:
        if not smtp_host:
            raise NotificationError("smtp_host is empty; give the SMTP server's name or address")
        if not isinstance(smtp_port, int) or not 0 < smtp_port < 65536:
            raise NotificationError(f"smtp_port {smtp_port!r} is not a TCP port (1-65535)")
        if "@" not in sender:
            raise NotificationError(f"sender {sender!r} is not an e-mail address")
        if (username is None) != (password is None):
            raise NotificationError("give both username and password for SMTP AUTH, or neither")
        if username is not None and not use_starttls and not plain_login:
            raise NotificationError("SMTP AUTH without STARTTLS would send the password in the "
                                    "clear; use STARTTLS, or allow plain login explicitly "
                                    "(only for a relay on this host)")
        if not callable(recipients_for):
            raise NotificationError("recipients_for must be a function of the box name")
        self.store = store
        self.smtp_host, self.smtp_port = smtp_host, smtp_port
        self.sender = sender
        self.recipients_for = recipients_for
        self.use_starttls = use_starttls
        self.username, self.password = username, password
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None
        with store.transaction() as conn:
            conn.execute(_OUTBOX_SCHEMA)
        if start:
            self.start()

    # --- public API -------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (done by the constructor unless ``start=False``)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="attendant-notifier",
                                        daemon=True)
        self._thread.start()

    def notify(self, message: Message) -> None:
        """Queue an e-mail about ``message`` (once: a second call for it is ignored).

        Raises:
            NotificationError: the message is still being recorded.
        """
        if message.status == "recording":
            raise NotificationError(f"message {message.id} is still being recorded; notify "
                                    "after VoicemailStore.finish()")
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO outbox (message_id, status, next_attempt_at, "
                         "created_at) VALUES (?, 'pending', ?, ?)", (message.id, now, now))
        self._wake.set()

    def catch_up(self) -> int:
        """Queue every finished, un-notified message that has no outbox entry; return how many.

        Covers a crash between :meth:`VoicemailStore.finish` and :meth:`notify`.
        Deleted messages are skipped.
        """
        now = time.time()
        with self.store.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO outbox (message_id, status, next_attempt_at, created_at) "
                "SELECT id, 'pending', ?, ? FROM messages WHERE notified = 0 "
                "AND status NOT IN ('recording', 'deleted') "
                "AND id NOT IN (SELECT message_id FROM outbox)", (now, now))
            count = cur.rowcount
        self._wake.set()
        return count

    def retry_failed(self) -> int:
        """Put permanently failed entries back in the queue with a fresh count; return how many."""
        with self.store.transaction() as conn:
            cur = conn.execute("UPDATE outbox SET status = 'pending', attempts = 0, "
                               "next_attempt_at = ? WHERE status = 'failed'", (time.time(),))
            count = cur.rowcount
        self._wake.set()
        return count

    def outbox(self, status: str | None = None) -> list[OutboxEntry]:
        """The outbox entries, oldest first, optionally only those with ``status``."""
        sql = "SELECT * FROM outbox" + (" WHERE status = ?" if status else "") + " ORDER BY id"
        with self.store.transaction() as conn:
            rows = conn.execute(sql, (status,) if status else ()).fetchall()
        return [OutboxEntry(r["id"], r["message_id"], r["status"], r["attempts"],
                            r["next_attempt_at"], r["last_error"],
                            tuple(json.loads(r["recipients"] or "[]")), r["created_at"],
                            r["sent_at"]) for r in rows]

    def pending(self) -> int:
        """How many e-mails are still to be sent (not counting permanent failures)."""
        with self.store.transaction() as conn:
            return int(conn.execute(
                "SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def flush(self, timeout: float) -> bool:
        """Wait until nothing is pending (all sent or permanently failed); False on timeout.

        Entries waiting for a retry keep their backoff; they are not hurried.
        """
        deadline = time.monotonic() + timeout
        self._wake.set()
        while self.pending():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._progress:
                self._progress.wait(min(remaining, 0.1))
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker after its current attempt (at most ``timeout`` s). Idempotent.

        Anything still pending stays in the outbox for the next start.
        """
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    # --- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                entry_id, wait = self._next_due()
                if entry_id is not None:
                    self._attempt(entry_id)
                    continue
            except Exception:  # the worker must survive anything, or mail silently stops
                log.exception("voicemail notifier: unexpected error; retrying in 5 s")
                wait = 5.0
            self._wake.wait(wait)

    def _next_due(self) -> tuple[int | None, float]:
        """The oldest due pending entry, or how long to sleep before one is due."""
        now = time.time()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT id, next_attempt_at FROM outbox WHERE status = 'pending' "
                               "ORDER BY next_attempt_at, id LIMIT 1").fetchone()
        if row is None:
            return None, _MAX_IDLE_WAIT
        if row["next_attempt_at"] <= now:
            return int(row["id"]), 0.0
        return None, min(_MAX_IDLE_WAIT, row["next_attempt_at"] - now)

    def _attempt(self, entry_id: int) -> None:
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE id = ?", (entry_id,)).fetchone()
        message_id, attempts = int(row["message_id"]), int(row["attempts"]) + 1
        recipients: list[str] = []
        permanent = False
        try:
            message = self.store.get(message_id)
            recipients = [r.strip() for r in self.recipients_for(message.box) if r.strip()]
            if not recipients:
                # Retrying cannot help until the configuration changes; see retry_failed().
                permanent = True
                raise NotificationError(f"no e-mail address configured for voicemail box "
                                        f"{message.box!r}")
            refused = self._send(message, recipients)
        except MessageNotFound as exc:
            self._failed(entry_id, attempts, recipients, str(exc), permanent=True)
        except Exception as exc:  # SMTP, socket, TLS, recipients_for: all retried, bounded
            self._failed(entry_id, attempts, recipients,
                         f"{type(exc).__name__}: {exc}", permanent=permanent)
        else:
            note = f"refused by the server: {', '.join(refused)}" if refused else None
            with self.store.transaction() as conn:
                conn.execute("UPDATE outbox SET status = 'sent', attempts = ?, sent_at = ?, "
                             "last_error = ?, recipients = ? WHERE id = ?",
                             (attempts, time.time(), note, json.dumps(recipients), entry_id))
            self.store.set_notified(message_id)
            if note:
                log.warning("voicemail %s: %s", message_id, note)
            log.info("voicemail %s: notification sent to %s", message_id, ", ".join(recipients))
        with self._progress:
            self._progress.notify_all()

    def _failed(self, entry_id: int, attempts: int, recipients: list[str], error: str,
                permanent: bool) -> None:
        give_up = permanent or attempts >= self.retry.max_attempts
        delay = self.retry.delay(attempts)
        with self.store.transaction() as conn:
            conn.execute("UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, "
                         "last_error = ?, recipients = ? WHERE id = ?",
                         ("failed" if give_up else "pending", attempts, time.time() + delay,
                          error, json.dumps(recipients), entry_id))
        if give_up:
            log.error("voicemail outbox entry %s: giving up after %d attempt(s), kept in the "
                      "outbox: %s", entry_id, attempts, error)
        else:
            log.warning("voicemail outbox entry %s: attempt %d failed (%s); retrying in %.1f s",
                        entry_id, attempts, error, delay)

    # --- the e-mail ----------------------------------------------------------------------

    def build_email(self, message: Message, recipients: list[str]) -> EmailMessage:
        """The e-mail for ``message``: subject, plain-text body, the WAV attached."""
        caller = _clean(message.caller) or "unknown caller"
        box = _clean(message.box)
        mail = EmailMessage()
        mail["Subject"] = f"Voicemail for {box} from {caller} ({message.duration:.0f} s)"
        mail["From"] = self.sender
        mail["To"] = ", ".join(recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(f"voicemail.{message.id}",
                                        domain=self.sender.rsplit("@", 1)[1] or None)
        started = message.started_at.astimezone(UTC)
        lines = [
            f"New voicemail in box {box}.",
            "",
            f"From:     {caller}",
            f"Received: {started:%Y-%m-%d %H:%M:%S} UTC",
            f"Length:   {message.duration:.1f} seconds",
            f"Message:  #{message.id} (call {_clean(message.call_id)})",
        ]
        attach = message.path.is_file() and message.flag not in ("missing", "unreadable")
        if message.flag == "short":
            lines += ["", "The message is very short; the caller may have hung up at once."]
        if not attach:
            lines += ["", f"The recording could not be attached ({message.flag or 'no file'}: "
                          f"{message.error or message.path})."]
        mail.set_content("\n".join(lines) + "\n")
        if attach:
            filename = f"voicemail-{box}-{started:%Y%m%d-%H%M%S}-{message.id}.wav"
            mail.add_attachment(message.path.read_bytes(), maintype="audio", subtype="wav",
                                filename=filename)
        return mail

    def _send(self, message: Message, recipients: list[str]) -> list[str]:
        """Send one voicemail's e-mail; return the recipients the server refused."""
        return self.send_mail(self.build_email(message, recipients), recipients)

    def callback_failed_email(self, queue: str, number: str, attempts: int,
                              recipients: list[str]) -> EmailMessage:
        """The e-mail telling a queue's staff a callback was given up."""
        mail = EmailMessage()
        mail["Subject"] = (f"Callback not answered: {_clean(number) or 'unknown number'} "
                           f"(queue {_clean(queue)})")
        mail["From"] = self.sender
        mail["To"] = ", ".join(recipients)
        mail["Date"] = formatdate(localtime=False)
        mail.set_content(
            f"A caller in queue {_clean(queue)} asked to be called back at "
            f"{_clean(number) or 'an unknown number'}.\n"
            f"The callback was dialled {attempts} time(s) and never answered; the request "
            "is closed.\nPlease call them back yourself.\n")
        return mail

    def send_mail(self, mail: EmailMessage, recipients: list[str]) -> list[str]:
        """Send ``mail`` once (no outbox, no retry); the recipients the server refused."""
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout,
                          local_hostname=self.local_hostname) as smtp:
            if self.use_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            refused = smtp.send_message(mail, from_addr=self.sender, to_addrs=recipients)
        return sorted(refused)
