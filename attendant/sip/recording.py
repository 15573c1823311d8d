"""The voicemail message one call is recording: a pjsua2 recorder on the caller's audio.

:class:`MessageRecording` asks the host for the box's quota, the disk's free space
and a file to record to, then records the caller's audio port into it. Whatever
stops it (the caller's ``#``, the maximum length, hang-up, the disk filling) the
message is kept and finalised by the host with the reason; when it cannot start,
the engine hears ``RecordingFinished`` with the problem so it apologises instead of
recording silence.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.engine import actions as act
from attendant.engine.events import RecordingFinished
from attendant.sip.legs import error_text
from attendant.sip.playback import owned_by

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.call")


def move_recorder(recorder: Any, old: Any, new: Any) -> None:
    """Record from audio port ``new`` instead of ``old`` (a re-INVITE moved the caller)."""
    with contextlib.suppress(pj.Error):
        old.stopTransmit(recorder)
    with contextlib.suppress(pj.Error):
        new.startTransmit(recorder)


def close_recorder(recorder: Any, media: Any) -> None:
    """Stop recording from ``media`` (None: gone already); the caller then drops the
    recorder, which writes the WAV header."""
    if media is not None:
        with contextlib.suppress(pj.Error):
            media.stopTransmit(recorder)


class CallRecorder:
    """What a call's recorders share (the message's and a greeting take's): a pjsua2
    recorder that follows the caller's audio port as it comes up or moves."""

    _recorder: Any = None

    @property
    def active(self) -> bool:
        return self._recorder is not None

    def media_up(self, media: Any) -> None:
        """The caller's audio port appeared after the recording began."""
        if self._recorder is not None:
            with contextlib.suppress(pj.Error):
                media.startTransmit(self._recorder)

    def reattach(self, old: Any, new: Any) -> None:
        """A re-INVITE moved the caller to a new audio port: record from that one."""
        if self._recorder is not None:
            move_recorder(self._recorder, old, new)


class MessageRecording(CallRecorder):
    """At most one message being recorded for a call (worker thread only)."""

    def __init__(self, call: InboundCall):
        self._call = owned_by(call)
        self._recorder: Any = None
        self._id: int | None = None
        self._since = 0.0
        #: What stops the recording unless something else says: the caller's key.
        self.stop_reason = "hash"
        #: Every file this call recorded to (the status snapshot lists them).
        self.paths: list[Path] = []

    def start(self, action: act.RecordVoicemail) -> None:
        """Record a message for ``action.box``, or tell the engine why not."""
        call, host = self._call, self._call.host
        full = host.messages.box_full(call.flow, action.box)
        if full is not None:
            log.warning("call %d: voicemail box %s is full (%s): no message recorded",
                        call.session, action.box, full)
            host.worker.post(host.deliver, call.session,
                             RecordingFinished(0.0, full, box_full=True))
            return
        problem = host.messages.recording_problem()
        recording_id: int | None = None
        if problem is None:
            try:
                recording_id, path = host.messages.begin(action.box, call.caller, call.session)
                path.parent.mkdir(parents=True, exist_ok=True)
                recorder = pj.AudioMediaRecorder()
                recorder.createRecorder(str(path))
            except Exception as exc:  # the store is locked or gone, the folder unwritable...
                problem = f"voicemail store unavailable ({error_text(exc)})"
        if problem is not None:
            # Never silence: the engine apologises and ends the call.
            log.error("call %d: cannot record a message for %s: %s", call.session,
                      action.box, problem)
            if recording_id is not None:
                host.messages.finish(recording_id, "failed")
            host.messages.recording_failed()
            host.worker.post(host.deliver, call.session, RecordingFinished(0.0, problem))
            return
        if call.media is not None:
            call.media.startTransmit(recorder)
        self._recorder, self._id = recorder, recording_id
        self._since = time.monotonic()
        self.paths.append(path)
        log.info("call %d: recording a message for %s in %s", call.session, action.box, path)

    def check_space(self, now: float) -> None:
        """The periodic sweep, while recording: stop before the disk is full, keep the audio."""
        if self._recorder is None:
            return
        call, host = self._call, self._call.host
        problem = host.messages.recording_problem()
        if problem is None:
            return
        seconds = now - self._since
        log.error("call %d: stopping the recording after %.0f s: %s", call.session, seconds,
                  problem)
        self.stop("disk_full")
        host.messages.recording_failed()
        host.deliver(call.session, RecordingFinished(seconds, problem))

    def stop(self, reason: str = "") -> None:
        """Close the file and hand the message to the host (nothing when not recording)."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        close_recorder(recorder, self._call.media)
        del recorder  # closes the WAV file (pjsua writes its header on destroy)
        if self._id is not None:
            self._call.host.messages.finish(self._id, reason or self.stop_reason)
            self._id = None
