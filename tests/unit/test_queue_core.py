"""The queue core: limits and their actions, priorities, the clock, agents' states, callbacks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from queue_harness import Harness, make_flow, of

from attendant.model import Disconnect, Operator, ToVoicemail
from attendant.queues import actions as qa
from attendant.queues import core
from attendant.queues import events as qe

PACKAGE = Path(__file__).resolve().parents[2] / "attendant" / "queues"


def test_queue_core_source_is_pure() -> None:
    from test_core_purity import _impure_calls
    for path in sorted(PACKAGE.glob("*.py")):
        assert _impure_calls(ast.parse(path.read_text(encoding="utf-8"))) == [], path.name


# --- routing through the core -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("routing", "rings"),
    [
        ("attendant", [("a", "b", "c")]),
        ("serial", [("a",), ("b",), ("c",), ("a",)]),
        ("round_robin", [("a",), ("b",), ("c",), ("a",)]),
        ("fewest_calls", [("a",), ("b",), ("c",), ("a",)]),
    ],
)
def test_unanswered_rings_move_through_agents_in_order(tmp_path: Path, routing: str,
                                                       rings: list[tuple[str, ...]]) -> None:
    h = Harness(make_flow(tmp_path, routing=routing, miss_limit=0, alert_seconds=15))
    got = [r.agents for r in of(h.join("x"), qa.RingAgents)]
    while len(got) < len(rings):
        got += [r.agents for r in of(h.advance(1), qa.RingAgents)]
    assert got[:len(rings)] == rings


def test_round_robin_continues_after_the_agent_last_offered(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="round_robin"))
    h.join("x")
    h.ring_result("a", "answered")
    assert [r.agents for r in of(h.join("y"), qa.RingAgents)] == [("b",)]
    h.ring_result("b", "answered")
    h.send(qe.AgentCallEnded("a", h.now))
    h.send(qe.AgentCallEnded("b", h.now))
    assert [r.agents for r in of(h.join("z"), qa.RingAgents)] == [("c",)]


def test_longest_idle_offers_the_agent_idle_longest(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="longest_idle"))
    h.join("x")
    h.ring_result("a", "answered")
    h.advance(10)
    h.send(qe.AgentCallEnded("a", h.now))  # a idle since 10, b and c since 0
    h.join("y")
    assert h.ringing() == {"b": "y"}


def test_ring_all_first_answer_wins_and_others_stop(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path))
    ring = of(h.join("x"), qa.RingAgents)[0]
    assert set(h.ringing()) == {"a", "b", "c"}
    out = h.ring_result("b", "answered")
    assert of(out, qa.ConnectCaller) == [qa.ConnectCaller("x", "q", "b", ring.ring_id)]
    assert of(out, qa.CancelRing)[0].agents == ("a", "c")
    assert h.state.agents["b"].activity == core.BUSY
    assert h.state.agents["a"].activity == core.IDLE
    assert "x" not in h.state.callers


def test_refer_mode_is_passed_on(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, mode="refer"))
    h.join("x")
    assert of(h.ring_result("a", "answered"), qa.ConnectCaller)[0].mode == "refer"


# --- limits and actions -------------------------------------------------------------------------


def test_overflow_at_max_callers_takes_the_overflow_action(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, max_callers=2, on_overflow={"voicemail": "box"}), ())
    h.join("x")
    h.join("y")
    out = h.join("z")
    assert of(out, qa.RouteCaller) == [qa.RouteCaller("z", "q", ToVoicemail("box"), "overflow")]
    assert set(h.state.callers) == {"x", "y"}


def test_max_callers_zero_overflows_everyone_with_the_default_goodbye(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, max_callers=0))
    route = of(h.join("x"), qa.RouteCaller)[0]
    assert route.reason == "overflow"
    assert isinstance(route.route, Disconnect)
    assert route.route.prompt is not None
    assert route.route.prompt.id == "system.queue_full"


def test_max_wait_fires_on_time_even_while_an_agent_rings(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, max_wait=40, alert_seconds=60, on_timeout="operator"))
    h.join("x")
    assert h.ringing() == {"a": "x", "b": "x", "c": "x"}
    assert of(h.advance(39.9), qa.RouteCaller) == []
    out = h.advance(0.1)
    assert of(out, qa.RouteCaller) == [qa.RouteCaller("x", "q", Operator(), "timeout")]
    assert of(out, qa.CancelRing)[0].agents == ("a", "b", "c")
    assert h.ringing() == {}
    assert all(a.misses == 0 for a in h.state.agents.values())  # not their fault
    assert h.timers == {}


def test_max_wait_zero_times_out_at_once(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, max_wait=0))
    assert of(h.join("x"), qa.RouteCaller)[0].reason == "timeout"


def test_no_agents_act_routes_at_once(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, no_agents="act", on_no_agents={"voicemail": "box"}), ())
    assert of(h.join("x"), qa.RouteCaller) == [
        qa.RouteCaller("x", "q", ToVoicemail("box"), "no_agents")]


def test_on_no_agents_alone_means_act(tmp_path: Path) -> None:
    flow = make_flow(tmp_path, on_no_agents={"voicemail": "box"})
    assert flow.queues["q"].no_agents == "act"


def test_no_agents_queue_lets_callers_wait_until_someone_signs_in(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path), ())
    assert of(h.join("x"), qa.RouteCaller) == []
    assert of(h.advance(100), qa.RingAgents) == []
    out = h.send(qe.AgentSignedIn("c", h.now))
    assert [r.agents for r in of(out, qa.RingAgents)] == [("c",)]


def test_no_agents_counts_busy_agents_as_present(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, no_agents="act", routing="serial"), ("a",))
    h.join("x")
    h.ring_result("a", "answered")
    assert of(h.join("y"), qa.RouteCaller) == []  # a is busy, not absent


def test_leave_key_sends_the_caller_to_leave_to(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, leave_key="0", leave_to={"voicemail": "box"}))
    h.join("x")
    assert of(h.send(qe.CallerPressed("x", "5", h.now)), qa.RouteCaller) == []
    out = h.send(qe.CallerPressed("x", "0", h.now))
    assert of(out, qa.RouteCaller) == [qa.RouteCaller("x", "q", ToVoicemail("box"), "leave")]
    assert h.ringing() == {}


def test_leave_goes_to_the_operator_by_default(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, leave_key="0"))
    h.join("x")
    assert of(h.send(qe.CallerPressed("x", "0", h.now)), qa.RouteCaller)[0].route == Operator()


# --- priorities and positions -------------------------------------------------------------------


def test_higher_priority_first_then_longest_waiting(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial"), ())
    h.join("first")
    h.advance(5)
    h.join("second")
    h.advance(5)
    h.join("vip", priority=5)
    assert [core.position(h.state, c) for c in ("vip", "first", "second")] == [1, 2, 3]
    h.send(qe.AgentSignedIn("a", h.now))
    assert h.ringing() == {"a": "vip"}
    h.send(qe.AgentSignedIn("b", h.now))
    assert h.ringing() == {"a": "vip", "b": "first"}


def test_join_announces_position_and_estimated_wait(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, greeting="Hi.", announce_interval=30), ())
    h.join("x")
    h.advance(61)
    out = h.join("y")
    assert of(out, qa.PlayToCaller) == [
        qa.PlayToCaller("y", (("greeting", 0), ("position", 2), ("wait_more", 1)))]
    periodic = of(h.advance(30), qa.PlayToCaller)
    assert [p.call_id for p in periodic] == ["x", "y"]
    assert periodic[0].parts == (("position", 1), ("wait_more", 1))


def test_no_position_announcement_when_an_agent_rings_at_once(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path))
    assert of(h.join("x"), qa.PlayToCaller) == [qa.PlayToCaller("x", ())]  # just music


def test_estimated_wait_uses_the_pace_of_recent_answers(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", announce_position=False), ("a",))
    for i in range(3):
        h.join(f"c{i}")
        h.advance(20)
        h.ring_result("a", "answered")
        h.advance(80)
        h.send(qe.AgentCallEnded("a", h.now))
    h.send(qe.AgentSignedOut("a", h.now))
    h.join("w1")
    out = h.join("w2")
    # answers 100 s apart: second in line waits about 200 s, so 4 minutes rounded up
    assert of(out, qa.PlayToCaller)[0].parts == (("wait", 4),)


def test_announcements_can_be_turned_off(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, announce_position=False, announce_wait=False), ())
    assert of(h.join("x"), qa.PlayToCaller) == [qa.PlayToCaller("x", ())]
    assert of(h.advance(600), qa.PlayToCaller) == []


# --- agents -----------------------------------------------------------------------------


def test_miss_limit_pauses_until_the_agent_signs_in_again(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", miss_limit=2, alert_seconds=15), ("a",))
    h.join("x")
    h.advance(15)
    assert h.state.agents["a"].misses == 1
    assert not h.state.agents["a"].paused
    h.advance(5 + 15)
    assert h.state.agents["a"].paused
    assert of(h.advance(300), qa.RingAgents) == []
    out = h.send(qe.AgentSignedIn("a", h.now))
    assert h.state.agents["a"].misses == 0
    assert [r.agents for r in of(out, qa.RingAgents)] == [("a",)]


def test_busy_agent_is_skipped_and_rests_before_the_next_offer(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial"), ("a", "b"))
    h.join("x")
    out = h.ring_result("a", "busy")
    assert [r.agents for r in of(out, qa.RingAgents)] == [("b",)]
    assert h.state.agents["a"].activity == core.COOLING
    assert h.state.agents["a"].misses == 0  # busy is not a miss


def test_signing_out_while_ringing_withdraws_the_offer(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial"), ("a", "b"))
    h.join("x")
    out = h.send(qe.AgentSignedOut("a", h.now))
    assert of(out, qa.CancelRing)[0].agents == ("a",)
    assert h.ringing() == {"b": "x"}


def test_opting_out_of_a_queue_stops_offers_from_it(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial"), ("a",))
    h.send(qe.AgentOptedOut("a", "q", 0))
    h.join("x")
    assert h.ringing() == {}
    h.send(qe.AgentOptedIn("a", "q", 0))
    assert h.ringing() == {"a": "x"}


def test_wrap_up_keeps_the_agent_from_the_next_call(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", wrap_up_seconds=20), ("a",))
    h.join("x")
    h.ring_result("a", "answered")
    h.join("y")
    h.advance(60)
    h.send(qe.AgentCallEnded("a", h.now))
    assert h.state.agents["a"].activity == core.WRAP_UP
    assert of(h.advance(19), qa.RingAgents) == []
    assert [r.call_id for r in of(h.advance(1), qa.RingAgents)] == ["y"]


def test_late_answer_for_a_withdrawn_ring_releases_that_leg(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial"), ("a",))
    h.join("x")
    ring = h.state.agents["a"].ring_id
    assert ring is not None
    h.send(qe.CallerLeft("x", h.now))
    out = h.send(qe.AgentRingResult(ring, "a", "answered", h.now))
    assert out == [qa.CancelRing(ring, ("a",))]
    assert h.state.agents["a"].activity == core.IDLE


# --- callbacks ------------------------------------------------------------------------------------


def test_callback_keeps_the_place_and_calls_back_when_the_turn_comes(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", callback_key="2",
                          callback_numbers=["+1555"]), ())
    h.join("first", caller="+15550002222")
    h.join("second", caller="+15550003333")
    out = h.send(qe.CallerPressed("first", "2", h.now))
    assert of(out, qa.CallbackAccepted) == [qa.CallbackAccepted("first", "q", "+15550002222")]
    h.send(qe.CallerLeft("first", h.now))  # the caller hangs up: expected, place kept
    assert core.position(h.state, "first") == 1
    assert core.position(h.state, "second") == 2
    out = h.send(qe.AgentSignedIn("a", h.now))
    ring = of(out, qa.RingAgents)[0]
    assert (ring.call_id, ring.callback) == ("first", True)
    out = h.ring_result("a", "answered")
    assert of(out, qa.PlaceCallback) == [
        qa.PlaceCallback("first", "q", "a", ring.ring_id, "+15550002222")]
    assert of(out, qa.ConnectCaller) == []
    h.send(qe.CallbackResult("first", True, h.now))
    assert "first" not in h.state.callers
    assert h.state.agents["a"].activity == core.BUSY


def test_unanswered_callback_frees_the_agent_and_reports(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", callback_key="2"), ("a",))
    h.send(qe.AgentSignedOut("a", 0))
    h.join("x", caller="+15550001111")  # on the directory's allow-list
    h.send(qe.CallerPressed("x", "2", h.now))
    h.send(qe.AgentSignedIn("a", h.now))
    h.ring_result("a", "answered")
    out = h.send(qe.CallbackResult("x", False, h.now))
    assert any("not answered" in log.message for log in of(out, qa.QueueLog))
    assert h.state.agents["a"].activity == core.IDLE
    assert h.state.callers == {}


def test_callback_to_a_number_off_the_allow_list_is_refused(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, callback_key="2"), ())
    h.join("x", caller="+33612345678")
    out = h.send(qe.CallerPressed("x", "2", h.now))
    assert of(out, qa.PlayToCaller) == [qa.PlayToCaller("x", (("callback_refused", 0),))]
    assert of(out, qa.CallbackAccepted) == []
    assert h.state.callers["x"].status == core.WAITING


def test_callback_callers_are_not_timed_out(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, callback_key="2", max_wait=60), ())
    h.join("x", caller="+15550001111")
    h.send(qe.CallerPressed("x", "2", h.now))
    assert of(h.advance(3600), qa.RouteCaller) == []
    assert h.state.callers["x"].status == core.CALLBACK


# --- odds and ends -------------------------------------------------------------------------------


def test_unknown_queue_and_stale_events_are_harmless(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path))
    out = h.send(qe.CallerJoined("x", "nope", 0))
    assert of(out, qa.RouteCaller)[0].reason == "no_agents"
    before = h.state
    for event in (qe.CallerLeft("ghost", 0), qe.CallerPressed("ghost", "1", 0),
                  qe.AgentSignedIn("stranger", 0), qe.AgentCallEnded("a", 0),
                  qe.CallbackResult("ghost", True, 0), qe.QueueTimerFired("ring:99:99", 0),
                  qe.AgentRingResult(99, "a", "busy", 0)):
        assert h.send(event) == []
    assert h.state == before


def test_a_caller_joining_twice_is_counted_once(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path), ())
    h.join("x")
    assert h.join("x") == []
    assert len(h.state.callers) == 1


def test_leave_and_callback_on_one_key_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="also the leave_key"):
        make_flow(tmp_path, leave_key="1", callback_key="1")


def test_a_callback_offered_after_a_wait_is_announced_then_taken(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, callback_key="2", callback_offer={"after_seconds": "1m"}),
                ())
    h.join("x", caller="+15550001111")
    early = h.send(qe.CallerPressed("x", "2", h.now))
    assert of(early, qa.CallbackAccepted) == []  # not offered yet: the key does nothing
    assert h.state.callers["x"].status == core.WAITING
    offered = h.advance(60)
    assert qa.PlayToCaller("x", (("callback_offer", 0),)) in offered
    taken = h.send(qe.CallerPressed("x", "2", h.now))
    assert of(taken, qa.CallbackAccepted) == [qa.CallbackAccepted("x", "q", "+15550001111")]


def test_a_callback_is_offered_at_once_when_enough_callers_wait_ahead(tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, callback_key="2", callback_offer={"callers_waiting": 2}),
                ())
    first = h.join("a", caller="+15550001111") + h.join("b", caller="+15550002222")
    assert not any(isinstance(x, qa.PlayToCaller) and ("callback_offer", 0) in x.parts
                   for x in first)
    third = h.join("c", caller="+15550003333")
    assert qa.PlayToCaller("c", (("callback_offer", 0),)) in third
    assert not h.state.callers["a"].callback_offered
    assert h.state.callers["c"].callback_offered


def test_a_callback_is_offered_when_calls_per_free_agent_reach_the_ratio(
        tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, callback_key="2", callback_offer={"calls_per_agent": 2}),
                ())  # nobody signed in: no free agent at all
    assert qa.PlayToCaller("x", (("callback_offer", 0),)) in h.join("x", caller="+1555000")


def test_an_unanswered_callback_is_tried_again_after_the_gap_then_given_up(
        tmp_path: Path) -> None:
    h = Harness(make_flow(tmp_path, routing="serial", callback_key="2", callback_retries=1,
                          callback_retry_seconds="2m"), ("a",))
    h.send(qe.AgentSignedOut("a", 0))
    h.join("x", caller="+15550001111")
    h.join("y", caller="+15550002222")  # on the line, behind x
    h.send(qe.CallerPressed("x", "2", h.now))
    h.send(qe.CallerLeft("x", h.now))
    h.send(qe.AgentSignedIn("a", h.now))
    h.ring_result("a", "answered")
    out = h.send(qe.CallbackResult("x", False, h.now))
    assert h.state.callers["x"].status == core.CALLBACK_RETRY  # keeps its place...
    assert core.position(h.state, "x") == 1
    assert of(out, qa.CallbackFailed) == []
    assert of(out, qa.RingAgents)[0].call_id == "y"  # ...but is rung for nobody meanwhile
    h.ring_result("a", "answered")  # a takes y
    h.send(qe.AgentCallEnded("a", h.now))
    out = h.advance(120)
    assert h.state.callers["x"].status in (core.CALLBACK, core.CALLBACK_RINGING)
    ring = of(out, qa.RingAgents)
    assert [(r.call_id, r.callback) for r in ring] == [("x", True)]
    h.ring_result("a", "answered")
    out = h.send(qe.CallbackResult("x", False, h.now))
    assert of(out, qa.CallbackFailed) == [qa.CallbackFailed("x", "q", "+15550001111", 2)]
    assert "x" not in h.state.callers
