"""Caller identity from SIP headers: the URI only, P-Asserted-Identity only when trusted."""

from __future__ import annotations

import pytest

from attendant.sip.identity import (
    arrived_on,
    caller_user,
    header_values,
    leg_identity,
    request_uri_param,
    request_user,
    wants_privacy,
)
from attendant.storage import printable

INVITE = (
    "INVITE sip:frontdesk@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
    'From: "sip:101@x" <sip:evil@203.0.113.9>;tag=1\r\n'
    "To: <sip:frontdesk@127.0.0.1>\r\n"
    "P-Asserted-Identity: <sip:+15551230001@carrier.example>,\r\n"
    " <tel:+15551230001>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 INVITE\r\n"
    "\r\n"
    "P-Asserted-Identity: <sip:body@not.a.header>\r\n"
)


def test_a_display_name_that_looks_like_an_extension_is_not_the_caller() -> None:
    assert caller_user('"sip:101@x" <sip:evil@203.0.113.9>', INVITE, trusted=False) == "evil"


def test_p_asserted_identity_counts_only_from_a_trusted_source() -> None:
    remote = '"sip:101@x" <sip:evil@203.0.113.9>'
    assert caller_user(remote, INVITE, trusted=True) == "+15551230001"
    assert caller_user(remote, INVITE.replace("P-Asserted", "X-Asserted"),
                       trusted=True) == "evil"


def test_headers_are_read_from_the_head_only_and_folded_lines_joined() -> None:
    assert header_values(INVITE, "p-asserted-identity") == [
        "<sip:+15551230001@carrier.example>, <tel:+15551230001>"]
    assert request_user(INVITE) == "frontdesk"


@pytest.mark.parametrize(("raw", "shown"), [
    ("+15551230001", "+15551230001"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("evil\r\nX-Injected: 1", "evil\\r\\nX-Injected: 1"),
    ("abc\u202edcba", "abc\\u202edcba"),  # a right-to-left override that reorders a line
    ("Zoë Ångström", "Zoë Ångström"),
])
def test_printable_escapes_what_a_terminal_or_log_reader_would_act_on(raw: str,
                                                                       shown: str) -> None:
    assert printable(raw) == shown


def test_a_trunk_is_known_by_the_token_of_its_contact_or_by_the_number_dialled() -> None:
    tokens, numbers = {"c0ffee": "carrier"}, {"+33155501001": "carrier", "200": "pbx"}
    via_contact = "INVITE sip:harbor@10.0.0.5:5060;ob;attendant-trunk=c0ffee SIP/2.0\r\n\r\n"
    assert request_uri_param(via_contact, "Attendant-Trunk") == "c0ffee"
    assert arrived_on(via_contact, tokens, numbers) == "carrier"
    assert arrived_on("INVITE sip:200@10.0.0.5 SIP/2.0\r\n\r\n", tokens, numbers) == "pbx"
    guessed = "INVITE sip:harbor@10.0.0.5;attendant-trunk=0000 SIP/2.0\r\n\r\n"
    assert arrived_on(guessed, tokens, numbers) == ""  # a wrong token names no trunk
    assert request_uri_param("OPTIONS sip:x SIP/2.0\r\n\r\n", "attendant-trunk") == ""


def test_a_leg_through_a_trunk_carries_the_caller_and_the_main_number() -> None:
    assert leg_identity("+15550001234", False, "+33155501000", "carrier.example", False) == (
        ("P-Asserted-Identity", "<sip:+15550001234@carrier.example>"),
        ("Diversion", "<sip:+33155501000@carrier.example>;reason=unconditional"))
    assert leg_identity("+15550001234", False, "+33155501000", "carrier.example", True) == (
        ("P-Asserted-Identity", "<sip:+33155501000@carrier.example>"),)
    assert leg_identity("", False, "+33155501000", "c.example", False) == (
        ("P-Asserted-Identity", "<sip:+33155501000@c.example>"),)  # a callback: no caller


def test_a_caller_who_asked_for_privacy_keeps_it_on_the_leg() -> None:
    invite = "INVITE sip:x@h SIP/2.0\r\nPrivacy: id; critical\r\n\r\n"
    assert wants_privacy(invite)
    assert not wants_privacy("INVITE sip:x@h SIP/2.0\r\nPrivacy: none\r\n\r\n")
    headers = dict(leg_identity("+15550001234", True, "+33155501000", "c.example", False))
    assert headers["Privacy"] == "id"


@pytest.mark.parametrize("caller", ['evil>, <sip:+1911@x', "a b", "x" * 65, 'a"b'])
def test_a_from_user_that_is_no_plain_number_never_reaches_our_headers(caller: str) -> None:
    assert leg_identity(caller, False, "+33155501000", "c.example", False) == (
        ("P-Asserted-Identity", "<sip:+33155501000@c.example>"),)
