"""Queue callbacks on a running server: an agent who answered a callback ring, and the
leg that dials the caller back.

When the queue core says ``PlaceCallback``, the agent's answered leg is taken from the
runner, the caller's number is dialled, and the two are joined once the caller answers
and both have media. The core hears ``CallbackResult`` (answered or not) and, when the
conversation ends, ``AgentCallEnded``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from attendant.ports import Leg
from attendant.queues import actions as qa
from attendant.queues.events import AgentCallEnded, CallbackResult

if TYPE_CHECKING:
    from attendant.sip.queues import QueueRunner

log = logging.getLogger("attendant.sip.queues")

#: Seconds after a callback's legs are bridged when their RTP counts go to the log.
RTP_REPORT_S = 1.0


@dataclass
class _Callback:
    """An agent who answered a callback ring, and the leg dialling the caller back."""

    call_id: str
    agent: str
    agent_leg: Leg
    out_leg: Leg | None = None
    answered: bool = False
    bridged: bool = False
    done: bool = False


class Callbacks:
    """The callbacks being placed by one queue runner (call thread)."""

    def __init__(self, runner: QueueRunner):
        self._runner = runner
        self._placing: dict[str, _Callback] = {}  # call id -> callback being placed

    def place(self, action: qa.PlaceCallback) -> None:
        """Dial the caller back for the agent who answered ``action``'s ring."""
        run = self._runner
        leg = run.take_leg(action.ring_id, action.agent)
        if leg is None:
            run.later(CallbackResult(action.call_id, False, run.clock()))
            return
        run.legs.pop(leg.serial, None)  # the callback owns it now
        cb = _Callback(action.call_id, action.agent, leg)
        self._placing[action.call_id] = cb
        cb.out_leg = run.host.dial(0, action.number)
        if cb.out_leg is None:
            self._end(cb, answered=False)

    def leg_event(self, serial: int, what: str, code: int) -> bool:
        """A leg changed state; False when it is no callback's."""
        for cb in self._placing.values():
            if cb.out_leg is not None and cb.out_leg.serial == serial:
                self._caller_leg(cb, what, code)
                return True
            if cb.agent_leg.serial == serial:
                if what == "media":
                    self._bridge(cb)
                elif what == "ended":
                    self._end(cb, answered=cb.answered)
                return True
        return False

    def hang_up_all(self) -> None:
        """Shutdown: end every callback."""
        for cb in list(self._placing.values()):
            cb.done = True
            for leg in (cb.agent_leg, cb.out_leg):
                if leg is not None:
                    leg.cancel_ringing()

    def clear(self) -> None:
        self._placing.clear()

    def _caller_leg(self, cb: _Callback, what: str, code: int) -> None:
        run = self._runner
        if what == "confirmed" and not cb.answered:
            cb.answered = True
            run.submit(CallbackResult(cb.call_id, True, run.clock()))
            self._bridge(cb)
        elif what == "media":
            self._bridge(cb)
        elif what == "ended":
            log.info("callback %s: the caller's leg ended (%d)", cb.call_id, code)
            self._end(cb, answered=cb.answered)

    def _end(self, cb: _Callback, answered: bool) -> None:
        if cb.done:
            return
        run = self._runner
        cb.done = True
        self._placing.pop(cb.call_id, None)
        for leg in (cb.agent_leg, cb.out_leg):
            if leg is not None:
                leg.cancel_ringing()
        if answered:
            run.later(AgentCallEnded(cb.agent, run.clock()))
        else:
            run.later(CallbackResult(cb.call_id, False, run.clock()))
        run.submit(None)

    def _bridge(self, cb: _Callback) -> None:
        out = cb.out_leg
        if cb.bridged or not cb.answered or out is None:
            return
        run = self._runner
        if not run.host.connect_legs(cb.agent_leg, out):
            return  # one of them has no audio yet: its "media" event comes back here
        cb.bridged = True
        log.info("callback %s: bridged with %s", cb.call_id, cb.agent)
        run.host.worker.call_later(RTP_REPORT_S, partial(self._report_rtp, cb))

    def _report_rtp(self, cb: _Callback) -> None:
        if cb.done or self._placing.get(cb.call_id) is not cb or cb.out_leg is None:
            return
        agent_rx, agent_tx = cb.agent_leg.rtp_counts()
        caller_rx, caller_tx = cb.out_leg.rtp_counts()
        log.info("callback %s: RTP packets agent leg rx %d tx %d, caller leg rx %d tx %d",
                 cb.call_id, agent_rx, agent_tx, caller_rx, caller_tx)
