"""Persistent storage for ``attendant serve``: voicemail messages, the call log, agents.

- :class:`VoicemailStore` (:mod:`attendant.storage.voicemail`): WAV files plus
  metadata in SQLite, with crash recovery and WAV header repair
  (:mod:`attendant.storage.wavfile`).
- :class:`CallLog` (:mod:`attendant.storage.calllog`): one JSON line per engine
  step and a per-call row in SQLite.
- :class:`AgentStateFile` (:mod:`attendant.storage.agents`): queue agents' sign-ins,
  opt-outs and pauses, kept across restarts in one JSON file.

Both are adapters (they do I/O); the pure core never imports them. Every error
raised on purpose is a :class:`StorageError`, a subclass of
:class:`attendant.errors.AttendantError`. The data layout is described in
docs/voicemail-and-logs.md.
"""

from attendant.storage._common import StorageError, printable
from attendant.storage.agents import AgentStateFile, SavedAgent
from attendant.storage.calllog import CallLog, CallRecord, action_name
from attendant.storage.voicemail import (
    STATUSES,
    Message,
    MessageNotFound,
    Recording,
    VoicemailStore,
)
from attendant.storage.wavfile import WavError, WavInfo

__all__ = [
    "STATUSES",
    "AgentStateFile",
    "CallLog",
    "CallRecord",
    "Message",
    "MessageNotFound",
    "Recording",
    "SavedAgent",
    "StorageError",
    "VoicemailStore",
    "WavError",
    "WavInfo",
    "action_name",
    "printable",
]
