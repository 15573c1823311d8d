"""TLS of the SIP transport: the certificate the server shows, the peers' it checks.

The settings (``--tls-cert``, ``--tls-key``, ``--tls-ca``, ``--tls-verify-server``,
``--tls-verify-client``; the same keys in ``server.yaml``) become one :class:`TlsFiles`.
:func:`problems` opens the files with Python's :mod:`ssl` before pjsip does, at start and
on every ``attendant reload``, so a wrong path, a key that does not match its
certificate or an encrypted key is reported by file name and the server (or the
certificate already served) is kept; pjsip alone would only say ``PJ_EINVAL``.

pjsip keeps one TLS setting per listener: the CA list and ``verify_server`` also apply to
the connections the server opens itself (a trunk registering over TLS, a transfer leg
to a ``sips:`` URI), where pjsip checks the chain and that the certificate names the
host of the URI (RFC 5922). Without ``tls_ca`` the checks use Debian's bundle of public
CAs (``ca-certificates``), which a carrier's certificate usually chains to.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Debian's bundle of public CAs (package ca-certificates).
SYSTEM_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class TlsFiles:
    """Where the TLS listener's certificate, key and trusted CAs are, and what it checks."""

    cert: str | None = None
    key: str | None = None
    #: PEM file of the CAs trusted for peers' certificates; None: :data:`SYSTEM_CA`.
    ca: str | None = None
    #: Check the certificate of every TLS peer the server connects to (trunks, legs out).
    verify_server: bool = False
    #: Ask every TLS caller for a certificate signed by ``ca``; refuse those without one.
    verify_client: bool = False

    @property
    def verifies(self) -> bool:
        """Does the listener check any peer's certificate?"""
        return self.verify_server or self.verify_client

    def ca_file(self) -> str:
        """The CA list pjsip loads ('' when nothing is checked or none is installed)."""
        if self.ca:
            return self.ca
        return str(SYSTEM_CA) if self.verifies and SYSTEM_CA.is_file() else ""

    def describe(self) -> str:
        """One line for the log: what is served and what is checked."""
        checks = [name for name, on in (("servers", self.verify_server),
                                        ("callers", self.verify_client)) if on]
        trusted = self.ca_file() or "no CA list"
        return (f"certificate {self.cert}; peers' certificates checked: "
                f"{' and '.join(checks) + f' against {trusted}' if checks else 'none'}")


def problems(files: TlsFiles) -> list[str]:
    """What stops these files from being served; empty when they can be."""
    found = []
    if not files.cert or not files.key:
        return ["TLS needs a certificate and its private key: give --tls-cert FILE and "
                "--tls-key FILE (tls_cert: and tls_key: in server.yaml)"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        # A password callback that has none: an encrypted key fails here, not on a prompt.
        context.load_cert_chain(files.cert, files.key, password=lambda: b"")
    except OSError as exc:  # ssl.SSLError is an OSError too
        found.append(f"certificate {files.cert} with key {files.key} cannot be served "
                     f"({_reason(exc)}): give the PEM certificate (chain) and the "
                     "unencrypted private key that belongs to it")
    if files.ca:
        try:
            context.load_verify_locations(cafile=files.ca)
        except OSError as exc:
            found.append(f"CA list {files.ca} cannot be read ({_reason(exc)}): give a PEM "
                         "file of the CA certificates to trust")
    elif files.verify_client:
        found.append("checking callers' certificates (--tls-verify-client) needs the CA "
                     "that signs them: give --tls-ca FILE (tls_ca: in server.yaml)")
    elif files.verify_server and not SYSTEM_CA.is_file():
        found.append(f"checking servers' certificates (--tls-verify-server) needs CAs to "
                     f"trust and {SYSTEM_CA} is missing: give --tls-ca FILE, or apt-get "
                     "install ca-certificates")
    return found


def fill(pj: Any, config: Any, files: TlsFiles) -> None:
    """Write ``files`` into a pjsua2 ``TlsConfig``."""
    config.certFile = files.cert or ""
    config.privKeyFile = files.key or ""
    config.CaListFile = files.ca_file()
    config.method = pj.PJSIP_TLSV1_2_METHOD  # TLS 1.2 or later
    config.verifyServer = files.verify_server
    config.verifyClient = files.verify_client
    config.requireClientCert = files.verify_client


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return exc.strerror or str(exc)
