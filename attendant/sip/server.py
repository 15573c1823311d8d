"""``attendant serve``: accept SIP calls and run each on the compiled flow.

The server owns the flow, the calls and the process's life:

* **Accept**: every INVITE gets 180 then 200 and an :class:`InboundCall` with
  its own engine state. The attendant is chosen by the Request-URI user, else
  the To user (``Flow.attendant_for``).
* **Overload**: at ``max_calls`` calls (and while draining) an INVITE is
  answered ``503 Service Unavailable`` with ``Retry-After``.
* **Reload** (SIGHUP): the menus are compiled again in the main thread; an
  invalid configuration is logged and the old flow kept. Calls in progress keep
  the flow they started with; new calls get the new one.
* **Shutdown** (SIGTERM, SIGINT): stop accepting (503), let calls finish for
  up to ``grace`` seconds, hang up the rest, wait briefly for their BYEs, exit.

State for operators and tests is written to ``<data>/status.json`` (active
calls, totals, the last calls with their outcome and RTP packet counts) and the
pid to ``<data>/attendant.pid`` (``attendant reload`` reads it).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import re
import signal
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pjsua2 as pj

from attendant.actions import Say
from attendant.compiler import compile_path
from attendant.diagnostics import format_text
from attendant.events import Event
from attendant.model import Flow
from attendant.ports import PromptAudio
from attendant.sip.call import Deliverable, InboundCall, OutboundLeg
from attendant.sip.endpoint import EndpointConfig, Worker
from attendant.storage.voicemail import VoicemailStore

log = logging.getLogger("attendant.sip.server")

#: Seconds to wait for BYEs to be answered after the grace period hung calls up.
HANGUP_WAIT_S = 5.0
_URI_USER = re.compile(r"sips?:([^@;>:\s]+)@")
_REQUEST_LINE = re.compile(r"^INVITE\s+(\S+)\s+SIP/2\.0", re.IGNORECASE)


@dataclass(frozen=True)
class ServeOptions:
    """Everything ``attendant serve`` was asked for."""

    menu: Path
    data_dir: Path
    endpoint: EndpointConfig
    grace: float = 30.0
    retry_after: int = 30


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:frontdesk@host`` -> ``frontdesk``), or ""."""
    found = _URI_USER.search(uri)
    return found.group(1) if found else ""


def request_user(message: str) -> str:
    """The user of the Request-URI of an INVITE's text."""
    found = _REQUEST_LINE.match(message.lstrip())
    return uri_user(found.group(1)) if found else ""


def choose_called(flow: Flow, *candidates: str) -> str:
    """The first candidate some attendant answers to (else the first non-empty one)."""
    for user in candidates:
        if user and any(user in a.answers or user == a.key for a in flow.attendants.values()):
            return user
    return next((c for c in candidates if c), "")


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, server: Server):
        super().__init__()
        self._server = server

    def onIncomingCall(self, prm: Any) -> None:
        self._server.incoming(prm)


class _Rejected(pj.Call):  # type: ignore[misc]
    """An INVITE answered 503; kept referenced until its DISCONNECTED."""

    def __init__(self, server: Server, account: Any, call_id: int, serial: int):
        super().__init__(account, call_id)
        self._server, self.serial = server, serial

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._server.rejected.pop(self.serial, None)


class Server:
    """Runs the endpoint, the calls and the signals. :meth:`run` blocks until exit."""

    def __init__(self, options: ServeOptions, flow: Flow, audio: PromptAudio):
        self.options = options
        self.flow = flow
        self.audio = audio
        self.clock_rate = options.endpoint.clock_rate
        self.worker = Worker(options.endpoint, self)
        self.account: Any = None
        self.calls: dict[int, InboundCall] = {}
        self.rejected: dict[int, _Rejected] = {}
        self.orphans: dict[int, OutboundLeg] = {}
        self.accepting = True
        self.totals = {"answered": 0, "rejected_busy": 0, "rejected_draining": 0,
                       "reloads": 0, "reload_failures": 0}
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=50)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="attendant-pool")
        self.voicemail = VoicemailStore(options.data_dir)
        self._rejected_serial = 0
        self._reload_requested = threading.Event()
        self._stop_requested = threading.Event()
        self._finishing = False
        self._status_path = options.data_dir / "status.json"
        self.pid_path = options.data_dir / "attendant.pid"

    # --- main thread ---------------------------------------------------------------

    def run(self) -> int:
        """Start, serve until SIGTERM/SIGINT and the drain ends; returns the exit status."""
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        for message in self.voicemail.recover():
            log.warning("recovered voicemail %d for %s left by a crash", message.id, message.box)
        try:
            self.worker.start()
            self.pid_path.write_text(f"{os.getpid()}\n")
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
            self._pool.shutdown(wait=True, cancel_futures=True)  # let voicemails finish
            self.voicemail.close()
            self.pid_path.unlink(missing_ok=True)

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
            self.totals["reload_failures"] += 1
            log.error("reload: %s is invalid, keeping the menus already loaded:\n%s",
                      self.options.menu, format_text(result.diagnostics))
            self.worker.post(self._write_status)
            return
        flow = result.flow
        self.worker.post(self._swap_flow, flow)
        log.info("reload: %s compiled in %.0f ms; new calls use it, calls in progress keep "
                 "their menus", self.options.menu, (time.monotonic() - started) * 1000)

    # --- worker thread: endpoint hooks ------------------------------------------------

    def on_started(self, worker: Worker) -> None:
        """Create the account every inbound call arrives on."""
        cfg = self.options.endpoint
        acc_cfg = pj.AccountConfig()
        host = cfg.public_address or cfg.listen
        acc_cfg.idUri = f"sip:attendant@{host}:{cfg.port}"
        if cfg.transport == "tcp":
            acc_cfg.idUri += ";transport=tcp"
        media = acc_cfg.mediaConfig.transportConfig
        media.port = cfg.rtp_ports[0]
        media.portRange = max(0, cfg.rtp_ports[1] - cfg.rtp_ports[0])
        media.boundAddress = cfg.listen
        if cfg.public_address:
            media.publicAddress = cfg.public_address
        acc_cfg.natConfig.sdpNatRewriteUse = 0
        account = _Account(self)
        account.create(acc_cfg, True)  # the default account: every INVITE lands here
        self.account = account
        self._write_status()

    def on_stopping(self) -> None:
        """Drop every pjsua2 object before libDestroy (pjsua2 requires it)."""
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
        if not self.accepting or len(self.calls) >= self.options.endpoint.max_calls:
            self._reject(prm.callId, draining=not self.accepting)
            return
        flow = self.flow
        call = InboundCall(self, prm.callId, flow, "", "")
        info = call.getInfo()
        call.called = choose_called(flow, request_user(message), uri_user(str(info.localUri)))
        call.caller = uri_user(str(info.remoteUri))
        self.calls[call.session] = call
        self.totals["answered"] += 1
        log.info("call %d from %s to %s (attendant %s)", call.session, call.caller or "?",
                 call.called or "?", flow.attendant_for(call.called).key)
        call.ring_then_answer()
        self._write_status()

    def _reject(self, call_id: int, draining: bool) -> None:
        self._rejected_serial += 1
        rejected = _Rejected(self, self.account, call_id, self._rejected_serial)
        self.rejected[rejected.serial] = rejected
        self.totals["rejected_draining" if draining else "rejected_busy"] += 1
        prm = pj.CallOpParam(True)
        prm.statusCode = 503
        prm.reason = "Service Unavailable"
        header = pj.SipHeader()
        header.hName = "Retry-After"
        header.hValue = str(self.options.retry_after)
        prm.txOption.headers.append(header)
        log.warning("503 for a new call: %s", "shutting down" if draining
                    else f"{len(self.calls)} calls, the maximum")
        try:
            rejected.answer(prm)
        except pj.Error as exc:
            log.error("cannot answer 503: %s", exc.info())
        self._write_status()

    def deliver(self, session: int, event: Event | Deliverable) -> None:
        """Feed an event to a call if it is still up (tasks name calls by session)."""
        call = self.calls.get(session)
        if call is not None:
            call.feed(event)

    def render(self, items: tuple[Say, ...]) -> Future[list[Path]]:
        """Render prompts to WAV files on the renderer pool (never on the worker)."""
        audio = self.audio
        return self._pool.submit(lambda: [audio.wav_for(item) for item in items])

    def begin_recording(self, box: str, caller: str, session: int) -> tuple[int, Path]:
        """A new message in the voicemail store (a quick SQLite insert)."""
        recording = self.voicemail.begin(box, caller, str(session))
        return recording.id, recording.path

    def finish_recording(self, recording_id: int, reason: str) -> None:
        """Finalise a message on the pool: ``finish`` may wait for the file to settle."""
        store = self.voicemail

        def finish() -> None:
            try:
                message = store.finish(recording_id, reason)
                log.info("voicemail %d for %s saved (%s)", recording_id, message.box, reason)
            except Exception:
                log.exception("cannot finish voicemail %d", recording_id)

        self._pool.submit(finish)

    def destination_uri(self, destination: str) -> str:
        """A SIP URI to ring: URIs with a host as they are, bare numbers via the proxy."""
        if destination.startswith(("sip:", "sips:")) and "@" in destination:
            return destination
        user = destination.split(":", 1)[1] if ":" in destination else destination
        proxy = self.options.endpoint.outbound_proxy
        if not proxy:
            raise ValueError(f"cannot ring {destination!r} without --outbound-proxy "
                             "(it has no host)")
        host = uri_user("sip:x@" + proxy.split(":", 1)[-1]) or proxy.split(":", 1)[-1]
        return f"sip:{user}@{host.split(';')[0].lstrip('/')}"

    def call_ended(self, call: InboundCall) -> None:
        """Inside the call's DISCONNECTED callback: forget it, record its summary."""
        self.calls.pop(call.session, None)
        stats = call.stats
        self.recent.append({
            "session": call.session, "caller": call.caller, "called": call.called,
            "attendant": call.state.attendant, "outcome": call.state.outcome,
            "seconds": round(time.monotonic() - call.started_at, 2),
            "recordings": [str(p) for p in call.recordings],
            "rtp": {"caller_rx": stats.caller_rx, "caller_tx": stats.caller_tx,
                    "transfer_rx": stats.leg_rx, "transfer_tx": stats.leg_tx},
        })
        self._write_status()
        if not self.accepting and not self.calls:
            self.worker.post(self._finish)

    def adopt_leg(self, leg: OutboundLeg) -> None:
        """Keep a leg its caller let go of until the leg's own DISCONNECTED."""
        if not leg.ended:
            self.orphans[leg.serial] = leg

    def leg_event(self, session: int, serial: int, what: str, code: int) -> None:
        """Route a transfer leg's state change to its caller (or tidy up an orphan)."""
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

    # --- worker thread: reload and shutdown -----------------------------------------------

    def _swap_flow(self, flow: Flow) -> None:
        self.flow = flow
        self.totals["reloads"] += 1
        self._write_status()

    def _drain(self) -> None:
        if not self.accepting:
            log.warning("second stop request: hanging up every call now")
            self._hang_up_all()
            return
        self.accepting = False
        log.info("shutting down: new calls get 503; %d call(s) have %.0f s to finish",
                 len(self.calls), self.options.grace)
        self._write_status()
        if not self.calls:
            self._finish()
            return
        self.worker.call_later(self.options.grace, self._hang_up_all)

    def _hang_up_all(self) -> None:
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

    def _write_status(self, stopped: bool = False) -> None:
        status = {
            "pid": os.getpid(), "accepting": self.accepting and not stopped,
            "stopped": stopped, "active_calls": len(self.calls),
            "max_calls": self.options.endpoint.max_calls, **self.totals,
            "recent": list(self.recent),
        }
        tmp = self._status_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(status, indent=1))
            tmp.replace(self._status_path)
        except OSError as exc:
            log.error("cannot write %s: %s", self._status_path, exc)
