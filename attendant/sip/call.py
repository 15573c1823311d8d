"""One inbound call: pjsua2 callbacks in, engine events through ``step()``, actions out.

:class:`InboundCall` is the SIP twin of :class:`attendant.sim.call.Simulator`:
the simulator prints actions, this class turns them into pjsua2 calls
(players, recorders, outgoing legs) and turns pjsua2 callbacks into events.

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

import contextlib
import logging
import time
import wave
from concurrent.futures import Future
from dataclasses import dataclass, field
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
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.state import CallState, Phase, initial_state
from attendant.model import Flow
from attendant.sip.endpoint import TimerHandle
from attendant.sip.host import CallHost
from attendant.sip.legs import (
    GuardedCall,
    OutboundLeg,
    audio_entry,
    audio_media,
    call_setting,
    dial,
    error_text,
    port_id,
    serials,
    transfer_failure,
)
from attendant.storage import printable

log = logging.getLogger("attendant.sip.call")


def _seconds_of(paths: list[Path]) -> float:
    """How long a playlist of WAV files lasts (headers only; unreadable files count 1 s)."""
    total = 0.0
    for path in paths:
        try:
            with wave.open(str(path), "rb") as wav:
                total += wav.getnframes() / max(1, wav.getframerate())
        except (OSError, EOFError, wave.Error):
            total += 1.0
    return max(0.1, total)


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A playlist whose end-of-file posts PromptFinished; never destroyed in its callback."""

    def __init__(self, host: CallHost, session: int, token: int):
        super().__init__()
        self._host, self._session, self._token = host, session, token
        self._done = False

    def onEof2(self) -> None:
        # pjmedia's event thread: post only. This object must never be destroyed on this
        # thread: the worker retires players rather than dropping them (Worker.retire).
        self._host.worker.post(self._ended)

    def _ended(self) -> None:
        """Worker thread: the first end-of-file of this playlist finishes its prompt."""
        if not self._done:
            self._done = True
            self._host.deliver(self._session, PromptFinished(self._token))


@dataclass
class _Stats:
    """RTP packets of the caller's stream and of the answered transfer leg's."""

    caller_rx: int = 0
    caller_tx: int = 0
    leg_rx: int = 0
    leg_tx: int = 0


@dataclass
class _Bridge:
    action: act.Transfer
    remaining: list[str]
    legs: dict[int, OutboundLeg] = field(default_factory=dict)
    answered: OutboundLeg | None = None
    timer: TimerHandle | None = None
    last_reason: str = "unreachable"
    connected: bool = False


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
        self._stats = _Stats()
        self._media: Any = None
        self._player: _Player | None = None
        self._want: act.Play | None = None  # the Play the engine is waiting on
        self._ready: tuple[int, list[Path]] | None = None  # rendered, waiting for media
        self._timers: dict[str, TimerHandle] = {}
        self._recorder: Any = None
        self._recording: int | None = None
        self._recording_since = 0.0
        self._stop_reason = "hash"
        self._ringback: Any = None
        self._bridge: _Bridge | None = None
        self._refer = False
        self._confirmed = False
        self.recordings: list[Path] = []
        #: The address the INVITE came from (admission is counted per source).
        self.source = ""
        #: From a --trusted-source: its caller ID is believed (feature codes need no PIN).
        self.trusted = False
        #: Why a safety timer hung this call up ("" when it was not).
        self.ended_by = ""
        self._ack_timer: TimerHandle | None = None
        self._mute_timer: TimerHandle | None = None
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
        self.host.worker.post(self.host.deliver, self.session, _Answer())

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
        if self._recorder is not None:
            self._check_recording_space(now)
        safety = self.host.safety
        if self._held_since is not None:
            self._rx_since = now  # a held caller legitimately sends nothing
            if 0 < safety.hold_timeout <= now - self._held_since:
                self._end_for("held", f"on hold for {now - self._held_since:.0f} s")
            return
        self._sample_caller()
        received = self._stats.caller_rx
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
            self.host.worker.post(self.host.deliver, self.session, _Confirmed())

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
        old, self._media = self._media, audio_media(self, entry)
        port = port_id(self._media)
        if old is not None and self._media is not None and port != self._port:
            self._reattach(old)
        elif old is None and self._media is not None and self._recorder is not None:
            with contextlib.suppress(pj.Error):  # recording began before media came up
                self._media.startTransmit(self._recorder)
        self._port = port
        if self._media is not None:
            if self._ready is not None:
                token, paths = self._ready
                self._ready = None
                self._cancel_mute()
                self._start_player(token, paths)
            self._connect_bridge()

    def _reattach(self, old: Any) -> None:
        """A re-INVITE gave the call a new audio port: move what played to or from the old."""
        for source in (self._player, self._ringback):
            if source is not None:
                with contextlib.suppress(pj.Error):
                    source.stopTransmit(old)
                with contextlib.suppress(pj.Error):
                    source.startTransmit(self._media)
        if self._recorder is not None:
            with contextlib.suppress(pj.Error):
                old.stopTransmit(self._recorder)
            with contextlib.suppress(pj.Error):
                self._media.startTransmit(self._recorder)
        bridge = self._bridge
        if bridge is not None and bridge.connected:
            bridge.connected = False
            self._connect_bridge()

    def onStreamDestroyed(self, prm: Any) -> None:
        # The caller's stream is about to go (also when the caller hangs up): keep its counts.
        self._read_stream(self, prm.streamIdx)

    def onDtmfDigit(self, prm: Any) -> None:  # on a media thread: post only
        self.host.worker.post(self.host.deliver, self.session,
                              _Dtmf(str(prm.digit), time.monotonic()))

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
            self.host.worker.post(self.host.deliver, self.session, _HangUp())

    # --- events into the engine -------------------------------------------------------

    def feed(self, event: Event | _Internal) -> None:
        """Apply one event (or an internal step such as answering) to this call."""
        if self.ended:
            return
        received_at: float | None = None
        if isinstance(event, _Dtmf):
            received_at, event = event.at, Digit(event.key)
        if isinstance(event, _Answer):
            self._answer_ok()
            return
        if isinstance(event, _Confirmed):
            event = CallStarted(datetime.now(UTC), self.caller, self.called,
                                trusted=self.trusted)
        if isinstance(event, _HangUp):
            self._hangup(200)
            return
        if isinstance(event, _Rendered):
            self.rendered(event.token, event.done)
            return
        if isinstance(event, TimerFired):
            self._timers.pop(event.name, None)
            if event.name.startswith("record:"):
                self._stop_reason = "max_length"
        elif isinstance(event, Digit):
            self._stop_reason = "hash"
        if isinstance(event, PromptFinished) and self._want is not None \
                and self._want.token == event.token:
            self._want = None
            self._ready = None
            self._cancel_mute()
            self._drop_player()
        before = self.state.phase
        self.state, actions = step(self.flow, self.state, event)
        self.host.stepped(self, event, self.state, tuple(actions))
        if before is not self.state.phase:
            log.debug("call %d: %s -> %s", self.session, before.value, self.state.phase.value)
        for action in actions:
            if self.ended:
                break
            self._apply(action)
        if received_at is not None:
            self.host.dtmf_applied(received_at)

    def _apply(self, action: act.Action) -> None:
        if isinstance(action, act.Play):
            self._play(action)
        elif isinstance(action, act.StopPlayback):
            self._want = None
            self._ready = None
            self._cancel_mute()
            self._drop_player()
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
        elif isinstance(action, act.EnqueueCall):
            self.host.worker.post(self.host.enqueue, self.session, action)  # sip/queues.py
        elif isinstance(action, act.AgentCommand):
            self.host.worker.post(self.host.agent_command, self.session, action)
        elif isinstance(action, act.QueueKey):
            self.host.worker.post(self.host.queue_key, self.session, action.key)
        elif isinstance(action, act.LeaveQueue):
            pass  # the queue runner hears of every end of a queued call (Server.call_ended)
        elif isinstance(action, act.VerifyPin):
            self.host.verify_pin(self.session, self.flow, action)
        elif isinstance(action, act.RecordVoicemail):
            self._record(action)
        elif isinstance(action, act.StopRecording):
            self._stop_recording()
        else:
            assert isinstance(action, act.Disconnect)
            log.info("call %d ends: %s", self.session, action.reason)
            self._hangup(200)

    # --- prompts ------------------------------------------------------------------------

    def _play(self, action: act.Play) -> None:
        self._drop_player()
        self._ready = None
        self._cancel_mute()
        self._want = action
        host, session, token = self.host, self.session, action.token
        future = host.render(action.items, self.flow)

        def rendered(done: Future[list[Path]]) -> None:  # renderer thread: post only
            host.worker.post(host.deliver, session, _Rendered(token, done))

        future.add_done_callback(rendered)

    def rendered(self, token: int, done: Future[list[Path]]) -> None:
        """Prompt files are ready (or failed): play them if the engine still wants them."""
        if self.ended or self._want is None or self._want.token != token:
            return
        try:
            paths = done.result()
        except Exception as exc:
            # Never dead air for ever: the flow moves on as if the prompt had played.
            log.error("call %d: cannot render prompt: %s", self.session, exc)
            self.feed(PromptFinished(token))
            return
        if self._media is None:
            # No audio port (yet, or the caller holds with no media): the prompt "plays"
            # silently for its length, so menu timers run whether or not media flows.
            self._ready = (token, paths)
            self._cancel_mute()
            host, session = self.host, self.session
            self._mute_timer = host.worker.call_later(
                _seconds_of(paths), lambda: host.deliver(session, PromptFinished(token)))
        else:
            self._start_player(token, paths)

    def _cancel_mute(self) -> None:
        timer, self._mute_timer = self._mute_timer, None
        if timer is not None:
            timer.cancel()

    def _start_player(self, token: int, paths: list[Path]) -> None:
        player = _Player(self.host, self.session, token)
        names = pj.StringVector()
        for path in paths:
            names.append(str(path))
        player.createPlaylist(names, f"play-{self.session}-{token}", pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(self._media)
        self._player = player

    def _drop_player(self) -> None:
        player, self._player = self._player, None
        if player is not None:
            player._done = True  # a late end-of-file for it is not reported
            if self._media is not None:
                with contextlib.suppress(pj.Error):
                    player.stopTransmit(self._media)
            # Not destroyed now: an end-of-file callback may be running on pjmedia's event
            # thread, and the last reference must not go there (Worker.retire).
            self.host.worker.retire(player)

    # --- voicemail ----------------------------------------------------------------------

    def _record(self, action: act.RecordVoicemail) -> None:
        full = self.host.box_full(self.flow, action.box)
        if full is not None:
            log.warning("call %d: voicemail box %s is full (%s): no message recorded",
                        self.session, action.box, full)
            self.host.worker.post(self.host.deliver, self.session,
                                  RecordingFinished(0.0, full, box_full=True))
            return
        problem = self.host.recording_problem()
        recording_id: int | None = None
        if problem is None:
            try:
                recording_id, path = self.host.begin_recording(action.box, self.caller,
                                                               self.session)
                path.parent.mkdir(parents=True, exist_ok=True)
                recorder = pj.AudioMediaRecorder()
                recorder.createRecorder(str(path))
            except Exception as exc:  # the store is locked or gone, the folder unwritable...
                problem = f"voicemail store unavailable ({error_text(exc)})"
        if problem is not None:
            # Never silence: the engine apologises and ends the call.
            log.error("call %d: cannot record a message for %s: %s", self.session,
                      action.box, problem)
            if recording_id is not None:
                self.host.finish_recording(recording_id, "failed")
            self.host.recording_failed()
            self.host.worker.post(self.host.deliver, self.session,
                                  RecordingFinished(0.0, problem))
            return
        if self._media is not None:
            self._media.startTransmit(recorder)
        self._recorder, self._recording = recorder, recording_id
        self._recording_since = time.monotonic()
        self.recordings.append(path)
        log.info("call %d: recording a message for %s in %s", self.session, action.box, path)

    def _check_recording_space(self, now: float) -> None:
        """The periodic sweep, while recording: stop before the disk is full, keep the audio."""
        problem = self.host.recording_problem()
        if problem is None:
            return
        seconds = now - self._recording_since
        log.error("call %d: stopping the recording after %.0f s: %s", self.session, seconds,
                  problem)
        self._stop_recording("disk_full")
        self.host.recording_failed()
        self.host.deliver(self.session, RecordingFinished(seconds, problem))

    def _stop_recording(self, reason: str = "") -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        if self._media is not None:
            with contextlib.suppress(pj.Error):
                self._media.stopTransmit(recorder)
        del recorder  # closes the WAV file (pjsua writes its header on destroy)
        if self._recording is not None:
            self.host.finish_recording(self._recording, reason or self._stop_reason)
            self._recording = None

    # --- transfers ----------------------------------------------------------------------

    def _transfer(self, action: act.Transfer) -> None:
        if action.mode == "refer":
            self._refer = True
            prm = pj.CallOpParam(True)
            try:
                self.xfer(self.host.destination_uri(action.destinations[0]), prm)
            except (pj.Error, ValueError) as exc:
                log.warning("call %d: REFER failed: %s", self.session, exc)
                self._refer = False
                self.host.worker.post(self.host.deliver, self.session,
                                      TransferResult(False, "unreachable"))
            return
        bridge = _Bridge(action, list(action.destinations))
        self._bridge = bridge
        self._start_ringback()
        if action.ring == "simultaneous":
            while bridge.remaining:
                self._dial_next(bridge)
            if bridge.legs:
                bridge.timer = self.host.worker.call_later(action.ring_seconds,
                                                           self._ring_timeout)
                return
            self._bridge_failed(bridge)
        else:
            self._ring_next(bridge)

    def _dial_next(self, bridge: _Bridge) -> None:
        leg = dial(self.host, self.session, bridge.remaining.pop(0))
        if leg is None:
            bridge.last_reason = "unreachable"
            return
        bridge.legs[leg.serial] = leg

    def _ring_next(self, bridge: _Bridge) -> None:
        """``ring: serial``: ring the next destination that can be dialled, for its own
        ``ring_seconds``; the transfer fails when none is left."""
        if bridge.timer is not None:
            bridge.timer.cancel()
            bridge.timer = None
        while bridge.remaining and not bridge.legs:
            self._dial_next(bridge)
        if not bridge.legs:
            self._bridge_failed(bridge)
            return
        bridge.timer = self.host.worker.call_later(bridge.action.ring_seconds,
                                                   self._ring_timeout)

    def join(self, leg: OutboundLeg, who: str) -> None:
        """Bridge this caller with an answered leg (a queue agent), as an answered transfer:
        media both ways, RTP counted, either side hanging up ends both."""
        leg.session = self.session
        bridge = _Bridge(act.Transfer("user", who, who, ()), [], {leg.serial: leg}, leg)
        self._bridge = bridge
        self._stop_ringback()
        self._connect_bridge()

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

    def _ring_timeout(self) -> None:
        bridge = self._bridge
        if self.ended or bridge is None or bridge.answered is not None:
            return
        bridge.timer = None
        bridge.last_reason = "no_answer"
        for leg in list(bridge.legs.values()):
            bridge.legs.pop(leg.serial)
            self.host.adopt_leg(leg)
            leg.cancel_ringing()
        if bridge.remaining and bridge.action.ring == "serial":
            self._ring_next(bridge)
            return
        self._bridge_failed(bridge)

    def leg_event(self, serial: int, what: str, code: int) -> bool:
        """A leg was answered (``confirmed``), got media (``media``) or ended (``ended``).

        Returns False when the leg is not (or no longer) part of this call's transfer.
        """
        bridge = self._bridge
        if self.ended or bridge is None or serial not in bridge.legs:
            return False
        leg = bridge.legs[serial]
        if what == "confirmed":
            if bridge.answered is None:
                bridge.answered = leg
                if bridge.timer is not None:
                    bridge.timer.cancel()
                    bridge.timer = None
                for other in list(bridge.legs.values()):
                    if other is not leg:
                        bridge.legs.pop(other.serial)
                        self.host.adopt_leg(other)
                        other.cancel_ringing()
                self._stop_ringback()
                self._connect_bridge()
                log.info("call %d: leg %d answered", self.session, serial)
                self.feed(TransferResult(True))
        elif what == "media":
            self._connect_bridge()
        elif what == "ended":
            bridge.legs.pop(serial, None)
            if bridge.answered is not None and bridge.answered.serial == serial:
                self._stats.leg_rx, self._stats.leg_tx = leg.rtp_counts()  # its last counts
                bridge.answered = None
                self._bridge = None
                log.info("call %d: the transfer target hung up", self.session)
                self._hangup(200)  # either side hanging up ends both
                return True
            if bridge.answered is None:
                bridge.last_reason = transfer_failure(code)
                log.info("call %d: leg %d failed with %d (%s)", self.session, serial, code,
                         bridge.last_reason)
                if not bridge.legs:
                    if bridge.remaining and bridge.action.ring == "serial":
                        self._ring_next(bridge)  # the next member rings its own ring_seconds
                    else:
                        self._bridge_failed(bridge)
        return True

    def _bridge_failed(self, bridge: _Bridge) -> None:
        if bridge.timer is not None:
            bridge.timer.cancel()
        self._bridge = None
        self._stop_ringback()
        self.feed(TransferResult(False, bridge.last_reason))

    def _connect_bridge(self) -> None:
        bridge = self._bridge
        if bridge is None or bridge.answered is None or bridge.connected:
            return
        leg_media = bridge.answered.media
        if self._media is None or leg_media is None:
            return
        self._drop_player()
        self._media.startTransmit(leg_media)
        leg_media.startTransmit(self._media)
        bridge.connected = True

    def _start_ringback(self) -> None:
        """Music on hold while the transfer rings, or a ringback tone without music."""
        if self._media is None:
            return
        music = self.host.music_on_hold(self.flow)
        if music is not None:
            player = pj.AudioMediaPlayer()  # no subclass: no end-of-file callback; it loops
            try:
                player.createPlayer(str(music))
                player.startTransmit(self._media)
                self._ringback = player
                return
            except pj.Error as exc:
                log.warning("call %d: cannot play music on hold %s (%s); ringback instead",
                            self.session, music, exc.info())
        tone = pj.ToneGenerator()
        tone.createToneGenerator(self.host.clock_rate, 1)
        desc = pj.ToneDesc()
        desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = 440, 480, 2000, 4000
        tones = pj.ToneDescVector()
        tones.append(desc)
        tone.play(tones, True)
        tone.startTransmit(self._media)
        self._ringback = tone

    def _stop_ringback(self) -> None:
        tone, self._ringback = self._ringback, None
        if tone is not None and self._media is not None:
            with contextlib.suppress(pj.Error):
                tone.stopTransmit(self._media)

    # --- ending -------------------------------------------------------------------------

    @property
    def stats(self) -> _Stats:
        """RTP counts so far: read from pjmedia while the call is up, then the last ones.

        Read on demand (status snapshots, hang-up, stream end) rather than sampled by a
        timer: a 1 s timer per call cost a few % of a core at 500 calls.
        """
        if not self.ended:
            self._sample_now()
        return self._stats

    def _sample_now(self, caller: bool = True) -> None:
        if caller:
            self._sample_caller()
        leg = self._answered_leg()
        if leg is not None:
            self._stats.leg_rx, self._stats.leg_tx = leg.rtp_counts()

    def _sample_caller(self) -> None:
        """Read the caller's RTP counts now (the media sweep needs only these)."""
        entry = audio_entry(self)
        if entry is not None:
            self._read_stream(self, entry[0])

    def _read_stream(self, call: pj.Call, index: int) -> None:
        with contextlib.suppress(pj.Error):
            rtcp = call.getStreamStat(index).rtcp
            self._stats.caller_rx = int(rtcp.rxStat.pkt)
            self._stats.caller_tx = int(rtcp.txStat.pkt)

    def _answered_leg(self) -> OutboundLeg | None:
        return self._bridge.answered if self._bridge is not None else None

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
        self._media = None
        if self.state.phase is not Phase.ENDED and self.state.phase is not Phase.NEW:
            self.state, actions = step(self.flow, self.state, Hangup())
            self.host.stepped(self, Hangup(), self.state, tuple(actions))
            for action in actions:
                if isinstance(action, act.StopRecording):
                    self._stop_recording("hangup")
        self.ended = True
        self._stop_recording("hangup")
        self._drop_player()
        self._stop_ringback()
        self._cancel_mute()
        for handle in (self._ack_timer,):
            if handle is not None:
                handle.cancel()
        self._ack_timer = None
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        bridge, self._bridge = self._bridge, None
        if bridge is not None:
            if bridge.timer is not None:
                bridge.timer.cancel()
            legs = list(bridge.legs.values())
            bridge.legs.clear()
            bridge.answered = None
            for leg in legs:
                self.host.adopt_leg(leg)
                leg.cancel_ringing()
        self._media = None
        self._ringback = None
        log.info("call %d disconnected (%d): %s", self.session, code,
                 self.state.outcome or self.state.phase.value)
        self.host.call_ended(self)


# Internal steps a call posts to itself through the worker queue.
@dataclass(frozen=True, slots=True)
class _Answer:
    pass


@dataclass(frozen=True, slots=True)
class _Confirmed:
    pass


@dataclass(frozen=True, slots=True)
class _HangUp:
    pass


@dataclass(frozen=True, slots=True)
class _Dtmf:
    """A key as the DTMF callback saw it, with its arrival time (for the latency metric)."""

    key: str
    at: float


@dataclass(frozen=True, slots=True)
class _Rendered:
    token: int
    done: Future[list[Path]]


_Internal = _Answer | _Confirmed | _HangUp | _Rendered | _Dtmf
Deliverable = Event | _Internal
__all__ = ["Deliverable", "InboundCall"]
