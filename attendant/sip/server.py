"""``attendant serve``: accept SIP calls and run each on the compiled flow.

The server owns the flow, the calls and the process's life:

* **Accept**: every INVITE gets 180 then 200 and an :class:`InboundCall` with
  its own engine state. The attendant is chosen by the Request-URI user, else
  the To user (``Flow.attendant_for``).
* **Overload**: at ``max_calls`` calls (and while draining) an INVITE is
  answered ``503 Service Unavailable`` with ``Retry-After``.
* **Prompts**: the flow's prompts are built into ``<data>/prompts`` (a warm
  build only checks the cache) before the first call and before every reload
  takes effect (:func:`open_prompts`); ``--prompts DIR`` uses a build made
  with ``attendant prompts build`` instead.
* **Reload** (SIGHUP): the menus are compiled again and their prompts built in
  the main thread; an invalid configuration or a failed build is logged and the
  old flow kept. Calls in progress keep the flow (and prompts) they started
  with; new calls get the new one.
* **Shutdown** (SIGTERM, SIGINT): stop accepting (503), let calls finish for
  up to ``grace`` seconds, hang up the rest, wait briefly for their BYEs, exit.
* **Records**: every engine step goes to the call log
  (:class:`attendant.storage.CallLog`), voicemail to the
  :class:`~attendant.storage.VoicemailStore` and, with SMTP settings, by e-mail
  (:class:`attendant.ops.notify.VoicemailNotifier`); counters and latencies to
  :class:`attendant.ops.metrics.Metrics` (served over HTTP with ``--metrics-port``).

State for operators and tests is written to ``<data>/status.json`` (active
calls, totals, the last calls with their outcome and RTP packet counts) and the
pid to ``<data>/attendant.pid`` (``attendant reload`` reads it).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
import logging
import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pjsua2 as pj

from attendant.config.compiler import compile_path
from attendant.config.diagnostics import format_text
from attendant.engine.actions import Action, AgentCommand, EnqueueCall, Say, VerifyPin
from attendant.engine.events import CallStarted, Event, PinChecked, TransferResult
from attendant.engine.outcomes import Outcome
from attendant.engine.state import CallState, Phase
from attendant.model import Flow
from attendant.ops.metrics import Metrics
from attendant.ops.notify import VoicemailNotifier
from attendant.pins import verify_pin
from attendant.prompts.store import PromptStore
from attendant.queues.actions import QueueLog
from attendant.sip.admission import Admission, LogThrottle, source_host
from attendant.sip.call import Deliverable, InboundCall
from attendant.sip.endpoint import TimerHandle, Worker
from attendant.sip.identity import caller_user, request_user
from attendant.sip.invite_checks import Refusal, invite_problem
from attendant.sip.legs import GuardedCall, OutboundLeg
from attendant.sip.options import ServeOptions, open_prompts
from attendant.sip.pjsip_counters import UnreadableCounters
from attendant.sip.queues import QueueRunner
from attendant.sip.safety import MEDIA_SWEEP_S, MIN_SESSION_EXPIRES, Safety
from attendant.storage import StorageError, pidfile, printable
from attendant.storage.calllog import CallLog
from attendant.storage.voicemail import Message, Recording, VoicemailStore
from attendant.storage.writer import StorageWriter
from attendant.uris import address_user

log = logging.getLogger("attendant.sip.server")

#: Seconds to wait for BYEs to be answered after the grace period hung calls up.
HANGUP_WAIT_S = 5.0
#: status.json lags what it shows by at most this many seconds (writes are coalesced).
STATUS_EVERY_S = 0.25
#: Seconds the shutdown lets the storage writer commit what is left (then: spooled).
WRITER_STOP_S = 15.0
#: Seconds between recounts of the voicemail boxes' messages and bytes (quotas).
USAGE_EVERY_S = 30.0


#: Seconds the shutdown waits for queued voicemail e-mail before leaving it in the outbox.
NOTIFY_FLUSH_S = 5.0
#: Seconds the shutdown waits for voicemail still being finished (then: recovered at start).
FINISH_DRAIN_S = 30.0
#: The engine's music-on-hold prompt (queues): played from PromptStore.music_on_hold.
MUSIC_ON_HOLD_ID = "system.music_on_hold"
#: Outcome recorded for a call that ended before the engine saw it start.
NOT_STARTED = "caller hung up before the call was set up"


def _skipped_note(skipped: int) -> str:
    return f" ({skipped} more since the last such line)" if skipped else ""


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, server: Server):
        super().__init__()
        self._server = server

    def onIncomingCall(self, prm: Any) -> None:
        self._server.incoming(prm)

    def onIncomingSubscribe(self, prm: Any) -> None:
        # pjsua would accept a presence SUBSCRIBE (200 and NOTIFYs for ever): we publish
        # nothing, and every subscription is a dialog a stranger keeps open on us.
        prm.code = 403
        prm.reason = "Subscriptions not allowed"
        self._server.refused("subscribe", f"SUBSCRIBE from {prm.fromUri} refused (403)",
                             str(prm.rdata.srcAddress))

    def onInstantMessage(self, prm: Any) -> None:
        # Our pjsua build has already answered 405 (scripts/pjsua2/patches/0002-*).
        self._server.refused("message", f"MESSAGE from {prm.fromUri} refused (405)",
                             str(prm.rdata.srcAddress))

    def onTypingIndication(self, prm: Any) -> None:
        self._server.refused("message", f"MESSAGE (typing) from {prm.fromUri} refused (405)",
                             str(prm.rdata.srcAddress))


class _Rejected(GuardedCall):
    """An INVITE answered 503; kept referenced until its DISCONNECTED."""

    def __init__(self, server: Server, account: Any, call_id: int, serial: int):
        super().__init__(account, call_id)
        self._server, self.serial = server, serial

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._server.rejected.pop(self.serial, None)


class Server:
    """Runs the endpoint, the calls and the signals. :meth:`run` blocks until exit."""

    def __init__(self, options: ServeOptions, flow: Flow, audio: PromptStore):
        self.options = options
        self.flow = flow
        self.audio = audio
        #: The prompt store of each flow still in use (by id; the flow is kept alive too).
        self._stores: dict[int, tuple[Flow, PromptStore]] = {id(flow): (flow, audio)}
        self.clock_rate = options.endpoint.clock_rate
        self.worker = Worker(options.endpoint, self)
        self.account: Any = None
        self.calls: dict[int, InboundCall] = {}
        self.rejected: dict[int, _Rejected] = {}
        self.orphans: dict[int, OutboundLeg] = {}
        self.accepting = True
        self.totals = {"answered": 0, "rejected_busy": 0, "rejected_draining": 0,
                       "refused_source": 0, "refused_requests": 0, "safety_hangups": 0,
                       "reloads": 0, "reload_failures": 0}
        safety = options.safety
        self.admission = Admission(safety.calls_per_source, safety.invite_rate,
                                   safety.invite_burst, safety.trusted)
        self._log_throttle = LogThrottle()
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=50)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="attendant-pool")
        #: Voicemail being finished on the pool (the shutdown waits for them).
        self._messages_finishing: set[Future[None]] = set()
        #: Messages being recorded, by id (worker thread).
        self._recordings: dict[int, Recording] = {}
        self.voicemail = VoicemailStore(options.data_dir)
        # The worker only appends lines and row writes; the writer commits and fsyncs.
        self.call_log = CallLog(options.data_dir, defer_rows=True, fsync_interval=None,
                                rotate_bytes=int(safety.log_rotate_mb * 1_000_000),
                                rotate_days=safety.log_rotate_days, keep_rotated=safety.log_keep)
        self.writer = StorageWriter(self.call_log)
        self.metrics = Metrics()
        self.metrics.count_unreadable(UnreadableCounters().read)
        self.metrics_port: int | None = None
        self.notifier: VoicemailNotifier | None = None
        self._call_ids: dict[int, str] = {}
        self._run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self._rejected_serial = 0
        self._reload_requested = threading.Event()
        self._stop_requested = threading.Event()
        self._finishing = False
        self._status_path = options.data_dir / "status.json"
        self._status_due: TimerHandle | None = None
        self.pid_path = options.data_dir / "attendant.pid"
        #: Call queues (attendant/sip/queues.py): one state for the process, kept on reload.
        self.queues = QueueRunner(self, flow, options.data_dir)

    # --- main thread ---------------------------------------------------------------

    def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT and the drain ends; returns the exit status."""
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            self._start_records()
            self.worker.start()
            pidfile.write(self.pid_path)
            while not self.worker.join(0.2):
                if self._reload_requested.is_set():
                    self._reload_requested.clear()
                    self._reload()
                if self._stop_requested.is_set():
                    self._stop_requested.clear()
                    self.worker.post(self._drain)
            return 0 if self.worker.failed is None else 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._drain_finishing()
            self._pool.shutdown(wait=True, cancel_futures=True)  # prompt renders no one awaits
            self._stop_records()
            self.pid_path.unlink(missing_ok=True)

    def _start_records(self) -> None:
        """Call log, metrics exporter, voicemail e-mail; recover what a crash left."""
        closed = self.call_log.recover()
        if closed:
            log.warning("call log: %d call(s) left open by a crash marked interrupted", closed)
        self.writer.start()
        if self.options.metrics_port is not None:
            self.metrics_port = self.metrics.serve_http(self.options.metrics_listen,
                                                        self.options.metrics_port)
            log.info("metrics on http://%s:%d/metrics", self.options.metrics_listen,
                     self.metrics_port)
        smtp = self.options.smtp
        if smtp is None:
            log.info("voicemail e-mail is off (no --smtp-host); messages are kept in %s",
                     self.options.data_dir / "messages")
        else:
            self.notifier = VoicemailNotifier(
                self.voicemail, smtp.host, smtp.port, smtp.sender,
                # A lambda, not the bound method: a reload replaces self.flow.
                lambda box: self.flow.voicemail_recipients(box),  # noqa: PLW0108
                use_starttls=smtp.starttls,
                username=smtp.username, password=smtp.password, plain_login=smtp.plain_login)
            log.info("voicemail e-mail via %s:%d%s from %s", smtp.host, smtp.port,
                     " (STARTTLS)" if smtp.starttls else "", smtp.sender)
        for message in self.voicemail.recover():
            log.warning("recovered voicemail %d for %s left by a crash", message.id, message.box)
            if self.notifier is not None:
                self.notifier.notify(message)
        self.voicemail.refresh_usage()
        if self.notifier is not None:
            queued = self.notifier.catch_up()
            if queued:
                log.info("voicemail e-mail: %d message(s) never sent queued again", queued)

    def _stop_records(self) -> None:
        """The shutdown path (main thread, after the worker): flush and close everything."""
        if not self.writer.stop(WRITER_STOP_S):
            log.error("storage writer: not done after %g s; %d call log row write(s) go to "
                      "%s and unfinished voicemail is recovered at the next start",
                      WRITER_STOP_S, self.call_log.pending_rows, self.call_log.spool_path)
        notifier, self.notifier = self.notifier, None
        if notifier is not None:
            if not notifier.flush(NOTIFY_FLUSH_S):
                log.warning("voicemail e-mail: %d message(s) not sent yet; they stay in the "
                            "outbox for the next start", notifier.pending())
            notifier.stop()
        self.voicemail.close()
        try:
            self.call_log.close()
        except StorageError as exc:
            log.error("call log: %s; the rows are in %s for the next start", exc,
                      self.call_log.spool_path)
        self.metrics.stop_http()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only flags here: the main loop acts on them (a handler may interrupt anything).
        if signum == signal.SIGHUP:
            self._reload_requested.set()
        else:
            self._stop_requested.set()

    def _reload(self) -> None:
        started = time.monotonic()
        result = compile_path(self.options.menu)
        if result.flow is None:
            self._reload_failed(f"{self.options.menu} is invalid",
                                format_text(result.diagnostics))
            return
        flow = result.flow
        store, errors = open_prompts(self.options, flow, result.prompt_sites)
        if store is None:
            self._reload_failed(f"the prompts of {self.options.menu} cannot be built",
                                "\n".join(errors))
            return
        self.worker.post(self._swap_flow, flow, store)
        log.info("reload: %s compiled and its prompts built in %.0f ms; new calls use it, "
                 "calls in progress keep their menus", self.options.menu,
                 (time.monotonic() - started) * 1000)

    def _reload_failed(self, why: str, details: str) -> None:
        self.totals["reload_failures"] += 1
        log.error("reload: %s, keeping the menus already loaded:\n%s", why, details)
        self.worker.post(self._status_changed)

    # --- worker thread: endpoint hooks ------------------------------------------------

    def on_started(self, worker: Worker) -> None:
        """Create the account every inbound call arrives on."""
        cfg = self.options.endpoint
        acc_cfg = pj.AccountConfig()
        host = cfg.public_address or cfg.listen
        acc_cfg.idUri = f"sip:attendant@{host}:{cfg.port}"
        if cfg.transport != "udp":
            acc_cfg.idUri += f";transport={cfg.transport}"
        media = acc_cfg.mediaConfig.transportConfig
        media.port = cfg.rtp_ports[0]
        media.portRange = max(0, cfg.rtp_ports[1] - cfg.rtp_ports[0])
        media.boundAddress = cfg.listen
        if cfg.public_address:
            media.publicAddress = cfg.public_address
        acc_cfg.natConfig.sdpNatRewriteUse = 0
        expires = self.options.safety.session_expires
        if expires:
            # RFC 4028 on every call, whether the caller supports it or not (we refresh
            # then): a caller gone without a BYE stops answering and pjsip ends the call.
            acc_cfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_ALWAYS
            acc_cfg.callConfig.timerSessExpiresSec = expires
            acc_cfg.callConfig.timerMinSESec = MIN_SESSION_EXPIRES
        else:
            acc_cfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
        if worker.transport_id is not None:
            # Our one transport for every dialog: a TCP or TLS caller whose Contact lacks
            # ;transport= would otherwise get a UDP Contact pjsua cannot make (500).
            acc_cfg.sipConfig.transportId = worker.transport_id
        account = _Account(self)
        account.create(acc_cfg, True)  # the default account: every INVITE lands here
        self.account = account
        self.queues.start()
        self._write_status()
        worker.call_later(MEDIA_SWEEP_S, self._sweep_media)
        worker.call_later(USAGE_EVERY_S, self._refresh_usage)

    def on_stopping(self) -> None:
        """Drop every pjsua2 object before libDestroy (pjsua2 requires it)."""
        self.queues.close()
        self.calls.clear()
        self.rejected.clear()
        self.orphans.clear()
        if self.account is not None:
            with contextlib.suppress(pj.Error):
                self.account.shutdown()
        self.account = None
        self._write_status(stopped=True)

    # --- worker thread: calls -----------------------------------------------------------

    def incoming(self, prm: Any) -> None:
        """An INVITE arrived (Account.onIncomingCall)."""
        message = str(prm.rdata.wholeMsg)
        malformed = invite_problem(message)
        if malformed is not None:
            self._refuse_invite(prm.callId, malformed, str(prm.rdata.srcAddress))
            return
        if not self.accepting or len(self.calls) >= self.options.endpoint.max_calls:
            self._reject(prm.callId, draining=not self.accepting)
            return
        source = source_host(str(prm.rdata.srcAddress))
        refusal = self.admission.admit(source)
        if refusal is not None:
            self._reject(prm.callId, draining=False, source=(source, refusal))
            return
        flow = self.flow
        call = InboundCall(self, prm.callId, flow, "", "")
        call.source = source
        call.trusted = self.admission.is_trusted(source)
        info = call.getInfo()
        # Caller-supplied text: escaped once here, so logs, SQLite and status.json get
        # no terminal escape or line break from it.
        call.called = printable(flow.called(request_user(message),
                                              address_user(str(info.localUri))))
        call.caller = printable(caller_user(str(info.remoteUri), message,
                                            trusted=call.trusted))
        call_id = f"{self._run_id}-{call.session}"
        attendant = flow.attendant_for(call.called).key
        self.calls[call.session] = call
        self._call_ids[call.session] = call_id
        self.totals["answered"] += 1
        log.info("call %d (%s) from %s to %s (attendant %s), SIP Call-ID %s", call.session,
                 call_id, call.caller or "?", call.called or "?", attendant,
                 printable(str(info.callIdString)))
        self.metrics.call_started()
        self._record(self.call_log.call_started, call_id, call.caller, call.called, attendant)
        call.ring_then_answer()
        self._status_changed()

    @staticmethod
    def _record(method: Any, *args: Any) -> None:
        """Write to the call log; a full disk must not take the calls down with it."""
        try:
            method(*args)
        except Exception:
            log.exception("cannot write the call log")

    def _refuse_invite(self, call_id: int, refusal: Refusal, source: str) -> None:
        """Answer an INVITE that must not become a call (see invite_checks)."""
        self.refused("malformed", f"INVITE answered {refusal.status}: {refusal.why}", source)
        self._refuse_call(call_id, refusal.status, "", refusal.headers)

    def _refuse_call(self, call_id: int, status: int, reason: str,
                     headers: tuple[tuple[str, str], ...]) -> None:
        """Take pjsua's call ``call_id`` (inside onIncomingCall) only to refuse it.

        The final answer goes out one worker turn later, never inside the callback: a
        final answer there can end the call while pjsua2 still holds its copy of the
        request, and pjsua2 then frees it a second time (an INVITE cut short by the
        4,000-byte receive buffer aborted the server so).
        """
        self._rejected_serial += 1
        rejected = _Rejected(self, self.account, call_id, self._rejected_serial)
        self.rejected[rejected.serial] = rejected
        self.worker.post(self._answer_rejected, rejected, status, reason, headers)

    @staticmethod
    def _answer_rejected(rejected: _Rejected, status: int, reason: str,
                         headers: tuple[tuple[str, str], ...]) -> None:
        prm = pj.CallOpParam(True)
        prm.statusCode = status
        if reason:
            prm.reason = reason
        for name, value in headers:
            header = pj.SipHeader()
            header.hName, header.hValue = name, value
            prm.txOption.headers.append(header)
        try:
            rejected.answer(prm)
        except pj.Error as exc:  # the caller gave up (CANCEL) in between
            log.warning("cannot answer %d to a refused INVITE: %s", status, exc.info())

    def _reject(self, call_id: int, draining: bool,
                source: tuple[str, str] | None = None) -> None:
        if source is not None:
            self.totals["refused_source"] += 1
            self.metrics.refusal("per_source")
            self._warn_source(*source)
        else:
            self.totals["rejected_draining" if draining else "rejected_busy"] += 1
            log.warning("503 for a new call: %s", "shutting down" if draining
                        else f"{len(self.calls)} calls, the maximum")
        self._refuse_call(call_id, 503, "Service Unavailable",
                          (("Retry-After", str(self.options.retry_after)),))
        self._status_changed()

    def _warn_source(self, host: str, why: str) -> None:
        """Log a per-source refusal: the first, then at most one a minute per source."""
        skipped = self._log_throttle.allow("per_source", host)
        if skipped is None:
            return
        log.warning("503 for a new call from %s: %s (per-source limit; list a trunk or PBX "
                    "with --trusted-source)%s", host, why, _skipped_note(skipped))

    def refused(self, reason: str, detail: str, source: str) -> None:
        """A peer at ``source`` asked for what the flow did not (REFER, Replaces...):
        count it always, log it (thinned to one line a minute per source and kind)."""
        self.totals["refused_requests"] += 1
        self.metrics.refusal(reason)
        skipped = self._log_throttle.allow(reason, source_host(source) or source)
        if skipped is not None:
            log.warning("refused from %s: %s%s", printable(source) or "?", printable(detail),
                        _skipped_note(skipped))
        self._status_changed()

    def dead_call(self, session: int, reason: str) -> None:
        """A safety limit is hanging up call ``session`` (its own log line says why)."""
        self.totals["safety_hangups"] += 1
        self.metrics.safety_hangup(reason)
        self._status_changed()

    @property
    def safety(self) -> Safety:
        """The safety limits of this server (``attendant serve`` options)."""
        return self.options.safety

    def _sweep_media(self) -> None:
        """Every MEDIA_SWEEP_S: end calls whose caller stopped sending RTP or holds too long."""
        if self._finishing:
            return
        self.worker.call_later(MEDIA_SWEEP_S, self._sweep_media)  # first: a failure below
        now = time.monotonic()                                     # must not end the sweeps
        for call in list(self.calls.values()):
            try:
                call.media_check(now)
            except Exception:
                log.exception("call %d: media check failed", call.session)

    def deliver(self, session: int, event: Event | Deliverable) -> None:
        """Feed an event to a call if it is still up (tasks name calls by session)."""
        call = self.calls.get(session)
        if call is not None:
            call.feed(event)

    def _store_for(self, flow: Flow) -> PromptStore:
        kept = self._stores.get(id(flow))
        return kept[1] if kept is not None else self.audio

    def render(self, items: tuple[Say, ...], flow: Flow) -> Future[list[Path]]:
        """Render prompts to WAV files on the renderer pool (never on the worker).

        Each flow keeps the prompt store built for it, so a call that started
        before a reload still hears its own menus' prompts.
        """
        audio = self._store_for(flow)
        built = [audio.built(item) for item in items]
        if all(path is not None for path in built):
            # Every item is a file already made: no thread hop (worker -> pool -> worker),
            # so the player starts in this turn of the worker loop (DTMF -> prompt latency).
            done: Future[list[Path]] = Future()
            done.set_result([path for path in built if path is not None])
            return done
        return self._pool.submit(lambda: [
            audio.music_on_hold if item.prompt_id == MUSIC_ON_HOLD_ID else audio.wav_for(item)
            for item in items])

    def music_on_hold(self, flow: Flow) -> Path | None:
        """The flow's music on hold (``speech.music_on_hold`` or ours), None if unavailable."""
        try:
            return self._store_for(flow).music_on_hold
        except Exception as exc:  # a missing or unreadable file: ringback instead
            log.warning("no music on hold (%s): callers hear a ringback tone", exc)
            return None

    def stepped(self, call: InboundCall, event: Event, state: CallState,
                actions: tuple[Action, ...]) -> None:
        """After every engine step: the call log, and the metrics the step tells about."""
        call_id = self._call_ids.get(call.session)
        if call_id is not None:
            self._record(self.call_log.record_step, call_id, event, state, actions)
        if isinstance(event, CallStarted):
            self.metrics.observe_call_setup(time.monotonic() - call.started_at)
        elif isinstance(event, TransferResult):
            self.metrics.transfer_result(True if event.answered else event.reason or "failed")

    def dtmf_applied(self, received_at: float) -> None:
        """A key was handled: count it, with the time from its callback to its actions."""
        self.metrics.dtmf_received(time.monotonic() - received_at)

    def recording_problem(self) -> str | None:
        """Why no message can be recorded now: the data folder's disk nearly full."""
        minimum = self.options.safety.min_free_mb
        if minimum <= 0:
            return None
        try:
            free = shutil.disk_usage(self.options.data_dir).free / 1e6
        except OSError as exc:
            return f"cannot check the free space of {self.options.data_dir}: {exc.strerror}"
        if free < minimum:
            return (f"disk nearly full: {free:.0f} MB free in {self.options.data_dir}, "
                    f"below --min-free-mb {minimum:g}")
        return None

    def box_full(self, flow: Flow, box: str) -> str | None:
        """Whether ``box`` is at its quota, from the store's counts in memory."""
        found = flow.voicemail.get(box)
        if found is None:
            return None
        count, size = self.voicemail.usage(box)
        why = None
        if count >= found.max_messages:
            why = f"{count} message(s), its max_messages is {found.max_messages}"
        elif found.max_mb is not None and size >= found.max_mb * 1_000_000:
            why = f"{size / 1_000_000:.1f} MB of messages, its max_mb is {found.max_mb:g}"
        if why is not None:
            self.metrics.voicemail_box_full(box)
        return why

    def _refresh_usage(self) -> None:
        """Every USAGE_EVERY_S: recount the boxes (messages deleted by the CLI free space)."""
        self.writer.submit("counting the voicemail boxes", self.voicemail.refresh_usage)
        self.worker.call_later(USAGE_EVERY_S, self._refresh_usage)

    def recording_failed(self) -> None:
        """A message was not recorded, or cut short, because storage failed."""
        self.metrics.voicemail_failures.inc()

    def begin_recording(self, box: str, caller: str, session: int) -> tuple[int, Path]:
        """A new message's id and path at once; its row is written by the storage writer,
        so a locked voicemail.sqlite3 holds up neither this call nor any other."""
        call_id = self._call_ids.get(session, str(session))
        recording = self.voicemail.plan(box, caller, call_id)
        self._recordings[recording.id] = recording
        self.writer.submit(f"registering voicemail {recording.id}",
                           functools.partial(self.voicemail.register, recording))
        return recording.id, recording.path

    def finish_recording(self, recording_id: int, reason: str) -> None:
        """Finalise a message on the pool: ``finish`` may wait for the file to settle."""
        recording = self._recordings.pop(recording_id, None)
        if recording is None:
            log.error("voicemail %d: finished twice or never begun", recording_id)
            return
        future = self._pool.submit(self._finish_message, recording, reason)
        self._messages_finishing.add(future)
        future.add_done_callback(self._messages_finishing.discard)

    def _drain_finishing(self) -> None:
        """Shutdown: let queued voicemail finish (and be queued for e-mail) before exit."""
        pending = list(self._messages_finishing)
        if not pending:
            return
        log.info("shutting down: finishing %d voicemail message(s)", len(pending))
        _, late = wait(pending, timeout=FINISH_DRAIN_S)
        if late:
            log.warning("%d voicemail message(s) still being finished after %g s: the next "
                        "start recovers them and sends their e-mail", len(late), FINISH_DRAIN_S)

    def _finish_message(self, recording: Recording, reason: str) -> None:
        try:
            self._store_message(recording, reason)
        except (StorageError, sqlite3.Error) as exc:
            # The audio is on disk; only its row waits. The writer retries until it lands.
            log.warning("voicemail %d for %s is on disk but not yet in %s (%s); retrying",
                        recording.id, recording.box, self.voicemail.db_path, exc)
            self.writer.submit(f"finishing voicemail {recording.id}",
                               functools.partial(self._store_message, recording, reason))
        except Exception:
            log.exception("cannot finish voicemail %d", recording.id)

    def _store_message(self, recording: Recording, reason: str) -> None:
        """Register (if the writer has not yet), finish, count and e-mail one message."""
        self.voicemail.register(recording)
        message = self.voicemail.finish(recording.id, reason)
        log.info("voicemail %d for %s saved: %.1f s (%s)%s", recording.id, message.box,
                 message.duration, reason, f" [{message.flag}]" if message.flag else "")
        self.metrics.voicemail_recorded(message.box)
        self._notify(message)

    def _notify(self, message: Message) -> None:
        notifier = self.notifier
        if notifier is None:
            return
        try:
            notifier.notify(message)
        except Exception:
            log.exception("cannot queue the e-mail for voicemail %d", message.id)

    def destination_uri(self, destination: str) -> str:
        """A SIP URI to ring: URIs with a host as they are, bare numbers via the proxy."""
        if destination.startswith(("sip:", "sips:")) and "@" in destination:
            return destination
        user = destination.split(":", 1)[1] if ":" in destination else destination
        proxy = self.options.endpoint.outbound_proxy
        if not proxy:
            raise ValueError(f"cannot ring {destination!r} without --outbound-proxy "
                             "(it has no host)")
        host = proxy.strip().strip("<>")
        if host.startswith(("sip:", "sips:")):
            host = host.split(":", 1)[1]
        host = host.split("@", 1)[-1].split(";")[0].split(">")[0].lstrip("/")
        return f"sip:{user}@{host}"

    def call_ended(self, call: InboundCall) -> None:
        """Inside the call's DISCONNECTED callback: forget it, record its summary."""
        if self.calls.pop(call.session, None) is not None and call.source:
            self.admission.release(call.source)
        call_id = self._call_ids.pop(call.session, "")
        self.queues.call_ended(call.session, call_id)
        outcome, kind = call.state.outcome, call.state.ending
        if not outcome and call.state.phase is Phase.NEW:
            outcome = NOT_STARTED
        if call.ended_by:
            # The engine saw a hang-up; the truth is that a safety limit ended the call.
            outcome, kind = f"caller gone: {call.ended_by}", Outcome.CALLER_GONE
        self.metrics.call_ended(kind)
        if call_id:
            self._record(self.call_log.call_ended, call_id, outcome, kind)
            self.writer.wake()  # its row now, not at the next period
        self._forget_unused_stores()
        stats = call.stats
        self.recent.append({
            "session": call.session, "call_id": call_id, "caller": call.caller,
            "called": call.called, "attendant": call.state.attendant, "outcome": outcome,
            "seconds": round(time.monotonic() - call.started_at, 2),
            "recordings": [str(p) for p in call.recordings],
            "ended_by": call.ended_by,
            "rtp": {"caller_rx": stats.caller_rx, "caller_tx": stats.caller_tx,
                    "transfer_rx": stats.leg_rx, "transfer_tx": stats.leg_tx},
        })
        self._status_changed()
        if not self.accepting and not self.calls:
            self.worker.post(self._finish)

    def adopt_leg(self, leg: OutboundLeg) -> None:
        """Keep a leg its caller let go of until the leg's own DISCONNECTED."""
        if not leg.ended:
            self.orphans[leg.serial] = leg

    def leg_event(self, session: int, serial: int, what: str, code: int) -> None:
        """Route a transfer leg's state change to its caller (or tidy up an orphan)."""
        if self.queues.leg_event(serial, what, code):
            return
        call = self.calls.get(session)
        if call is not None and call.leg_event(serial, what, code):
            return
        orphan = self.orphans.get(serial)
        if orphan is None:
            return
        if what == "ended":
            del self.orphans[serial]
        elif what == "confirmed":
            orphan.cancel_ringing()  # answered after we gave up on it

    # --- worker thread: call queues (attendant/sip/queues.py) -----------------------------

    def enqueue(self, session: int, action: EnqueueCall) -> None:
        """A call's engine asked for a queue (posted by the call)."""
        call = self.calls.get(session)
        if call is not None and not call.ended:
            self.queues.enqueue(call, self._call_ids.get(session, str(session)), action)

    def queue_key(self, session: int, key: str) -> None:
        """A queued caller pressed a key (posted by the call)."""
        self.queues.pressed(self._call_ids.get(session, str(session)), key)

    def agent_command(self, session: int, action: AgentCommand) -> None:
        """A call dialled an agent feature code: applied as `attendant queues agent` is."""
        self.queues.feature_code(self._call_ids.get(session, str(session)), action)

    def verify_pin(self, session: int, flow: Flow, action: VerifyPin) -> None:
        """scrypt costs tens of milliseconds on purpose: check on the pool, then deliver."""
        user = flow.users.get(action.user)
        stored = user.pin if user is not None else None

        def check() -> None:
            ok = stored is not None and verify_pin(stored, action.digits)
            if not ok:
                log.warning("call %d: wrong PIN for agent %s", session, action.user or "?")
            self.worker.post(self.deliver, session, PinChecked(ok))

        self._pool.submit(check)

    def call_id_of(self, session: int) -> str:
        """The call id of call ``session`` ("" when unknown)."""
        return self._call_ids.get(session, "")

    def queue_log(self, line: QueueLog) -> None:
        """A queue core log line, into the call log."""
        self._record(self.call_log.queue_event, line.queue, line.call_id, line.agent,
                     line.message)

    def queues_changed(self) -> None:
        """The queue snapshot changed (throttled by the runner)."""
        self._status_changed()

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        """A storage job for the storage writer's thread (in order, retried while it raises)."""
        self.writer.submit(what, job)

    # --- worker thread: reload and shutdown -----------------------------------------------

    def _swap_flow(self, flow: Flow, store: PromptStore) -> None:
        self.flow, self.audio = flow, store
        self.queues.set_flow(flow)
        self._stores[id(flow)] = (flow, store)
        self._forget_unused_stores()
        self.totals["reloads"] += 1
        self._status_changed()

    def _forget_unused_stores(self) -> None:
        """Drop the prompt stores of flows no call uses any more (worker thread)."""
        used = {id(self.flow)} | {id(call.flow) for call in self.calls.values()}
        for key in [k for k in self._stores if k not in used]:
            del self._stores[key]

    def _drain(self) -> None:
        if not self.accepting:
            log.warning("second stop request: hanging up every call now")
            self._hang_up_all()
            return
        self.accepting = False
        log.info("shutting down: new calls get 503; %d call(s) have %.0f s to finish",
                 len(self.calls), self.options.grace)
        self._status_changed()
        if not self.calls:
            self._finish()
            return
        self.worker.call_later(self.options.grace, self._hang_up_all)

    def _hang_up_all(self) -> None:
        self.queues.hang_up_all()
        for call in list(self.calls.values()):
            call.hang_up()
        self.worker.call_later(HANGUP_WAIT_S, self._finish)

    def _finish(self) -> None:
        if self._finishing:
            return
        self._finishing = True
        log.info("stopped: %d call(s) answered, %d refused as busy, %d refused while stopping",
                 self.totals["answered"], self.totals["rejected_busy"],
                 self.totals["rejected_draining"])
        self.worker.stop()

    def _status_changed(self) -> None:
        """Something status.json shows changed: write it within STATUS_EVERY_S (coalesced).

        Writing it at every call start and end cost a JSON dump, a write and a rename per
        event on the worker thread (100 a second at 50 new calls a second).
        """
        if self._status_due is None:
            self._status_due = self.worker.call_later(STATUS_EVERY_S, self._flush_status)

    def _flush_status(self) -> None:
        self._status_due = None
        self._write_status()

    def _write_status(self, stopped: bool = False) -> None:
        status = {
            "pid": os.getpid(), "accepting": self.accepting and not stopped,
            "stopped": stopped, "active_calls": len(self.calls),
            "max_calls": self.options.endpoint.max_calls, **self.totals,
            "metrics_port": self.metrics_port, "prompts": str(self.options.prompt_dir),
            "voicemail_email": self.options.smtp is not None,
            "recent": list(self.recent), **self.queues.snapshot(),
        }
        tmp = self._status_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(status, indent=1))
            tmp.replace(self._status_path)
        except OSError as exc:
            log.error("cannot write %s: %s", self._status_path, exc)
