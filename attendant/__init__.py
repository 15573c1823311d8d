"""attendant: an auto attendant and call-queue engine.

Menu trees are written in YAML, validated, compiled into an immutable
:class:`Flow`, and run by the pure :func:`step` function, which the simulator
and the SIP endpoint both drive. The names below are the public API.
"""

from attendant.config.compiler import CompileResult, compile_path, load_flow
from attendant.config.diagnostics import Diagnostic, Severity
from attendant.engine.actions import (
    Action,
    AgentCommand,
    CancelTimer,
    Disconnect,
    EnqueueCall,
    Play,
    RecordVoicemail,
    Say,
    StartTimer,
    StopPlayback,
    StopRecording,
    Transfer,
)
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    Hangup,
    PromptFinished,
    QueueAnnouncement,
    QueueOutcome,
    RecordingFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.state import CallState, Phase, initial_state
from attendant.errors import AttendantError, ConfigError, ScenarioError, SimulationError
from attendant.model import Flow

__all__ = [
    "Action",
    "AgentCommand",
    "AttendantError",
    "CallStarted",
    "CallState",
    "CancelTimer",
    "CompileResult",
    "ConfigError",
    "Diagnostic",
    "Digit",
    "Disconnect",
    "EnqueueCall",
    "Event",
    "Flow",
    "Hangup",
    "Phase",
    "Play",
    "PromptFinished",
    "QueueAnnouncement",
    "QueueOutcome",
    "RecordVoicemail",
    "RecordingFinished",
    "Say",
    "ScenarioError",
    "Severity",
    "SimulationError",
    "StartTimer",
    "StopPlayback",
    "StopRecording",
    "TimerFired",
    "Transfer",
    "TransferResult",
    "compile_path",
    "initial_state",
    "load_flow",
    "step",
]
