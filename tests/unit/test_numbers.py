"""Numbers as people write them: one comparable form in the menus and on calls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from flow_surgery import compile_text
from hypothesis import given
from hypothesis import strategies as st

from attendant.config.compiler import compile_path
from attendant.engine.agents import agent_for_caller
from attendant.engine.events import CallStarted
from attendant.engine.machine import step
from attendant.engine.state import initial_state
from attendant.numbers import allowed, number, prefix
from attendant.queues.core import callback_allowed


@pytest.mark.parametrize(("written", "country", "comparable"), [
    ("+33 1 70 00 00 00", None, "+33170000000"),
    ("+33 (0)1 70 00 00 00", None, "+33170000000"),
    ("01.70.00.00.00", "FR", "+33170000000"),
    ("0612345678", "FR", "+33612345678"),
    ("0033 6 12 34 56 78", "FR", "+33612345678"),
    ("(212) 555-0199", "US", "+12125550199"),
    ("0612345678", None, "0612345678"),  # no country: compared as written, digits only
    ("201", "FR", "201"),  # an extension stays an extension
    ("5550100", "US", "5550100"),  # a local-only number is not made international
    ("main", "FR", "main"), ("staff", None, "staff"),  # SIP user names
])
def test_numbers_written_any_way_compare_as_one(written: str, country: str | None,
                                                comparable: str) -> None:
    assert number(written, country) == comparable


@pytest.mark.parametrize(("written", "country", "start"), [
    ("+33", None, "+33"), ("+33*", None, "+33"), ("+33 6*", None, "+336"),
    ("06", "FR", "+336"), ("06*", "FR", "+336"), ("0033 6", "FR", "+336"),
    ("1 212", "US", "+1212"), ("06", None, "06"), ("six", None, None), ("*", None, None),
])
def test_prefixes_have_one_syntax_everywhere(written: str, country: str | None,
                                             start: str | None) -> None:
    assert prefix(written, country) == start


@given(st.text(max_size=30), st.sampled_from([None, "FR", "US", "GB"]))
def test_no_text_makes_number_reading_fail(text: str, country: str | None) -> None:
    number(text, country)
    prefix(text, country)


def test_allow_lists_take_whole_numbers_and_prefixes() -> None:
    entries = ("+15551230000", "+1212*")
    assert allowed("+15551230000", entries)
    assert allowed("+12125550199", entries)
    assert not allowed("+15551230001", entries)


FRENCH_OFFICE = """\
version: 1
country: FR
attendants:
  main:
    name: Paris office
    timezone: Europe/Paris
    answers: ["+33 1 70 00 00 00"]
    business_hours: {menu: welcome}
  sav:
    name: Service après-vente
    timezone: Europe/Paris
    answers: ["01 70 00 00 01"]
    business_hours: {menu: welcome}
menus:
  welcome:
    prompt: Appuyez sur 1.
    options:
      "1": {queue: ventes}
      "2": {external: "06 98 76 54 32"}
queues:
  ventes:
    name: Ventes
    agents: [{user: ann}]
    callback_key: "9"
    callback_numbers: ["+33 6*", "07"]
directory:
  external_numbers: ["+33 6*"]
  users:
    ann: {name: Ann Lee, sip: "sip:ann@pbx.example", phones: ["06 12 34 56 78"]}
"""


def test_a_called_number_in_any_form_finds_the_attendant_that_answers_it(
        tmp_path: Path) -> None:
    flow = compile_text(tmp_path, FRENCH_OFFICE, "office.yaml")
    for called in ("+33170000000", "0170000000", "01 70 00 00 00", "0033170000000"):
        assert flow.attendant_for(called).key == "main", called
    assert flow.attendant_for("+33170000001").key == "sav"
    assert flow.called("main-line", "0170000001") == "0170000001"


def test_a_caller_from_a_national_trunk_gets_a_callback_its_prefix_allows(
        tmp_path: Path) -> None:
    flow = compile_text(tmp_path, FRENCH_OFFICE, "office.yaml")
    queue = flow.queues["ventes"]
    assert queue.callback_numbers == ("+336", "+337")
    state, _ = step(flow, initial_state(),
                    CallStarted(datetime(2026, 12, 8, 10, 0), caller="06 12 34 56 78",
                                called="0170000000"))
    assert state.caller == "+33612345678"
    assert callback_allowed(flow, queue, state.caller)
    assert not callback_allowed(flow, queue, flow.number("0145000000"))  # a landline


def test_external_numbers_and_transfers_are_compared_in_one_form(tmp_path: Path) -> None:
    flow = compile_text(tmp_path, FRENCH_OFFICE, "office.yaml")
    assert flow.external_numbers == ("+336*",)
    [external] = [r for r in flow.menus["welcome"].options.values()
                  if getattr(r, "number", None)]
    assert external.number == "+33698765432"  # type: ignore[attr-defined]


def test_an_unknown_country_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(FRENCH_OFFICE.replace("country: FR", "country: XX"))
    error = compile_path(path).errors[0]
    assert (error.line, error.message) == (2, 'no numbering plan is known for country "XX"')


def test_a_users_mobile_written_nationally_recognises_her_calling_in(tmp_path: Path) -> None:
    flow = compile_text(tmp_path, FRENCH_OFFICE, "office.yaml")
    assert flow.users["ann"].phones == ("+33612345678",)
    state, _ = step(flow, initial_state(),
                    CallStarted(datetime(2026, 12, 8, 10, 0), caller="0612345678"))
    assert agent_for_caller(flow, state.caller) == "ann"
