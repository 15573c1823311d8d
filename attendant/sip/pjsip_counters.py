"""Counters kept inside our patched pjsip, read through ctypes for the metrics.

pjsip answers (or drops) a datagram its parser cannot read before any pjsua2
callback runs, so Python never sees it. Patch 0004
(``scripts/pjsua2/patches/0004-sip_transport-answer-unparsable-requests.patch``)
counts both outcomes in two exported C globals of ``_pjsua2``; this module reads
them. A pjsua2 built without the patch has no such symbols: the counts read as
``None`` and the metric is simply absent.
"""

from __future__ import annotations

import ctypes
import importlib.util


class UnreadableCounters:
    """Reads the patch's two counters from the loaded ``_pjsua2`` module."""

    def __init__(self, library_path: str | None = None) -> None:
        self._answered: ctypes.c_ulong | None = None
        self._dropped: ctypes.c_ulong | None = None
        try:
            if library_path is None:  # the SWIG extension pjsua2 wraps, already loaded
                spec = importlib.util.find_spec("_pjsua2")
                library_path = spec.origin if spec else None
            if library_path is None:
                return
            library = ctypes.CDLL(library_path)  # the loaded one: same globals
            self._answered = ctypes.c_ulong.in_dll(library, "attendant_unreadable_answered")
            self._dropped = ctypes.c_ulong.in_dll(library, "attendant_unreadable_dropped")
        except (ImportError, OSError, ValueError, TypeError):
            self._answered = self._dropped = None

    def read(self) -> tuple[int, int] | None:
        """Unreadable messages since the process started: (answered, dropped).

        Answered: requests given 400, 416 or 505. Dropped: responses, ACKs and
        requests whose answer could not be addressed. None without the patch.
        """
        if self._answered is None or self._dropped is None:
            return None
        return self._answered.value, self._dropped.value
