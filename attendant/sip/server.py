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

The server composes single-job parts: refusals (:mod:`attendant.sip.refusals`),
the call log and metrics (:mod:`attendant.sip.records`), voicemail
(:mod:`attendant.sip.messages`), prompt stores (:mod:`attendant.sip.prompt_shelf`),
status.json (:mod:`attendant.sip.status`) and the queues (:mod:`attendant.sip.queues`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any

import pjsua2 as pj

from attendant.engine.actions import SetOverride, VerifyPin
from attendant.engine.events import Event, PinChecked
from attendant.model import Flow
from attendant.pins import verify_pin
from attendant.ports import Leg
from attendant.prompts.store import PromptStore
from attendant.queues.actions import QueueLog
from attendant.sip.account import ServerAccount, account_config
from attendant.sip.admission import Admission, source_host
from attendant.sip.call import Deliverable, InboundCall
from attendant.sip.endpoint import Worker
from attendant.sip.identity import (
    arrived_on,
    caller_user,
    header_values,
    request_user,
    wants_privacy,
)
from attendant.sip.invite_checks import invite_problem
from attendant.sip.legs import OutboundLeg, connect, dial
from attendant.sip.mailboxes import MailboxService
from attendant.sip.messages import MessageDesk
from attendant.sip.options import ServeOptions
from attendant.sip.overrides import LineOverrides
from attendant.sip.prompt_shelf import PromptShelf
from attendant.sip.queues import QueueRunner
from attendant.sip.records import CallRecords
from attendant.sip.refusals import Refusals
from attendant.sip.reload import reload_server
from attendant.sip.safety import MEDIA_SWEEP_S, Safety
from attendant.sip.status import StatusFile, call_summary
from attendant.sip.trunks import Trunks
from attendant.storage import pidfile, printable
from attendant.storage.greetings import Greetings
from attendant.uris import address_user, ring_uri, uri_transport

log = logging.getLogger("attendant.sip.server")

#: Seconds to wait for BYEs to be answered after the grace period hung calls up.
HANGUP_WAIT_S = 5.0
#: Seconds between recounts of the voicemail boxes' messages and bytes (quotas).
USAGE_EVERY_S = 30.0
#: Seconds a listing of the recorded greetings serves calls before it is made again.
GREETINGS_EVERY_S = 2.0
#: Seconds between applications of the voicemail boxes' retention (and one at start).
PURGE_EVERY_S = 600.0


class Server:
    """Runs the endpoint, the calls and the signals. :meth:`run` blocks until exit."""

    def __init__(self, options: ServeOptions, flow: Flow, audio: PromptStore):
        self.options = options
        self.flow = flow
        self.clock_rate = options.endpoint.clock_rate
        self.worker = Worker(options.endpoint, self)
        #: The default account (the first transport's), and each transport's own.
        self.account: Any = None
        self.listeners: dict[str, ServerAccount] = {}
        self.calls: dict[int, InboundCall] = {}
        self.orphans: dict[int, OutboundLeg] = {}
        self.accepting = True
        self.totals = {"answered": 0, "rejected_busy": 0, "rejected_draining": 0,
                       "refused_source": 0, "refused_requests": 0, "safety_hangups": 0,
                       "reloads": 0, "reload_failures": 0, "challenged": 0}
        safety = options.safety
        self.admission = Admission(safety.calls_per_source, safety.invite_rate,
                                   safety.invite_burst, safety.trusted)
        self.refusals = Refusals(self)
        #: Registration to the trunks, routing out through them, who may call in
        #: (attendant/sip/trunks.py).
        self.trunks = Trunks(self, options.trunks)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="attendant-pool")
        self.prompts = PromptShelf(flow, audio, self._pool)
        self.records = CallRecords(options)
        self.metrics = self.records.metrics
        self.messages = MessageDesk(options, self.metrics, self.records.writer, self._pool,
                                    self.records.call_id_of)
        #: Greetings owners recorded (attendant/storage/greetings.py), listed now and then.
        self.greeting_files = Greetings(options.data_dir)
        self._greetings: tuple[float, Mapping[str, Mapping[str, str]]] = (-1e9, {})
        #: The mailbox menu's PIN checks, lockout and messages (attendant/sip/mailboxes.py).
        self.mailboxes = MailboxService(
            options.data_dir, self.messages.store, self._pool,
            lambda session, event: self.worker.post(self.deliver, session, event),
            self.metrics, self.records.writer.submit)
        self._reload_requested = threading.Event()
        self._stop_requested = threading.Event()
        self._finishing = False
        self.status = StatusFile(options.data_dir / "status.json", self.worker, self._status)
        self.pid_path = options.data_dir / "attendant.pid"
        #: Call queues (attendant/sip/queues.py): one state for the process, kept on reload.
        self.queues = QueueRunner(self, flow, options.data_dir)
        #: Overrides staff set on the lines (attendant/sip/overrides.py).
        self.overrides = LineOverrides(options.data_dir, self.worker, self.metrics,
                                       self.status_changed)

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
                    reload_server(self)
                if self._stop_requested.is_set():
                    self._stop_requested.clear()
                    self.worker.post(self._drain)
            return 0 if self.worker.failed is None else 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.messages.drain()
            self._pool.shutdown(wait=True, cancel_futures=True)  # prompt renders no one awaits
            self._stop_records()
            self.pid_path.unlink(missing_ok=True)

    def _start_records(self) -> None:
        """Call log, metrics exporter, voicemail e-mail; recover what a crash left."""
        self.records.open()
        # A lambda, not the bound method: a reload replaces self.flow.
        self.messages.open(lambda box: self.flow.voicemail_recipients(box))  # noqa: PLW0108

    def _stop_records(self) -> None:
        """The shutdown path (main thread, after the worker): flush and close everything."""
        self.records.stop_writer()
        self.messages.close()
        self.records.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # Only flags here: the main loop acts on them (a handler may interrupt anything).
        if signum == signal.SIGHUP:
            self._reload_requested.set()
        else:
            self._stop_requested.set()

    # --- worker thread: endpoint hooks ------------------------------------------------

    def on_started(self, worker: Worker) -> None:
        """Create an account on each transport: the INVITEs arriving on it land there;
        the first transport's is the default account."""
        for transport, transport_id in worker.transport_ids.items():
            account = ServerAccount(self)
            account.create(account_config(self.options, transport_id, transport),
                           transport == self.options.endpoint.transports[0])
            self.listeners[transport] = account
        self.account = self.listeners[self.options.endpoint.transports[0]]
        self.trunks.start()
        self.queues.start()
        self.overrides.start(self.flow)
        self.status.write()
        worker.call_later(MEDIA_SWEEP_S, self._sweep_media)
        worker.call_later(USAGE_EVERY_S, self._refresh_usage)
        self._purge_messages()

    def on_stopping(self) -> None:
        """Drop every pjsua2 object before libDestroy (pjsua2 requires it)."""
        self.overrides.close()
        self.queues.close()
        self.trunks.close()
        self.calls.clear()
        self.refusals.clear()
        self.orphans.clear()
        for account in self.listeners.values():
            with contextlib.suppress(pj.Error):
                account.shutdown()
        self.listeners.clear()
        self.account = None
        self.status.write(stopped=True)

    # --- worker thread: calls -----------------------------------------------------------

    def incoming(self, prm: Any) -> None:
        """An INVITE arrived (Account.onIncomingCall), on any of our accounts."""
        message = str(prm.rdata.wholeMsg)
        malformed = invite_problem(message)
        if malformed is not None:
            self.refusals.refuse_invite(prm.callId, malformed, str(prm.rdata.srcAddress))
            return
        if not self.accepting or len(self.calls) >= self.options.endpoint.max_calls:
            self.refusals.reject(prm.callId, draining=not self.accepting)
            return
        source = source_host(str(prm.rdata.srcAddress))
        phone = ""
        if not self.trunks.inbound.allows(source):
            phone = self._phone_login(prm.callId, source, message)
            if not phone:
                return
        refusal = self.admission.admit(source)
        if refusal is not None:
            self.refusals.reject(prm.callId, draining=False, source=(source, refusal))
            return
        flow = self.flow
        call = InboundCall(self, prm.callId, flow, "", "")
        call.source = source
        call.trunk = arrived_on(message, self.trunks.tokens, self.trunks.numbers)
        call.private = wants_privacy(message)
        call.trusted = self.admission.is_trusted(source)
        info = call.getInfo()
        # Caller-supplied text: escaped once here, so logs, SQLite and status.json get
        # no terminal escape or line break from it.
        call.called = printable(flow.called(request_user(message),
                                              address_user(str(info.localUri))))
        # A phone that logged in is who it proved to be, whatever its From says.
        call.caller = phone or printable(caller_user(str(info.remoteUri), message,
                                                     trusted=call.trusted))
        attendant = flow.attendant_for(call.called).key
        self.calls[call.session] = call
        call_id = self.records.started(call, attendant)
        self.totals["answered"] += 1
        log.info("call %d (%s) from %s to %s (attendant %s), SIP Call-ID %s", call.session,
                 call_id, call.caller or "?", call.called or "?", attendant,
                 printable(str(info.callIdString)))
        call.ring_then_answer()
        self.status_changed()

    def _phone_login(self, call_id: int, source: str, message: str) -> str:
        """An INVITE from a source not let in by address: the phone it proved to be (its
        user name), or "" once it has been challenged (401) or refused (403)."""
        gate = self.trunks.phones
        if gate is None:
            self.refusals.forbid(call_id, source)
            return ""
        verdict = gate.check(source, header_values(message, "Authorization"))
        if verdict.outcome == "ok":
            log.info("phone %s logged in from %s", printable(verdict.user), source)
            return printable(verdict.user)
        if verdict.outcome in ("missing", "stale"):
            self.refusals.challenge(call_id, gate.challenge(stale=verdict.outcome == "stale"))
        else:
            self.refusals.forbid(call_id, source, f"{verdict.why} (phone "
                                                  f"{printable(verdict.user) or '?'})",
                                 f"auth_{verdict.outcome}")
        return ""

    def refused(self, reason: str, detail: str, source: str) -> None:
        """A peer at ``source`` asked for what the flow did not (REFER, Replaces...)."""
        self.refusals.refused(reason, detail, source)

    def dead_call(self, session: int, reason: str) -> None:
        """A safety limit is hanging up call ``session`` (its own log line says why)."""
        self.totals["safety_hangups"] += 1
        self.metrics.safety_hangup(reason)
        self.status_changed()

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

    def _refresh_usage(self) -> None:
        """Every USAGE_EVERY_S: recount the boxes (messages deleted by the CLI free space)."""
        self.messages.recount()
        self.worker.call_later(USAGE_EVERY_S, self._refresh_usage)

    def _purge_messages(self) -> None:
        """Every PURGE_EVERY_S: remove messages past their box's retention."""
        self.messages.purge(self.flow)
        self.worker.call_later(PURGE_EVERY_S, self._purge_messages)

    def destination_uri(self, destination: str) -> str:
        """A SIP URI to ring: URIs with a host as they are, bare numbers via the proxy."""
        return ring_uri(destination, self.options.endpoint.outbound_proxy)

    def account_for(self, uri: str) -> Any:
        """The account a leg to ``uri`` leaves from: TLS for ``sips:`` and
        ``;transport=tls``, TCP for ``;transport=tcp``, else the default account."""
        wanted = uri_transport(uri)
        if wanted is not None and wanted not in self.listeners:
            raise ValueError(f"cannot ring {uri}: the server has no {wanted} transport "
                             f"(serve --transport {','.join(self.options.endpoint.transports)}"
                             f",{wanted})")
        return self.listeners.get(wanted or "", self.account)

    def call_ended(self, call: InboundCall) -> None:
        """Inside the call's DISCONNECTED callback: forget it, record its summary."""
        if self.calls.pop(call.session, None) is not None and call.source:
            self.admission.release(call.source)
        call_id, outcome = self.records.ended(call)
        self.queues.call_ended(call.session, call_id)
        self.mailboxes.forget(call.session)
        self.forget_unused_stores()
        self.status.recent.append(call_summary(call, call_id, outcome))
        self.status_changed()
        if not self.accepting and not self.calls:
            self.worker.post(self._finish)

    def dial(self, session: int, destination: str) -> OutboundLeg | None:
        """Ring ``destination`` for call ``session`` (a queue agent, a callback)."""
        return dial(self, session, destination)

    def callback_given_up(self, queue: str, number: str, attempts: int) -> None:
        """E-mail the queue's ``callback_failed_email`` that a callback was given up."""
        found = self.flow.queues.get(queue)
        if found is not None and found.callback_failed_email:
            self.messages.callback_given_up(queue, number, attempts,
                                            list(found.callback_failed_email))

    def can_ring(self, destination: str) -> bool:
        """Whether a leg to ``destination`` has a way out (trunk, proxy, or a URI's host)."""
        try:
            self.trunks.route_call(destination)
        except ValueError:
            return False
        return True

    def connect_legs(self, first: Leg, second: Leg) -> bool:
        """Join two answered legs both ways (a callback); False until both have audio."""
        if not isinstance(first, OutboundLeg) or not isinstance(second, OutboundLeg):
            return False  # every leg the runner holds came from dial() above
        return connect(first, second)

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

    # --- worker thread: what the queue runner and PIN checks ask --------------------------

    def overrides_now(self) -> Mapping[str, str]:
        """The overrides staff have set now, by attendant."""
        return self.overrides.now()

    def greetings_now(self) -> Mapping[str, Mapping[str, str]]:
        """The greetings mailbox owners recorded, by box then kind (listed at most every
        GREETINGS_EVERY_S: a call start must not list a folder per user)."""
        now = time.monotonic()
        if now - self._greetings[0] >= GREETINGS_EVERY_S:
            self._greetings = (now, self.greeting_files.index())
        return self._greetings[1]

    def set_override(self, action: SetOverride) -> None:
        """A phone switched a line (or ended its override): write it down for every call."""
        self.overrides.set_by_phone(action.attendant, action.name, action.user)

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
        return self.records.call_id_of(session)

    def queue_log(self, line: QueueLog) -> None:
        """A queue core log line, into the call log."""
        self.records.queue_log(line)

    def queues_changed(self) -> None:
        """The queue snapshot changed (throttled by the runner)."""
        self.status_changed()

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        """A storage job for the storage writer's thread (in order, retried while it raises)."""
        self.records.writer.submit(what, job)

    # --- worker thread: reload and shutdown -----------------------------------------------

    def forget_unused_stores(self) -> None:
        """Drop the prompt stores of flows no call uses any more (worker thread)."""
        self.prompts.keep_only([self.flow, *(call.flow for call in self.calls.values())])

    def _drain(self) -> None:
        if not self.accepting:
            log.warning("second stop request: hanging up every call now")
            self._hang_up_all()
            return
        self.accepting = False
        log.info("shutting down: new calls get 503; %d call(s) have %.0f s to finish",
                 len(self.calls), self.options.grace)
        self.status_changed()
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

    def status_changed(self) -> None:
        """Something status.json shows changed: written within STATUS_EVERY_S."""
        self.status.changed()

    def _status(self, stopped: bool) -> dict[str, Any]:
        return {
            "pid": os.getpid(), "accepting": self.accepting and not stopped,
            "stopped": stopped, "active_calls": len(self.calls),
            "max_calls": self.options.endpoint.max_calls, **self.totals,
            "metrics_port": self.records.metrics_port, "prompts": str(self.options.prompt_dir),
            "voicemail_email": self.options.smtp is not None, **self.queues.snapshot(),
            "trunks": self.trunks.snapshot(), "menu": str(self.options.menu),
            **self.overrides.snapshot(),
        }
