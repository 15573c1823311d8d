"""In-memory twins of the ports (:mod:`attendant.ports`), for unit tests.

Each twin keeps what was asked of it in plain lists a test can read, and does the
rest at once or when the test says: :class:`ManualScheduler` runs its timers only
when the test moves :class:`ManualClock` on; :class:`MemoryQueueHost` "dials" by
creating a :class:`MemoryLeg` that rings until the test answers or ends it, and
:class:`MemoryCall` is a caller whose bridging and hang-ups are recorded. Nothing here
touches pjsua2, the network or the disk.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from attendant.engine.events import Event
from attendant.engine.state import CallState, initial_state
from attendant.ports import Leg
from attendant.queues.actions import QueueLog


class ManualClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class ManualTimer:
    """One pending :meth:`ManualScheduler.call_later`."""

    due: float
    fn: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Timers on a :class:`ManualClock`: due ones run in :meth:`advance`, in time order."""

    def __init__(self, clock: ManualClock):
        self.clock = clock
        self._heap: list[tuple[float, int, ManualTimer]] = []
        self._seq = itertools.count()

    def call_later(self, seconds: float, fn: Callable[[], None]) -> ManualTimer:
        timer = ManualTimer(self.clock() + max(0.0, seconds), fn)
        heapq.heappush(self._heap, (timer.due, next(self._seq), timer))
        return timer

    @property
    def pending(self) -> list[ManualTimer]:
        """Timers not run nor cancelled yet, soonest first."""
        return [t for _, _, t in sorted(self._heap) if not t.cancelled]

    def advance(self, seconds: float = 0.0) -> None:
        """Move the clock on by ``seconds``, running every timer that falls due."""
        until = self.clock() + seconds
        while self._heap and self._heap[0][0] <= until:
            due, _, timer = heapq.heappop(self._heap)
            self.clock.now = max(self.clock.now, due)
            if not timer.cancelled:
                timer.fn()
        self.clock.now = until


@dataclass
class MemoryLeg:
    """An outgoing call that rings until the test answers or ends it."""

    serial: int
    destination: str
    #: The call it was dialled for (0: none, a callback's leg to the caller).
    session: int = 0
    ended: bool = False
    cancelled: bool = False
    has_media: bool = True
    rtp: tuple[int, int] = (0, 0)

    def cancel_ringing(self) -> None:
        self.cancelled = True

    def rtp_counts(self) -> tuple[int, int]:
        return self.rtp


@dataclass
class MemoryRtp:
    caller_tx: int = 0


@dataclass
class MemoryCall:
    """A caller: who it was bridged or referred to, and whether it was hung up."""

    session: int
    caller: str
    ended: bool = False
    state: CallState = field(default_factory=initial_state)
    stats: MemoryRtp = field(default_factory=MemoryRtp)
    joined_with: str | None = None
    referred_to: int | None = None
    refer_works: bool = True
    hung_up: bool = False

    def join(self, leg: Any, who: str) -> None:
        assert not leg.cancelled, "bridged with a leg that was hung up"
        self.joined_with = who

    def refer_to(self, leg: Any) -> bool:
        if self.refer_works:
            self.referred_to = leg.serial
        return self.refer_works

    def hang_up(self) -> None:
        self.hung_up = self.ended = True


@dataclass
class MemoryQueueHost:
    """The server as the queue runner sees it (``QueueHost``), with nothing behind it."""

    clock: ManualClock = field(default_factory=ManualClock)
    calls: dict[int, MemoryCall] = field(default_factory=dict)
    #: Every leg dialled, in order.
    legs: list[MemoryLeg] = field(default_factory=list)
    #: Destinations that cannot be dialled (``dial`` returns None).
    unreachable: set[str] = field(default_factory=set)
    delivered: list[tuple[int, Event]] = field(default_factory=list)
    connected: list[tuple[int, int]] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)
    #: Callbacks given up: (queue, number, attempts).
    given_up: list[tuple[str, str, int]] = field(default_factory=list)
    changes: int = 0
    _worker: ManualScheduler | None = None

    @property
    def worker(self) -> ManualScheduler:
        if self._worker is None:
            self._worker = ManualScheduler(self.clock)
        return self._worker

    def deliver(self, session: int, event: Event) -> None:
        self.delivered.append((session, event))

    def dial(self, session: int, destination: str) -> MemoryLeg | None:
        if destination in self.unreachable:
            return None
        self.legs.append(MemoryLeg(100 + len(self.legs), destination, session))
        return self.legs[-1]

    def can_ring(self, destination: str) -> bool:
        return destination not in self.unreachable

    def callback_given_up(self, queue: str, number: str, attempts: int) -> None:
        self.given_up.append((queue, number, attempts))

    def connect_legs(self, first: Leg, second: Leg) -> bool:
        if not all(isinstance(leg, MemoryLeg) and leg.has_media for leg in (first, second)):
            return False
        self.connected.append((first.serial, second.serial))
        return True

    def call_id_of(self, session: int) -> str:
        return f"call-{session}" if session in self.calls else ""

    def queue_log(self, line: QueueLog) -> None:
        self.logged.append(line.message)

    def queues_changed(self) -> None:
        self.changes += 1

    def store_later(self, what: str, job: Callable[[], object]) -> None:
        self.stored.append(what)
        job()  # the server's storage writer runs it on its thread; here, at once


if TYPE_CHECKING:  # mypy checks that each twin fits its port
    from attendant.ports import Clock, QueuedCall, QueueHost, Scheduler

    _host: QueueHost = MemoryQueueHost()
    _call: QueuedCall = MemoryCall(1, "")
    _leg: Leg = MemoryLeg(1, "")
    _clock: Clock = ManualClock()
    _scheduler: Scheduler = ManualScheduler(ManualClock())
