"""Scenario files: every scripted call in tests/scenarios/ produces its expected transcript,
every example in menus/ validates and is covered by a scenario file, and broken scenario
files are reported with file:line.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from attendant import ScenarioError, compile_path
from attendant.config.loader import discover
from attendant.sim.scenario import Outcome, Scenario, ScenarioFile, load_scenarios, run_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = ROOT / "tests" / "scenarios"
MENU_DIR = ROOT / "menus"
SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.yaml"))
MENU_FILES = discover([MENU_DIR])


def _all_scenarios() -> list[tuple[ScenarioFile, Scenario]]:
    out = []
    for path in SCENARIO_FILES:
        spec = load_scenarios(path)
        out += [(spec, scenario) for scenario in spec.scenarios]
    return out


ALL = _all_scenarios()


def test_there_are_scenarios() -> None:
    assert SCENARIO_FILES
    assert len(ALL) >= len(SCENARIO_FILES)


@pytest.mark.parametrize(
    ("spec", "scenario"), ALL,
    ids=[f"{spec.path.stem}: {scenario.name}" for spec, scenario in ALL])
def test_scenario_transcript_matches(spec: ScenarioFile, scenario: Scenario) -> None:
    result = compile_path(spec.menu)
    assert result.flow is not None, "\n".join(d.format() for d in result.errors)
    assert scenario.expects_something, f"{scenario.where}: scenario has no expect: block"
    outcome = run_scenario(result.flow, scenario)
    assert outcome.error is None, outcome.error
    assert outcome.passed, (f"{scenario.where}: {'; '.join(outcome.problems())}\n"
                            f"{outcome.diff()}")


@pytest.mark.parametrize("path", MENU_FILES, ids=[p.name for p in MENU_FILES])
def test_example_menu_validates_without_errors(path: Path) -> None:
    result = compile_path(path)
    assert result.errors == (), "\n".join(d.format() for d in result.errors)
    assert result.flow is not None


def test_examples_are_discovered() -> None:
    assert {p.name for p in MENU_FILES} >= {"small-office.yaml", "northwind-main-line.yaml"}


@pytest.mark.parametrize("path", MENU_FILES, ids=[p.name for p in MENU_FILES])
def test_example_menu_has_a_scenario_file(path: Path) -> None:
    covered = {spec.menu.resolve() for spec in (load_scenarios(p) for p in SCENARIO_FILES)}
    assert path.resolve() in covered, f"no file in {SCENARIO_DIR} has menu: pointing at {path}"


# --- outcomes -------------------------------------------------------------------------------


def test_outcome_diff_shows_what_changed() -> None:
    spec, scenario = ALL[0]
    wrong = Scenario(scenario.name, scenario.at, scenario.caller, scenario.called,
                     scenario.language, scenario.steps, "[00:00.0] something else\n",
                     scenario.where)
    flow = compile_path(spec.menu).flow
    assert flow is not None
    outcome = run_scenario(flow, wrong)
    assert not outcome.passed
    diff = outcome.diff()
    assert diff.startswith("--- expected\n+++ actual\n")
    assert "-[00:00.0] something else" in diff
    assert "+[00:00.0] call from" in diff


def test_a_scenario_without_expect_fails_so_a_typo_cannot_hide_a_test() -> None:
    spec, scenario = ALL[0]
    bare = Scenario(scenario.name, scenario.at, scenario.caller, scenario.called,
                    scenario.language, scenario.steps, None, scenario.where)
    flow = compile_path(spec.menu).flow
    assert flow is not None
    outcome = run_scenario(flow, bare)
    assert not outcome.passed
    assert "expects nothing" in outcome.problems()[0]
    assert outcome.transcript == scenario.expect  # still there, for --show


def _partial(scenario: Scenario, **expect: object) -> Scenario:
    return Scenario(scenario.name, scenario.at, scenario.caller, scenario.called,
                    scenario.language, scenario.steps, None, scenario.where,
                    **expect)  # type: ignore[arg-type]


def test_partial_expectations_check_the_outcome_the_path_and_lines() -> None:
    spec, scenario = next((s, c) for s, c in ALL if c.name == (
        "the operator does not pick up - after ring_seconds the caller is offered voicemail"))
    flow = compile_path(spec.menu).flow
    assert flow is not None
    good = _partial(scenario, expect_outcome="voicemail left for general (caller hung up)",
                    expect_path=("language", "main", "user reception", "voicemail general"),
                    expect_lines=("Reception desk: no answer",))
    assert run_scenario(flow, good).passed
    wrong = _partial(scenario, expect_outcome="transferred to user reception",
                     expect_path=("language", "main", "user reception"),
                     expect_lines=("Reception desk: answered",))
    assert run_scenario(flow, wrong).problems() == [
        "expected outcome 'transferred to user reception', got 'voicemail left for general "
        "(caller hung up)'",
        "expected path ['language', 'main', 'user reception'], got ['language', 'main', "
        "'user reception', 'voicemail general']",
        "no line contains 'Reception desk: answered'"]


# --- broken scenario files ---------------------------------------------------------------

HEADER = "menu: ../menus/small-office.yaml\nscenarios:\n"


def write(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir(exist_ok=True)
    (tmp_path / "menus").mkdir(exist_ok=True)
    (tmp_path / "menus" / "small-office.yaml").write_text(
        (MENU_DIR / "small-office.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "broken.yaml"
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def error_of(path: Path) -> tuple[int, str]:
    """Load a scenario file that must fail; the line its message points at and the message."""
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    message = str(info.value)
    match = re.match(rf"{re.escape(str(path))}:(\d+):\d+: ", message)
    assert match, f"message does not start with {path}:line:col: {message!r}"
    return int(match.group(1)), message


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - press: "1"
                - jump
            """, 7, 'unknown step "jump"', id="unknown-word-step"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - fly: 3
            """, 6, 'unknown step "fly"', id="unknown-mapping-step"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - listen
                - press: "1a"
            """, 7, 'press: "1a" must be keys', id="bad-press-keys"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - press: ""
            """, 6, "must be keys", id="empty-press"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - wait: soon
            """, 6, "wait: takes a number of seconds", id="bad-wait"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps:
                - transfer: maybe
            """, 6, 'transfer: "maybe" is not an outcome', id="bad-transfer"),
        pytest.param("""\
            - name: first
              at: 2026-12-01T10:00
            - name: no time
              steps: [listen]
            """, 5, "needs name: and at:", id="missing-at"),
        pytest.param("""\
            - name: a
              at: next tuesday
            """, 4, '"next tuesday" is not a date and time', id="bad-at"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              colour: blue
            """, 3, "unknown key colour", id="unknown-key"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              agents:
                maria: sometimes
            """, 6, "an agent is one of", id="bad-agent"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              steps: [listen]
              callers:
                - {name: x}
            """, 5, "each caller has its own steps", id="steps-and-callers"),
        pytest.param("""\
            - name: a
              at: 2026-12-01T10:00
              callers:
                - {name: x, start: soon}
            """, 6, "start: takes seconds", id="bad-caller-start"),
    ],
)
def test_scenario_file_errors_name_file_and_line(
        tmp_path: Path, body: str, line: int, words: str) -> None:
    path = write(tmp_path, textwrap.indent(textwrap.dedent(body), "  "))
    found_line, message = error_of(path)
    assert words in message
    assert found_line == line


def test_scenario_file_without_scenarios_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("menu: x.yaml\n", encoding="utf-8")
    line, message = error_of(path)
    assert line == 1
    assert "needs menu:" in message


def test_scenario_with_steps_after_the_call_ended_reports_the_step(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - name: presses after hanging up
        at: 2026-12-01T10:00
        steps:
          - hangup
          - press: "1"
        expect: ""
    """)
    spec = load_scenarios(path)
    flow = compile_path(spec.menu).flow
    assert flow is not None
    outcome: Outcome = run_scenario(flow, spec.scenarios[0])
    assert not outcome.passed
    assert outcome.error is not None
    assert outcome.error.startswith(f"{path}:7:")
    assert "already ended" in outcome.error


def test_key_pressed_during_the_last_goodbye_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, """\
      - name: presses while the goodbye plays
        at: 2026-12-01T20:00
        steps:
          - press: "1"
          - listen
          - listen
          - press: "#"
          - press: "1"
        expect: ""
    """)
    spec = load_scenarios(path)
    flow = compile_path(spec.menu).flow
    assert flow is not None
    outcome = run_scenario(flow, spec.scenarios[0])
    assert outcome.error is not None
    assert outcome.error.startswith(f"{path}:10:")
    assert "already ended" in outcome.error
    assert outcome.transcript.splitlines()[-1].endswith("call ends: voicemail left for office")


def test_an_unknown_expectation_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """\
          - name: typo
            at: 2026-12-02T10:00
            expect:
              outcom: caller hung up in menu welcome
        """)
    with pytest.raises(ScenarioError, match=r"broken\.yaml:6:\d+: unknown expectation outcom"):
        load_scenarios(path)
