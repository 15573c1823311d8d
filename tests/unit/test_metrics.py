"""Prometheus metrics: labels stay bounded, and the HTTP exporter serves them."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from attendant.engine.outcomes import OUTCOMES, Outcome
from attendant.ops.metrics import Metrics, transfer_label


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    m = Metrics()
    yield m
    m.stop_http()


def test_every_outcome_is_a_label_created_before_any_call(metrics: Metrics) -> None:
    text = metrics.render().decode()
    for outcome in Outcome:
        assert f'attendant_calls_total{{outcome="{outcome.value}"}} 0.0' in text
    assert tuple(o.value for o in Outcome) == OUTCOMES


@pytest.mark.parametrize(("result", "label"), [
    (True, "answered"), ("answered", "answered"), ("busy", "busy"), ("no-answer", "no_answer"),
    ("No Answer", "no_answer"), ("unreachable", "unreachable"), ("486 Busy Here", "failed"),
    (False, "failed"),
])
def test_transfer_results_map_to_a_closed_set(result: str | bool, label: str) -> None:
    assert transfer_label(result) == label


def test_the_endpoint_serves_every_metric(metrics: Metrics) -> None:
    port = metrics.serve_http("127.0.0.1", 0)
    assert port > 0
    for _ in range(3):
        metrics.call_started()
    metrics.call_ended(Outcome.CALLER_HANGUP)
    metrics.call_ended(Outcome.QUEUED)
    metrics.transfer_result("busy")
    metrics.transfer_result(True)
    metrics.voicemail_recorded("sales")
    metrics.voicemail_recorded("sales")
    metrics.dtmf_received(0.004)
    metrics.dtmf_received()
    metrics.observe_call_setup(0.3)
    samples = scrape(port)
    assert samples[("attendant_active_calls", ())] == 1
    assert samples[("attendant_calls_total", (("outcome", "caller_hangup"),))] == 1
    assert samples[("attendant_calls_total", (("outcome", "queued"),))] == 1
    assert samples[("attendant_calls_total", (("outcome", "voicemail"),))] == 0  # pre-created
    assert samples[("attendant_transfers_total", (("result", "busy"),))] == 1
    assert samples[("attendant_transfers_total", (("result", "answered"),))] == 1
    assert samples[("attendant_voicemails_total", (("box", "sales"),))] == 2
    assert samples[("attendant_dtmf_total", ())] == 2
    assert samples[("attendant_dtmf_to_action_seconds_count", ())] == 1
    assert samples[("attendant_dtmf_to_action_seconds_bucket", (("le", "0.005"),))] == 1
    assert samples[("attendant_dtmf_to_action_seconds_bucket", (("le", "0.0025"),))] == 0
    assert samples[("attendant_call_setup_seconds_count", ())] == 1


def test_labels_stay_bounded_and_the_gauge_never_goes_negative() -> None:
    metrics = Metrics(max_box_labels=2)
    for box in ("a", "b", "c", "d", "a"):
        metrics.voicemail_recorded(box)
    metrics.call_ended(Outcome.QUEUED)  # an end without a start
    text = metrics.render().decode()
    assert 'attendant_voicemails_total{box="a"} 2.0' in text
    assert 'attendant_voicemails_total{box="other"} 2.0' in text
    assert 'box="c"' not in text
    assert "attendant_active_calls 0.0" in text


def test_registries_are_independent() -> None:
    first, second = Metrics(), Metrics()
    first.call_started()
    assert "attendant_active_calls 1.0" in first.render().decode()
    assert "attendant_active_calls 0.0" in second.render().decode()


def test_stop_closes_the_port_and_serving_twice_is_refused(metrics: Metrics) -> None:
    port = metrics.serve_http("127.0.0.1", 0)
    with pytest.raises(RuntimeError, match="already being served"):
        metrics.serve_http("127.0.0.1", 0)
    metrics.stop_http()
    metrics.stop_http()  # idempotent
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)


def test_counts_kept_outside_python_are_read_at_each_scrape() -> None:
    metrics, counts = Metrics(), [(0, 0)]
    metrics.count_unreadable(lambda: counts[-1])
    counts.append((3, 7))
    text = metrics.render().decode()
    assert 'attendant_sip_unreadable_total{outcome="answered"} 3.0' in text
    assert 'attendant_sip_unreadable_total{outcome="dropped"} 7.0' in text


def test_counts_that_cannot_be_read_leave_the_metric_out() -> None:
    metrics = Metrics()
    metrics.count_unreadable(lambda: None)  # a pjsua2 built without the patch
    assert "sip_unreadable" not in metrics.render().decode()


def test_trunk_failures_are_counted_by_a_bounded_set_of_answers() -> None:
    metrics = Metrics()
    metrics.trunk_registered("carrier", False)
    for code in (401, 401, 486, 0, 999):
        metrics.trunk_failure("carrier", code)
    text = metrics.render().decode()
    assert 'attendant_trunk_registered{trunk="carrier"} 0.0' in text
    assert 'attendant_trunk_registration_failures_total{code="401",trunk="carrier"} 2.0' in text
    assert 'attendant_trunk_registration_failures_total{code="4xx",trunk="carrier"} 1.0' in text
    assert 'attendant_trunk_registration_failures_total{code="0",trunk="carrier"} 2.0' in text
