"""TLS certificates checked and renewed, on a real server over 127.0.0.1.

A trunk registers over TLS to a Python stand-in for the carrier (:mod:`tls_peers`):
with ``tls_verify_server`` it registers only when the carrier's certificate chains to
the configured CA *and* names the host the trunk dials (RFC 5922), and pjsip's
handshake is what refuses it. With ``--tls-verify-client`` a caller without a
certificate from ``--tls-ca`` never reaches SIP. ``attendant reload`` makes the TLS
listener read its files again: a renewed certificate is what new connections see,
while a connection opened before goes on. Files that cannot be served are refused by
name at start and on reload, and the server keeps the certificate it has.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from sip_harness import ATTENDANT, Serve, free_udp_ports, wait_for
from tls_peers import (
    Pair,
    TlsRegistrar,
    TlsSip,
    make_ca,
    self_signed,
    served_fingerprint,
    signed_by,
)

from attendant.sip.tls import TlsFiles, problems

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="the openssl command is not installed")

PASSWORD_ENV = "ATTENDANT_TEST_TLS_TRUNK"


def _settings(folder: Path, server: Pair, registrar_port: int, ca: Path | None,
              verify: bool, tls_port: int) -> Path:
    lines = ["version: 1", "transport: [udp, tls]", f"tls_port: {tls_port}",
             f"tls_cert: {server.cert}", f"tls_key: {server.key}",
             *([f"tls_ca: {ca}"] if ca else []), f"tls_verify_server: {json.dumps(verify)}",
             "trunks:", "  carrier:", f"    registrar: sip:127.0.0.1:{registrar_port}",
             "    transport: tls", "    username: harbor", "    domain: example.test",
             f"    password: {{env: {PASSWORD_ENV}}}", "    qualify_seconds: 0"]
    path = folder / "server.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _trunk(serve: Serve) -> dict[str, object]:
    [found] = serve.status().get("trunks") or [{}]
    return found  # type: ignore[no-any-return]


def _register(serve: Serve, folder: Path, carrier: Pair, ca: Path | None,
              verify: bool) -> TlsRegistrar:
    """Start ``serve`` with a trunk over TLS to a registrar showing ``carrier``."""
    registrar = TlsRegistrar(carrier)
    server = self_signed(folder, "server")
    serve.start("--settings", str(_settings(folder, server, registrar.port, ca, verify,
                                            free_udp_ports(1))))
    return registrar


def test_a_trunk_over_tls_registers_when_the_ca_vouches_for_the_carrier(
        serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    ca = make_ca(tmp_path)
    registrar = _register(serve, tmp_path, signed_by(ca, tmp_path, "carrier"), ca.cert,
                          verify=True)
    try:
        wait_for("the trunk to register over TLS",
                 lambda: _trunk(serve).get("state") == "registered", context=serve.logs)
        assert registrar.registers >= 1
        assert registrar.handshake_errors == []
        assert "peers' certificates checked: servers against" in serve.logs()
    finally:
        registrar.close()


@pytest.mark.parametrize("who", ["another CA", "another host"])
def test_a_trunk_over_tls_refuses_a_carrier_certificate_it_cannot_trust(
        serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    ca = make_ca(tmp_path)
    if who == "another CA":  # an impostor with a certificate from a CA we do not trust
        carrier = signed_by(make_ca(tmp_path, "rogue-ca"), tmp_path, "carrier")
    else:  # a real certificate from the CA, for a host other than the one dialled
        carrier = signed_by(ca, tmp_path, "carrier", san="DNS:elsewhere.example")
    registrar = _register(serve, tmp_path, carrier, ca.cert, verify=True)
    try:
        failing = wait_for("the registration to fail",
                           lambda: (t := _trunk(serve)).get("state") == "failing" and t,
                           context=serve.logs)
        assert registrar.registers == 0, serve.logs()
        assert "trunk carrier: registration at" in serve.logs()
        assert failing["code"] == 503, failing  # pjsip's own answer: it sent nothing
        assert "SSL certificate verification error (PJSIP_TLS_ECERTVERIF)" in serve.logs()
        assert "the carrier's TLS certificate is not trusted" in serve.logs()
    finally:
        registrar.close()


def test_without_verification_a_tls_trunk_registers_and_the_log_warns(
        serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    rogue = signed_by(make_ca(tmp_path, "rogue-ca"), tmp_path, "carrier")
    registrar = _register(serve, tmp_path, rogue, None, verify=False)
    try:
        wait_for("the trunk to register", lambda: _trunk(serve).get("state") == "registered",
                 context=serve.logs)
        assert "without checking the carrier's certificate" in serve.logs()
        assert "tls_verify_server: true" in serve.logs()
    finally:
        registrar.close()


def _options_request(ua: TlsSip, port: int) -> str:
    call_id = uuid.uuid4().hex
    return "\r\n".join([
        f"OPTIONS sip:main@127.0.0.1:{port};transport=tls SIP/2.0",
        f"Via: SIP/2.0/TLS 127.0.0.1:{ua.local};rport;branch=z9hG4bK{call_id}",
        "Max-Forwards: 70", f"From: <sip:tlscaller@127.0.0.1>;tag={call_id[:8]}",
        f"To: <sip:main@127.0.0.1:{port}>", f"Call-ID: {call_id}", "CSeq: 1 OPTIONS",
        "Content-Length: 0"]) + "\r\n\r\n"


def _options(ua: TlsSip, port: int) -> str:
    ua.send(_options_request(ua, port))
    return ua.response("OPTIONS")


def _first_answer(port: int, trust: Path, client: Pair | None = None) -> str:
    """What a new TLS connection gets back for an OPTIONS: the answer's first line, or
    why the server refused it. TLS 1.3 completes the client's side of the handshake
    before the server has checked, so a refusal may only show on the first read."""
    try:
        ua = TlsSip(port, trust, client)
        try:
            ua.send(_options_request(ua, port))
            ua.sock.settimeout(10)
            data = ua.sock.recv(65536)
        finally:
            ua.close()
    except OSError as exc:  # ssl.SSLError included
        return f"refused: {exc}"
    return data.decode(errors="replace").split("\r\n", 1)[0] or "refused: closed"


def test_verify_client_lets_in_only_callers_with_a_certificate_from_the_ca(
        serve: Serve, tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    server = signed_by(ca, tmp_path, "server")
    tls_port = free_udp_ports(1)
    serve.start("--transport", "udp,tls", "--tls-port", str(tls_port), "--tls-cert",
                str(server.cert), "--tls-key", str(server.key), "--tls-ca", str(ca.cert),
                "--tls-verify-client")
    phone = signed_by(ca, tmp_path, "phone")
    assert _first_answer(tls_port, ca.cert, phone) == "SIP/2.0 200 OK"
    assert _first_answer(tls_port, ca.cert).startswith("refused: "), "no certificate"
    rogue = signed_by(make_ca(tmp_path, "rogue-ca"), tmp_path, "rogue")
    assert _first_answer(tls_port, ca.cert, rogue).startswith("refused: "), "another CA"
    assert serve.status().get("accepting")


def test_reload_serves_a_renewed_certificate_and_open_connections_go_on(
        serve: Serve, tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    first, renewed = self_signed(tmp_path, "first"), self_signed(tmp_path, "renewed")
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(first.cert, cert)
    shutil.copy(first.key, key)
    tls_port = free_udp_ports(1)
    serve.start("--transport", "udp,tls", "--tls-port", str(tls_port), "--tls-cert", str(cert),
                "--tls-key", str(key))
    assert served_fingerprint(tls_port) == first.fingerprint()
    before = TlsSip(tls_port, first.cert)
    try:
        assert _options(before, tls_port).startswith("SIP/2.0 200")
        shutil.copy(renewed.cert, cert)  # what certbot's renewal does: same paths
        shutil.copy(renewed.key, key)
        subprocess.run([*ATTENDANT, "reload", "--data", str(serve.data)], check=True,
                       capture_output=True, timeout=60)
        wait_for("the reload to read the TLS files",
                 lambda: "reload: TLS files read again" in serve.logs(), context=serve.logs)
        assert served_fingerprint(tls_port) == renewed.fingerprint()
        assert _options(before, tls_port).startswith("SIP/2.0 200")  # still connected
    finally:
        before.close()
    # A broken renewal (the key of another certificate) is refused by name; the renewed
    # certificate stays in service.
    shutil.copy(first.key, key)
    subprocess.run([*ATTENDANT, "reload", "--data", str(serve.data)], check=True,
                   capture_output=True, timeout=60)
    wait_for("the reload to fail", lambda: "keeping the TLS certificate already loaded"
             in serve.logs(), context=serve.logs)
    assert f"certificate {cert} with key {key} cannot be served" in serve.logs()
    assert served_fingerprint(tls_port) == renewed.fingerprint()
    wait_for("the failed reload counted", lambda: serve.status().get("reload_failures") == 1,
             context=serve.logs)


def test_serve_refuses_tls_files_that_cannot_be_served_by_name(tmp_path: Path) -> None:
    one, other = self_signed(tmp_path, "one"), self_signed(tmp_path, "other")
    (tmp_path / "menu.yaml").write_text("version: 1\nentry: main\nmenus:\n  main:\n"
                                        "    prompt: Hello.\n    options: {}\n")
    done = subprocess.run([*ATTENDANT, "serve", "menu.yaml", "--transport", "tls",
                           "--tls-cert", str(one.cert), "--tls-key", str(other.key)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1, done.stderr
    assert f"certificate {one.cert} with key {other.key} cannot be served" in done.stderr


def test_tls_file_problems_say_which_file_and_what_to_give(tmp_path: Path) -> None:
    good = self_signed(tmp_path, "good")
    assert problems(TlsFiles(str(good.cert), str(good.key))) == []
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("hello\n")
    [ca_problem] = problems(TlsFiles(str(good.cert), str(good.key), ca=str(not_pem)))
    assert ca_problem.startswith(f"CA list {not_pem} cannot be read")
    [client] = problems(TlsFiles(str(good.cert), str(good.key), verify_client=True))
    assert "--tls-ca FILE" in client
    locked = tmp_path / "locked.key"
    subprocess.run(["openssl", "pkey", "-in", str(good.key), "-aes256", "-passout",
                    "pass:secret", "-out", str(locked)], check=True, capture_output=True)
    [encrypted] = problems(TlsFiles(str(good.cert), str(locked)))
    assert "unencrypted private key" in encrypted
    [missing] = problems(TlsFiles(str(tmp_path / "gone.pem"), str(good.key)))
    assert f"certificate {tmp_path / 'gone.pem'}" in missing
