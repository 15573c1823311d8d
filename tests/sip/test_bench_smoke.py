"""Smoke run of the load harness (bench/loadlib.py): 30 callers, a few at a time.

Keeps bench/run_load.py working in CI. It asserts that no call failed and that
every caller's keys reached the server; never timings (CI machines are loaded).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sip

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_bench_harness_runs_30_calls_without_failures(tmp_path):
    sys.path.insert(0, str(BENCH))
    try:
        import loadlib
    finally:
        sys.path.remove(str(BENCH))
    if loadlib.which_missing():
        pytest.skip(f"missing: {', '.join(loadlib.which_missing())}")
    ws = loadlib.prepare(tmp_path / "bench")
    result = loadlib.run_step(ws, "engine", 30, plateau_s=1.0, max_cps=10)
    detail = loadlib.summary_line(result)
    assert result.answered == 30, detail
    assert result.failed == 0, detail
    assert result.digits_seen == result.digits_sent, detail
    assert result.active_after == 0, detail
    assert result.server_errors == 0, detail
