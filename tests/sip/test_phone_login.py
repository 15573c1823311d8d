"""Phones that call the attendant directly log in with SIP digest authentication.

The server listens on 127.0.0.2 with one phone, "201", in its settings and no trunk or
allow_from: a SIPp phone on 127.0.0.4 is challenged (401), logs in with the right
password and is answered as caller 201 whatever its From says; with a wrong password
its second INVITE gets 403, counted and logged, and nothing plays.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sip_harness import Serve, Sipp, scrape, wait_for

pytestmark = pytest.mark.sip

PASSWORD = "a-long-phone-secret"
PASSWORD_ENV = "ATTENDANT_TEST_PHONE_PASSWORD"


def serve_with_a_phone(serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    settings = tmp_path / "server.yaml"
    settings.write_text(f"version: 1\nphones:\n  \"201\": {{password: {{env: {PASSWORD_ENV}}}}}\n")
    serve.start("--settings", str(settings), "--listen", "127.0.0.2", "--metrics-port", "0")
    return f"127.0.0.2:{serve.port}"


def test_a_phone_with_its_password_is_answered_as_its_user(
        serve: Serve, sipp: Sipp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = serve_with_a_phone(serve, tmp_path, monkeypatch)
    assert "calls in: 1 phone(s) from anywhere with their password only" in serve.logs()
    phone = sipp.start(sipp.scenario("uac_auth.xml", final="200", after=""),
                       "-s", "frontdesk", "-d", "2000", "-i", "127.0.0.4",
                       "-au", "201", "-ap", PASSWORD, target=target)
    assert sipp.wait(phone) == 0, sipp.logs() + serve.logs()
    call = wait_for("the call's record", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["caller"] == "201", call  # who it proved to be, not its From ("caller")
    assert call["rtp"]["caller_tx"] > 0, call  # it heard the greeting
    status = serve.status()
    assert (status["answered"], status["challenged"], status["refused_requests"]) == (1, 1, 0)
    assert "phone 201 logged in from 127.0.0.4" in serve.logs()


def test_a_wrong_password_gets_403_and_is_counted(
        serve: Serve, sipp: Sipp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = serve_with_a_phone(serve, tmp_path, monkeypatch)
    phone = sipp.start(sipp.scenario("uac_auth.xml", final="403", after='next="end"'),
                       "-s", "frontdesk", "-i", "127.0.0.4",
                       "-au", "201", "-ap", "a-guess", target=target)
    assert sipp.wait(phone) == 0, sipp.logs() + serve.logs()
    wait_for("the refusal counted", lambda: serve.status().get("refused_requests") == 1,
             context=serve.logs)
    status = serve.status()
    assert (status["answered"], status["active_calls"]) == (0, 0), status
    assert "INVITE answered 403: a wrong password (phone 201)" in serve.logs()
    assert PASSWORD not in serve.logs()
    assert "a-guess" not in serve.logs()
    metrics = scrape(status["metrics_port"])
    assert metrics['attendant_sip_refused_total{reason="auth_failed"}'] == 1
