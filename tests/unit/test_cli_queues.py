"""``attendant queues``: reading the server's snapshot and writing agent commands."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from attendant.cli import main

QUEUE = {"queue": "sales", "name": "Sales", "routing": "longest_idle", "waiting": 1,
         "callbacks_waiting": 0, "longest_wait": 75.2,
         "callers": [{"call_id": "r-1", "caller": "alice", "status": "waiting", "position": 1,
                      "priority": 0, "waited": 75.2, "rtp_to_caller": 3000}],
         "agents": [{"agent": "anna", "state": "busy"}, {"agent": "ben", "state": "paused"}],
         "answered": 3, "abandoned": 1, "timed_out": 0, "overflowed": 0, "no_agents": 0,
         "left": 0, "callbacks": 0, "answered_within": 2, "service_level_seconds": 20.0,
         "service_level": 50.0}


def _data(tmp_path: Path) -> Path:
    (tmp_path / "status.json").write_text(json.dumps({"queues": [QUEUE],
                                                      "agent_commands": []}))
    return tmp_path


def test_table_and_json(tmp_path: Path) -> None:
    data = _data(tmp_path)
    table = CliRunner().invoke(main, ["queues", "--data", str(data)])
    assert table.exit_code == 0, table.output
    assert "sales (Sales, longest idle): 1 waiting, longest 1:15" in table.output
    assert "service level 50% within 20 s" in table.output
    assert "agent ben              paused" in table.output
    raw = CliRunner().invoke(main, ["queues", "--data", str(data), "--format", "json"])
    assert json.loads(raw.output) == [QUEUE]


def test_no_status_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["queues", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "is attendant serve running" in result.output


def test_agent_command_file_and_result(tmp_path: Path) -> None:
    data = _data(tmp_path)
    (data / "attendant.pid").write_text("1\n")
    result = CliRunner().invoke(main, ["queues", "agent", "anna", "optout", "sales",
                                       "--data", str(data), "--wait", "0.3"])
    assert result.exit_code == 1  # nobody applied it: it stays for the server
    [command] = (data / "queue-control").glob("*.json")
    assert json.loads(command.read_text()) == {"agent": "anna", "command": "optout",
                                               "queue": "sales"}


def test_agent_command_usage(tmp_path: Path) -> None:
    data = _data(tmp_path)
    missing = CliRunner().invoke(main, ["queues", "agent", "anna", "optin", "--data",
                                        str(data)])
    assert missing.exit_code == 2
    assert "optin needs a QUEUE" in missing.output
    no_server = CliRunner().invoke(main, ["queues", "agent", "anna", "signin", "--data",
                                          str(data)])
    assert no_server.exit_code == 1
    assert "no attendant.pid" in no_server.output
