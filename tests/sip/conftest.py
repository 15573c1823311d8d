"""Fixtures for the end-to-end SIP tests (the helpers are in sip_harness.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sip_harness import Serve, Sipp, free_udp_ports


def _sipp_available() -> bool:
    return shutil.which("sipp") is not None


def _pjsua2_available() -> bool:
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [name for name, ok in (("sipp", _sipp_available()),
                                     ("pjsua2", _pjsua2_available())) if not ok]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"{', '.join(missing)} not installed (bash scripts/test.sh "
                                   "installs both)")
    for item in items:
        if "sip" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Sipp]:
    runner = Sipp(tmp_path)
    try:
        yield runner
    finally:
        runner.stop_all()


@pytest.fixture
def maria_port() -> int:
    return free_udp_ports(1)


@pytest.fixture
def serve(tmp_path: Path, maria_port: int) -> Iterator[Serve]:
    server = Serve(tmp_path, maria_port)
    try:
        yield server
    finally:
        server.stop()
