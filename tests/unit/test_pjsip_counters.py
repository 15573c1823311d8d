"""The ctypes reader of patch 0004's counters, against the pjsua2 this tree builds."""

from __future__ import annotations

import ctypes.util
from pathlib import Path

from attendant.sip.pjsip_counters import UnreadableCounters


def test_the_built_pjsua2_exports_the_unreadable_counters() -> None:
    counts = UnreadableCounters().read()
    assert counts is not None, "pjsua2 was built without patch 0004"
    assert all(isinstance(n, int) and n >= 0 for n in counts)


def test_a_library_without_the_counters_reads_as_none(tmp_path: Path) -> None:
    libc = ctypes.util.find_library("c")
    assert UnreadableCounters(libc).read() is None
    assert UnreadableCounters(str(tmp_path / "missing.so")).read() is None
