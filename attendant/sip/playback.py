"""The prompt one call is playing: rendered files, the pjsua2 player, and its end.

The engine asks for a :class:`~attendant.engine.actions.Play`; :class:`Playback`
gets its WAV files from the host, starts a player on the caller's audio port and
reports the playlist's end as ``PromptFinished``. A prompt whose files are already
built starts in the same turn of the worker loop as the key that asked for it; only
a prompt still being rendered comes back through the worker queue (``Rendered``).
With no audio port (not up yet, or held without media) a prompt "plays" silently for
its length, so menu timers run whether or not media flows.
"""

from __future__ import annotations

import contextlib
import logging
import wave
import weakref
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pjsua2 as pj

from attendant.engine import actions as act
from attendant.engine.events import PromptFinished
from attendant.sip.call_events import Rendered
from attendant.sip.endpoint import TimerHandle
from attendant.sip.host import CallHost

if TYPE_CHECKING:
    from attendant.sip.call import InboundCall

log = logging.getLogger("attendant.sip.call")


def owned_by(call: InboundCall) -> InboundCall:
    """A reference to ``call`` for a part the call owns, that does not keep it alive.

    A strong one would make a reference cycle: the call would then outlive its
    DISCONNECTED callback until the garbage collector ran, and pjsua2's ``Call``
    destructor (which clears the user data of its slot) would run when that slot
    belongs to another call, or after the library is gone.
    """
    return cast("InboundCall", weakref.proxy(call))


def seconds_of(paths: list[Path]) -> float:
    """How long a playlist of WAV files lasts (headers only; unreadable files count 1 s)."""
    total = 0.0
    for path in paths:
        try:
            with wave.open(str(path), "rb") as wav:
                total += wav.getnframes() / max(1, wav.getframerate())
        except (OSError, EOFError, wave.Error):
            total += 1.0
    return max(0.1, total)


class _Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A playlist whose end-of-file posts PromptFinished; never destroyed in its callback."""

    def __init__(self, host: CallHost, session: int, token: int):
        super().__init__()
        self._host, self._session, self._token = host, session, token
        self.done = False

    def onEof2(self) -> None:
        # pjmedia's event thread: post only. This object must never be destroyed on this
        # thread: the worker retires players rather than dropping them (Worker.retire).
        self._host.worker.post(self._ended)

    def _ended(self) -> None:
        """Worker thread: the first end-of-file of this playlist finishes its prompt."""
        if not self.done:
            self.done = True
            self._host.deliver(self._session, PromptFinished(self._token))


class Playback:
    """The one prompt a call plays at a time (worker thread only)."""

    def __init__(self, call: InboundCall):
        self._call = owned_by(call)
        self._player: _Player | None = None
        self._want: act.Play | None = None  # the Play the engine is waiting on
        #: The stored voicemail message playing (PlayMessage): its token, sample rate and
        #: length in samples, for skipping within it.
        self._message: tuple[int, int, int] | None = None
        self._ready: tuple[int, list[Path]] | None = None  # rendered, waiting for media
        self._mute_timer: TimerHandle | None = None

    def play(self, action: act.Play) -> None:
        """Start ``action``'s prompt, replacing whatever played."""
        self.stop()
        self._want = action
        call = self._call
        host, session, token = call.host, call.session, action.token
        future = host.prompts.render(action.items, call.flow)
        if future.done() and future.exception() is None:
            self.rendered(token, future)  # files already built: no second trip through the queue
            return

        def rendered(done: Future[list[Path]]) -> None:  # renderer thread: post only
            host.worker.post(host.deliver, session, Rendered(token, done))

        future.add_done_callback(rendered)

    def rendered(self, token: int, done: Future[list[Path]]) -> None:
        """Prompt files are ready (or failed): play them if the engine still wants them."""
        call = self._call
        if call.ended or self._want is None or self._want.token != token:
            return
        try:
            paths = done.result()
        except Exception as exc:
            # Never dead air for ever: the flow moves on as if the prompt had played.
            log.error("call %d: cannot render prompt: %s", call.session, exc)
            call.feed(PromptFinished(token))
            return
        if call.media is None:
            self._ready = (token, paths)
            self._play_silently(token, seconds_of(paths))
        else:
            self._start(token, paths)

    def finished(self, token: int) -> None:
        """The engine is about to hear that prompt ``token`` ended: let its player go."""
        if (self._want is not None and self._want.token == token) or (
                self._message is not None and self._message[0] == token):
            self.stop()

    def play_message(self, token: int, path: Path | None) -> None:
        """Play a stored voicemail message (the mailbox menu); ``PromptFinished`` at its end.
        A message whose file is missing or unreadable ends at once, logged."""
        self.stop()
        call = self._call
        host, session = call.host, call.session
        try:
            if path is None:
                raise FileNotFoundError("not a message of the mailbox this call opened")
            with wave.open(str(path), "rb") as wav:
                rate, frames = wav.getframerate(), wav.getnframes()
        except (OSError, EOFError, wave.Error) as exc:
            log.warning("call %d: voicemail file %s cannot be played: %s", session, path, exc)
            host.worker.post(host.deliver, session, PromptFinished(token))
            return
        self._message = (token, rate, frames)
        if call.media is None:  # no audio port: it "plays" silently for its length
            self._play_silently(token, max(0.1, frames / max(1, rate)))
            return
        player = _Player(host, session, token)
        try:
            player.createPlayer(str(path), pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(call.media)
        except pj.Error as exc:
            log.warning("call %d: voicemail file %s cannot be played: %s", session, path,
                        exc.info())
            host.worker.retire(player)
            host.worker.post(host.deliver, session, PromptFinished(token))
            return
        self._player = player

    def skip(self, seconds: float) -> None:
        """Move the message playing ``seconds`` forward (negative: back), within it."""
        player, message = self._player, self._message
        if player is None or message is None:
            return
        _, rate, frames = message
        try:
            now = int(player.getPos())
            player.setPos(max(0, min(frames - 1, now + int(seconds * rate))))
        except pj.Error as exc:
            log.debug("call %d: cannot move within the message: %s", self._call.session,
                      exc.info())

    def media_up(self) -> None:
        """The caller's audio port appeared: a prompt that waited for it starts now."""
        if self._ready is not None:
            token, paths = self._ready
            self._ready = None
            self._cancel_mute()
            self._start(token, paths)

    def reattach(self, old: Any, new: Any) -> None:
        """A re-INVITE moved the caller to a new audio port."""
        if self._player is not None:
            move(self._player, old, new)

    def stop(self) -> None:
        """Nothing plays and nothing is awaited (StopPlayback, a new prompt, hang-up)."""
        self._want = None
        self._message = None
        self._ready = None
        self._cancel_mute()
        self.silence()

    def silence(self) -> None:
        """Stop the player only (a bridged transfer replaces it with the other party)."""
        player, self._player = self._player, None
        if player is not None:
            player.done = True  # a late end-of-file for it is not reported
            media = self._call.media
            if media is not None:
                with contextlib.suppress(pj.Error):
                    player.stopTransmit(media)
            # Not destroyed now: an end-of-file callback may be running on pjmedia's event
            # thread, and the last reference must not go there (Worker.retire).
            self._call.host.worker.retire(player)

    def _play_silently(self, token: int, seconds: float) -> None:
        """No audio port: ``token`` ends after ``seconds`` all the same (menu timers run)."""
        self._cancel_mute()
        host, session = self._call.host, self._call.session
        self._mute_timer = host.worker.call_later(
            seconds, lambda: host.deliver(session, PromptFinished(token)))

    def _cancel_mute(self) -> None:
        timer, self._mute_timer = self._mute_timer, None
        if timer is not None:
            timer.cancel()

    def _start(self, token: int, paths: list[Path]) -> None:
        call = self._call
        player = _Player(call.host, call.session, token)
        names = pj.StringVector()
        for path in paths:
            names.append(str(path))
        player.createPlaylist(names, f"play-{call.session}-{token}", pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(call.media)
        self._player = player


def move(source: Any, old: Any, new: Any) -> None:
    """Point a player or tone that sent to ``old`` at ``new`` instead."""
    with contextlib.suppress(pj.Error):
        source.stopTransmit(old)
    with contextlib.suppress(pj.Error):
        source.startTransmit(new)
