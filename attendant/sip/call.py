"""One inbound call: pjsua2 callbacks in, engine events through ``step()``, actions out.

:class:`InboundCall` is the SIP twin of :class:`attendant.sim.call.Simulator`:
the simulator prints actions, this class turns them into pjsua2 calls
(players, recorders, outgoing legs) and turns pjsua2 callbacks into events.
The media it drives live beside it: the prompt (:mod:`attendant.sip.playback`),
the message recorder (:mod:`attendant.sip.recording`), the transfer legs and
ringback (:mod:`attendant.sip.bridge`) and the RTP counts
(:mod:`attendant.sip.rtp_stats`).

Every method here runs on the pjsip worker thread (see
:mod:`attendant.sip.endpoint`). Callbacks that may arrive elsewhere (player
end-of-file on pjmedia's event thread, RFC 4733 DTMF on its media thread) or
in the middle of pjsip's own processing (call state) only *post* a task naming the call by its
session number; the task looks the call up again, so no queued task keeps a
pjsua2 ``Call`` alive. When a call is DISCONNECTED every Python reference to
it is dropped inside that callback: pjsua2's ``Call`` destructor clears the
user data of its slot, which by a later time may belong to a new call.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pjsua2 as pj

from attendant.engine import actions as act
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    Hangup,
    PromptFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.state import CallState, Phase, initial_state
from attendant.model import Flow
from attendant.sip.bridge import TransferBridge
from attendant.sip.call_events import (
    Answer,
    Confirmed,
    Deliverable,
    Dtmf,
    HangUp,
    Internal,
    Rendered,
    RingTimeout,
)
from attendant.sip.endpoint import TimerHandle
from attendant.sip.failures import transfer_failure
from attendant.sip.greeting_take import GreetingTake
from attendant.sip.host import CallHost
from attendant.sip.legs import (
    GuardedCall,
    OutboundLeg,
    audio_entry,
    audio_media,
    call_setting,
    error_text,
    port_id,
    serials,
)
from attendant.sip.playback import Playback
from attendant.sip.recording import MessageRecording
from attendant.sip.rtp_stats import RtpStats
from attendant.storage import printable

log = logging.getLogger("attendant.sip.call")


class InboundCall(GuardedCall):
    """One caller, with its own engine state and the flow it started on."""

    def __init__(self, host: CallHost, call_id: int, flow: Flow, called: str, caller: str):
        super().__init__(host.account, call_id)
        self.host = host
        self.session = next(serials)
        self.flow = flow  # kept for the whole call: a reload does not change it
        self.called = called
        self.caller = caller
        self.state: CallState = initial_state()
        self.ended = False
        self.started_at = time.monotonic()
        #: The caller's audio port in pjsua's conference bridge (None until media is up).
        self.media: Any = None
        self.rtp = RtpStats()
        self.playback = Playback(self)
        self.recording = MessageRecording(self)
        self.greeting_take = GreetingTake(self)
        self.bridge = TransferBridge(self)
        self._timers: dict[str, TimerHandle] = {}
        self._refer = False
        self._confirmed = False
        #: The address the INVITE came from (admission is counted per source).
        self.source = ""
        #: The trunk the call came in on ("" when it was not sent to a trunk's address).
        self.trunk = ""
        #: The caller asked for its identity to be withheld (Privacy: id): legs keep it so.
        self.private = False
        #: From a --trusted-source: its caller ID is believed (feature codes need no PIN).
        self.trusted = False
        #: Why a safety timer hung this call up ("" when it was not).
        self.ended_by = ""
        self._ack_timer: TimerHandle | None = None
        self._port: int | None = None
        self._held_since: float | None = None
        self._rx_seen = -1
        self._rx_since = time.monotonic()

    # --- answering ----------------------------------------------------------------

    def ring_then_answer(self) -> None:
        """Send 180 Ringing now and 200 OK on the next turn of the worker loop."""
        prm = pj.CallOpParam(True)
        prm.statusCode = 180
        self.answer(prm)
        self.host.worker.post(self.host.deliver, self.session, Answer())

    def _answer_ok(self) -> None:
        if self.ended:
            return
        prm = pj.CallOpParam(True)
        prm.statusCode = 200
        call_setting(prm.opt)
        try:
            self.answer(prm)
        except pj.Error as exc:
            # pjsua already refused the offer (488 for a c= address pjmedia rejects) and
            # ended the INVITE session: one refusal line, no traceback, nothing to answer.
            self._refuse("bad_sdp", f"INVITE refused: its SDP offer cannot be used "
                                    f"({printable(error_text(exc))})")
            return
        grace = self.host.safety.ack_grace
        if grace > 0 and not self._confirmed:
            # A 200 OK nobody ACKs may be a spoofed INVITE aiming our RTP at a victim.
            self._ack_timer = self.host.worker.call_later(grace, self._ack_overdue)

    def _ack_overdue(self) -> None:
        self._ack_timer = None
        if not self.ended and not self._confirmed:
            self._end_for("no_ack", f"no ACK {self.host.safety.ack_grace:g} s after 200 OK")

    def _end_for(self, reason: str, detail: str) -> None:
        """A safety limit ends the call: count it, log it, hang up."""
        if self.ended or self.ended_by:
            return
        self.ended_by = detail
        log.warning("call %d from %s: %s: hanging up", self.session, self.source or "?", detail)
        self.host.dead_call(self.session, reason)
        self._hangup(200)

    def media_check(self, now: float) -> None:
        """The server's periodic sweep: end a call with no RTP, or held, for too long;
        stop a recording before the disk fills."""
        if self.ended or not self._confirmed or self.ended_by:
            return
        self.recording.check_space(now)
        safety = self.host.safety
        if self._held_since is not None:
            self._rx_since = now  # a held caller legitimately sends nothing
            if 0 < safety.hold_timeout <= now - self._held_since:
                self._end_for("held", f"on hold for {now - self._held_since:.0f} s")
            return
        self.rtp.read_caller(self)
        received = self.rtp.caller_rx
        if received != self._rx_seen:
            self._rx_seen, self._rx_since = received, now
        elif 0 < safety.rtp_timeout <= now - self._rx_since:
            self._end_for("no_rtp", f"no RTP for {now - self._rx_since:.0f} s")

    # --- pjsua2 callbacks (worker thread) -------------------------------------------

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._disconnected(int(info.lastStatusCode))
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and not self._confirmed:
            self._confirmed = True
            self._rx_since = time.monotonic()
            if self._ack_timer is not None:
                self._ack_timer.cancel()
                self._ack_timer = None
            self.host.worker.post(self.host.deliver, self.session, Confirmed())

    def onCallMediaState(self, prm: Any) -> None:
        if self.ended:
            return
        entry = audio_entry(self)
        held = entry is not None and entry[1] != pj.PJSUA_CALL_MEDIA_ACTIVE
        if held and self._held_since is None:
            self._held_since = time.monotonic()
            log.info("call %d: the caller put us on hold", self.session)
        elif not held:
            self._held_since = None
        old, self.media = self.media, audio_media(self, entry)
        port = port_id(self.media)
        if old is not None and self.media is not None and port != self._port:
            # A re-INVITE gave the call a new audio port: move what played to or from the old.
            self.playback.reattach(old, self.media)
            self.recording.reattach(old, self.media)
            self.greeting_take.reattach(old, self.media)
            self.bridge.reattach(old, self.media)
        elif old is None and self.media is not None:
            self.recording.media_up(self.media)  # recording began before media came up
            self.greeting_take.media_up(self.media)
        self._port = port
        if self.media is not None:
            self.playback.media_up()
            self.bridge.connect()

    def onStreamDestroyed(self, prm: Any) -> None:
        # The caller's stream is about to go (also when the caller hangs up): keep its counts.
        self.rtp.read_caller(self, prm.streamIdx)

    def onDtmfDigit(self, prm: Any) -> None:  # on a media thread: post only
        self.host.worker.post(self.host.deliver, self.session,
                              Dtmf(str(prm.digit), time.monotonic()))

    def onCallTransferStatus(self, prm: Any) -> None:
        if not prm.finalNotify or not self._refer:
            return
        prm.cont = False
        code = int(prm.statusCode)
        self._refer = False
        result = (TransferResult(True) if 200 <= code < 300
                  else TransferResult(False, transfer_failure(code)))
        self.host.worker.post(self.host.deliver, self.session, result)
        if result.answered:
            self.host.worker.post(self.host.deliver, self.session, HangUp())

    # --- events into the engine -------------------------------------------------------

    def feed(self, event: Event | Internal) -> None:
        """Apply one event (or an internal step such as answering) to this call."""
        if self.ended:
            return
        received_at: float | None = None
        if isinstance(event, Dtmf):
            received_at, event = event.at, Digit(event.key)
        if isinstance(event, Answer):
            self._answer_ok()
            return
        if isinstance(event, Confirmed):
            event = CallStarted(datetime.now(UTC), self.caller, self.called,
                                trusted=self.trusted, overrides=self.host.overrides_now(),
                                greetings=self.host.greetings_now())
        if isinstance(event, HangUp):
            self._hangup(200)
            return
        if isinstance(event, Rendered):
            self.playback.rendered(event.token, event.done)
            return
        if isinstance(event, RingTimeout):
            self.bridge.ring_timeout()
            return
        if isinstance(event, TimerFired):
            self._timers.pop(event.name, None)
            if event.name.startswith("record:"):
                self.recording.stop_reason = "max_length"
        elif isinstance(event, Digit):
            self.recording.stop_reason = "hash"
        elif isinstance(event, PromptFinished):
            self.playback.finished(event.token)
        before = self.state.phase
        self.state, actions = step(self.flow, self.state, event)
        self.host.records.stepped(self, event, self.state, tuple(actions))
        if before is not self.state.phase:
            log.debug("call %d: %s -> %s", self.session, before.value, self.state.phase.value)
        for action in actions:
            if self.ended:
                break
            self._apply(action)
        if received_at is not None:
            self.host.records.dtmf_applied(received_at)

    def _apply(self, action: act.Action) -> None:
        if isinstance(action, act.Play):
            self.playback.play(action)
        elif isinstance(action, act.StopPlayback):
            self.playback.stop()
        elif isinstance(action, act.StartTimer):
            old = self._timers.pop(action.name, None)
            if old is not None:
                old.cancel()
            host, session, name = self.host, self.session, action.name
            self._timers[name] = host.worker.call_later(
                action.seconds, lambda: host.deliver(session, TimerFired(name)))
        elif isinstance(action, act.CancelTimer):
            handle = self._timers.pop(action.name, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(action, act.Transfer):
            self._transfer(action)
        elif isinstance(action, act.EnqueueCall | act.QueueKey | act.AgentCommand):
            self.host.worker.post(self.host.queues.call_action, self.session, action)
        elif isinstance(action, act.LeaveQueue):
            pass  # the queue runner hears of every end of a queued call (Server.call_ended)
        elif isinstance(action, act.SetOverride):
            self.host.set_override(action)
        elif isinstance(action, act.VerifyPin):
            self.host.verify_pin(self.session, self.flow, action)
        elif isinstance(action, act.RecordVoicemail):
            self.recording.start(action)
        elif isinstance(action, act.StopRecording):
            self.recording.stop()
            self.greeting_take.stop()
        elif isinstance(action, act.OpenMailbox):
            self.host.mailboxes.open(self.session, self.source, action)
        elif isinstance(action, act.PlayMessage):
            self.playback.play_message(action.token,
                                       self.host.mailboxes.path(self.session, action.message_id))
        elif isinstance(action, act.SkipMessage):
            self.playback.skip(action.seconds)
        elif isinstance(action, act.MarkMessage):
            self.host.mailboxes.mark(self.session, action)
        elif isinstance(action, act.SetMailboxPin):
            self.host.mailboxes.set_pin(self.session, self.source, action)
        elif isinstance(action, act.RecordGreeting):
            self.greeting_take.start(action)
        elif isinstance(action, act.SaveGreeting):
            self.host.mailboxes.save_greeting(self.session, action,
                                              self.greeting_take.hand_over())
        elif isinstance(action, act.ClearGreeting):
            self.host.mailboxes.clear_greeting(self.session, action)
        else:
            assert isinstance(action, act.Disconnect)
            log.info("call %d ends: %s", self.session, action.reason)
            self._hangup(200)

    # --- transfers ----------------------------------------------------------------------

    def _transfer(self, action: act.Transfer) -> None:
        if action.mode != "refer":
            self.bridge.start(action)
            return
        self._refer = True
        try:
            self.xfer(self.host.destination_uri(action.destinations[0]), pj.CallOpParam(True))
        except (pj.Error, ValueError) as exc:
            log.warning("call %d: REFER failed: %s", self.session, exc)
            self._refer = False
            self.host.worker.post(self.host.deliver, self.session,
                                  TransferResult(False, "unreachable"))

    def join(self, leg: OutboundLeg, who: str) -> None:
        """Bridge this caller with an answered leg (a queue agent), as an answered transfer:
        media both ways, RTP counted, either side hanging up ends both."""
        self.bridge.join(leg, who)

    def refer_to(self, leg: OutboundLeg) -> bool:
        """Hand this caller to the party of an answered leg with REFER/Replaces (queue
        ``mode: refer``); False when the REFER cannot be sent."""
        self._refer = True
        try:
            self.xferReplaces(leg, pj.CallOpParam(True))
        except pj.Error as exc:
            log.warning("call %d: REFER to leg %d failed: %s", self.session, leg.serial,
                        exc.info())
            self._refer = False
            return False
        return True

    def leg_event(self, serial: int, what: str, code: int) -> bool:
        """A transfer leg changed state; False when it is not (or no longer) this call's."""
        return self.bridge.leg_event(serial, what, code)

    # --- ending -------------------------------------------------------------------------

    @property
    def stats(self) -> RtpStats:
        """RTP counts so far: read from pjmedia while the call is up, then the last ones."""
        if not self.ended:
            self._sample_now()
        return self.rtp

    @property
    def recordings(self) -> list[Path]:
        """Every file this call recorded a message to."""
        return self.recording.paths

    def _sample_now(self, caller: bool = True) -> None:
        if caller:
            self.rtp.read_caller(self)
        leg = self.bridge.answered
        if leg is not None:
            self.rtp.leg_rx, self.rtp.leg_tx = leg.rtp_counts()

    def hang_up(self) -> None:
        """Hang up from our side (shutdown); DISCONNECTED follows."""
        self._hangup(200)

    def _hangup(self, code: int) -> None:
        self._sample_now()
        prm = pj.CallOpParam(True)
        prm.statusCode = code
        try:
            self.hangup(prm)
        except pj.Error as exc:
            log.debug("call %d: hangup: %s", self.session, exc.info())

    def _disconnected(self, code: int) -> None:
        """DISCONNECTED: stop everything, tell the engine, drop every reference."""
        if self.ended:
            return
        if code == pj.PJSIP_SC_REQUEST_TIMEOUT and self._confirmed and not self.ended_by:
            # pjsip ended an established call because a request of the dialog went
            # unanswered: with session timers on, the refresh (or the caller's own
            # refreshes stopped). Either way the caller is gone without a BYE.
            self.ended_by = "no answer to the session refresh (session timer)"
            log.warning("call %d from %s: %s", self.session, self.source or "?", self.ended_by)
            self.host.dead_call(self.session, "session_expired")
        self._sample_now(caller=False)  # the caller's media is already gone
        # pjsua removed the call's conference port before this callback: forget it, so the
        # recorder, player and ringback below are destroyed without stopTransmit() to a
        # stale port id (PJ_EINVAL logged on every hang-up; the id may be reused).
        self.media = None
        if self.state.phase is not Phase.ENDED and self.state.phase is not Phase.NEW:
            self.state, actions = step(self.flow, self.state, Hangup())
            self.host.records.stepped(self, Hangup(), self.state, tuple(actions))
            for action in actions:
                if isinstance(action, act.StopRecording):
                    self.recording.stop("hangup")
        self.ended = True
        self.recording.stop("hangup")
        self.greeting_take.discard()
        self.playback.stop()
        self.bridge.close()
        if self._ack_timer is not None:
            self._ack_timer.cancel()
        self._ack_timer = None
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        log.info("call %d disconnected (%d): %s", self.session, code,
                 self.state.outcome or self.state.phase.value)
        self.host.call_ended(self)


__all__ = ["Deliverable", "InboundCall"]
