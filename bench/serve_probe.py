"""`attendant serve` with two timing probes, for bench/run_load.py.

    python bench/serve_probe.py PROBE.jsonl serve MENU [serve options...]

Runs the real server (``attendant.cli.main``) unchanged except that three methods
are wrapped to note a wall-clock time:

* ``InboundCall.onDtmfDigit`` (the RFC 4733 callback, a media thread): ``{"k": "d", ...}``
* ``Playback._start`` (the next prompt starts transmitting): ``{"k": "p", ...}``
* ``onStreamDestroyed`` (not overridden by serve): RTP received/lost, ``{"k": "l", ...}``

Each note is one tuple appended to a list (no I/O on the worker thread); the
list is written to PROBE.jsonl when the process exits. The harness pairs every
digit with the first prompt started after it on the same call: the server's
DTMF → next prompt latency.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from typing import Any

NOTES: list[tuple[str, str, str, float]] = []


def _install() -> None:
    from attendant.sip import call as call_mod
    from attendant.sip import playback

    cls = call_mod.InboundCall
    on_dtmf = cls.onDtmfDigit
    start_player = playback.Playback._start

    def probed_dtmf(self: Any, prm: Any) -> None:
        NOTES.append(("d", self.caller, str(prm.digit), time.time()))
        if "trace-feed" in os.environ.get("BENCH_PATCHES", ""):
            import threading

            NOTES.append(("t", self.caller, threading.current_thread().name, time.time()))
        on_dtmf(self, prm)

    def probed_player(self: Any, token: int, paths: Any) -> None:
        start_player(self, token, paths)
        NOTES.append(("p", self._call.caller, str(token), time.time()))

    def probed_stream_destroyed(self: Any, prm: Any) -> None:
        _note_loss(self, prm)

    feed = cls.feed

    def probed_feed(self: Any, event: Any) -> None:
        if type(event).__name__ == "Dtmf":
            NOTES.append(("f", self.caller, event.key, time.time()))
        feed(self, event)

    if "trace-feed" in os.environ.get("BENCH_PATCHES", ""):
        cls.feed = probed_feed
    cls.onDtmfDigit = probed_dtmf
    cls.onStreamDestroyed = probed_stream_destroyed
    playback.Playback._start = probed_player


def _patch_poll_1ms() -> None:
    """Experiment (BENCH_PATCHES=poll-1ms): the worker blocks in libHandleEvents <= 1 ms.

    pjsua 2.17 calls onDtmfDigit on a media thread, not on the worker; the posted
    task waits until the worker's libHandleEvents poll returns (up to POLL_MS).
    """
    from attendant.sip import endpoint

    endpoint.POLL_MS = 1


def _note_loss(call: Any, prm: Any) -> None:
    """The caller's stream is going: note its RTP received and lost (pjmedia's counts)."""
    try:
        rx = call.getStreamStat(prm.streamIdx).rtcp.rxStat
        NOTES.append(("l", call.caller, f"{int(rx.pkt)}/{int(rx.loss)}", time.time()))
    except Exception:
        NOTES.append(("l", call.caller, "?", time.time()))


def _dump(path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for kind, caller, what, at in NOTES:
            out.write(json.dumps({"k": kind, "c": caller, "w": what, "t": at}) + "\n")


def main() -> None:
    probe_path = sys.argv[1]
    sys.argv = ["attendant", *sys.argv[2:]]
    if os.environ.get("BENCH_PROBE") == "off":  # a soak: notes would grow the server's memory
        from attendant.cli import main as plain_main

        plain_main()
        return
    _install()
    patches = {p for p in os.environ.get("BENCH_PATCHES", "").split(",") if p}
    if "poll-1ms" in patches:
        _patch_poll_1ms()
    atexit.register(_dump, probe_path)
    from attendant.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
