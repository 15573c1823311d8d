"""Helpers for the end-to-end SIP tests: `attendant serve` and SIPp on 127.0.0.1.

Every process a test starts is stopped by its PID in a finally block; every wait
polls with a deadline (generous, because CI is a loaded 2-core machine) and
fails with the server's log attached instead of hanging.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
ATTENDANT = [sys.executable, "-c", "from attendant.cli import main; main()"]
#: Longest wait for anything in these tests; they normally take a few seconds.
DEADLINE_S = 60.0
#: Each test server gets this many RTP ports above its base (two per call, RTP and RTCP).
RTP_SPAN = 400

MENU = """\
version: 1
attendants:
  main:
    name: Harbor Dental
    answers: ["frontdesk"]
    timezone: UTC
    hours:  # every hour of every day, so the tests do not depend on the clock
      monday: ["00:00-24:00"]
      tuesday: ["00:00-24:00"]
      wednesday: ["00:00-24:00"]
      thursday: ["00:00-24:00"]
      friday: ["00:00-24:00"]
      saturday: ["00:00-24:00"]
      sunday: ["00:00-24:00"]
    business_hours: {menu: welcome}
    after_hours: {menu: welcome}
menus:
  welcome:
    prompt: >-
      Thank you for calling Harbor Dental. To book or change an appointment, press 1.
      To leave a message, press 2. For our address and opening hours, press 3.
    options:
      "1": {user: maria}
      "2": {voicemail: office}
      "3": {announcement: We are at 200 Harbor Drive., then: repeat}
directory:
  users:
    maria:
      name: Maria Lopez
      extension: "101"
      sip: sip:maria@127.0.0.1:@MARIA_PORT@
      voicemail: office
voicemail:
  office:
    name: Front desk
    greeting: Leave a message.
"""


def worker_share(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's slice of the ports ``low..high`` (all of it without xdist).

    Workers run tests at the same moment; a port found free by one could be taken by
    another before its server binds it, so each picks from its own slice.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or workers <= 1:
        return low, high
    width = (high - low) // workers
    index = int(worker[2:])
    return low + index * width, low + (index + 1) * width


#: Signalling ports (servers, SIPp, proxies), servers' RTP ranges and softphones' RTP ports
#: come from separate ranges, all below Linux's ephemeral range (32768-60999): a port
#: found free there could be given to any process's outgoing socket before our server
#: binds it ("Address already in use"); pjsua binds RTP ports only when a call needs them.
SIP_PORTS, RTP_PORTS, PHONE_RTP_PORTS = (10000, 20000), (20000, 30000), (30000, 32700)


#: Per range, where this process's next search starts (see :func:`free_udp_ports`).
_NEXT_PORT: dict[tuple[int, int], int] = {}


def free_udp_ports(count: int = 1, low: int = SIP_PORTS[0], high: int = SIP_PORTS[1]) -> int:
    """A base port such that base..base+count-1 are free for UDP (and TCP) on 127.0.0.1.

    Picked from this xdist worker's share of ``low..high`` (see :func:`worker_share`),
    going round the share from a random start: ports are checked free but bound later by
    the server or SIPp, so two picks close together must not return the same port (a
    random pick did, now and then, in a share of 1,600 ports).
    """
    low, high = worker_share(low, high)
    span = high - low - count
    start = _NEXT_PORT.get((low, high))
    if start is None:
        start = random.randrange(low, high - count)
    for attempt in range(200):
        base = (low + (start - low + attempt * 2) % span) & ~1
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        _NEXT_PORT[(low, high)] = base + count + (count & 1)
        return base
    raise RuntimeError("no free port found")


def wait_for(what: str, check: Callable[[], Any], timeout: float = DEADLINE_S,
             context: Callable[[], str] = lambda: "") -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{context()}")
        time.sleep(0.1)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int | None:
    """SIGTERM by PID, then SIGKILL if it does not end in ``timeout`` seconds."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


def scrape(port: int) -> dict[str, float]:
    """The metrics endpoint as {"name{labels}": value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


class Serve:
    """One `attendant serve` subprocess with its own port and data folder."""

    def __init__(self, tmp: Path, maria_port: int):
        self.tmp = tmp
        self.data = tmp / "data"
        self.port = free_udp_ports(1)
        self.menu = tmp / "menu.yaml"
        self.menu.write_text(MENU.replace("@MARIA_PORT@", str(maria_port)))
        self.log = tmp / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> Serve:
        rtp = free_udp_ports(RTP_SPAN + 1, *RTP_PORTS)
        cmd = [*ATTENDANT, "serve", str(self.menu), "--port", str(self.port),
               "--data", str(self.data), "--rtp-ports", f"{rtp}-{rtp + RTP_SPAN}", *args]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        wait_for("the server to listen", lambda: self.status().get("accepting"),
                 context=self.logs)
        return self

    def status(self) -> dict[str, Any]:
        assert self.proc is not None
        exited = self.proc.poll() is not None
        try:
            found: dict[str, Any] = json.loads((self.data / "status.json").read_text())
        except (OSError, ValueError):
            found = {}
        if exited and not found.get("stopped"):
            pytest.fail(f"the server died (exit {self.proc.returncode})\n{self.logs()}")
        return found

    def logs(self) -> str:
        try:
            return "--- serve log ---\n" + self.log.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        return stop_process(self.proc) if self.proc is not None else None


class Sipp:
    """Runs SIPp scenarios from tests/sip/scenarios against the server."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def scenario(self, name: str, **replace: str) -> Path:
        text = (SCENARIOS / name).read_text()
        for key, value in replace.items():
            text = text.replace(f"@{key.upper()}@", value)
        path = self.tmp / f"{len(list(self.tmp.glob('*.xml')))}-{name}"
        path.write_text(text)
        return path

    def start(self, scenario: Path, *args: str, target: str | None = None,
              port: int | None = None) -> subprocess.Popen[bytes]:
        port = port or free_udp_ports(1)
        media = free_udp_ports(4)
        while media <= port < media + 4:  # SIPp binds media..media+3: not its SIP port
            media = free_udp_ports(4)
        cmd = ["sipp", *([target] if target else []), "-sf", str(scenario), "-i", "127.0.0.1",
               "-p", str(port), "-mp", str(media), "-m", "1", "-nostdin",
               "-timeout", "90", "-timeout_error", "-trace_err", *args]
        log = (self.tmp / f"sipp-{port}.out").open("wb")
        proc = subprocess.Popen(cmd, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append(proc)
        return proc

    def wait(self, proc: subprocess.Popen[bytes], timeout: float = DEADLINE_S) -> int:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIPp did not finish in {timeout:.0f} s\n{self.logs()}")

    def logs(self) -> str:
        parts = []
        for path in sorted(self.tmp.glob("*errors.log")) + sorted(self.tmp.glob("sipp-*.out")):
            parts.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)


