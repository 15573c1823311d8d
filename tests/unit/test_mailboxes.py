"""A mailbox for every user: named like them, theirs unless they or the admin opt out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flow_surgery import compile_text

from attendant.config.compiler import compile_path
from attendant.model import Flow
from attendant.sim.call import Simulator

OFFICE = """\
version: 1
attendants:
  main: {name: Office, timezone: UTC, business_hours: {menu: welcome}}
menus:
  welcome:
    prompt: Press 1 for Ann, 2 for Bob, 3 for Carl.
    options:
      "1": {user: ann, ring_seconds: 10}
      "2": {user: bob}
      "3": {user: carl}
voicemail:
  bob: {name: Bob's line, max_seconds: 60, greeting: Bob is away.}
directory:
@PERSONAL@  users:
    ann: {name: Ann Lee, sip: "sip:ann@pbx.example", email: ann@example.com, voicemail: self}
    bob: {name: Bob Jones, sip: "sip:bob@pbx.example", voicemail: self}
    carl: {name: Carl Diaz, sip: "sip:carl@pbx.example", mailbox: false}
"""


def _compile(tmp_path: Path, personal: str = "") -> Flow:
    return compile_text(tmp_path, OFFICE.replace("@PERSONAL@", personal), "office.yaml")


def test_every_user_has_a_mailbox_named_like_them_unless_they_opt_out(tmp_path: Path) -> None:
    flow = _compile(tmp_path)
    assert set(flow.voicemail) == {"ann", "bob"}  # carl: mailbox: false
    ann = flow.voicemail["ann"]
    assert (ann.name, ann.owners, ann.email) == ("Ann Lee", ("ann",), ("ann@example.com",))
    assert flow.voicemail_recipients("ann") == ["ann@example.com"]
    # A box declared under voicemail: with the user's name is their mailbox, as declared.
    assert (flow.voicemail["bob"].name, flow.voicemail["bob"].max_seconds) == ("Bob's line", 60)
    assert flow.voicemail["bob"].owners == ("bob",)  # his, to open by phone
    assert flow.users["ann"].voicemail == "ann"  # voicemail: self


def test_personal_mailboxes_can_be_turned_off_for_everyone(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE.replace("@PERSONAL@", "  personal_mailboxes: false\n"))
    errors = [d.format() for d in compile_path(path).errors]
    # Ann's voicemail: self has no mailbox to go to now; Bob's is declared under voicemail:.
    assert len(errors) == 1, errors
    assert ':16:89: error: user "ann" has no mailbox of their own' in errors[0]


def test_an_unanswered_call_to_a_user_goes_to_her_own_mailbox(tmp_path: Path) -> None:
    sim = Simulator(_compile(tmp_path), datetime(2026, 12, 8, 10, 0))
    sim.start()
    sim.press("1")
    sim.wait(15)  # Ann's phone rings 10 s, nobody answers
    assert "recording a message for ann (at most 180 s)" in sim.transcript()


def test_mailbox_limits_and_retention_per_box_and_for_every_personal_box(
        tmp_path: Path) -> None:
    text = OFFICE.replace("@PERSONAL@", """\
  mailbox_defaults:
    max_seconds: 2m
    max_messages: 20
    retention_days: {saved: 90, deleted: 14}
""").replace("bob: {name: Bob's line, max_seconds: 60,",
             "bob: {name: Bob's line, max_seconds: 60, retention_days: {saved: null},")
    flow = compile_text(tmp_path, text, "office.yaml")
    ann, bob = flow.voicemail["ann"], flow.voicemail["bob"]
    assert (ann.max_seconds, ann.max_messages, ann.keep_saved_days, ann.keep_deleted_days,
            ann.owners) == (120, 20, 90, 14, ("ann",))
    # Bob's box is declared: its own limits, the defaults of any box otherwise.
    assert (bob.max_seconds, bob.max_messages, bob.keep_saved_days, bob.keep_deleted_days
            ) == (60, 100, None, 30)
