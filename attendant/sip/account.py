"""The pjsua2 accounts of ``attendant serve``: how they are configured, what they answer.

The server has one account per transport it opens (the first transport's is pjsua's
default account), and pjsua gives an INVITE to the account of the transport it came
on, whatever the Request-URI; the server then picks the attendant from the number
dialled. Trunks have accounts of their own (:mod:`attendant.sip.trunks`). SUBSCRIBE and
MESSAGE are refused here and counted, never left to pjsua's defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.sip.options import ServeOptions
from attendant.sip.safety import MIN_SESSION_EXPIRES

if TYPE_CHECKING:
    from attendant.sip.endpoint import Transport
    from attendant.sip.server import Server


#: Our SRTP settings → pjsua's (``srtpUse``, ``srtpSecureSignaling``).
SRTP_USE = {"off": pj.PJMEDIA_SRTP_DISABLED, "optional": pj.PJMEDIA_SRTP_OPTIONAL,
            "mandatory": pj.PJMEDIA_SRTP_MANDATORY}
SRTP_SIGNALING = {"any": 0, "tls": 1, "sips": 2}


def account_config(options: ServeOptions, transport_id: int | None,
                   transport: Transport = "udp", srtp: str | None = None,
                   srtp_signaling: str | None = None) -> pj.AccountConfig:
    """The account's settings: its address, RTP ports, session timers, transport (the
    one of ``transport_id``, of kind ``transport``) and SRTP (the server's unless a
    trunk says otherwise)."""
    cfg = options.endpoint
    acc_cfg = pj.AccountConfig()
    host = cfg.public_address or cfg.listen
    acc_cfg.idUri = f"sip:attendant@{host}:{cfg.port_of(transport)}"
    if transport != "udp":
        acc_cfg.idUri += f";transport={transport}"
    media = acc_cfg.mediaConfig.transportConfig
    media.port = cfg.rtp_ports[0]
    media.portRange = max(0, cfg.rtp_ports[1] - cfg.rtp_ports[0])
    media.boundAddress = cfg.listen
    if cfg.public_address:
        media.publicAddress = cfg.public_address
    acc_cfg.natConfig.sdpNatRewriteUse = 0
    acc_cfg.mediaConfig.srtpUse = SRTP_USE[srtp or cfg.srtp]
    acc_cfg.mediaConfig.srtpSecureSignaling = SRTP_SIGNALING[srtp_signaling
                                                             or cfg.srtp_signaling]
    expires = options.safety.session_expires
    if expires:
        # RFC 4028 on every call, whether the caller supports it or not (we refresh
        # then): a caller gone without a BYE stops answering and pjsip ends the call.
        acc_cfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_ALWAYS
        acc_cfg.callConfig.timerSessExpiresSec = expires
        acc_cfg.callConfig.timerMinSESec = MIN_SESSION_EXPIRES
    else:
        acc_cfg.callConfig.timerUse = pj.PJSUA_SIP_TIMER_INACTIVE
    if transport_id is not None:
        # The transport a call arrived on for every request of its dialog: a TCP or TLS
        # caller whose Contact lacks ;transport= would otherwise get a UDP Contact pjsua
        # cannot make (500). pjsua gives an INVITE to the account of its transport.
        acc_cfg.sipConfig.transportId = transport_id
    return acc_cfg


class ServerAccount(pj.Account):  # type: ignore[misc]
    """The account every INVITE lands on; other requests are refused and counted."""

    def __init__(self, server: Server, trunk: str = ""):
        super().__init__()
        self._server = server
        #: The trunk this account registers to ("" for the server's own account).
        self.trunk = trunk

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
