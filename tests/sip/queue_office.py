"""Shared pieces of the SIP queue tests: a server on a queue menu and ways to look at it.

Each queue test module writes its own menu and starts its own module-scoped server
(:func:`run_office`); the helpers read what the server reports — ``status.json``,
``calls.jsonl`` and the ``attendant queues`` command — and start agents' phones.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sip_harness import ATTENDANT, Serve, Sipp


@dataclass
class QueueOffice:
    """A running server, the port of each agent's phone, or the proxy every leg goes to."""

    serve: Serve
    ports: dict[str, int] = field(default_factory=dict)
    proxy: int | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.serve.port}"


def queue_menu(entries: tuple[str, ...], agents: tuple[str, ...], ports: dict[str, int],
               queues: str, *, first_extension: int, menu_lines: str = "",
               more_options: str = "") -> str:
    """A menu for a queue test module: per entry an attendant (answering the entry's name)
    and a menu whose key 1 joins the queue of that name, defined in ``queues`` (the YAML
    under ``queues:``); per agent a user ringing its SIPp phone on ``ports``.

    ``menu_lines`` go in every menu before ``options:``, ``more_options`` after key 1.
    """
    attendants = "".join(
        f"  {e}:\n    name: {e}\n    answers: [\"{e}\"]\n    timezone: UTC\n"
        f"    business_hours: {{menu: {e}}}\n" for e in entries)
    menus = "".join(f"  {e}:\n    prompt: Queue test.\n{menu_lines}    options:\n"
                    f"      \"1\": {{queue: {e}}}\n{more_options}" for e in entries)
    users = "".join(f"    {a}:\n      name: {a.title()} Agent\n"
                    f"      extension: \"{first_extension + i}\"\n"
                    f"      sip: sip:{a}@127.0.0.1:{ports[a]}\n" for i, a in enumerate(agents))
    return (f"version: 1\nattendants:\n{attendants}menus:\n{menus}directory:\n  users:\n"
            f"{users}voicemail:\n"
            "  qbox: {name: Queue box, greeting: Message please., max_seconds: 5}\n"
            f"queues:\n{queues}prompts:\n  goodbye: Goodbye.\n")


@contextmanager
def run_office(tmp: Path, menu: str, *serve_args: str, ports: dict[str, int] | None = None,
               proxy: int | None = None) -> Iterator[QueueOffice]:
    """Start ``attendant serve`` on ``menu`` in ``tmp``; stop it (by PID) afterwards."""
    serve = Serve(tmp, 0)
    serve.menu.write_text(menu)
    try:
        serve.start(*serve_args)
        yield QueueOffice(serve, ports or {}, proxy)
    finally:
        serve.stop()


def context(sipp: Sipp, office: QueueOffice) -> str:
    """Everything worth reading when an assertion fails."""
    return sipp.logs() + office.serve.logs()


def snapshot(office: QueueOffice, queue: str) -> dict[str, Any]:
    """The server's status.json entry for ``queue``."""
    found: dict[str, Any] = next(q for q in office.serve.status().get("queues", [])
                                 if q["queue"] == queue)
    return found


def agent_state(office: QueueOffice, queue: str, agent: str) -> str:
    """available, ringing, busy, wrap-up, paused or signed out."""
    return str(next(a["state"] for a in snapshot(office, queue)["agents"]
                    if a["agent"] == agent))


def agent_command(office: QueueOffice, *args: str) -> str:
    """Run ``attendant queues agent ARGS`` against the server and wait for it to apply."""
    done = subprocess.run([*ATTENDANT, "queues", "agent", *args, "--data",
                           str(office.serve.data), "--wait", "60"],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr + office.serve.logs()
    return done.stdout


def queue_events(office: QueueOffice) -> list[dict[str, Any]]:
    """Every queue line of calls.jsonl, in order."""
    lines = [json.loads(line) for line in
             (office.serve.data / "calls.jsonl").read_text().splitlines() if line]
    return [e for e in lines if e.get("type") == "queue"]


def answering_agent(sipp: Sipp, office: QueueOffice, agent: str, after_ms: int = 300,
                    talk_ms: int = 1000) -> subprocess.Popen[bytes]:
    """An agent's phone that rings ``after_ms``, answers, echoes RTP, hangs up after
    ``talk_ms`` (one call: SIPp runs with ``-m 1``)."""
    path = sipp.scenario("uas_answer_bye.xml")
    path.write_text(path.read_text().replace('<pause milliseconds="300"/>',
                                             f'<pause milliseconds="{after_ms}"/>'))
    return sipp.start(path, "-rtp_echo", "-d", str(talk_ms), port=office.ports[agent])
