"""The pjsua2 call objects besides the inbound call: the guard every call object derives
from, and the outgoing legs transfers, queue agents and callbacks ring.

:class:`GuardedCall` keeps every peer-initiated request (REFER, Replaces, redirects,
in-dialog MESSAGE, re-INVITE offers) in our hands, never pjsua's defaults.
:func:`dial` places an :class:`OutboundLeg`, which reports its state to its host by
session and serial number. The media helpers find a call's audio port.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.storage import printable

if TYPE_CHECKING:
    from attendant.sip.host import CallHost

log = logging.getLogger("attendant.sip.call")


def dial(host: CallHost, session: int, destination: str) -> OutboundLeg | None:
    """Place an outgoing leg to ``destination`` for call ``session`` (transfers, queue
    agents, callbacks); None when it cannot be placed (logged: report ``unreachable``)."""
    try:
        uri, account, trunk = host.trunks.route_call(destination)
    except ValueError as exc:
        log.warning("call %d: %s", session, exc)
        return None
    leg = OutboundLeg(host, session, account)
    prm = pj.CallOpParam(True)
    call_setting(prm.opt)
    for name, value in host.trunks.leg_headers(session, trunk):
        header = pj.SipHeader()
        header.hName, header.hValue = name, value
        prm.txOption.headers.append(header)
    try:
        leg.makeCall(uri, prm)
    except pj.Error as exc:
        log.warning("call %d: cannot call %s: %s", session, uri, exc.info())
        leg.ended = True
        return None
    log.info("call %d: ringing %s (leg %d%s)", session, uri, leg.serial,
             f", through trunk {trunk}" if trunk else "")
    return leg


def connect(first: OutboundLeg, second: OutboundLeg) -> bool:
    """Join two legs' audio both ways; False while either has no audio port yet."""
    if first.media is None or second.media is None:
        return False
    first.media.startTransmit(second.media)
    second.media.startTransmit(first.media)
    return True


PLAYABLE = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)


def audio_entry(call: pj.Call) -> tuple[int, int] | None:
    """(index, pjsua media status) of the call's audio stream; None without one."""
    with contextlib.suppress(pj.Error):
        info = call.getInfo()  # keep it referenced: ``media`` points into it (SWIG)
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO:
                return int(media.index), int(media.status)
    return None


def audio_media(call: pj.Call, entry: tuple[int, int] | None) -> Any:
    """The call's audio port, also while the remote side holds us (``sendonly``/``inactive``):
    prompts then play to a port nobody hears, so their end-of-file still moves the menu on."""
    if entry is None or entry[1] not in PLAYABLE:
        return None
    try:
        return call.getAudioMedia(entry[0])
    except pj.Error:
        return None


def port_id(media: Any) -> int | None:
    if media is None:
        return None
    try:
        return int(media.getPortId())
    except pj.Error:
        return None


class GuardedCall(pj.Call):  # type: ignore[misc]
    """A pjsua2 call whose peer-initiated requests are decided here, never by pjsua defaults.

    pjsua obeys an in-dialog REFER by dialling its Refer-To itself, accepts an INVITE
    with Replaces by creating a call outside our accept path, and follows 3xx redirects
    of outgoing legs: toll fraud and crashes (docs/security.md). Every call object the
    server creates derives from this class, so none of those defaults is ever in
    charge. Each refusal is reported to the host, which logs and counts it.
    """

    host: CallHost

    def _refuse(self, reason: str, detail: str, source: str = "") -> None:
        host = getattr(self, "host", None)
        if host is not None:
            host.refused(reason, detail, source or self._peer())

    def _peer(self) -> str:
        """Who is on the other end, for a log line: the INVITE's source, else the remote URI."""
        source = str(getattr(self, "source", ""))
        if source:
            return source
        with contextlib.suppress(pj.Error):
            return printable(str(self.getInfo().remoteUri))
        return "?"

    def onCallTransferRequest(self, prm: Any) -> None:
        # A REFER from the peer. Our own transfers send REFER; we never act on one.
        prm.statusCode = pj.PJSIP_SC_DECLINE
        self._refuse("refer", f"REFER to {prm.dstUri} refused (603)")

    def onCallReplaceRequest(self, prm: Any) -> None:
        # Called on the call an INVITE with Replaces names. Our attended hand-over
        # (refer_to) sends its Replaces INVITE to the agent's phone, never to us: no
        # Replaces arriving here was asked for by the flow, so none may take a call over.
        prm.statusCode = pj.PJSIP_SC_FORBIDDEN
        prm.reason = "Replaces not allowed"
        self._refuse("replaces", "INVITE with Replaces refused (403)",
                     rx_source(prm.rdata))

    def onCallRedirected(self, prm: Any) -> int:
        # A 3xx from a transfer target would make us dial whatever its Contact names.
        self._refuse("redirect", f"3xx redirect to {prm.targetUri} not followed")
        return int(pj.PJSIP_REDIRECT_STOP)

    def onInstantMessage(self, prm: Any) -> None:
        # Our pjsua build has already answered 405 (scripts/pjsua2/patches/0001-*).
        self._refuse("message", "in-dialog MESSAGE refused (405)", rx_source(prm.rdata))

    def onTypingIndication(self, prm: Any) -> None:
        self._refuse("message", "in-dialog MESSAGE (typing) refused (405)",
                     rx_source(prm.rdata))

    def onCallRxOffer(self, prm: Any) -> None:
        # A re-INVITE/UPDATE offer: answered with audio only, as every call was set up.
        call_setting(prm.opt)


def error_text(exc: Exception) -> str:
    return exc.info() if isinstance(exc, pj.Error) else str(exc) or type(exc).__name__


def rx_source(rdata: Any) -> str:
    """The ``host:port`` a received request came from ("" when pjsua2 does not say)."""
    with contextlib.suppress(AttributeError, pj.Error):
        return str(rdata.srcAddress)
    return ""


def call_setting(opt: Any) -> None:
    # pjsua 2.17 opens a text (RTT) stream by default: 2 more sockets per call for nothing.
    opt.audioCount = 1
    opt.videoCount = 0
    opt.textCount = 0


#: Session numbers of calls and serial numbers of legs: one sequence, so neither repeats.
serials = iter(range(1, 1 << 62))


class OutboundLeg(GuardedCall):
    """The outgoing call of a bridged transfer. Owned by its InboundCall, then the server."""

    def __init__(self, host: CallHost, session: int, account: Any = None):
        super().__init__(account if account is not None else host.account)
        self.host = host
        self.session = session
        self.serial = next(serials)
        self.media: Any = None
        self.ended = False
        self._final_counts: tuple[int, int] | None = None

    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.host.leg_event(self.session, self.serial, "confirmed", 200)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True
            self.media = None
            self.host.leg_event(self.session, self.serial, "ended", int(info.lastStatusCode))

    def onCallMediaState(self, prm: Any) -> None:
        if not self.ended:
            self.media = audio_media(self, audio_entry(self))
            if self.media is not None:
                self.host.leg_event(self.session, self.serial, "media", 0)

    def onStreamDestroyed(self, prm: Any) -> None:
        with contextlib.suppress(pj.Error):
            rtcp = self.getStreamStat(prm.streamIdx).rtcp
            self._final_counts = int(rtcp.rxStat.pkt), int(rtcp.txStat.pkt)

    def rtp_counts(self) -> tuple[int, int]:
        """RTP packets received and sent on this leg so far (the last counts once it ended)."""
        if self.ended:
            return self._final_counts or (0, 0)
        try:
            info = self.getInfo()  # kept alive: its media entries point into it
            for media in info.media:
                if media.type == pj.PJMEDIA_TYPE_AUDIO:
                    rtcp = self.getStreamStat(media.index).rtcp
                    return int(rtcp.rxStat.pkt), int(rtcp.txStat.pkt)
        except pj.Error:
            pass
        return self._final_counts or (0, 0)

    def cancel_ringing(self) -> None:
        """Hang up (CANCEL while ringing, BYE once answered); DISCONNECTED follows."""
        if self.ended:
            return
        prm = pj.CallOpParam(True)
        try:
            self.hangup(prm)
        except pj.Error as exc:
            log.debug("leg %d: hangup: %s", self.serial, exc.info())
