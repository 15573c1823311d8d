"""The prompt stores of a running server: one per flow still in use, rendered off the worker.

A reload builds a new flow with its own :class:`~attendant.prompts.store.PromptStore`;
a call that started before it keeps hearing its own menus' prompts, so each flow's
store stays on the shelf until no call uses that flow. Rendering a prompt whose
files are all built already needs no thread; anything else renders on the server's
pool and the caller waits on a future.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from attendant.engine.actions import Say
from attendant.model import Flow
from attendant.prompts.store import PromptStore

log = logging.getLogger("attendant.sip.server")

#: The engine's music-on-hold prompt (queues): played from PromptStore.music_on_hold.
MUSIC_ON_HOLD_ID = "system.music_on_hold"


class PromptShelf:
    """Prompt stores by flow, and rendering from them (worker thread)."""

    def __init__(self, flow: Flow, store: PromptStore, pool: ThreadPoolExecutor):
        self._pool = pool
        #: The store of new calls' flow.
        self.current = store
        #: The store of each flow still in use (by id; the flow is kept alive too).
        self._stores: dict[int, tuple[Flow, PromptStore]] = {id(flow): (flow, store)}

    def add(self, flow: Flow, store: PromptStore) -> None:
        """A reload: ``flow``'s calls use ``store``, and new calls use it from now on."""
        self.current = store
        self._stores[id(flow)] = (flow, store)

    def keep_only(self, flows: Iterable[Flow]) -> None:
        """Drop the stores of every flow not in ``flows`` (the current one and the calls')."""
        used = {id(flow) for flow in flows}
        for key in [k for k in self._stores if k not in used]:
            del self._stores[key]

    def render(self, items: tuple[Say, ...], flow: Flow) -> Future[list[Path]]:
        """The WAV files of ``items`` in ``flow``'s store: done at once when all are built,
        else rendered on the pool (never on the worker)."""
        audio = self._store_for(flow)
        built = [audio.built(item) for item in items]
        if all(path is not None for path in built):
            # Every item is a file already made: no thread hop (worker -> pool -> worker),
            # so the player starts in this turn of the worker loop (DTMF -> prompt latency).
            done: Future[list[Path]] = Future()
            done.set_result([path for path in built if path is not None])
            return done
        return self._pool.submit(lambda: [
            audio.music_on_hold if item.prompt_id == MUSIC_ON_HOLD_ID else audio.wav_for(item)
            for item in items])

    def music_on_hold(self, flow: Flow) -> Path | None:
        """The flow's music on hold (``speech.music_on_hold`` or ours), None if unavailable."""
        try:
            return self._store_for(flow).music_on_hold
        except Exception as exc:  # a missing or unreadable file: ringback instead
            log.warning("no music on hold (%s): callers hear a ringback tone", exc)
            return None

    def _store_for(self, flow: Flow) -> PromptStore:
        kept = self._stores.get(id(flow))
        return kept[1] if kept is not None else self.current
