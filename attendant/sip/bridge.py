"""A bridged transfer of one call: ringing the targets, ringback, joining the media.

For a ``mode: bridge`` transfer (and a queue agent who answered)
:class:`TransferBridge` dials the destinations (all at once, or one after the
other for ``ring_seconds`` each), plays music on hold or a ringback tone to the
caller meanwhile, and on the first answer cancels the others and connects the two
audio ports both ways. The engine hears one ``TransferResult``; once bridged,
either side hanging up ends both. Legs that stop belonging to the call (rung out,
beaten to the answer) go to the host, which keeps them until their DISCONNECTED.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.engine import actions as act
from attendant.engine.events import TransferResult
from attendant.sip.call_events import RingTimeout
from attendant.sip.endpoint import TimerHandle
from attendant.sip.failures import transfer_failure
from attendant.sip.legs import OutboundLeg, dial
from attendant.sip.playback import move, owned_by

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.call")


@dataclass
class _Ringing:
    """One transfer in progress: what is left to dial, the legs ringing, the answer."""

    action: act.Transfer
    remaining: list[str]
    legs: dict[int, OutboundLeg] = field(default_factory=dict)
    answered: OutboundLeg | None = None
    timer: TimerHandle | None = None
    last_reason: str = "unreachable"
    connected: bool = False


class TransferBridge:
    """The transfer legs and the ringback of one call (worker thread only)."""

    def __init__(self, call: InboundCall):
        self._call = owned_by(call)
        self._now: _Ringing | None = None
        self._ringback: Any = None

    @property
    def answered(self) -> OutboundLeg | None:
        """The leg the caller talks to, when a transfer was answered."""
        return self._now.answered if self._now is not None else None

    def start(self, action: act.Transfer) -> None:
        """Ring ``action``'s destinations with ringback to the caller."""
        ringing = _Ringing(action, list(action.destinations))
        self._now = ringing
        self._start_ringback()
        if action.ring == "simultaneous":
            while ringing.remaining:
                self._dial_next(ringing)
            if ringing.legs:
                ringing.timer = self._ring_timer(action.ring_seconds)
                return
            self._failed(ringing)
        else:
            self._ring_next(ringing)

    def join(self, leg: OutboundLeg, who: str) -> None:
        """Bridge the caller with an already answered leg (a queue agent)."""
        leg.session = self._call.session
        self._now = _Ringing(act.Transfer("user", who, who, ()), [], {leg.serial: leg}, leg)
        self._stop_ringback()
        self.connect()

    def leg_event(self, serial: int, what: str, code: int) -> bool:
        """A leg was answered (``confirmed``), got media (``media``) or ended (``ended``).

        Returns False when the leg is not (or no longer) part of this call's transfer.
        """
        ringing, call = self._now, self._call
        if call.ended or ringing is None or serial not in ringing.legs:
            return False
        leg = ringing.legs[serial]
        if what == "confirmed":
            if ringing.answered is None:
                self._answered(ringing, leg)
        elif what == "media":
            self.connect()
        elif what == "ended":
            ringing.legs.pop(serial, None)
            if ringing.answered is not None and ringing.answered.serial == serial:
                call.rtp.leg_rx, call.rtp.leg_tx = leg.rtp_counts()  # its last counts
                ringing.answered = None
                self._now = None
                log.info("call %d: the transfer target hung up", call.session)
                call.hang_up()  # either side hanging up ends both
                return True
            if ringing.answered is None:
                ringing.last_reason = transfer_failure(code)
                log.info("call %d: leg %d failed with %d (%s)", call.session, serial, code,
                         ringing.last_reason)
                if not ringing.legs:
                    if ringing.remaining and ringing.action.ring == "serial":
                        self._ring_next(ringing)  # the next member rings its own ring_seconds
                    else:
                        self._failed(ringing)
        return True

    def connect(self) -> None:
        """Join the caller's and the answered leg's audio, once both ports exist."""
        ringing, call = self._now, self._call
        if ringing is None or ringing.answered is None or ringing.connected:
            return
        leg_media = ringing.answered.media
        if call.media is None or leg_media is None:
            return
        call.playback.silence()
        call.media.startTransmit(leg_media)
        leg_media.startTransmit(call.media)
        ringing.connected = True

    def reattach(self, old: Any, new: Any) -> None:
        """A re-INVITE moved the caller to a new audio port: ringback and bridge follow."""
        if self._ringback is not None:
            move(self._ringback, old, new)
        if self._now is not None and self._now.connected:
            self._now.connected = False
            self.connect()

    def close(self) -> None:
        """The caller is gone: stop the ringback, give every leg to the host to end."""
        self._stop_ringback()
        ringing, self._now = self._now, None
        if ringing is not None:
            if ringing.timer is not None:
                ringing.timer.cancel()
            legs = list(ringing.legs.values())
            ringing.legs.clear()
            ringing.answered = None
            for leg in legs:
                self._release(leg)
        self._ringback = None

    def _answered(self, ringing: _Ringing, leg: OutboundLeg) -> None:
        call = self._call
        ringing.answered = leg
        if ringing.timer is not None:
            ringing.timer.cancel()
            ringing.timer = None
        for other in list(ringing.legs.values()):
            if other is not leg:
                ringing.legs.pop(other.serial)
                self._release(other)
        self._stop_ringback()
        self.connect()
        log.info("call %d: leg %d answered", call.session, leg.serial)
        call.feed(TransferResult(True))

    def _release(self, leg: OutboundLeg) -> None:
        self._call.host.adopt_leg(leg)
        leg.cancel_ringing()

    def _dial_next(self, ringing: _Ringing) -> None:
        leg = dial(self._call.host, self._call.session, ringing.remaining.pop(0))
        if leg is None:
            ringing.last_reason = "unreachable"
            return
        ringing.legs[leg.serial] = leg

    def _ring_next(self, ringing: _Ringing) -> None:
        """``ring: serial``: ring the next destination that can be dialled, for its own
        ``ring_seconds``; the transfer fails when none is left."""
        if ringing.timer is not None:
            ringing.timer.cancel()
            ringing.timer = None
        while ringing.remaining and not ringing.legs:
            self._dial_next(ringing)
        if not ringing.legs:
            self._failed(ringing)
            return
        ringing.timer = self._ring_timer(ringing.action.ring_seconds)

    def _ring_timer(self, seconds: float) -> TimerHandle:
        # Through the call's queue by session, like every call timer: a timer left behind
        # must not reach a call that is gone.
        host, session = self._call.host, self._call.session
        return host.worker.call_later(seconds, lambda: host.deliver(session, RingTimeout()))

    def ring_timeout(self) -> None:
        """``ring_seconds`` passed with no answer: next destination, or the transfer fails."""
        ringing = self._now
        if self._call.ended or ringing is None or ringing.answered is not None:
            return
        ringing.timer = None
        ringing.last_reason = "no_answer"
        for leg in list(ringing.legs.values()):
            ringing.legs.pop(leg.serial)
            self._release(leg)
        if ringing.remaining and ringing.action.ring == "serial":
            self._ring_next(ringing)
            return
        self._failed(ringing)

    def _failed(self, ringing: _Ringing) -> None:
        if ringing.timer is not None:
            ringing.timer.cancel()
        self._now = None
        self._stop_ringback()
        self._call.feed(TransferResult(False, ringing.last_reason))

    def _start_ringback(self) -> None:
        """Music on hold while the transfer rings, or a ringback tone without music."""
        call = self._call
        if call.media is None:
            return
        music = call.host.prompts.music_on_hold(call.flow)
        if music is not None:
            player = pj.AudioMediaPlayer()  # no subclass: no end-of-file callback; it loops
            try:
                player.createPlayer(str(music))
                player.startTransmit(call.media)
                self._ringback = player
                return
            except pj.Error as exc:
                log.warning("call %d: cannot play music on hold %s (%s); ringback instead",
                            call.session, music, exc.info())
        tone = pj.ToneGenerator()
        tone.createToneGenerator(call.host.clock_rate, 1)
        desc = pj.ToneDesc()
        desc.freq1, desc.freq2, desc.on_msec, desc.off_msec = 440, 480, 2000, 4000
        tones = pj.ToneDescVector()
        tones.append(desc)
        tone.play(tones, True)
        tone.startTransmit(call.media)
        self._ringback = tone

    def _stop_ringback(self) -> None:
        tone, self._ringback = self._ringback, None
        media = self._call.media
        if tone is not None and media is not None:
            with contextlib.suppress(pj.Error):
                tone.stopTransmit(media)
