"""What the server says no to: INVITEs that must not become calls, requests no flow asked for.

A malformed INVITE, one over ``max_calls``, one while shutting down and one over a
source's limits get a final answer (4xx, or 503 with ``Retry-After``) one worker turn
after pjsua handed them over; SUBSCRIBE and MESSAGE are refused on the account
(:mod:`attendant.sip.account`), REFER and Replaces on the call
(:class:`attendant.sip.legs.GuardedCall`). Each refusal is counted in the totals and
the metrics, and logged at most once a minute per source and kind, so a flood cannot
fill the disk with log lines.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.sip.admission import LogThrottle, source_host
from attendant.sip.invite_checks import Refusal
from attendant.sip.legs import GuardedCall
from attendant.storage import printable

if TYPE_CHECKING:
    from attendant.sip.server import Server

log = logging.getLogger("attendant.sip.server")


def _skipped_note(skipped: int) -> str:
    return f" ({skipped} more since the last such line)" if skipped else ""


class _Rejected(GuardedCall):
    """An INVITE answered with a refusal; kept referenced until its DISCONNECTED."""

    def __init__(self, refusals: Refusals, account: Any, call_id: int, serial: int):
        super().__init__(account, call_id)
        self._refusals, self.serial = refusals, serial

    def onCallState(self, prm: Any) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._refusals.pending.pop(self.serial, None)


class Refusals:
    """Refused INVITEs until their end, and the counting and logging of every refusal."""

    def __init__(self, server: Server):
        self._server = server
        self._throttle = LogThrottle()
        self._serial = 0
        #: Refused INVITEs pjsua still runs (their transaction), by serial.
        self.pending: dict[int, _Rejected] = {}

    def clear(self) -> None:
        """Shutdown: drop the pjsua2 objects before libDestroy."""
        self.pending.clear()

    def refuse_invite(self, call_id: int, refusal: Refusal, source: str) -> None:
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
        self._serial += 1
        rejected = _Rejected(self, self._server.account, call_id, self._serial)
        self.pending[rejected.serial] = rejected
        self._server.worker.post(self._answer_rejected, rejected, status, reason, headers)

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

    def reject(self, call_id: int, draining: bool,
                source: tuple[str, str] | None = None) -> None:
        if source is not None:
            self._server.totals["refused_source"] += 1
            self._server.metrics.refusal("per_source")
            self._warn_source(*source)
        else:
            self._server.totals["rejected_draining" if draining else "rejected_busy"] += 1
            log.warning("503 for a new call: %s", "shutting down" if draining
                        else f"{len(self._server.calls)} calls, the maximum")
        self._refuse_call(call_id, 503, "Service Unavailable",
                          (("Retry-After", str(self._server.options.retry_after)),))
        self._server.status_changed()

    def forbid(self, call_id: int, source: str, why: str = "",
               reason: str = "not_allowed") -> None:
        """403 to an INVITE from a source no trunk or allow_from lists (or a phone whose
        login failed: ``why``, counted as ``reason``)."""
        why = why or f"{source} is not a trunk's source nor in allow_from"
        self.refused(reason, f"INVITE answered 403: {why}", source)
        self._refuse_call(call_id, 403, "Forbidden", ())

    def challenge(self, call_id: int, value: str) -> None:
        """401 with a digest challenge to an INVITE that may come from a phone with a
        password. Not counted as refused: every phone's first INVITE gets one."""
        self._server.totals["challenged"] += 1
        self._refuse_call(call_id, 401, "Unauthorized", (("WWW-Authenticate", value),))

    def _warn_source(self, host: str, why: str) -> None:
        """Log a per-source refusal: the first, then at most one a minute per source."""
        skipped = self._throttle.allow("per_source", host)
        if skipped is None:
            return
        log.warning("503 for a new call from %s: %s (per-source limit; list a trunk or PBX "
                    "with --trusted-source)%s", host, why, _skipped_note(skipped))

    def refused(self, reason: str, detail: str, source: str) -> None:
        """A peer at ``source`` asked for what the flow did not (REFER, Replaces...):
        count it always, log it (thinned to one line a minute per source and kind)."""
        self._server.totals["refused_requests"] += 1
        self._server.metrics.refusal(reason)
        skipped = self._throttle.allow(reason, source_host(source) or source)
        if skipped is not None:
            log.warning("refused from %s: %s%s", printable(source) or "?", printable(detail),
                        _skipped_note(skipped))
        self._server.status_changed()

