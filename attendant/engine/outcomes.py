"""How a call ended, as one word from a closed set.

The engine sets :class:`Outcome` on the call's state (``CallState.ending``) wherever it
writes the outcome's wording (``CallState.outcome``, ``"caller hung up in menu sales"``):
the wording is for people (transcripts, logs), the label for counting (the call log's
``outcome_kind``, the metric ``attendant_calls_total{outcome}``). Only
:attr:`Outcome.CALLER_GONE` is set by an adapter, which alone knows that a safety limit,
not the caller, ended the call.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """Every way a call can end; the value is the label metrics and the call log use."""

    #: Connected to a user, a department or an outside number.
    ANSWERED_TRANSFER = "answered_transfer"
    #: Answered by a queue's agent.
    ANSWERED_BY_AGENT = "answered_by_agent"
    #: Still waiting in a queue when the call ended other than by the caller hanging up.
    QUEUED = "queued"
    #: Hung up while waiting in a queue.
    ABANDONED = "abandoned"
    #: Left a queue with a callback request.
    CALLBACK_REQUESTED = "callback_requested"
    #: Left a voicemail message (also when the recording was cut short but kept).
    VOICEMAIL = "voicemail"
    #: The voicemail box was full, and nothing else was reached after.
    VOICEMAIL_FULL = "voicemail_full"
    #: Hung up in a menu, an announcement, an entry, while a transfer rang...
    CALLER_HANGUP = "caller_hangup"
    #: Ended by the adapter's safety limits (no media, no session refresh...).
    CALLER_GONE = "caller_gone"
    #: The flow said goodbye (a ``disconnect`` route, nothing more to replay).
    DISCONNECTED = "disconnected"
    #: Every transfer and fallback failed; the call ended.
    TRANSFER_FAILED = "transfer_failed"
    #: An agent's feature code was carried out (sign in or out, opt in or out).
    AGENT_COMMAND = "agent_command"
    #: Staff set or cleared an override of a line from a phone.
    OVERRIDE_SET = "override_set"
    #: A feature code was refused: not an agent, no PIN, wrong PIN, no PIN entered.
    FEATURE_REFUSED = "feature_refused"
    #: A mailbox owner logged in by phone (and listened, or changed the PIN).
    MAILBOX = "mailbox"
    #: The mailbox menu refused the caller: wrong PINs, no PIN set, locked, no number.
    MAILBOX_REFUSED = "mailbox_refused"
    #: Something broke: storage failed, or the configuration leads nowhere.
    FAILED = "failed"
    #: The call never started (gone before the engine saw it).
    NOT_STARTED = "not_started"


#: Every value the ``outcome`` label can take, in a stable order.
OUTCOMES = tuple(outcome.value for outcome in Outcome)
