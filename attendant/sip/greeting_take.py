"""A greeting being recorded by phone (the mailbox menu): one take at a time per call.

The take goes to ``<data>/greetings/<box>/.take-<kind>-<session>.wav`` (a dot file:
:meth:`attendant.storage.greetings.Greetings.index` never lists it). When it stops
(``StopRecording``) the recorder is destroyed, which writes the WAV header; the file is
then checked and measured off the worker (:class:`~attendant.sip.mailboxes.MailboxService`)
and the engine hears ``GreetingRecorded``.
Keeping a take (``SaveGreeting``) converts it into the greeting through
:class:`~attendant.sip.mailboxes.MailboxService`; a take not kept is removed when the
next one starts and when the call ends.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from attendant.engine import actions as act
from attendant.engine.events import GreetingRecorded
from attendant.sip.legs import error_text
from attendant.sip.playback import owned_by
from attendant.sip.recording import CallRecorder, close_recorder

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.call")


class GreetingTake(CallRecorder):
    """The greeting take of one call (worker thread only)."""

    def __init__(self, call: InboundCall):
        self._call = owned_by(call)
        self._recorder: Any = None
        #: The last take's file (kept until the next take or the end of the call).
        self.path: Path | None = None

    def start(self, action: act.RecordGreeting) -> None:
        """Record a take for ``action.box``'s ``action.kind`` greeting, or say why not."""
        call, host = self._call, self._call.host
        self.discard()
        if host.mailboxes.opened(call.session) != action.box:
            self._report(0.0, "", "not the mailbox this call opened")
            return
        path = host.mailboxes.take_path(call.session, action.box, action.kind)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(str(path))
        except Exception as exc:  # the folder unwritable, pjmedia out of ports...
            log.error("call %d: cannot record a greeting for %s: %s", call.session,
                      action.box, error_text(exc))
            self._report(0.0, "", error_text(exc))
            return
        if call.media is not None:
            call.media.startTransmit(recorder)
        self._recorder, self.path = recorder, path
        log.info("call %d: recording a %s greeting take for %s", call.session, action.kind,
                 action.box)

    def stop(self) -> None:
        """Close the take and report it (nothing when not recording)."""
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        close_recorder(recorder, self._call.media)
        del recorder  # pjmedia writes the WAV header as the recorder is destroyed
        assert self.path is not None
        self._call.host.mailboxes.measure_take(self._call.session, self.path)

    def hand_over(self) -> Path | None:
        """The last take, now the caller's to keep (``SaveGreeting``): no longer removed
        when the call ends."""
        path, self.path = self.path, None
        return path

    def discard(self) -> None:
        """Stop recording (not reported) and remove the take: the call ends, or a new
        take begins."""
        recorder, self._recorder = self._recorder, None
        if recorder is not None:
            close_recorder(recorder, self._call.media)
            del recorder
        path, self.path = self.path, None
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    def _report(self, seconds: float, path: str, error: str) -> None:
        """Tell the engine about a take that could not start (posted, not fed now)."""
        host = self._call.host
        host.worker.post(host.deliver, self._call.session,
                         GreetingRecorded(seconds, path, error))
