"""Mailbox PIN lockout: wrong PINs per source and box, and per source over every box."""

from __future__ import annotations

from attendant.sip.mailboxes import (
    LOCK_SECONDS,
    MAX_FAILURES,
    MAX_SOURCE_FAILURES,
    WINDOW_SECONDS,
    Lockout,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_repeated_wrong_pins_lock_that_box_for_that_source_only() -> None:
    clock = Clock()
    lockout = Lockout(clock)
    locked = [lockout.failed("203.0.113.9", "anna") for _ in range(MAX_FAILURES)]
    assert locked == [None] * (MAX_FAILURES - 1) + ["anna"]
    assert lockout.locked("203.0.113.9", "anna")
    assert not lockout.locked("203.0.113.9", "bob")   # another box
    assert not lockout.locked("198.51.100.4", "anna")  # another source
    clock.now += LOCK_SECONDS + 1
    assert not lockout.locked("203.0.113.9", "anna")


def test_wrong_pins_spread_over_the_window_do_not_lock() -> None:
    clock = Clock()
    lockout = Lockout(clock)
    for _ in range(MAX_FAILURES * 3):
        assert lockout.failed("203.0.113.9", "anna") is None
        clock.now += WINDOW_SECONDS / (MAX_FAILURES - 1) + 1
    assert not lockout.locked("203.0.113.9", "anna")


def test_a_right_pin_forgets_the_wrong_ones_before_it() -> None:
    lockout = Lockout(Clock())
    for _ in range(MAX_FAILURES - 1):
        lockout.failed("203.0.113.9", "anna")
    lockout.succeeded("203.0.113.9", "anna")
    assert lockout.failed("203.0.113.9", "anna") is None


def test_guessing_across_many_boxes_locks_the_source_out_of_all() -> None:
    lockout = Lockout(Clock())
    results = [lockout.failed("203.0.113.9", f"box{i}") for i in range(MAX_SOURCE_FAILURES)]
    assert results[-1] == "*"
    assert lockout.locked("203.0.113.9", "a-box-never-tried")
    assert not lockout.locked("198.51.100.4", "box0")
