"""`attendant status`: the server and its trunks as status.json shows them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from attendant.cli.main import main

STATUS = {
    "pid": 4242, "accepting": True, "stopped": False, "active_calls": 2, "max_calls": 200,
    "answered": 17, "rejected_busy": 0,
    "trunks": [
        {"trunk": "carrier", "registrar": "sip:sip.carrier.example",
         "address": "sip:+33155501000@sip.carrier.example", "state": "registered",
         "code": 200, "reason": "OK", "expires_at": 1_900_000_000, "retry_at": None,
         "failures": 0},
        {"trunk": "pbx", "registrar": "sip:pbx.example", "address": "sip:attendant@pbx.example",
         "state": "failing", "code": 403, "reason": "Forbidden", "expires_at": None,
         "retry_at": 1_900_000_060, "failures": 3},
    ],
}


def test_status_shows_each_trunk_and_fails_while_one_is_not_registered(tmp_path: Path) -> None:
    (tmp_path / "status.json").write_text(json.dumps(STATUS))
    result = CliRunner().invoke(main, ["status", "--data", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("attendant serve (pid 4242): accepting calls, 2 call(s) up of 200; "
                        "17 answered, 0 busy")
    assert lines[1].startswith("trunk carrier (sip:+33155501000@sip.carrier.example at "
                               "sip:sip.carrier.example): registered until 2030-03-17")
    assert lines[2].startswith("trunk pbx (sip:attendant@pbx.example at sip:pbx.example): "
                               "FAILING: 403 Forbidden; attempt 3, next at 2030-03-17")


def test_status_without_a_running_server_says_where_it_looked(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--data", str(tmp_path / "var")])
    assert result.exit_code == 1
    assert "no " + str(tmp_path / "var" / "status.json") in result.output
