"""Per-source admission (concurrent calls, INVITE rate, trusted sources) and log thinning."""

from __future__ import annotations

import pytest

from attendant.sip.admission import Admission, LogThrottle, parse_sources, source_host


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_source_over_its_concurrent_call_limit_is_refused_until_a_call_ends() -> None:
    admission = Admission(calls_per_source=2, invite_rate=100, invite_burst=100,
                          clock=FakeClock())
    assert admission.admit("192.0.2.1") is None
    assert admission.admit("192.0.2.1") is None
    reason = admission.admit("192.0.2.1")
    assert reason is not None
    assert "per-source limit" in reason
    assert admission.admit("192.0.2.2") is None  # another address is not affected
    admission.release("192.0.2.1")
    assert admission.admit("192.0.2.1") is None
    assert admission.calls_from("192.0.2.1") == 2


def test_an_invite_flood_is_refused_beyond_the_burst_and_refills_with_time() -> None:
    clock = FakeClock()
    admission = Admission(calls_per_source=0, invite_rate=2, invite_burst=3, clock=clock)
    results = [admission.admit("198.51.100.7") for _ in range(10)]
    assert results[:3] == [None, None, None]
    assert all(r is not None and "INVITEs a second" in r for r in results[3:])
    clock.now += 1.0  # two more tokens
    assert [admission.admit("198.51.100.7") is None for _ in range(3)] == [True, True, False]


def test_trusted_networks_bypass_every_limit() -> None:
    admission = Admission(calls_per_source=1, invite_rate=1, invite_burst=1,
                          trusted=parse_sources(["203.0.113.0/24"]), clock=FakeClock())
    assert all(admission.admit("203.0.113.9") is None for _ in range(50))
    assert admission.admit("203.0.114.1") is None
    assert admission.admit("203.0.114.1") is not None


def test_zero_turns_a_limit_off() -> None:
    admission = Admission(calls_per_source=0, invite_rate=0, clock=FakeClock())
    assert all(admission.admit("192.0.2.1") is None for _ in range(500))


def test_a_spoofed_source_flood_keeps_the_table_bounded() -> None:
    clock = FakeClock()
    admission = Admission(calls_per_source=5, invite_rate=10, invite_burst=2, clock=clock)
    for n in range(5000):
        host = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        assert admission.admit(host) is None
        admission.release(host)
        clock.now += 1.0
    assert len(admission._sources) <= 1025


def test_trusted_sources_are_parsed_and_bad_ones_named() -> None:
    assert [str(n) for n in parse_sources(["127.0.0.1", "10.0.0.0/8", "::1"])] == [
        "127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match=r"'pbx\.example\.com' is not an IP address"):
        parse_sources(["pbx.example.com"])


@pytest.mark.parametrize(("address", "host"), [
    ("127.0.0.1:5060", "127.0.0.1"), ("[::1]:5060", "::1"), ("192.0.2.5", "192.0.2.5"),
    ("::1", "::1")])
def test_the_host_is_taken_from_pjsips_source_address(address: str, host: str) -> None:
    assert source_host(address) == host


def test_refusals_are_logged_once_then_once_a_minute_with_the_count_left_out() -> None:
    clock = FakeClock()
    throttle = LogThrottle(interval=60.0, clock=clock)
    assert throttle.allow("refer", "192.0.2.1") == 0
    assert throttle.allow("refer", "192.0.2.1") is None
    assert throttle.allow("subscribe", "192.0.2.1") == 0  # another kind logs at once
    assert throttle.allow("refer", "192.0.2.2") == 0  # another source too
    clock.now += 30
    assert throttle.allow("refer", "192.0.2.1") is None
    clock.now += 31
    assert throttle.allow("refer", "192.0.2.1") == 2


def test_a_spoofed_source_flood_does_not_grow_the_log_throttle_without_bound() -> None:
    throttle = LogThrottle(clock=FakeClock())
    for n in range(5000):
        assert throttle.allow("message", f"10.0.{n // 256}.{n % 256}") == 0
    assert len(throttle._last) <= 1024
