"""The ``attendant`` command line, driven in-process with click's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft202012Validator

from attendant.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "menus" / "small-office.yaml"
NORTHWIND = ROOT / "menus" / "northwind-main-line.yaml"
SCENARIOS = ROOT / "tests" / "scenarios"

BROKEN = """\
version: 1
attendants:
  main:
    name: Broken
    timezone: Europe/Paris
    business_hours: {menu: welcome}
menus:
  welcome:
    prompt: Press 1.
    options:
      "1": {menu: nowhere}
"""

WARNING_ONLY = """\
version: 1
attendants:
  main:
    name: Warned
    timezone: Europe/Paris
    business_hours: {menu: welcome}
menus:
  welcome:
    prompt: Press 1.
    options:
      "1": disconnect
  lonely:
    prompt: Nobody comes here.
    options:
      "1": disconnect
"""


def run(*args: str, stdin: str | None = None) -> Result:
    return _runner().invoke(main, [str(a) for a in args], input=stdin)


def _runner() -> CliRunner:
    """A runner whose ``output`` holds stdout and stderr, on click 8.1 (gTTS pins it) and 8.2+."""
    return CliRunner()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    return path


@pytest.fixture
def warned(tmp_path: Path) -> Path:
    path = tmp_path / "warned.yaml"
    path.write_text(WARNING_ONLY, encoding="utf-8")
    return path


# --- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SMALL, NORTHWIND, ROOT / "menus"], ids=lambda p: p.name)
def test_validate_examples_exit_zero(path: Path) -> None:
    result = run("validate", path)
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stdout


def test_validate_broken_file_exits_one_with_position(broken: Path) -> None:
    result = run("validate", broken)
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(broken))}:11:\d+: error: .*nowhere", result.stdout), \
        result.output
    assert "ok:" not in result.stdout


def test_validate_json_lists_every_diagnostic(broken: Path) -> None:
    result = run("validate", "--format", "json", broken)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    assert data
    for item in data:
        assert {"file", "line", "col", "message", "hint", "severity"} <= set(item)
        assert isinstance(item["line"], int)
        assert isinstance(item["col"], int)
        assert item["severity"] in ("error", "warning")
    assert any(d["severity"] == "error" and d["line"] == 11 for d in data)


def test_validate_json_of_valid_file_is_empty_list() -> None:
    result = run("validate", "--format", "json", SMALL)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_validate_strict_fails_on_warnings(warned: Path) -> None:
    relaxed = run("validate", warned)
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning:" in relaxed.stdout
    strict = run("validate", "--strict", warned)
    assert strict.exit_code == 1
    assert "warning:" in strict.stdout


def test_validate_needs_a_path() -> None:
    assert run("validate").exit_code == 2


# --- schema, compile, graph ------------------------------------------------------------------


def test_schema_is_valid_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert "attendants" in schema["properties"]


@pytest.mark.parametrize("path", [SMALL, NORTHWIND], ids=lambda p: p.name)
def test_compile_json_is_deterministic(path: Path) -> None:
    first = run("compile", "--json", path)
    second = run("compile", "--json", path)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert data["type"] == "Flow"
    assert "main" in data["attendants"]


def test_compile_summary() -> None:
    result = run("compile", SMALL)
    assert result.exit_code == 0
    assert "1 attendant(s), 2 menu(s)" in result.stdout


def test_compile_broken_file_exits_one(broken: Path) -> None:
    result = run("compile", broken)
    assert result.exit_code == 1
    assert f"{broken}:11:" in result.output


@pytest.mark.parametrize(("fmt", "start"), [("mermaid", "flowchart"), ("dot", "digraph")])
@pytest.mark.parametrize("path", [SMALL, NORTHWIND], ids=lambda p: p.name)
def test_graph_formats(path: Path, fmt: str, start: str) -> None:
    result = run("graph", "--format", fmt, path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(start)
    assert "welcome" in result.stdout or "main" in result.stdout


def test_graph_default_is_mermaid() -> None:
    result = run("graph", SMALL)
    assert result.stdout.startswith("flowchart")


# --- simulate ------------------------------------------------------------------------------


def test_simulate_scripted_caller() -> None:
    result = run("simulate", SMALL, "--at", "2026-12-01T10:00", stdin="1\nwait 6\nhangup\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[00:00.0] call from +15550000000 to main (Harbor Dental)")
    assert "business hours" in lines[0]
    assert any("caller presses 1" in line for line in lines)
    assert any("transfer to user maria" in line for line in lines)
    assert any(line.startswith("[00:06.0] caller hangs up") for line in lines)
    assert lines[-1] == "-- outcome: caller hung up while the transfer was ringing [caller_hangup]"


def test_simulate_after_hours_voicemail() -> None:
    result = run("simulate", SMALL, "--at", "2026-12-01T20:00",
                 stdin="1\nlisten\nlisten\nwait 3\n#\n")
    assert result.exit_code == 0, result.output
    assert "after hours" in result.stdout
    assert "recording a message for office" in result.stdout
    assert result.stdout.rstrip().endswith("-- outcome: voicemail left for office [voicemail]")


def test_simulate_reports_nonsense_and_carries_on() -> None:
    result = run("simulate", SMALL, "--at", "2026-12-01T10:00",
                 stdin="dance\nbusy\nhangup\n")
    assert result.exit_code == 0
    assert 'I did not understand "dance"' in result.output
    assert "nothing is ringing" in result.output
    assert "-- outcome: caller hung up in menu welcome [caller_hangup]" in result.stdout


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01T10:00", "10:00 tomorrow"])
def test_simulate_bad_at_is_a_usage_error(at: str) -> None:
    result = run("simulate", SMALL, "--at", at, stdin="")
    assert result.exit_code == 2
    assert "--at" in result.output
    assert "is not a date and time" in result.output


def test_simulate_language_not_offered_is_a_usage_error() -> None:
    result = run("simulate", SMALL, "--at", "2026-12-01T10:00", "--language", "fr-FR", stdin="")
    assert result.exit_code == 2
    assert "not offered" in result.output


def test_simulate_broken_file_exits_one(broken: Path) -> None:
    result = run("simulate", broken, "--at", "2026-12-01T10:00", stdin="")
    assert result.exit_code == 1


# --- test ------------------------------------------------------------------------------------


def test_test_command_passes_on_the_scenarios() -> None:
    result = run("test", SCENARIOS)
    assert result.exit_code == 0, result.output
    assert re.search(r"^\d+ passed, 0 failed$", result.stdout, re.MULTILINE)


def _scenario_with_expect(tmp_path: Path, expect: str) -> Path:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        f"menu: {SMALL}\n"
        "scenarios:\n"
        "  - name: hang up at once\n"
        "    at: 2026-12-01T10:00\n"
        "    steps: [hangup]\n"
        "    expect: |\n"
        + "".join(f"      {line}\n" for line in expect.splitlines()),
        encoding="utf-8")
    return path


def test_test_command_fails_with_a_diff_on_wrong_expect(tmp_path: Path) -> None:
    path = _scenario_with_expect(tmp_path, "[00:00.0] something else entirely")
    result = run("test", path)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "--- expected" in result.stdout
    assert "+++ actual" in result.stdout
    assert "-[00:00.0] something else entirely" in result.stdout
    assert "0 passed, 1 failed" in result.stdout


def test_test_command_show_prints_transcript(tmp_path: Path) -> None:
    path = _scenario_with_expect(tmp_path, "x")
    result = run("test", "--show", path)
    assert "call ends: caller hung up in menu welcome" in result.stdout


def test_test_command_reports_broken_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"menu: {SMALL}\nscenarios:\n  - name: x\n", encoding="utf-8")
    result = run("test", path)
    assert result.exit_code == 1
    assert f"ERROR {path}" in result.output
    assert "needs name: and at:" in result.output


def test_test_command_with_no_scenarios_fails(tmp_path: Path) -> None:
    result = run("test", tmp_path)
    assert result.exit_code == 1
    assert "0 passed, 0 failed" in result.stdout


def test_version_option() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert "0.1.0" in result.stdout


def test_graph_keeps_menus_with_similar_names_apart(tmp_path: Path) -> None:
    path = tmp_path / "similar.yaml"
    path.write_text("""\
version: 1
attendants:
  main:
    name: Similar
    timezone: Europe/Paris
    business_hours: {menu: start}
menus:
  start:
    prompt: Press 1 or 2.
    options:
      "1": {menu: after-hours}
      "2": {menu: after_hours}
  after-hours:
    prompt: Dash.
    options: {"1": disconnect}
  after_hours:
    prompt: Underscore.
    options: {"1": disconnect}
""", encoding="utf-8")
    result = run("graph", "--format", "dot", path)
    assert result.exit_code == 0, result.output
    nodes = re.findall(r"^  (\w+) \[label=\"menu after[-_]hours\"", result.stdout, re.MULTILINE)
    assert len(set(nodes)) == 2
    targets = set(re.findall(r'^  menu_start -> (\w+) \[label="key', result.stdout,
                             re.MULTILINE))
    assert targets == set(nodes)


def test_serve_refuses_an_smtp_login_without_starttls_unless_told_plainly(
        tmp_path: Path) -> None:
    env = {"ATTENDANT_SMTP_PASSWORD": "secret"}
    base = ["serve", str(SMALL), "--data", str(tmp_path), "--smtp-host", "mail.example.com",
            "--smtp-user", "pbx"]
    result = CliRunner().invoke(main, base, env=env)
    assert result.exit_code == 2, result.output
    assert "in the clear" in result.output
    assert "--smtp-starttls" in result.output
    clash = CliRunner().invoke(main, [*base, "--smtp-starttls", "--smtp-tls", "none"], env=env)
    assert clash.exit_code == 2
    assert "contradict" in clash.output
    assert "secret" not in result.output + clash.output


def test_graph_draws_where_a_full_voicemail_box_sends_callers(tmp_path: Path) -> None:
    path = tmp_path / "full.yaml"
    path.write_text("""\
version: 1
attendants:
  main:
    name: Full
    timezone: Europe/Paris
    business_hours: {menu: start}
menus:
  start:
    prompt: Press 1 for a message.
    options: {"1": {voicemail: sales}}
  overflow:
    prompt: Press 1 to hear this again.
    options: {"1": repeat}
voicemail:
  sales:
    name: Sales
    when_full: {menu: overflow}
""", encoding="utf-8")
    result = run("graph", "--format", "mermaid", path)
    assert result.exit_code == 0, result.output
    assert 'vm_sales -->|"when full"| menu_overflow' in result.stdout
    assert "never reached" not in run("validate", path).output


def test_piped_simulate_runs_the_call_to_its_end_when_input_ends() -> None:
    result = run("simulate", NORTHWIND, "--at", "2026-12-08T10:00", stdin="")
    assert result.exit_code == 0, result.output
    # Nobody speaks: the menus time out, the operator rings out after 30 s, the caller is
    # sent to voicemail and the recording stops at its maximum.
    assert "[00:49.0] Reception desk: no answer" in result.output
    assert result.output.rstrip().endswith("-- outcome: voicemail left for general [voicemail]")


def test_piped_simulate_says_what_an_unfinished_call_is_doing() -> None:
    result = run("simulate", NORTHWIND, "--at", "2026-12-08T10:00", stdin="1\n1\n")
    assert "-- outcome: queued in sales [queued]" in result.output
    result = run("simulate", SMALL, "--at", "2026-12-02T10:00", stdin="2\nanswer\n")
    assert "-- outcome: menu" not in result.output


def test_simulate_opens_the_mailboxes_a_file_gives(tmp_path: Path) -> None:
    boxes = tmp_path / "boxes.yaml"
    boxes.write_text('anna:\n  pin: "4321"\n  messages:\n'
                     '    - {from: "+12125550199", at: 2026-12-07T15:42, seconds: 12}\n')
    northwind = str(ROOT / "menus" / "northwind-main-line.yaml")
    result = run("simulate", northwind, "--called", "staff", "--caller", "5101", "--at",
                 "2026-12-08T10:00", "--mailboxes", str(boxes),
                 stdin="*98\n4321#\n1\nlisten\n2\n*\n")
    assert result.exit_code == 0, result.output
    assert "PIN for mailbox anna: right (1 new, 0 saved)" in result.output
    assert "hears: <message 1 from +12125550199, 12 s>" in result.output
    assert "message 1 is now archived" in result.output
    assert "-- outcome: listened to mailbox anna [mailbox]" in result.output
    boxes.write_text("anna: {pin: 12}\n")
    result = run("simulate", northwind, "--mailboxes", str(boxes), stdin="")
    assert result.exit_code == 1
    assert f"{boxes}:1:13: a PIN is 4 to 12 digits" in result.output
