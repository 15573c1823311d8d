"""Call queues on real calls, part 3 (issue 5): ``mode: refer`` and callbacks, with
`attendant serve`, SIPp callers and SIPp phones.

The server runs with ``--outbound-proxy`` pointing at one port, where each test's SIPp
phone listens: every outgoing leg (the agents' legs and the callback to the caller's
number, which is a bare number and can only be dialled through the proxy) lands there.

* ``mode: refer``: the agent answers, the caller (``uac_refer.xml``) receives a REFER
  whose Refer-To is the agent's leg with ``Replaces``, accepts it and reports success;
  the server hangs the caller up and the agent's leg lives until the agent hangs up.
* Callback: the caller (``uac_queue_callback.xml``, SIP user ``5550123``, allowed by
  ``callback_numbers``) waits with the agent signed out, presses the callback key,
  hears the confirmation and is hung up. The agent signs in (``attendant queues
  agent``): the server rings them, then calls the caller back; one SIPp
  (``uas_agent_callback.xml``, ``-m 2``) answers both legs, the server bridges them,
  the agent hangs up, the server hangs up the callback leg. RTP on both legs comes
  from the server's log (a line a second after the bridge).
* A server with no proxy and no trunk refuses the callback key on the spot: the caller
  is never promised a call and keeps waiting; no agent is rung for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from office import caller_name, dtmf_caller, finished_call, scenario_as
from pcap import write_dtmf_pcap
from queue_office import (
    QueueOffice,
    agent_command,
    agent_state,
    context,
    queue_events,
    run_office,
    snapshot,
)
from sip_harness import free_udp_ports, wait_for

pytestmark = pytest.mark.sip

#: The SIP user of the callback test's caller: a number ``callback_numbers`` allows.
CALLBACK_CALLER = "5550123"

MENU = """\
version: 1
attendants:
  refer: {name: refer, answers: ["refer"], timezone: UTC, business_hours: {menu: refer}}
  cb: {name: cb, answers: ["cb"], timezone: UTC, business_hours: {menu: cb}}
menus:
  refer:
    prompt: Queue test.
    options:
      "1": {queue: refer}
  cb:
    prompt: Queue test.
    options:
      "1": {queue: cb}
directory:
  users:
    rita: {name: Rita Agent, extension: "401", sip: "sip:rita@127.0.0.1:@PROXY@"}
    cara: {name: Cara Agent, extension: "402", sip: "sip:cara@127.0.0.1:@PROXY@"}
queues:
  refer: {name: Refer, agents: [{user: rita}], mode: refer, alert_seconds: 60,
          announce_interval: 0}
  cb: {name: Callback, agents: [{user: cara}], callback_key: "9",
       callback_numbers: ["555"], alert_seconds: 60, announce_interval: 0}
prompts:
  goodbye: Goodbye.
"""


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueueOffice]:
    proxy = free_udp_ports(1)
    with run_office(tmp_path_factory.mktemp("queue-modes"), MENU.replace("@PROXY@", str(proxy)),
                    "--outbound-proxy", f"sip:127.0.0.1:{proxy};lr", proxy=proxy) as running:
        yield running


@pytest.fixture
def me(request: pytest.FixtureRequest) -> str:
    return caller_name(request.node.name)


def queue_messages(office: QueueOffice, queue: str) -> list[str]:
    return [e["message"] for e in queue_events(office) if e["queue"] == queue]


def test_mode_refer_hands_the_caller_to_the_agent_with_replaces(office, sipp, me):
    rita = sipp.scenario("uas_answer_bye.xml")  # answers, talks 4 s, hangs up
    phone = sipp.start(rita, "-rtp_echo", "-d", "4000", port=office.proxy)
    caller = dtmf_caller(sipp, office, me, "refer", "1", scenario="uac_refer.xml",
                         refer_to=r"sip:rita@127\.0\.0\.1:[0-9]+\?.*Replaces=[^%]+%3Bto-tag")
    assert sipp.wait(caller) == 0, context(sipp, office)  # REFER, 202, NOTIFY 200, BYE
    # Our leg to rita outlives the caller's call (the agent is on the phone) until rita
    # hangs up.
    assert sipp.wait(phone) == 0, context(sipp, office)
    call = finished_call(office, me)
    assert call["outcome"].startswith("answered by rita from queue refer"), call
    queue = wait_for("rita free again", lambda: (q := snapshot(office, "refer"))
                     ["answered"] == 1 and q["agents"][0]["state"] == "available" and q,
                     context=lambda: context(sipp, office))
    assert queue["waiting"] == 0, queue
    messages = queue_messages(office, "refer")
    assert f"rings rita for {call['call_id']} (attendant, 60 s)" in messages, messages
    assert "rita: call ended" in messages, messages
    assert office.serve.status()["active_calls"] == 0
    assert not office.serve.status()["queues"][0]["callers"]
    assert "REFER to leg" not in office.serve.logs()  # the REFER was sent, not bridged


def test_callback_rings_the_agent_then_calls_the_caller_back(office, sipp):
    assert "applied" in agent_command(office, "cara", "signout")
    wait_for("cara signed out", lambda: agent_state(office, "cb", "cara") == "signed out")
    join = write_dtmf_pcap(sipp.tmp / "join.pcap", "1")
    key = write_dtmf_pcap(sipp.tmp / "callback.pcap", "9")
    path = scenario_as(sipp, "uac_queue_callback.xml", CALLBACK_CALLER, pcap=str(join),
                       pcap2=str(key), wait_ms="4000")
    caller = sipp.start(path, "-s", "cb", target=office.target)
    # The key: the confirmation, then the server's BYE; the caller keeps their place.
    assert sipp.wait(caller) == 0, context(sipp, office)
    call = finished_call(office, CALLBACK_CALLER)
    waiting = wait_for("the callback request", lambda: (q := snapshot(office, "cb"))
                       ["callbacks_waiting"] == 1 and q, context=lambda: context(sipp, office))
    assert waiting["waiting"] == 0, waiting
    assert waiting["callbacks"] == 1, waiting
    [request] = waiting["callers"]
    assert request == {**request, "call_id": call["call_id"], "caller": CALLBACK_CALLER,
                       "status": "callback"}, request
    # cara signs in: her phone rings and answers, then the server calls 5550123 back
    # (through the proxy: the same SIPp answers), bridges the two and, when cara hangs
    # up, hangs up the callback leg.
    phones = sipp.start(sipp.scenario("uas_agent_callback.xml", agent="cara",
                                      talk_ms="4000"),
                        "-rtp_echo", "-m", "2", port=office.proxy)
    assert "applied" in agent_command(office, "cara", "signin")
    assert sipp.wait(phones) == 0, context(sipp, office)
    done = wait_for("the callback done", lambda: (q := snapshot(office, "cb"))
                    ["callbacks_waiting"] == 0 and not q["callers"]
                    and q["agents"][0]["state"] == "available" and q,
                    context=lambda: context(sipp, office))
    assert done["callbacks"] == 1, done
    messages = queue_messages(office, "cb")
    cid = call["call_id"]
    expected = [f"rings cara for a callback to {cid}",
                f"cara answers; calling {cid} back at {CALLBACK_CALLER}",
                f"callback to {cid} answered; connected to cara",
                "cara: call ended"]
    found = [next((m for m in messages if m.startswith(e)), None) for e in expected]
    assert None not in found, messages
    assert [messages.index(m) for m in found] == sorted(messages.index(m) for m in found)
    logs = office.serve.logs()
    assert f"callback {cid}: bridged with cara" in logs, logs
    # A second after the bridge, RTP has flowed both ways on both legs (each SIPp echoes).
    rtp = re.search(rf"callback {cid}: RTP packets agent leg rx (\d+) tx (\d+), "
                    r"caller leg rx (\d+) tx (\d+)", logs)
    assert rtp is not None, logs
    assert all(int(n) > 0 for n in rtp.groups()), rtp.group(0)
    assert f"sip:{CALLBACK_CALLER}@127.0.0.1:{office.proxy}" in logs, logs
    assert office.serve.status()["active_calls"] == 0
    assert "error in SIP task" not in logs


def test_no_callback_is_promised_when_the_server_cannot_ring_the_number(
        tmp_path_factory: pytest.TempPathFactory, sipp) -> None:
    """No --outbound-proxy and no trunk: 5550123 (allowed by callback_numbers) cannot be
    dialled, so pressing the callback key is refused on the spot and the caller waits on."""
    proxy = free_udp_ports(1)  # nothing listens there; the agents are signed out anyway
    with run_office(tmp_path_factory.mktemp("no-way-out"),
                    MENU.replace("@PROXY@", str(proxy))) as office:
        assert "applied" in agent_command(office, "cara", "signout")
        wait_for("cara signed out", lambda: agent_state(office, "cb", "cara") == "signed out")
        pcap = write_dtmf_pcap(sipp.tmp / "join-then-callback.pcap", "19")
        caller = sipp.start(scenario_as(sipp, "uac_dtmf.xml", CALLBACK_CALLER, pcap=str(pcap)),
                            "-s", "cb", "-d", "6000", target=office.target)
        waiting = wait_for("the caller waiting, not called back", lambda: (
            q := snapshot(office, "cb"))["callers"] and q, context=lambda: context(sipp, office))
        wait_for("the refusal in the queue log", lambda: any(
            "this server has no trunk or proxy that carries that number" in m
            for m in queue_messages(office, "cb")), context=lambda: context(sipp, office))
        assert sipp.wait(caller) == 0, context(sipp, office)  # nobody hung up on the caller
        assert waiting["callbacks_waiting"] == 0, waiting
        assert waiting["callers"][0]["status"] == "waiting", waiting
        assert not any(m.startswith("rings ") for m in queue_messages(office, "cb"))
        assert "queue cb offers callbacks (key 9), but this server has no trunk" in (
            office.serve.logs())
