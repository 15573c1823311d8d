"""The pjsua2 Endpoint and the one thread that is allowed to touch it.

Threading model (see docs/serving.md):

* **One pjsip worker thread** creates the Endpoint (so pjlib registers it),
  opens the transports, and then loops: run posted tasks, fire due timers,
  ``libHandleEvents(<= 10 ms)``. pjsua runs SIP with ``threadCnt = 0``, so SIP
  callbacks (call state, media state, SIP INFO DTMF) arrive on this thread.
  Media keeps its own ioqueue, and pjsua starts one ``media`` thread for it even
  with ``medConfig.threadCnt = 0``: RTP is received there, and the conference
  bridge's ``clock`` thread mixes and sends it, off the worker.
* **Other threads only post.** pjsua 2.17 calls RFC 4733 DTMF callbacks on its
  ``media`` thread and player end-of-file callbacks on pjmedia's event thread
  (``ev_thread``); signal handlers, the reload thread and the prompt
  renderer pool post too. A post from another thread also sends a tiny UDP
  datagram to a loopback SIP transport of our own (the *wake transport*): pjsip
  ignores datagrams of 32 bytes or less, but the worker's ``libHandleEvents``
  returns at once, so the task runs now rather than when the poll times out
  (this halved DTMF -> next prompt latency; docs/BENCHMARKS.md).
* **Timers** are a heap owned by the worker: no ``threading.Timer`` threads,
  which pjlib would not know.

Nothing else in the process may call pjsua2.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import heapq
import itertools
import logging
import os
import queue
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from attendant.sip.codecs import DEFAULT_CODECS, apply_codecs
from attendant.sip.tls import TlsFiles
from attendant.sip.tls import fill as fill_tls

log = logging.getLogger("attendant.sip")

Transport = Literal["udp", "tcp", "tls"]
Srtp = Literal["off", "optional", "mandatory"]
SrtpSignaling = Literal["any", "tls", "sips"]

#: Longest time the worker blocks in libHandleEvents; bounds the latency of posted tasks.
POLL_MS = 10
#: What a post from another thread sends to the wake transport (pjsip ignores it:
#: UDP datagrams of 32 bytes or less are dropped unparsed; RFC 5626 CRLF keep-alive).
WAKE_DATAGRAM = b"\r\n\r\n"
#: Seconds :meth:`Worker.retire` keeps an object after the worker is done with it.
RETIRE_S = 2.0
#: prctl(2) option that names the calling thread.
PR_SET_NAME = 15
#: File descriptors a call may need (SIP, RTP, RTCP, and spare); used to raise ``ulimit -n``.
FDS_PER_CALL = 6


@dataclass(frozen=True)
class EndpointConfig:
    """How the SIP endpoint listens and what it allows; the ``serve`` options."""

    def port_of(self, transport: Transport) -> int:
        """The port ``transport`` listens on."""
        return self.tls_port if transport == "tls" else self.port

    def where(self) -> str:
        """``127.0.0.1:5060/udp, 127.0.0.1:5061/tls``, for logs."""
        return ", ".join(f"{self.listen}:{self.port_of(t)}/{t}" for t in self.transports)

    listen: str = "127.0.0.1"
    #: The port of UDP and TCP.
    port: int = 5060
    #: The SIP transports opened, all at once; the first is the default account's.
    transports: tuple[Transport, ...] = ("udp",)
    #: The port of TLS.
    tls_port: int = 5061
    rtp_ports: tuple[int, int] = (20000, 30000)
    clock_rate: int = 8000
    max_calls: int = 200
    public_address: str | None = None
    outbound_proxy: str | None = None
    pj_log_level: int = 1
    #: The ``tls`` transport's certificate, key and the peer checks (:mod:`attendant.sip.tls`).
    tls: TlsFiles = field(default_factory=TlsFiles)
    #: The codecs calls may use, best first (:mod:`attendant.sip.codecs`).
    codecs: tuple[str, ...] = DEFAULT_CODECS
    #: STUN servers (host[:port]) asked for our public address behind NAT.
    stun_servers: tuple[str, ...] = ()
    #: SRTP (SDES keys in the SDP) for callers and legs out: off, optional, mandatory.
    srtp: Srtp = "optional"
    #: Over which signalling SDES keys may travel: any, tls (this hop), sips (end to end).
    srtp_signaling: SrtpSignaling = "any"


class EndpointHooks(Protocol):
    """What the worker calls back into (the server)."""

    def on_started(self, worker: Worker) -> None:
        """The library runs and the transport is open; create the account."""

    def on_stopping(self) -> None:
        """The loop is ending: drop every pjsua2 object (calls, players, account)."""


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    fn: Callable[[], None] | None


class TimerHandle:
    """Returned by :meth:`Worker.call_later`; :meth:`cancel` it from the worker thread."""

    __slots__ = ("_entry",)

    def __init__(self, entry: _Timer):
        self._entry = entry

    def cancel(self) -> None:
        """Forget the timer (cheap: the heap entry is disarmed, not removed)."""
        self._entry.fn = None


class Worker:
    """Owns the pjsua2 Endpoint and runs it on a dedicated thread."""

    def __init__(self, config: EndpointConfig, hooks: EndpointHooks):
        self.config = config
        self._hooks = hooks
        self._tasks: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]]] = (
            queue.SimpleQueue())
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._stop = threading.Event()
        self.started = threading.Event()
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="pjsip-worker", daemon=True)
        self.ep: Any = None
        #: pjsua's id of each SIP transport (each has its own account bound to it).
        self.transport_ids: dict[Transport, int] = {}
        #: Where :meth:`post` sends a datagram to wake the worker's poll (None: no wake-up,
        #: tasks wait up to POLL_MS).
        self._wake_to: tuple[str, int] | None = None
        self._wake_sock: socket.socket | None = None
        #: A wake datagram is on its way and the worker has not yet run the tasks.
        self._wake_pending = False

    # --- any thread ---------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Start the thread and wait until the transport is open (or raise why not)."""
        self._thread.start()
        if not self.started.wait(timeout):
            raise RuntimeError("the SIP endpoint did not start in time")
        if self.failed is not None:
            raise self.failed

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the worker thread soon (at once when the wake transport is up)."""
        self._tasks.put((fn, args))
        if self._wake_pending or self._wake_to is None or self.in_worker:
            return
        self._wake_pending = True
        sock = self._wake_sock
        if sock is not None:
            with contextlib.suppress(OSError):  # a full socket buffer: the poll still ends
                sock.sendto(WAKE_DATAGRAM, self._wake_to)

    def stop(self) -> None:
        """Ask the loop to end; :meth:`join` waits for it."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread; True when it has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def in_worker(self) -> bool:
        """True when called on the worker thread."""
        return threading.current_thread() is self._thread

    # --- worker thread only ---------------------------------------------------------

    def retire(self, obj: object, seconds: float = RETIRE_S) -> None:
        """Hold ``obj`` for ``seconds`` more, then let it go on this thread.

        For pjsua2 objects whose callbacks run on other threads (prompt players): SWIG
        holds no reference to the Python object while it calls back, so if the worker
        dropped the last one at that moment, the object was destroyed on the callback's
        thread as the callback returned — in pjsua_player_destroy, waiting for the
        pjsua lock that a worker tearing down a call holds while it waits for that
        very thread (the deadlock the soak found). Stopped players get no new
        callbacks; seconds is far longer than one in flight takes.
        """
        self.call_later(seconds, functools.partial(_let_go, obj))

    def call_later(self, seconds: float, fn: Callable[[], None]) -> TimerHandle:
        """Run ``fn`` on the worker thread after ``seconds``."""
        entry = _Timer(time.monotonic() + max(0.0, seconds), next(self._seq), fn)
        heapq.heappush(self._timers, entry)
        return TimerHandle(entry)

    def _main(self) -> None:
        _name_os_thread(b"pjsip-worker")
        try:
            self._create()
        except BaseException as exc:
            self.failed = exc
            self.started.set()
            self._destroy()
            return
        self.started.set()
        try:
            while not self._stop.is_set():
                # Cleared before the tasks run: a post after this point sends a new wake-up.
                self._wake_pending = False
                self._run_tasks()
                self._run_timers()
                self.ep.libHandleEvents(self._poll_ms())
        except BaseException:
            log.exception("the SIP worker loop failed")
            raise
        finally:
            self._destroy()

    def _poll_ms(self) -> int:
        if not self._tasks.empty():  # posted by a timer or a task just run: do not block
            return 0
        if not self._timers:
            return POLL_MS
        wait = (self._timers[0].due - time.monotonic()) * 1000
        return max(0, min(POLL_MS, int(wait)))

    def _run_tasks(self) -> None:
        for _ in range(10_000):  # bounded: a task that posts tasks cannot starve the loop
            try:
                fn, args = self._tasks.get_nowait()
            except queue.Empty:
                return
            self._guard(fn, *args)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0].due <= now:
            entry = heapq.heappop(self._timers)
            fn, entry.fn = entry.fn, None
            if fn is not None:
                self._guard(fn)

    @staticmethod
    def _guard(fn: Callable[..., None], *args: Any) -> None:
        # One call's bug must not take down the other calls.
        try:
            fn(*args)
        except Exception:
            log.exception("error in SIP task %s", getattr(fn, "__qualname__", fn))

    def _create(self) -> None:
        import pjsua2 as pj

        cfg = self.config
        _raise_fd_limit(cfg.max_calls * FDS_PER_CALL + 256)
        self.ep = pj.Endpoint()
        self.ep.libCreate()  # registers this thread with pjlib
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = False
        # pjsua refuses calls past its own maxCalls with 486 before we see them; ask for
        # room for every caller plus a transfer leg each (pjsua clamps it to its build limit).
        ep_cfg.uaConfig.maxCalls = cfg.max_calls * 2 + 8
        ep_cfg.uaConfig.userAgent = "attendant"
        if cfg.outbound_proxy:
            ep_cfg.uaConfig.outboundProxies.append(cfg.outbound_proxy)
        for server in cfg.stun_servers:
            ep_cfg.uaConfig.stunServer.append(server)
        ep_cfg.uaConfig.stunIgnoreFailure = True  # no answer: go on with the local address
        ep_cfg.medConfig.threadCnt = 0
        ep_cfg.medConfig.clockRate = cfg.clock_rate
        ep_cfg.medConfig.sndClockRate = cfg.clock_rate
        ep_cfg.medConfig.channelCount = 1
        ep_cfg.medConfig.noVad = True  # keep RTP flowing: some gateways hang up on silence
        ep_cfg.medConfig.ecTailLen = 0  # no echo canceller: nothing here has a loudspeaker
        ep_cfg.medConfig.maxMediaPorts = cfg.max_calls * 8 + 32
        ep_cfg.logConfig.level = cfg.pj_log_level
        ep_cfg.logConfig.consoleLevel = cfg.pj_log_level
        self.ep.libInit(ep_cfg)
        apply_codecs(self.ep, cfg.codecs)

        for transport in cfg.transports:
            self.transport_ids[transport] = self._open_transport(pj, transport)
        self._open_wake_transport(pj)
        self.ep.audDevManager().setNullDev()  # the conference bridge's clock, no sound card
        self.ep.libStart()
        self._hooks.on_started(self)
        log.info("codecs, best first: %s", ", ".join(cfg.codecs))
        if "tls" in cfg.transports:
            log.info("TLS: %s", cfg.tls.describe())
        log.info("listening on %s, clock %d Hz, RTP %d-%d, max %d calls",
                 cfg.where(), cfg.clock_rate, cfg.rtp_ports[0], cfg.rtp_ports[1],
                 cfg.max_calls)

    def _transport_config(self, pj: Any, transport: Transport, tls: TlsFiles) -> Any:
        """The pjsua2 ``TransportConfig`` of one transport."""
        cfg = self.config
        tp_cfg = pj.TransportConfig()
        tp_cfg.boundAddress = cfg.listen
        tp_cfg.port = cfg.port_of(transport)
        if cfg.public_address:
            tp_cfg.publicAddress = cfg.public_address
        if transport == "tls":
            fill_tls(pj, tp_cfg.tlsConfig, tls)
        return tp_cfg

    def _open_transport(self, pj: Any, transport: Transport) -> int:
        """Open one SIP transport on its port; its pjsua id."""
        cfg = self.config
        tp_cfg = self._transport_config(pj, transport, cfg.tls)
        if transport == "tls":
            kind = pj.PJSIP_TRANSPORT_TLS
            _check_tls(self.ep)
        else:
            kind = pj.PJSIP_TRANSPORT_TCP if transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        try:
            return int(self.ep.transportCreate(kind, tp_cfg))
        except pj.Error as exc:
            where = f"{cfg.listen}:{tp_cfg.port}/{transport}"
            if transport == "tls":
                raise RuntimeError(f"cannot open the TLS transport on {where} with "
                                   f"{cfg.tls.describe()}: {exc.info()}") from None
            raise RuntimeError(f"cannot open {where}: {exc.info()}") from None

    def reload_tls(self) -> str | None:
        """Read the TLS listener's certificate, key and CA list again and serve them from
        now on; connections already open keep theirs. Why not, or None when done."""
        import pjsua2 as pj

        transport_id = self.transport_ids.get("tls")
        if transport_id is None or self.ep is None:
            return None
        if not hasattr(self.ep, "transportLisRestart"):
            return ("this pjsua2 build cannot restart a TLS listener (patch 0008 missing); "
                    "rebuild it: bash scripts/build-pjsua2.sh --venv .venv --force")
        try:
            self.ep.transportLisRestart(transport_id,
                                        self._transport_config(pj, "tls", self.config.tls))
        except pj.Error as exc:
            # pjsip closes the listener before it loads the files, and a later restart
            # does not reopen a closed one. The files were checked just before (tls.problems),
            # so only a file replaced in between gets here.
            return (f"pjsip refused the files ({exc.info()}) and the TLS listener is closed; "
                    "restart the server")
        return None

    def _open_wake_transport(self, pj: Any) -> None:
        """A UDP SIP transport on a free loopback port that only :meth:`post` writes to.

        Without it posted tasks still run, only up to :data:`POLL_MS` later.
        """
        try:
            cfg = pj.TransportConfig()
            cfg.boundAddress = "127.0.0.1"
            cfg.port = 0  # any free port
            wake_id = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, cfg)
            local = str(self.ep.transportGetInfo(wake_id).localName)
            port = int(local.rsplit(":", 1)[1])
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
        except (pj.Error, OSError, ValueError, IndexError) as exc:
            detail = exc.info() if isinstance(exc, pj.Error) else str(exc)
            log.warning("no wake-up transport on 127.0.0.1 (%s); DTMF and other events from "
                        "media threads may wait up to %d ms", detail, POLL_MS)
            return
        self._wake_sock = sock
        self._wake_to = ("127.0.0.1", port)

    def _destroy(self) -> None:
        self._wake_to = None
        if self._wake_sock is not None:
            self._wake_sock.close()
            self._wake_sock = None
        try:
            self._hooks.on_stopping()
        except Exception:
            log.exception("error while dropping calls")
        self._timers.clear()
        if self.ep is not None:
            try:
                self.ep.libDestroy()
            except Exception:
                log.exception("libDestroy failed")
            self.ep = None


def _let_go(obj: object) -> None:
    """The timer :meth:`Worker.retire` sets: dropping this task drops ``obj``."""
    del obj


def tls_available(ep: Any) -> bool:
    """True when this pjsua2 was built with an SSL library (``--transport tls`` works)."""
    try:
        return bool(ep.utilSslGetAvailableCiphers())
    except Exception:  # pj.Error (PJ_ENOTSUP) without SSL, AttributeError on old bindings
        return False


def _check_tls(ep: Any) -> None:
    if not tls_available(ep):
        raise RuntimeError("this pjsua2 was built without TLS (no OpenSSL): --transport tls "
                           "cannot work; rebuild it with libssl-dev installed: bash "
                           "scripts/build-pjsua2.sh --venv .venv")


def _name_os_thread(name: bytes) -> None:
    """Give the calling thread a name ``top -H`` and ``/proc/<pid>/task/*/comm`` show
    (Python 3.11 names threads for itself only); best effort, Linux only."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if os.name == "posix" and target < wanted:
        log.warning("ulimit -n is %d; %d calls may need %d file descriptors", target,
                    wanted // FDS_PER_CALL, wanted)
