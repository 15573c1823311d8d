"""What a call asks of the server that runs it (:class:`CallHost`).

The inbound call, its players and its outgoing legs report to their host by session
number and ask it for what outlives a call: rendering prompts, the voicemail store, the
queues, the safety limits, the call log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from attendant.engine import actions as act
from attendant.engine.events import Event
from attendant.model import Flow
from attendant.sip.endpoint import Worker
from attendant.sip.safety import Safety

if TYPE_CHECKING:
    from attendant.sip.call import Deliverable, InboundCall
    from attendant.sip.legs import OutboundLeg
    from attendant.sip.mailboxes import MailboxService
    from attendant.sip.messages import MessageDesk
    from attendant.sip.prompt_shelf import PromptShelf
    from attendant.sip.queues import QueueRunner
    from attendant.sip.records import CallRecords
    from attendant.sip.trunks import Trunks


class CallHost(Protocol):
    """What a call needs from the server that owns it."""

    worker: Worker
    account: Any
    clock_rate: int
    #: Voicemail quotas, message files and their finishing (attendant.sip.messages).
    messages: MessageDesk
    #: The prompt stores by flow, and rendering (attendant.sip.prompt_shelf).
    prompts: PromptShelf
    #: The call log and the metrics (attendant.sip.records).
    records: CallRecords
    #: The call queues (attendant.sip.queues).
    queues: QueueRunner
    #: Trunks: registration, the routes of legs out through them (attendant.sip.trunks).
    trunks: Trunks
    #: The mailbox menu's PINs, lockout and messages (attendant.sip.mailboxes).
    mailboxes: MailboxService

    def deliver(self, session: int, event: Event | Deliverable) -> None:
        """Feed ``event`` to the call with this session number, if it is still up."""

    def destination_uri(self, destination: str) -> str:
        """A SIP URI for a transfer destination (a URI, an extension or a number)."""

    def call_ended(self, call: InboundCall) -> None:
        """Drop every reference to ``call`` (called inside its DISCONNECTED callback)."""

    def adopt_leg(self, leg: OutboundLeg) -> None:
        """Keep ``leg`` alive until its own DISCONNECTED (its caller is gone)."""

    def leg_event(self, session: int, serial: int, what: str, code: int) -> None:
        """A transfer leg of call ``session`` changed state."""

    def overrides_now(self) -> Mapping[str, str]:
        """The overrides staff have set now, by attendant."""

    def greetings_now(self) -> Mapping[str, Mapping[str, str]]:
        """The greetings mailbox owners recorded, by box then kind (their files)."""

    def set_override(self, action: act.SetOverride) -> None:
        """A phone switched a line (or ended its override): write it down for every call."""

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
