"""What a compiled Flow answers about itself: which number a call is for, whom a
voicemail box's messages are e-mailed to."""

from __future__ import annotations

import pytest
from flow_surgery import compile_text

from attendant.model import Flow

MENU = """\
version: 1
attendants:
  main:
    name: Main
    answers: ["+15550001000", frontdesk]
    timezone: UTC
    business_hours: {menu: m}
  support:
    name: Support
    timezone: UTC
    business_hours: {menu: m}
menus:
  m:
    prompt: Hello.
    options:
      "1": {voicemail: sales}
      "2": {voicemail: empty}
directory:
  users:
    anna: {name: Anna, email: anna@example.test}
    ben: {name: Ben}
voicemail:
  sales: {name: Sales, email: [team@example.test, " anna@example.test "], owners: [anna, ben]}
  empty: {name: Empty}
"""


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    return compile_text(tmp_path_factory.mktemp("lookups"), MENU)


@pytest.mark.parametrize(("candidates", "called"), [
    (("frontdesk", "+15550001000"), "frontdesk"),  # the first one answered
    (("unknown", "+15550001000"), "+15550001000"),  # a later one some attendant answers
    (("", "support"), "support"),  # an attendant's key counts
    (("", "nobody", "other"), "nobody"),  # none answered: the first given
    (("", ""), ""),
])
def test_the_call_is_for_the_first_number_an_attendant_answers(
        flow: Flow, candidates: tuple[str, ...], called: str) -> None:
    assert flow.called(*candidates) == called


def test_voicemail_goes_to_the_boxs_addresses_then_its_owners_each_once(flow: Flow) -> None:
    assert flow.voicemail_recipients("sales") == ["team@example.test", "anna@example.test"]
    assert flow.voicemail_recipients("empty") == []
    assert flow.voicemail_recipients("no such box") == []
