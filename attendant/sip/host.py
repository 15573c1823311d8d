"""What a call asks of the server that runs it (:class:`CallHost`).

The inbound call, its players and its outgoing legs report to their host by session
number and ask it for what outlives a call: rendering prompts, the voicemail store, the
queues, the safety limits, the call log.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from attendant.engine import actions as act
from attendant.engine.events import Event
from attendant.engine.state import CallState
from attendant.model import Flow
from attendant.sip.endpoint import Worker
from attendant.sip.safety import Safety

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall
    from attendant.sip.legs import OutboundLeg


class CallHost(Protocol):
    """What a call needs from the server that owns it."""

    worker: Worker
    account: Any
    clock_rate: int

    def deliver(self, session: int, event: Event) -> None:
        """Feed ``event`` to the call with this session number, if it is still up."""

    def render(self, items: tuple[act.Say, ...], flow: Flow) -> Future[list[Path]]:
        """Render prompts of ``flow`` to WAV files off the worker thread."""

    def music_on_hold(self, flow: Flow) -> Path | None:
        """The looping music played while a transfer rings (None: a ringback tone)."""

    def stepped(self, call: InboundCall, event: Event, state: CallState,
                actions: tuple[act.Action, ...]) -> None:
        """The engine took a step (call log, metrics); called before the actions run."""

    def dtmf_applied(self, received_at: float) -> None:
        """A key's actions were carried out; ``received_at`` is the callback's monotonic time."""

    def recording_problem(self) -> str | None:
        """Why a message cannot be recorded now (the disk nearly full), or None."""

    def box_full(self, flow: Flow, box: str) -> str | None:
        """Why ``box`` takes no more messages (its max_messages or max_mb), or None."""

    def recording_failed(self) -> None:
        """A message could not be recorded, or was cut short: count it."""

    def begin_recording(self, box: str, caller: str, session: int) -> tuple[int, Path]:
        """Register a message for ``box``: its id and the path to record to."""

    def finish_recording(self, recording_id: int, reason: str) -> None:
        """The recorder is destroyed: finalise the message (off the worker thread)."""

    def destination_uri(self, destination: str) -> str:
        """A SIP URI for a transfer destination (a URI, an extension or a number)."""

    def call_ended(self, call: InboundCall) -> None:
        """Drop every reference to ``call`` (called inside its DISCONNECTED callback)."""

    def adopt_leg(self, leg: OutboundLeg) -> None:
        """Keep ``leg`` alive until its own DISCONNECTED (its caller is gone)."""

    def leg_event(self, session: int, serial: int, what: str, code: int) -> None:
        """A transfer leg of call ``session`` changed state."""

    def enqueue(self, session: int, action: act.EnqueueCall) -> None:
        """The engine of call ``session`` asked for a queue (posted, never run inside feed)."""

    def queue_key(self, session: int, key: str) -> None:
        """Call ``session`` pressed ``key`` while queued (posted, never run inside feed)."""

    def agent_command(self, session: int, action: act.AgentCommand) -> None:
        """Call ``session`` dialled an agent feature code (posted, never run inside feed)."""

    def verify_pin(self, session: int, flow: Flow, action: act.VerifyPin) -> None:
        """Check a PIN off the worker thread; ``PinChecked`` is delivered to the call."""

    @property
    def safety(self) -> Safety:
        """The timeouts that end calls whose caller vanished (``attendant serve`` options)."""

    def refused(self, reason: str, detail: str, source: str) -> None:
        """A peer at ``source`` asked for what the flow did not (REFER, Replaces...):
        count it and log it."""

    def dead_call(self, session: int, reason: str) -> None:
        """Call ``session`` is being hung up by a safety timer (no ACK, no RTP, held)."""
