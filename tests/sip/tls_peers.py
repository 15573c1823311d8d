"""SIP over TLS for the tests: certificates, a client and a registrar, in Python.

Debian's SIPp has no TLS, so the TLS tests speak SIP themselves over :mod:`ssl`.
Certificates come from the ``openssl`` command: a self-signed one, or a test CA and
certificates it signs (with the names a test chooses, to check host-name matching).
``TlsSip`` is one caller's connection to the server; ``TlsRegistrar`` plays a carrier
that takes registrations over TLS and records each handshake that failed.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

_EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Pair:
    """A PEM certificate and its unencrypted private key."""

    cert: Path
    key: Path

    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER, as :func:`served_fingerprint` gives it."""
        der = ssl.PEM_cert_to_DER_cert(self.cert.read_text())
        return hashlib.sha256(der).hexdigest()


def self_signed(folder: Path, name: str = "cert", san: str = "IP:127.0.0.1") -> Pair:
    pair = Pair(folder / f"{name}.pem", folder / f"{name}.key")
    _openssl("req", "-x509", *_EC_KEY, "-days", "1", "-subj", f"/CN={name}",
             "-addext", f"subjectAltName={san}", "-keyout", str(pair.key),
             "-out", str(pair.cert))
    return pair


def make_ca(folder: Path, name: str = "ca") -> Pair:
    """A CA that may sign certificates."""
    pair = Pair(folder / f"{name}.pem", folder / f"{name}.key")
    _openssl("req", "-x509", *_EC_KEY, "-days", "1", "-subj", f"/CN=attendant test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", str(pair.key), "-out", str(pair.cert))
    return pair


def signed_by(ca: Pair, folder: Path, name: str, san: str = "IP:127.0.0.1") -> Pair:
    """A certificate for ``san`` (``IP:…`` or ``DNS:…``) signed by ``ca``."""
    pair = Pair(folder / f"{name}.pem", folder / f"{name}.key")
    request, extensions = folder / f"{name}.csr", folder / f"{name}.ext"
    extensions.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    _openssl("req", "-new", *_EC_KEY, "-subj", f"/CN={name}", "-keyout", str(pair.key),
             "-out", str(request))
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca.cert), "-CAkey", str(ca.key),
             "-CAcreateserial", "-days", "1", "-extfile", str(extensions),
             "-out", str(pair.cert))
    return pair


def served_fingerprint(port: int) -> str:
    """SHA-256 of the certificate the TLS listener on ``port`` shows a new connection."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we only look at it
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    assert der, "the server showed no certificate"
    return hashlib.sha256(der).hexdigest()


def _whole_message(buffer: bytes) -> tuple[str, bytes] | None:
    """The first whole SIP message in ``buffer`` and what follows it, or None."""
    head, sep, rest = buffer.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = re.search(rb"(?im)^(?:Content-Length|l)\s*:\s*(\d+)", head)
    size = int(length.group(1)) if length else 0
    if len(rest) < size:
        return None
    return (head + sep + rest[:size]).decode(errors="replace"), rest[size:]


class TlsSip:
    """A minimal SIP UA over one TLS connection to the server (its certificate pinned
    with ``trust``, and ``client`` shown when the server asks for one)."""

    def __init__(self, port: int, trust: Path, client: Pair | None = None):
        context = ssl.create_default_context(cafile=str(trust))
        if client is not None:
            context.load_cert_chain(str(client.cert), str(client.key))
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname="127.0.0.1")
        self.local = self.sock.getsockname()[1]
        self.buffer = b""

    def send(self, text: str) -> None:
        body = text.split("\r\n\r\n", 1)
        self.sock.sendall(text.encode() if len(body) == 2 else (text + "\r\n\r\n").encode())

    def receive(self, deadline_s: float = 20.0) -> str:
        """The next whole SIP message (headers and Content-Length bytes of body)."""
        end = time.monotonic() + deadline_s
        while True:
            found = _whole_message(self.buffer)
            if found is not None:
                message, self.buffer = found
                return message
            if time.monotonic() > end:
                pytest.fail(f"no whole SIP message over TLS; got {self.buffer!r}")
            self.sock.settimeout(max(0.1, end - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                pytest.fail(f"the server closed the TLS connection; got {self.buffer!r}")
            self.buffer += chunk

    def response(self, method: str, deadline_s: float = 20.0) -> str:
        """The next final response to ``method`` (provisional ones are skipped)."""
        end = time.monotonic() + deadline_s
        while True:
            message = self.receive(max(0.1, end - time.monotonic()))
            if re.match(r"SIP/2\.0 [2-6]\d\d", message) and \
                    re.search(rf"(?im)^CSeq:\s*\d+ {method}", message):
                return message
            if message.startswith("BYE "):
                pytest.fail(f"unexpected BYE over TLS:\n{message}")

    def close(self) -> None:
        self.sock.close()


class TlsRegistrar:
    """A carrier's registrar over TLS on 127.0.0.1: answers REGISTER and OPTIONS 200,
    counts the registrations and keeps each failed handshake's reason."""

    def __init__(self, pair: Pair):
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(pair.cert), str(pair.key))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.registers = 0
        self.handshake_errors: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(0.2)
        try:
            tls = self._context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.handshake_errors.append(str(exc))
            raw.close()
            return
        buffer = b""
        with tls:
            while not self._stop.is_set():
                found = _whole_message(buffer)
                if found is not None:
                    message, buffer = found
                    self._answer(tls, message)
                    continue
                try:
                    chunk = tls.recv(65536)
                except TimeoutError:
                    continue
                except (ssl.SSLError, OSError):
                    return
                if not chunk:
                    return
                buffer += chunk

    def _answer(self, tls: ssl.SSLSocket, request: str) -> None:
        method = request.split(" ", 1)[0]
        if method not in ("REGISTER", "OPTIONS"):
            return
        headers = {}
        for line in request.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if method == "REGISTER":
            self.registers += 1
        to = headers["to"][0]
        lines = ["SIP/2.0 200 OK", *(f"Via: {v}" for v in headers.get("via", [])),
                 f"From: {headers['from'][0]}", f"To: {to}" + ("" if ";tag=" in to else
                                                               ";tag=tlsreg"),
                 f"Call-ID: {headers['call-id'][0]}", f"CSeq: {headers['cseq'][0]}"]
        if method == "REGISTER" and "contact" in headers:
            lines.append(f"Contact: {headers['contact'][0]};expires=300")
        lines.append("Content-Length: 0")
        tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)
