"""The overrides staff set on the lines, as ``attendant serve`` sees them (worker thread).

:class:`LineOverrides` reads ``<data>/overrides.json`` (:mod:`attendant.storage.overrides`)
before every call starts and every :data:`POLL_S`, so ``attendant override set`` takes
effect on the next call and shows at once in the log, ``status.json`` and the metrics.
A change is logged once (``override: main is now closed ...``); an override for an
attendant or of a name the menus do not have (a reload took it away) is logged and
ignored. A phone sets or clears one through :meth:`set_by_phone` (the ``override``
action, after the caller's PIN).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attendant.model import NO_OVERRIDES, frozen_map
from attendant.storage.overrides import Override, OverrideFile, OverrideFileError

if TYPE_CHECKING:
    from attendant.model import Flow
    from attendant.ops.metrics import Metrics
    from attendant.sip.endpoint import TimerHandle, Worker

log = logging.getLogger("attendant.sip.overrides")

#: Seconds between looks at the overrides file when no call starts.
POLL_S = 2.0


class LineOverrides:
    """Which override each attendant is under now; worker thread only."""

    def __init__(self, data_dir: Path, worker: Worker, metrics: Metrics,
                 changed: Callable[[], None]) -> None:
        self.file = OverrideFile(data_dir)
        self._worker = worker
        self._metrics = metrics
        self._changed = changed  # status_changed of the server
        self._active: dict[str, Override] = {}
        #: ``_active``'s names, handed to every call that starts (made when it changes).
        self._names: Mapping[str, str] = NO_OVERRIDES
        self._error = ""  # the bad-file error last logged
        self._poll: TimerHandle | None = None
        self._flow: Flow | None = None

    def start(self, flow: Flow) -> None:
        self._flow = flow
        self.refresh()
        self._poll = self._worker.call_later(POLL_S, self._tick)

    def set_flow(self, flow: Flow) -> None:
        """After a reload: overrides the new menus lack are reported (and ignored)."""
        self._flow = flow
        self._report_unknown(self._active)

    def close(self) -> None:
        if self._poll is not None:
            self._poll.cancel()

    def _tick(self) -> None:
        self.refresh()
        self._poll = self._worker.call_later(POLL_S, self._tick)

    def refresh(self) -> None:
        """Read the file if it changed; log, count and show what changed."""
        entries, error = self.file.current()
        if error is not None and str(error) != self._error:
            self._error = str(error)
            log.error("overrides: %s; the overrides read before stay in force", error)
        elif error is None:
            self._error = ""
        now = datetime.now(UTC)
        active = {key: o for key, o in entries.items() if o.active(now)}
        if active == self._active:
            return
        for key in sorted(set(self._active) | set(active)):
            before, after = self._active.get(key), active.get(key)
            if after == before:
                continue
            if before is not None:
                self._metrics.override_set(key, before.name, False)
            if after is None:
                log.info("override: %s is back on its schedule (override %s ended)", key,
                         before.name if before else "?")
            else:
                self._metrics.override_set(key, after.name, True)
                log.info("override: %s is now %s", key, after.describe())
        self._report_unknown({k: v for k, v in active.items() if self._active.get(k) != v})
        self._active = active
        self._names = frozen_map({key: o.name for key, o in active.items()})
        self._changed()

    def _report_unknown(self, entries: dict[str, Override]) -> None:
        flow = self._flow
        if flow is None:
            return
        for key, entry in entries.items():
            attendant = flow.attendants.get(key)
            if attendant is None:
                log.warning("override: %s is set for attendant %s, which the menus do not "
                            "have; ignored (attendant override clear %s)", entry.name, key, key)
            elif attendant.override_route(entry.name) is None:
                log.warning("override: %s of attendant %s is not in its overrides: (it has "
                            "%s); ignored until the menus have it", entry.name, key,
                            ", ".join(attendant.override_names()))

    def now(self) -> Mapping[str, str]:
        """The override of each overridden attendant, for a call starting now (the file
        read again if it changed)."""
        self.refresh()
        return self._names

    def set_by_phone(self, attendant: str, name: str | None, user: str) -> None:
        """Set (``name``) or clear (None) an override for ``user`` calling in (a failure is
        logged)."""
        now = datetime.now(UTC)
        try:
            if name is None:
                self.file.clear(attendant, now)
            else:
                self.file.set(attendant, Override(name, now, None, f"phone:{user}"), now)
        except (OSError, OverrideFileError) as exc:
            log.error("override: %s could not %s for %s: %s", user,
                      f"set {name}" if name else "clear the override", attendant, exc)
            return
        self.refresh()

    def snapshot(self) -> dict[str, Any]:
        """For status.json: each overridden attendant's entry."""
        return {"overrides": {key: o.to_json() for key, o in sorted(self._active.items())}}
