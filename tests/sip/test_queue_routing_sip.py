"""Call queues on real calls, part 2 (issue 5): routing methods, the no-agents action and
agents' feature codes, with `attendant serve`, SIPp callers and SIPp agents' phones.

As in ``test_queues_sip.py``: one server for the module, one attendant (a SIP user of its
own) and one queue per test, every agent a SIPp UAS on its own port. An agent's feature
code is dialled by a SIPp UAC whose From user is the agent's ``sip:`` user or extension.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from office import caller_name, dtmf_caller, finished_call, saved_messages
from queue_office import (
    QueueOffice,
    agent_command,
    agent_state,
    answering_agent,
    context,
    queue_events,
    queue_menu,
    run_office,
    snapshot,
)
from sip_harness import Sipp, free_udp_ports, wait_for

pytestmark = pytest.mark.sip

AGENTS = ("ira", "jo", "kim", "lou", "max", "ned", "oli", "pat")
ENTRIES = ("rr", "idle", "fewest", "noagents", "feature")

QUEUES = """\
  rr: {name: Round robin, agents: [{user: ira}, {user: jo}], routing: round_robin,
       alert_seconds: 60, announce_interval: 0}
  idle: {name: Longest idle, agents: [{user: kim}, {user: lou}], routing: longest_idle,
         alert_seconds: 60, announce_interval: 0}
  fewest: {name: Fewest calls, agents: [{user: max}, {user: ned}], routing: fewest_calls,
           alert_seconds: 60, announce_interval: 0}
  noagents: {name: No agents, agents: [{user: oli}], alert_seconds: 60, announce_interval: 0,
             on_no_agents: {voicemail: qbox}}
  feature: {name: Feature codes, agents: [{user: pat}], alert_seconds: 60,
            announce_interval: 0}
"""


def menu(ports: dict[str, int]) -> str:
    return queue_menu(ENTRIES, AGENTS, ports, QUEUES, first_extension=300,
                      menu_lines="    repeat_key: null\n",
                      more_options=('      "*71": {agent: sign_in}\n'
                                    '      "*72": {agent: sign_out}\n'))


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueOffice]:
    ports = {a: free_udp_ports(1) for a in AGENTS}
    # The agents' phones reach the attendant through the office PBX, a trusted source:
    # their feature codes need no PIN (tests/sip/test_feature_pins.py covers the PIN).
    with run_office(tmp_path_factory.mktemp("queue-routing"), menu(ports),
                    "--trusted-source", "127.0.0.1", ports=ports) as running:
        yield running


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


def rings(office: QueueOffice, call_id: str) -> list[str]:
    """The agents rung for ``call_id``, in order (from the queue's lines in calls.jsonl)."""
    return [e["message"].split()[1] for e in queue_events(office)
            if e["message"].startswith("rings ") and e["message"].split()[3] == call_id]


def two_callers(sipp: Sipp, office: QueueOffice, me: str, queue: str, first: str,
                second: str) -> None:
    """Two callers one after another: the first goes to ``first``, the second to
    ``second``, who is also the first agent rung for them."""
    phones = {first: answering_agent(sipp, office, first),
              second: answering_agent(sipp, office, second)}
    caller = dtmf_caller(sipp, office, me + "a", queue, "1")
    assert sipp.wait(caller) == 0, context(sipp, office)
    assert sipp.wait(phones[first]) == 0, context(sipp, office)
    call = finished_call(office, me + "a")
    assert call["outcome"] == f"answered by {first} from queue {queue}", call
    assert rings(office, call["call_id"])[0] == first
    wait_for(f"{first} free again", lambda: agent_state(office, queue, first) == "available",
             context=lambda: context(sipp, office))
    caller = dtmf_caller(sipp, office, me + "b", queue, "1")
    assert sipp.wait(caller) == 0, context(sipp, office)
    assert sipp.wait(phones[second]) == 0, context(sipp, office)
    call = finished_call(office, me + "b")
    assert call["outcome"] == f"answered by {second} from queue {queue}", call
    assert rings(office, call["call_id"]) == [second], context(sipp, office)
    wait_for("the counts", lambda: snapshot(office, queue)["answered"] == 2)


def test_round_robin_gives_the_next_caller_to_the_next_agent(office, sipp, me):
    two_callers(sipp, office, me, "rr", "ira", "jo")


def test_longest_idle_gives_the_next_caller_to_the_agent_idle_longest(office, sipp, me):
    # Both idle since the start (a tie: list order), then kim has just finished a call.
    two_callers(sipp, office, me, "idle", "kim", "lou")


def test_fewest_calls_gives_the_next_caller_to_the_agent_with_fewest_answered(office, sipp,
                                                                              me):
    two_callers(sipp, office, me, "fewest", "max", "ned")


def test_with_every_agent_signed_out_the_caller_gets_on_no_agents_at_once(office, sipp, me):
    assert "applied" in agent_command(office, "oli", "signout")
    wait_for("oli signed out", lambda: agent_state(office, "noagents", "oli") == "signed out")
    try:
        caller = dtmf_caller(sipp, office, me, "noagents", "1")
        assert sipp.wait(caller) == 0, context(sipp, office)  # recorded 5 s, then BYE
        assert len(saved_messages(office, me, "qbox")) == 1
        call = finished_call(office, me)
        assert call["outcome"].startswith("voicemail left for qbox"), call
        assert rings(office, call["call_id"]) == []
        queue = wait_for("the count", lambda: (q := snapshot(office, "noagents"))
                         ["no_agents"] == 1 and q)
        assert queue["waiting"] == 0, queue
    finally:
        agent_command(office, "oli", "signin")


def test_feature_codes_sign_an_agent_out_and_back_in_from_their_phone(office, sipp, me):
    # pat signs out by dialling *72 from their phone (SIP user "pat", as in their sip: URI).
    code = dtmf_caller(sipp, office, "pat", "feature", "*72")
    assert sipp.wait(code) == 0, context(sipp, office)
    call = finished_call(office, "pat")
    assert call["outcome"] == "agent pat signs out", call
    wait_for("pat signed out", lambda: agent_state(office, "feature", "pat") == "signed out",
             context=lambda: context(sipp, office))
    results = office.serve.status()["agent_commands"]
    assert {"agent": "pat", "command": "signout", "result": "applied"}.items() \
        <= results[-1].items(), results
    # A customer now waits: nobody is rung (pat's phone would answer at once).
    pat = answering_agent(sipp, office, "pat")
    customer = dtmf_caller(sipp, office, me, "feature", "1")
    seen = wait_for("the customer waiting", lambda: (q := snapshot(office, "feature"))
                    ["callers"] and q, context=lambda: context(sipp, office))
    assert seen["callers"][0]["status"] == "waiting", seen
    assert pat.poll() is None  # not rung
    # pat signs back in with *71, from their extension this time: the customer is put
    # through to pat.
    code = dtmf_caller(sipp, office, "307", "feature", "*71")
    assert sipp.wait(code) == 0, context(sipp, office)
    assert sipp.wait(pat) == 0, context(sipp, office)  # rung, answered, hung up
    assert sipp.wait(customer) == 0, context(sipp, office)
    call = finished_call(office, me)
    assert call["outcome"] == "answered by pat from queue feature", call
    assert rings(office, call["call_id"]) == ["pat"]
    assert agent_state(office, "feature", "pat") == "available"
    assert "error in SIP task" not in office.serve.logs()
