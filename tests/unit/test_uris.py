"""SIP and tel URIs: one parser for the engine and the SIP adapter (attendant.uris)."""

from __future__ import annotations

import pytest

from attendant.uris import (
    addr_spec,
    address_user,
    dialled_number,
    host_of,
    ring_uri,
    uri_host,
    uri_user,
)


@pytest.mark.parametrize(("value", "uri"), [
    ('"Anna" <sip:anna@host>;tag=x', "sip:anna@host"),
    ("sip:anna@host;tag=x", "sip:anna@host"),
    ('"sip:101@x" <sip:evil@203.0.113.9>', "sip:evil@203.0.113.9"),
    ('"a <sip:101@x> b" <sip:evil@h>', "sip:evil@h"),  # "<" inside quotes is no URI
    ('"a \\" <sip:101@x>" <sip:evil@h>', "sip:evil@h"),  # an escaped quote keeps it quoted
    ('"unterminated <sip:101@x>', ""),
    ("<sip:101@x", ""),
])
def test_addr_spec_ignores_the_display_name(value: str, uri: str) -> None:
    assert addr_spec(value) == uri


@pytest.mark.parametrize(("uri", "user"), [
    ("sip:101@pbx", "101"), ("SIPS:anna@h:5061;transport=tls", "anna"),
    ("tel:+15551230001;phone-context=x", "+15551230001"), ("sip:pbx.example", ""),
    ("sip:anna:secret@h", "anna"), ("mailto:anna@h", ""), ("", ""),
])
def test_uri_user_takes_only_the_uris_own_user(uri: str, user: str) -> None:
    assert uri_user(uri) == user


@pytest.mark.parametrize(("value", "user"), [
    ('"A: B" <sip:anna@pbx>', "anna"),  # a colon in the display name is not the scheme's
    ("sip:anna@pbx;transport=tcp", "anna"),
    ("<tel:+15551230001>", "+15551230001"),
    ('"sip:101@x" <sip:evil@h>', "evil"),
    ("sip:pbx.example", ""),
])
def test_address_user_reads_the_user_of_a_written_address(value: str, user: str) -> None:
    assert address_user(value) == user


@pytest.mark.parametrize(("destination", "proxy", "uri"), [
    ("sip:anna@pbx.example:5070", None, "sip:anna@pbx.example:5070"),
    ("1001", "sip:127.0.0.1:5070", "sip:1001@127.0.0.1:5070"),
    ("tel:+15551230001", "<sip:proxy.example;lr>", "sip:+15551230001@proxy.example"),
    ("sip:1001", "sip:carrier@proxy.example", "sip:1001@proxy.example"),
])
def test_ring_uri_rings_numbers_at_the_outbound_proxy(destination: str, proxy: str | None,
                                                      uri: str) -> None:
    assert ring_uri(destination, proxy) == uri


def test_ring_uri_refuses_a_number_with_no_proxy_to_ring_it_through() -> None:
    with pytest.raises(ValueError, match="without --outbound-proxy"):
        ring_uri("1001", None)


@pytest.mark.parametrize(("destination", "number"), [
    ("1001", "1001"), ("tel:+15550009999", "+15550009999"), ("sip:1001", "1001"),
    ("sip:anna@pbx.example", None), ("sips:+1555@carrier.example", None),
])
def test_dialled_number_is_the_number_of_a_destination_without_a_host(
        destination: str, number: str | None) -> None:
    assert dialled_number(destination) == number


@pytest.mark.parametrize(("uri", "host", "bare"), [
    ("sip:sip.carrier.example:5060;transport=udp", "sip.carrier.example:5060",
     "sip.carrier.example"),
    ("<sip:edge.carrier.example;lr>", "edge.carrier.example", "edge.carrier.example"),
    ("sips:user@[2001:db8::1]:5061", "[2001:db8::1]:5061", "2001:db8::1"),
])
def test_uri_host_and_host_of_read_where_a_registrar_or_proxy_uri_points(
        uri: str, host: str, bare: str) -> None:
    assert uri_host(uri) == host
    assert host_of(host) == bare
