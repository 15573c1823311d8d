"""Who may call in: the sources an INVITE is taken from."""

from __future__ import annotations

from attendant.sip.inbound import InboundPolicy


def test_with_no_source_named_loopback_is_open_and_beyond_it_closed() -> None:
    assert InboundPolicy.build("127.0.0.1", []).allows("127.0.0.1")
    assert InboundPolicy.build("::1", []).allows("::1")
    public = InboundPolicy.build("0.0.0.0", [])
    assert not public.allows("198.51.100.7")
    assert "every INVITE gets 403" in public.describe()


def test_named_sources_are_the_only_ones_even_on_loopback() -> None:
    policy = InboundPolicy.build("127.0.0.2", ["127.0.0.3", "10.1.0.0/16", "2001:db8::/32"])
    assert policy.allows("127.0.0.3")
    assert policy.allows("10.1.200.4")
    assert policy.allows("2001:db8::7")
    assert not policy.allows("127.0.0.4")
    assert not policy.allows("10.2.0.1")
    assert not policy.allows("not an address")
    assert policy.describe() == "from 127.0.0.3/32, 10.1.0.0/16, 2001:db8::/32 only"


def test_a_trusted_source_alone_leaves_loopback_open_and_is_let_in_beyond_it() -> None:
    assert InboundPolicy.build("127.0.0.1", [], ["127.0.0.7"]).open
    public = InboundPolicy.build("0.0.0.0", [], ["192.0.2.10"])
    assert public.allows("192.0.2.10")
    assert not public.allows("192.0.2.11")


def test_a_host_name_is_its_addresses_and_one_that_does_not_resolve_is_none() -> None:
    policy = InboundPolicy.build("0.0.0.0", ["localhost", "no-such-host.invalid"])
    assert policy.allows("127.0.0.1")
    assert not policy.allows("198.51.100.7")


def test_phones_that_log_in_close_loopback_and_are_described() -> None:
    policy = InboundPolicy.build("127.0.0.1", [], phones=2)
    assert not policy.open
    assert not policy.allows("127.0.0.1")  # it must log in
    assert policy.describe() == "2 phone(s) from anywhere with their password only"
    both = InboundPolicy.build("0.0.0.0", ["10.1.0.0/16"], phones=1)
    assert both.describe() == ("from 10.1.0.0/16, and 1 phone(s) from anywhere with their "
                               "password")
