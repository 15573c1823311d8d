"""Prometheus metrics for ``attendant serve``, on a registry of their own.

Each :class:`Metrics` owns a ``CollectorRegistry`` rather than using
prometheus-client's global one, so tests (and a process embedding several
endpoints) can create as many as they like without "duplicated timeseries" errors.

Exported names (``namespace`` defaults to ``attendant``)::

    attendant_active_calls                       gauge      calls in progress
    attendant_calls_total{outcome}               counter    ended calls, by outcome label
    attendant_transfers_total{result}            counter    transfer attempts, by result
    attendant_voicemails_total{box}              counter    messages recorded, by box
    attendant_dtmf_total                         counter    keys received
    attendant_dtmf_to_action_seconds             histogram  key received → its actions carried out
    attendant_call_setup_seconds                 histogram  INVITE received → call answered
    attendant_voicemail_failures_total           counter    messages storage failed (disk, store)
    attendant_voicemail_box_full_total{box}      counter    callers who found a box full
    attendant_sip_refused_total{reason}          counter    peer requests refused (REFER, ...)
    attendant_safety_hangups_total{reason}       counter    calls ended by a safety limit
    attendant_sip_unreadable_total{outcome}      counter    messages pjsip could not parse:
                                                            answered (400/416/505) or dropped
    attendant_trunk_registered{trunk}            gauge      1 while the trunk's registration
                                                            holds, else 0
    attendant_trunk_registration_failures_total{trunk,code}
                                                 counter    failed REGISTERs, by SIP answer
                                                            (0: no answer)
    attendant_trunk_reachable{trunk}             gauge      1 while the trunk answers its
                                                            OPTIONS pings (qualify), else 0
    attendant_trunk_ping_seconds{trunk}          gauge      how long the last answered
                                                            ping took

Label values are always from a small closed set: a call's outcome is the engine's
:class:`~attendant.engine.outcomes.Outcome` (not its wording), transfer reasons
through :func:`transfer_label`, and box names are capped at ``max_box_labels``
distinct values (any more count as ``other``), so a misbehaving adapter cannot create
unbounded series.

All methods are thread-safe (prometheus-client metrics are), so pjsip callbacks
may call them directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from attendant.engine.outcomes import OUTCOMES, Outcome

#: Every value the ``result`` label of transfers can take.
TRANSFER_RESULTS = ("answered", "busy", "no_answer", "unreachable", "rejected", "failed")
#: What a SIP peer asked for and was refused (``reason`` label); docs/security.md.
REFUSALS = ("refer", "replaces", "redirect", "subscribe", "message", "per_source", "bad_sdp",
            "malformed", "not_allowed", "auth_failed", "auth_locked")
#: Why a safety limit ended a call (``reason`` label).
SAFETY_REASONS = ("no_ack", "no_rtp", "held", "session_expired")
#: Results of a mailbox login by phone (attendant_mailbox_logins_total{result}).
MAILBOX_RESULTS = ("ok", "wrong", "no_pin", "locked", "failed")
#: DTMF handling should take milliseconds; buckets from 1 ms to 2.5 s.
DTMF_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: From INVITE to answer: tens of milliseconds to seconds (a slow prompt render).
SETUP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

def transfer_label(result: str | bool) -> str:
    """Map a transfer result (``True``/``"answered"`` or a failure reason) to a label."""
    if result is True:
        return "answered"
    text = str(result).strip().lower().replace("-", "_").replace(" ", "_")
    return text if text in TRANSFER_RESULTS else "failed"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood stderr; stay silent."""


class _UnreadableCollector(Collector):
    """Reads counts kept outside Python (pjsip's parser) at each scrape."""

    def __init__(self, name: str, read: Callable[[], tuple[int, int] | None]) -> None:
        self._name = name
        self._read = read

    def collect(self) -> Iterator[CounterMetricFamily]:
        counts = self._read()
        if counts is None:
            return
        family = CounterMetricFamily(
            self._name, "SIP messages pjsip's parser could not read: answered 400, 416 or "
            "505, or dropped (responses, ACKs, requests whose answer cannot be addressed).",
            labels=["outcome"])
        family.add_metric(["answered"], counts[0])
        family.add_metric(["dropped"], counts[1])
        yield family


class Metrics:
    """The metrics of one attendant process. See the module docstring for names.

    Args:
        namespace: prefix of every metric name.
        max_box_labels: distinct ``box`` label values kept before counting as ``other``.
    """

    def __init__(self, namespace: str = "attendant", max_box_labels: int = 64) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._active = 0
        self._boxes: set[str] = set()
        self._max_boxes = max_box_labels
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._namespace = namespace
        reg = self.registry
        self.active_calls = Gauge("active_calls", "Calls in progress.", namespace=namespace,
                                  registry=reg)
        self.calls = Counter("calls", "Calls ended, by outcome.", ["outcome"],
                             namespace=namespace, registry=reg)
        self.transfers = Counter("transfers", "Transfer attempts, by result.", ["result"],
                                 namespace=namespace, registry=reg)
        self.voicemails = Counter("voicemails", "Voicemail messages recorded, by box.", ["box"],
                                  namespace=namespace, registry=reg)
        self.voicemail_failures = Counter(
            "voicemail_failures", "Messages not recorded, or cut short, because storage failed "
            "(disk nearly full, store unavailable).", namespace=namespace, registry=reg)
        self.box_full = Counter("voicemail_box_full", "Callers who found a voicemail box full "
                                "(max_messages or max_mb), by box.", ["box"],
                                namespace=namespace, registry=reg)
        self.dtmf = Counter("dtmf", "DTMF keys received.", namespace=namespace, registry=reg)
        self.dtmf_to_action = Histogram(
            "dtmf_to_action_seconds", "Time from a DTMF key to its actions being carried out.",
            namespace=namespace, registry=reg, buckets=DTMF_BUCKETS)
        self.call_setup = Histogram(
            "call_setup_seconds", "Time from an incoming INVITE to the call being answered.",
            namespace=namespace, registry=reg, buckets=SETUP_BUCKETS)
        self.refused = Counter("sip_refused", "Requests from SIP peers refused, by kind.",
                               ["reason"], namespace=namespace, registry=reg)
        self.safety_hangups = Counter(
            "safety_hangups",
            "Calls ended because their caller was gone (no ACK, no RTP, held, session expired).",
            ["reason"], namespace=namespace, registry=reg)
        self.trunk_up = Gauge("trunk_registered", "1 while a trunk's registration holds.",
                              ["trunk"], namespace=namespace, registry=reg)
        self.trunk_failures = Counter(
            "trunk_registration_failures", "Failed registrations to a trunk, by SIP answer.",
            ["trunk", "code"], namespace=namespace, registry=reg)
        self.trunk_reachable_gauge = Gauge(
            "trunk_reachable", "1 while a trunk answers its OPTIONS pings.", ["trunk"],
            namespace=namespace, registry=reg)
        self.trunk_ping = Gauge("trunk_ping_seconds", "Round trip of a trunk's last answered "
                                "OPTIONS ping.", ["trunk"], namespace=namespace, registry=reg)
        self.mailbox_logins = Counter(
            "mailbox_logins", "Mailbox menu logins by phone, by result (ok, wrong, no_pin, "
            "locked, failed).", ["result"], namespace=namespace, registry=reg)
        self.mailbox_lockouts = Counter(
            "mailbox_lockouts", "Sources locked out of a mailbox (or of every mailbox) after "
            "repeated wrong PINs.", namespace=namespace, registry=reg)
        self.override_gauge = Gauge(
            "override_active", "1 while staff have switched an attendant to this override "
            "(closed, open or one of its own).", ["attendant", "override"],
            namespace=namespace, registry=reg)
        # Series that exist from the start read as 0 rather than missing, so rate() works.
        for reason in REFUSALS:
            self.refused.labels(reason=reason)
        for reason in SAFETY_REASONS:
            self.safety_hangups.labels(reason=reason)
        for outcome in OUTCOMES:
            self.calls.labels(outcome=outcome)
        for result in TRANSFER_RESULTS:
            self.transfers.labels(result=result)
        for result in MAILBOX_RESULTS:
            self.mailbox_logins.labels(result=result)

    # --- recording -------------------------------------------------------------------

    def call_started(self) -> None:
        """A call was answered: one more active call."""
        with self._lock:
            self._active += 1
            self.active_calls.set(self._active)

    def call_ended(self, outcome: Outcome) -> str:
        """A call ended; count it under its outcome label and return that label."""
        label = outcome.value
        with self._lock:
            # Never below zero, even if an adapter reports an end without a start.
            self._active = max(0, self._active - 1)
            self.active_calls.set(self._active)
        self.calls.labels(outcome=label).inc()
        return label

    def observe_call_setup(self, seconds: float) -> None:
        """INVITE to answer took ``seconds``."""
        self.call_setup.observe(max(0.0, seconds))

    def transfer_result(self, result: str | bool) -> str:
        """Count a transfer attempt's result; return the label used."""
        label = transfer_label(result)
        self.transfers.labels(result=label).inc()
        return label

    def _box_label(self, box: str) -> str:
        with self._lock:
            if box not in self._boxes and len(self._boxes) < self._max_boxes:
                self._boxes.add(box)
            return box if box in self._boxes else "other"

    def voicemail_recorded(self, box: str) -> None:
        """Count one message left in ``box``."""
        self.voicemails.labels(box=self._box_label(box)).inc()

    def voicemail_box_full(self, box: str) -> None:
        """Count a caller who found ``box`` full."""
        self.box_full.labels(box=self._box_label(box)).inc()

    def mailbox_login(self, result: str) -> None:
        """Count a mailbox login by phone: ``ok`` or why it was refused."""
        self.mailbox_logins.labels(result=result if result in MAILBOX_RESULTS else "failed").inc()

    def mailbox_lockout(self) -> None:
        """Count a source locked out after repeated wrong mailbox PINs."""
        self.mailbox_lockouts.inc()

    def refusal(self, reason: str) -> None:
        """Count a refused peer request (an unknown kind counts as ``other``)."""
        self.refused.labels(reason=reason if reason in REFUSALS else "other").inc()

    def safety_hangup(self, reason: str) -> None:
        """Count a call ended by a safety limit."""
        self.safety_hangups.labels(reason=reason if reason in SAFETY_REASONS else "other").inc()

    def dtmf_received(self, seconds_to_action: float | None = None) -> None:
        """Count a key, and how long until its actions were carried out, when known."""
        self.dtmf.inc()
        if seconds_to_action is not None:
            self.dtmf_to_action.observe(max(0.0, seconds_to_action))

    def trunk_registered(self, trunk: str, registered: bool) -> None:
        """A trunk's registration now holds (or no longer does)."""
        self.trunk_up.labels(trunk=trunk).set(1 if registered else 0)

    def override_set(self, attendant: str, name: str, active: bool) -> None:
        """An override of ``attendant`` started (or ended)."""
        self.override_gauge.labels(attendant=attendant, override=name).set(1 if active else 0)

    def trunk_reachable(self, trunk: str, reachable: bool, seconds: float | None) -> None:
        """A trunk answered its OPTIONS ping in ``seconds`` (or did not)."""
        self.trunk_reachable_gauge.labels(trunk=trunk).set(1 if reachable else 0)
        if seconds is not None:
            self.trunk_ping.labels(trunk=trunk).set(seconds)

    def trunk_failure(self, trunk: str, code: int) -> None:
        """A REGISTER to ``trunk`` failed with SIP status ``code`` (0: no answer); codes
        are grouped (4xx/5xx/6xx each their own) so a registrar cannot make many series."""
        label = str(code) if code in (401, 403, 404, 407, 408, 423, 480, 500, 503) else (
            f"{code // 100}xx" if 100 <= code < 700 else "0")
        self.trunk_failures.labels(trunk=trunk, code=label).inc()

    def count_unreadable(self, read: Callable[[], tuple[int, int] | None]) -> None:
        """Export ``sip_unreadable_total``, read by ``read`` (answered, dropped) per scrape."""
        self.registry.register(_UnreadableCollector(f"{self._namespace}_sip_unreadable", read))

    # --- exporting -------------------------------------------------------------------

    def render(self) -> bytes:
        """The current metrics in the Prometheus text format."""
        return generate_latest(self.registry)

    def serve_http(self, addr: str = "127.0.0.1", port: int = 0) -> int:
        """Serve ``/metrics`` on ``addr:port`` in a daemon thread; return the bound port.

        ``port=0`` picks a free port. The default address is loopback: exposing
        metrics beyond the host is a deliberate choice (``addr="0.0.0.0"``).

        Raises:
            RuntimeError: already serving.
            OSError: the address cannot be bound.
        """
        with self._lock:
            if self._server is not None:
                raise RuntimeError("metrics are already being served; call stop_http() first")
            server = make_server(addr, port, make_wsgi_app(self.registry),
                                 server_class=_Server, handler_class=_QuietHandler)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="attendant-metrics", daemon=True)
            thread.start()
            self._server, self._thread = server, thread
            return int(server.server_port)

    def stop_http(self, timeout: float = 5.0) -> None:
        """Stop the HTTP exporter and close its socket. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout)
