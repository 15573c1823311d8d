"""Digest authentication of phones calling in: challenges, answers, replays, lockout."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from attendant.sip.digest import (
    FAILURES_BEFORE_LOCK,
    LOCK_S,
    NONCE_LIFETIME_S,
    DigestGate,
    digest_response,
    parse_digest,
)

URI = "sip:frontdesk@192.0.2.10"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def gate(clock: Clock | None = None) -> DigestGate:
    return DigestGate("attendant", {"201": "correct horse", "202": "battery staple"},
                      clock or Clock())


def nonce_of(challenge: str) -> str:
    params = parse_digest(challenge)
    assert params is not None
    return params["nonce"]


def answer(challenge: str, user: str = "201", password: str = "correct horse",
           nc: str = "00000001", method: str = "INVITE", qop: bool = True) -> str:
    nonce = nonce_of(challenge)
    if not qop:
        response = digest_response(user, "attendant", password, method, URI, nonce)
        return (f'Digest username="{user}", realm="attendant", nonce="{nonce}", uri="{URI}", '
                f'response="{response}", algorithm=MD5')
    response = digest_response(user, "attendant", password, method, URI, nonce, "auth", nc,
                               "0a4f113b")
    return (f'Digest username="{user}",realm="attendant",nonce="{nonce}",uri="{URI}",'
            f'response="{response}",algorithm=MD5,cnonce="0a4f113b",qop=auth,nc={nc}')


def test_the_response_is_rfc_2617s_md5_digest() -> None:
    # Worked by hand from RFC 2617 §3.2.2.1: HA1, HA2, then the qop=auth response.
    ha1 = hashlib.md5(b"201:attendant:pw").hexdigest()
    ha2 = hashlib.md5(b"INVITE:sip:x@y").hexdigest()
    expected = hashlib.md5(f"{ha1}:n:00000001:c:auth:{ha2}".encode()).hexdigest()
    assert digest_response("201", "attendant", "pw", "INVITE", "sip:x@y", "n", "auth",
                           "00000001", "c") == expected


def test_a_right_answer_is_a_call_from_that_phone() -> None:
    checker = gate()
    challenge = checker.challenge()
    assert challenge.startswith('Digest realm="attendant", nonce="')
    assert 'qop="auth"' in challenge
    verdict = checker.check("192.0.2.7", [answer(challenge)])
    assert (verdict.outcome, verdict.user) == ("ok", "201")
    # Without qop too (older phones).
    assert checker.check("192.0.2.7", [answer(checker.challenge(), qop=False)]).outcome == "ok"


def test_no_credentials_or_another_realms_are_challenged() -> None:
    checker = gate()
    assert checker.check("192.0.2.7", []).outcome == "missing"
    other = answer(checker.challenge()).replace('realm="attendant"', 'realm="carrier"')
    assert checker.check("192.0.2.7", [other, "Basic dXNlcjpwdw=="]).outcome == "missing"


def test_a_wrong_password_or_unknown_phone_fails() -> None:
    checker = gate()
    wrong = checker.check("192.0.2.7", [answer(checker.challenge(), password="guess")])
    assert (wrong.outcome, wrong.user, wrong.why) == ("failed", "201", "a wrong password")
    stranger = checker.check("192.0.2.7", [answer(checker.challenge(), user="999")])
    assert (stranger.outcome, stranger.why) == ("failed", 'no phone "999" in the settings')


def test_an_answer_computed_for_another_method_fails() -> None:
    checker = gate()
    verdict = checker.check("192.0.2.7", [answer(checker.challenge(), method="REGISTER")])
    assert verdict.outcome == "failed"


def test_a_replayed_answer_fails_but_the_next_nonce_count_passes() -> None:
    checker = gate()
    challenge = checker.challenge()
    first = answer(challenge)
    assert checker.check("192.0.2.7", [first]).outcome == "ok"
    replay = checker.check("192.0.2.7", [first])
    assert (replay.outcome, replay.why) == ("failed", "a replayed answer (a nonce used before)")
    assert checker.check("192.0.2.7", [answer(challenge, nc="00000002")]).outcome == "ok"


def test_an_old_nonce_or_one_this_server_did_not_make_is_stale() -> None:
    clock = Clock()
    checker = gate(clock)
    challenge = checker.challenge()
    clock.now += NONCE_LIFETIME_S + 1
    assert checker.check("192.0.2.7", [answer(challenge)]).outcome == "stale"
    forged = answer(challenge).replace(nonce_of(challenge), "6b49d200.00000000")
    assert checker.check("192.0.2.7", [forged]).outcome == "stale"
    assert "stale=true" in checker.challenge(stale=True)
    # Another server's nonce (or ours before a restart): a fresh challenge, not a failure.
    assert gate(clock).check("192.0.2.7", [answer(checker.challenge())]).outcome == "stale"


def test_repeated_failures_lock_the_source_out_for_a_while() -> None:
    clock = Clock()
    checker = gate(clock)
    for _ in range(FAILURES_BEFORE_LOCK):
        checker.check("192.0.2.66", [answer(checker.challenge(), password="guess")])
    locked = checker.check("192.0.2.66", [answer(checker.challenge())])
    assert locked.outcome == "locked"  # even the right password, while locked
    assert checker.check("192.0.2.7", [answer(checker.challenge())]).outcome == "ok"
    clock.now += LOCK_S + 1
    assert checker.check("192.0.2.66", [answer(checker.challenge())]).outcome == "ok"


def test_parse_digest_reads_quoted_and_bare_values_and_refuses_junk() -> None:
    assert parse_digest('Digest username="a\\"b", nc=00000001, qop=auth') == {
        "username": 'a"b', "nc": "00000001", "qop": "auth"}
    assert parse_digest("Basic abc") is None
    assert parse_digest('Digest username="a", username="b"') is None
    assert parse_digest('Digest username="unterminated') is None


@given(st.text(max_size=300))
def test_no_authorization_value_crashes_the_check(value: str) -> None:
    checker = gate()
    assert checker.check("192.0.2.7", [value]).outcome in ("missing", "stale", "failed")
    assert checker.check("192.0.2.7", [f'Digest realm="attendant", {value}']).outcome in (
        "missing", "stale", "failed")
