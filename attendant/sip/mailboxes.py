"""The mailbox menu's storage side for a running server: PINs, lockout, messages, and
greetings recorded by phone.

The engine asks (:mod:`attendant.engine.mailbox`); :class:`MailboxService` answers off
the pjsip worker: a PIN check costs tens of milliseconds of scrypt on purpose and the
messages come from SQLite, so both run on the server's pool and the answer is posted
back (``MailboxOpened``, ``MailboxPinSet``). Marks go to the storage writer.

Lockout (:class:`Lockout`): wrong PINs are counted per source address and mailbox, and
per source over every mailbox, in a sliding window. Past :data:`MAX_FAILURES` for a box
(or :data:`MAX_SOURCE_FAILURES` in all) the source is refused that box (or every box)
for :data:`LOCK_SECONDS`, with the right PIN too: a guesser learns nothing more. Each
lock is logged and counted (``attendant_mailbox_lockouts_total``); the counts live in
memory, so a restart forgives them. A mailbox number that is nobody's costs the same
scrypt as a real check and counts as a wrong PIN, so the answers do not tell which
numbers exist.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from attendant.engine import actions as act
from attendant.engine.events import (
    Event,
    GreetingRecorded,
    GreetingSaved,
    MailboxOpened,
    MailboxPinSet,
    StoredMessage,
)
from attendant.ops.metrics import Metrics
from attendant.pins import hash_pin, verify_pin
from attendant.storage import StorageError
from attendant.storage.greetings import GreetingError, Greetings
from attendant.storage.mailbox_pins import MailboxPinError, MailboxPins
from attendant.storage.voicemail import FOLDERS, Message, VoicemailStore
from attendant.storage.wavfile import WavError, repair

log = logging.getLogger("attendant.sip.mailboxes")

#: Wrong PINs from one source for one mailbox, within :data:`WINDOW_SECONDS`, that lock it.
MAX_FAILURES = 5
#: Wrong PINs from one source over every mailbox that lock the source out of all of them.
MAX_SOURCE_FAILURES = 15
WINDOW_SECONDS = 900.0
LOCK_SECONDS = 900.0
#: Checked instead of a PIN for a mailbox number that is nobody's (same cost, never right).
_DECOY = hash_pin("0000")


class Lockout:
    """Wrong PINs per (source, box) and per source; thread-safe. ``clock`` is monotonic
    seconds (injectable for tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._until: dict[tuple[str, str], float] = {}

    def locked(self, source: str, box: str) -> bool:
        """Whether ``source`` may not try ``box`` now (or any box)."""
        now = self._clock()
        with self._lock:
            return any(self._until.get(key, 0.0) > now for key in ((source, box), (source, "*")))

    def failed(self, source: str, box: str) -> str | None:
        """Count a wrong PIN; returns what got locked by it (``box`` or ``*``), if anything."""
        now = self._clock()
        locked: str | None = None
        with self._lock:
            for key, limit in (((source, box), MAX_FAILURES),
                               ((source, "*"), MAX_SOURCE_FAILURES)):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while times and times[0] <= now - WINDOW_SECONDS:
                    times.popleft()
                if len(times) >= limit and self._until.get(key, 0.0) <= now:
                    self._until[key] = now + LOCK_SECONDS
                    times.clear()
                    locked = key[1]  # "*" last: the wider lock is the one to report
            self._forget_old(now)
        return locked

    def succeeded(self, source: str, box: str) -> None:
        with self._lock:
            self._failures.pop((source, box), None)

    def _forget_old(self, now: float) -> None:
        """Keep memory bounded under a flood of sources: drop what no longer matters."""
        if len(self._failures) < 10_000:
            return
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - WINDOW_SECONDS]:
            del self._failures[key]
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]


def stored(message: Message) -> StoredMessage:
    """A store row as the engine's mailbox menu sees it."""
    return StoredMessage(message.id, message.status, message.started_at, message.caller,
                         message.duration, message.deleted_from or "")


class MailboxService:
    """Answers the mailbox menu of every call of one server."""

    def __init__(self, data_dir: Path, store: VoicemailStore, pool: ThreadPoolExecutor,
                 post: Callable[[int, Event], None], metrics: Metrics,
                 store_later: Callable[[str, Callable[[], object]], None]) -> None:
        self.pins = MailboxPins(data_dir)
        self.greetings = Greetings(data_dir)
        self.lockout = Lockout()
        self._store = store
        self._pool = pool
        self._post = post
        self._metrics = metrics
        self._store_later = store_later
        #: Per call (session): the box it opened and that box's message files by id.
        self._opened: dict[int, str] = {}
        self._paths: dict[int, dict[int, Path]] = {}

    def open(self, session: int, source: str, action: act.OpenMailbox) -> None:
        """Check the PIN and list the box's messages on the pool; post the answer."""
        self._pool.submit(self._open, session, source, action)

    def _open(self, session: int, source: str, action: act.OpenMailbox) -> None:
        box = action.box
        label = box or f"number {action.number or '?'}"
        try:
            event = self._check(session, source, action)
        except Exception as exc:  # a store or file problem must not leave the caller waiting
            log.error("call %d: mailbox %s cannot be opened: %s: %s", session, label,
                      type(exc).__name__, exc)
            event = MailboxOpened(False, refusal="failed")
        self._metrics.mailbox_login(event.refusal or "ok")
        self._post(session, event)

    def _check(self, session: int, source: str, action: act.OpenMailbox) -> MailboxOpened:
        box = action.box
        label = box or f"number {action.number or '?'}"
        if self.lockout.locked(source, box):
            log.warning("call %d from %s: mailbox %s refused: locked after wrong PINs",
                        session, source or "?", label)
            return MailboxOpened(False, refusal="locked")
        try:
            hashed = self.pins.read().get(box) if box else None
        except MailboxPinError as exc:
            log.error("call %d: %s", session, exc)
            return MailboxOpened(False, refusal="failed")
        if box and hashed is None:
            log.warning("call %d: mailbox %s has no PIN (attendant voicemail pin %s)",
                        session, box, box)
            return MailboxOpened(False, refusal="no_pin")
        right = verify_pin(hashed.hash if hashed else _DECOY, action.digits) and bool(box)
        if not right:
            locked = self.lockout.failed(source, box)
            log.warning("call %d from %s: wrong PIN for mailbox %s", session, source or "?",
                        label)
            if locked is not None:
                what = "every mailbox" if locked == "*" else f"mailbox {label}"
                log.warning("source %s locked out of %s for %g s after repeated wrong PINs",
                            source or "?", what, LOCK_SECONDS)
                self._metrics.mailbox_lockout()
            return MailboxOpened(False, refusal="wrong")
        self.lockout.succeeded(source, box)
        # Every folder's messages, oldest first (those still being recorded are in none).
        kept = sorted((m for folder in FOLDERS for m in self._store.list(box, folder=folder)),
                      key=lambda m: m.id)
        self._paths[session] = {m.id: m.path for m in kept}
        self._opened[session] = box
        log.info("call %d: mailbox %s opened (%d new, %d saved)", session, box,
                 sum(m.folder == "new" for m in kept), sum(m.folder == "saved" for m in kept))
        return MailboxOpened(True, tuple(stored(m) for m in kept))

    def path(self, session: int, message_id: int) -> Path | None:
        """The file of a message of the box call ``session`` opened (None: not its box's)."""
        return self._paths.get(session, {}).get(message_id)

    def mark(self, session: int, action: act.MarkMessage) -> None:
        """File a message as the owner asked, on the storage writer (after the others)."""
        if self.path(session, action.message_id) is None:
            log.warning("call %d: message %d is not in the mailbox it opened; not marked",
                        session, action.message_id)
            return
        store = self._store

        def mark() -> None:
            try:
                if action.status == "undelete":
                    store.undelete(action.message_id)
                else:
                    store.mark(action.message_id, action.status)
            except StorageError as exc:  # gone or changed meanwhile: not worth retrying
                log.warning("call %d: message %d not marked %s: %s", session,
                            action.message_id, action.status, exc)
                return
            log.info("call %d: voicemail %d marked %s by phone", session, action.message_id,
                     action.status)
            if action.status in ("deleted", "undelete"):
                store.refresh_usage()  # its place in the box's quota, freed or taken now

        self._store_later(f"marking voicemail {action.message_id} {action.status}", mark)

    def set_pin(self, session: int, source: str, action: act.SetMailboxPin) -> None:
        """Store a PIN changed by phone (hashed, on the pool); post ``MailboxPinSet``."""
        def store() -> None:
            try:
                self.pins.set(action.box, action.digits, datetime.now(UTC), by="phone")
                ok = True
                log.info("call %d from %s: mailbox %s PIN changed by phone", session,
                         source or "?", action.box)
            except Exception as exc:  # a bad PIN file, a full disk: the old PIN stays
                ok = False
                log.error("call %d: mailbox %s PIN not changed: %s", session, action.box, exc)
            self._post(session, MailboxPinSet(ok))

        if self._opened.get(session) != action.box:
            log.warning("call %d: PIN change for mailbox %s it did not open; refused",
                        session, action.box)
            self._post(session, MailboxPinSet(False))
            return
        self._pool.submit(store)

    # --- greetings recorded by phone -------------------------------------------------------

    def opened(self, session: int) -> str | None:
        """The box call ``session`` opened with its PIN, if any."""
        return self._opened.get(session)

    def take_path(self, session: int, box: str, kind: str) -> Path:
        """Where call ``session`` records a take of ``box``'s ``kind`` greeting."""
        return self.greetings.root / box / f".take-{kind}-{session}.wav"

    def measure_take(self, session: int, path: Path) -> None:
        """A take was closed: check and measure it on the pool; post ``GreetingRecorded``."""
        def measure() -> None:
            try:
                seconds, error = repair(path).duration, ""
            except (WavError, OSError) as exc:
                seconds, error = 0.0, str(exc)
            self._post(session, GreetingRecorded(seconds, str(path), error))

        self._pool.submit(measure)

    def save_greeting(self, session: int, action: act.SaveGreeting, take: Path | None) -> None:
        """Make call ``session``'s last take the greeting (converted like an upload) on the
        pool; post ``GreetingSaved``. Only a take this call recorded, for the box it opened."""
        if take is None or str(take) != action.path or self.opened(session) != action.box:
            log.warning("call %d: greeting %s of %s not saved: not this call's take", session,
                        action.kind, action.box)
            self._post(session, GreetingSaved(False, "not this call's take"))
            return

        def save() -> None:
            try:
                done = self.greetings.set(action.box, action.kind, take)
                log.info("call %d: %s greeting of %s recorded by phone (%.1f s)", session,
                         action.kind, action.box, done.seconds)
                event = GreetingSaved(True)
            except GreetingError as exc:
                log.warning("call %d: %s greeting of %s not saved: %s", session, action.kind,
                            action.box, exc)
                event = GreetingSaved(False, str(exc))
            finally:
                take.unlink(missing_ok=True)
            self._post(session, event)

        self._pool.submit(save)

    def clear_greeting(self, session: int, action: act.ClearGreeting) -> None:
        if self.opened(session) != action.box:
            return
        def clear() -> None:
            try:
                if self.greetings.clear(action.box, action.kind):
                    log.info("call %d: %s greeting of %s removed by phone", session,
                             action.kind, action.box)
            except GreetingError as exc:
                log.error("call %d: %s", session, exc)

        self._pool.submit(clear)

    def forget(self, session: int) -> None:
        """Call ``session`` ended."""
        self._paths.pop(session, None)
        self._opened.pop(session, None)
