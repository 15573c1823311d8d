"""Agent feature codes on a real `attendant serve`: the PIN an untrusted caller must know.

A caller ID proves nothing (anyone can send ``From: <sip:101@…>``), so a feature code
from an untrusted source asks for the agent's PIN; a --trusted-source PBX is believed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rawsip import RawPeer
from sip_harness import MENU, Serve, wait_for

from attendant.pins import hash_pin

pytestmark = pytest.mark.sip

PIN = "2468"


def agent_state(serve: Serve) -> str:
    [queue] = serve.status()["queues"]
    [agent] = queue["agents"]
    return str(agent["state"])


@pytest.fixture
def serve(tmp_path: Path, maria_port: int) -> Iterator[Serve]:
    server = Serve(tmp_path, maria_port)
    text = MENU.replace('      "1": {user: maria}\n', '      "1": {queue: front}\n'
                        '      "*71": {agent: sign_in}\n      "*72": {agent: sign_out}\n')
    text = text.replace("    options:\n", "    repeat_key: null\n    options:\n", 1)
    text = text.replace("      voicemail: office\nvoicemail:",
                        f'      voicemail: office\n      pin: "{hash_pin(PIN)}"\n'
                        "queues:\n  front: {name: Front desk, agents: [{user: maria}]}\n"
                        "voicemail:")
    server.menu.write_text(text)
    try:
        server.start("--trusted-source", "127.0.0.7")
        yield server
    finally:
        server.stop()


def dial(serve: Serve, peer: RawPeer, keys: str, from_header: str | None = None) -> str:
    """Call, press ``keys`` one by one (INFO), wait for the server's BYE; the outcome."""
    before = len(serve.status()["recent"])
    dialog = peer.invite(from_header=from_header)
    assert peer.wait_answer(dialog).status == 200
    time.sleep(0.5)
    for key in keys:
        assert peer.info_digit(dialog, key) == 200
        time.sleep(0.1)
    assert peer.wait_bye(dialog, timeout=60), serve.logs()
    wait_for("the call in status.json", lambda: len(serve.status()["recent"]) > before,
             context=serve.logs)
    return str(serve.status()["recent"][-1]["outcome"])


def test_an_untrusted_feature_code_needs_the_agents_pin(serve: Serve) -> None:
    assert agent_state(serve) == "available"
    with RawPeer("127.0.0.5", serve.port, user="101") as maria:  # From: maria's extension
        assert dial(serve, maria, "*72" + "1111#" + "9999#" + "0000#") == (
            "feature code sign_out refused: wrong PIN 3 times for agent maria")
        assert agent_state(serve) == "available"
        assert dial(serve, maria, "*72" + PIN + "#") == "agent maria signs out"
    wait_for("maria signed out", lambda: agent_state(serve) == "signed out",
             context=serve.logs)
    log = serve.log.read_text()
    assert "wrong PIN for agent maria" in log
    # The PIN is never written down: keys typed while entering it show as "x".
    steps = [json.loads(line) for line in (serve.data / "calls.jsonl").read_text().splitlines()
             if '"phase":"pin_entry"' in line]
    assert steps, "no step while entering a PIN was logged"
    assert {s["digit"] for s in steps} <= {"x", None}
    assert all(set(s["buffer"]) <= {"x"} for s in steps)
    assert any(s["buffer"] == "xxx" for s in steps)


def test_a_trusted_source_needs_no_pin(serve: Serve) -> None:
    with RawPeer("127.0.0.7", serve.port, user="101") as pbx:
        assert dial(serve, pbx, "*72") == "agent maria signs out"
    wait_for("maria signed out", lambda: agent_state(serve) == "signed out",
             context=serve.logs)


def test_a_display_name_spoofing_the_agents_extension_gets_no_agent_action(
        serve: Serve) -> None:
    with RawPeer("127.0.0.5", serve.port, user="evil") as evil:
        outcome = dial(serve, evil, "*72", from_header=f'"sip:101@x" <sip:evil@{evil.ip}>')
    assert outcome == "feature code sign_out: caller evil is not an agent"
    assert agent_state(serve) == "available"
