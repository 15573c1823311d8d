"""Registration to a carrier trunk, against a real Kamailio as the carrier's registrar.

`attendant serve --settings server.yaml` registers the trunk (answering Kamailio's 401
challenge), refreshes the registration before it runs out, registers again after
Kamailio restarts with nothing remembered, and answers a call Kamailio relays to the
registered contact; a wrong password is shown as failing with the registrar's 401 and
retried with back-off, never a crash. Legs out to numbers (a transfer, a queue agent, a
callback to the caller and its agent) leave through the trunk, answer Kamailio's 407 with
its credentials and carry the caller's identity (or the main number); beyond loopback
only the trunk's sources may call in.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kamailio import Kamailio, available
from office import scenario_as
from pcap import write_dtmf_pcap
from queue_office import QueueOffice, agent_command, snapshot
from rawsip import RawPeer, Registrar, StunServer
from sip_harness import ATTENDANT, Serve, Sipp, free_udp_ports, scrape, wait_for

pytestmark = [pytest.mark.sip,
              pytest.mark.skipif(not available(), reason="kamailio not installed "
                                 "(bash scripts/test.sh installs it)")]

USER, PASSWORD = "harbor", "s3cret-of-the-test"
#: The environment variable the settings name for the trunk's password.
PASSWORD_ENV = "ATTENDANT_TEST_TRUNK_PASSWORD"


@pytest.fixture
def kamailio(tmp_path: Path) -> Any:
    proxy = Kamailio(tmp_path, USER, PASSWORD)
    try:
        yield proxy.start()
    finally:
        proxy.stop()


def settings(tmp_path: Path, registrar_port: int, options: tuple[str, ...] = (),
             **trunk: Any) -> Path:
    lines = ["version: 1", *options, "trunks:", "  carrier:",
             f"    registrar: sip:127.0.0.1:{registrar_port}", f"    username: {USER}",
             "    domain: example.test", f"    password: {{env: {PASSWORD_ENV}}}",
             *(f"    {key}: {json.dumps(value)}" for key, value in trunk.items())]
    path = tmp_path / "server.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def attendant(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ATTENDANT, *args], capture_output=True, text=True, timeout=60,
                          check=False)


def trunk(serve: Serve) -> dict[str, Any]:
    [found] = serve.status().get("trunks") or [{}]
    return found  # type: ignore[no-any-return]


def test_registers_with_digest_auth_refreshes_and_registers_again_after_a_restart(
        serve: Serve, kamailio: Kamailio, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    serve.start("--settings", str(settings(tmp_path, kamailio.port, expires=30)))
    wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
             context=lambda: serve.logs() + kamailio.text())
    assert trunk(serve)["code"] == 200
    # pjsua answered Kamailio's challenge: one 401, then the authenticated REGISTER.
    assert len(kamailio.lines(f"REGISTER from {USER}: challenged")) >= 1, kamailio.text()
    [first] = kamailio.lines(f"REGISTER from {USER}: authenticated")
    assert first.endswith("expires 30"), first
    # Refreshed before the 30 s run out (pjsua sends it 7 s early here).
    wait_for("the registration to be refreshed",
             lambda: len(kamailio.lines(f"REGISTER from {USER}: authenticated")) >= 2,
             timeout=40, context=lambda: serve.logs() + kamailio.text())
    # Kamailio restarts and forgets every contact; the next refresh registers again.
    kamailio.stop()
    kamailio.start()
    wait_for("a registration with the restarted Kamailio",
             lambda: kamailio.lines(f"REGISTER from {USER}: authenticated"),
             timeout=40, context=lambda: serve.logs() + kamailio.text())
    wait_for("the trunk to be registered", lambda: trunk(serve).get("state") == "registered",
             context=serve.logs)
    assert PASSWORD not in serve.logs()
    assert PASSWORD not in (serve.data / "status.json").read_text()
    shown = attendant("status", "--data", str(serve.data))
    assert shown.returncode == 0, shown.stdout
    assert (f"trunk carrier (sip:{USER}@example.test at sip:127.0.0.1:{kamailio.port}): "
            "registered until ") in shown.stdout, shown.stdout


def test_a_call_through_kamailio_reaches_the_menu_and_names_its_trunk(
        serve: Serve, sipp: Sipp, kamailio: Kamailio, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    # The file's max_calls applies; its port does not: the command line's --port wins.
    serve.start("--settings", str(settings(tmp_path, kamailio.port,
                                           ("max_calls: 7", "port: 9"))))
    assert serve.status()["max_calls"] == 7
    wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
             context=lambda: serve.logs() + kamailio.text())
    caller = sipp.start(sipp.scenario("uac_via_proxy.xml"), "-s", USER, "-d", "3000",
                        target=f"127.0.0.1:{kamailio.port}")
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs() + kamailio.text()
    [relayed] = kamailio.lines(f"INVITE for {USER}: relayed to")
    assert "attendant-trunk=" in relayed, relayed  # to the contact we registered
    call = wait_for("the call to end", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["trunk"] == "carrier", call
    assert call["caller"] == "+15550001234", call
    assert call["rtp"]["caller_tx"] > 50, call  # the greeting played to the caller
    starts = [json.loads(line) for line in (serve.data / "calls.jsonl").read_text().splitlines()
              if '"type":"start"' in line.replace(" ", "")]
    assert [s.get("trunk") for s in starts] == ["carrier"], starts


def test_a_wrong_password_is_failing_with_401_and_retried_with_back_off(
        serve: Serve, kamailio: Kamailio, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    serve.start("--settings", str(settings(tmp_path, kamailio.port, retry_seconds=5,
                                           retry_max_seconds=10)),
                "--metrics-port", "0")
    failing = wait_for("the registration to fail",
                       lambda: trunk(serve) if trunk(serve).get("state") == "failing" else None,
                       context=lambda: serve.logs() + kamailio.text())
    assert (failing["code"], failing["failures"]) == (401, 1), failing
    assert failing["retry_at"] is not None
    assert "trunk carrier: registration at" in serve.logs()
    assert "failed: 401" in serve.logs()
    second = wait_for("a second attempt, 5 s later",
                      lambda: trunk(serve) if trunk(serve).get("failures", 0) >= 2 else None,
                      timeout=30, context=serve.logs)
    # Backed off: the third attempt waits 10 s (retry_seconds doubled), not 5.
    assert second["retry_at"] - time.time() > 7, second
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_trunk_registered{trunk="carrier"}'] == 0
    assert metrics['attendant_trunk_registration_failures_total{code="401",trunk="carrier"}'] >= 2
    assert serve.status()["accepting"]  # still serving
    assert "not-the-password" not in serve.logs()
    for command in ("status", "doctor"):
        shown = attendant(command, "--data", str(serve.data))
        assert shown.returncode == 1, shown.stdout
        assert ": FAILING: 401 Unauthorized; attempt " in shown.stdout, shown.stdout



def test_reload_registers_a_changed_trunk_and_keeps_the_calls_up(
        serve: Serve, sipp: Sipp, kamailio: Kamailio, tmp_path: Path) -> None:
    secret = tmp_path / "carrier.secret"
    secret.write_text("an-old-password\n")
    secret.chmod(0o600)
    path = settings(tmp_path, kamailio.port, retry_seconds=30)
    path.write_text(path.read_text().replace(f"{{env: {PASSWORD_ENV}}}",
                                             "{file: carrier.secret}"))
    serve.start("--settings", str(path))
    wait_for("the registration to fail", lambda: trunk(serve).get("code") == 401,
             context=lambda: serve.logs() + kamailio.text())
    caller = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "6000",
                        target=f"127.0.0.1:{serve.port}")
    wait_for("the call to be up", lambda: serve.status().get("active_calls") == 1,
             context=serve.logs)
    secret.write_text(f"{PASSWORD}\n")  # the admin fixes the password file
    reloaded = attendant("reload", "--data", str(serve.data))
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    wait_for("the trunk to register after the reload",
             lambda: trunk(serve).get("state") == "registered",
             context=lambda: serve.logs() + kamailio.text())
    assert "reload: trunk carrier changed" in serve.logs()
    assert sipp.wait(caller) == 0, sipp.logs() + serve.logs()  # the call went on to its end
    call = wait_for("the call's record", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["outcome"] == "caller hung up in menu welcome", call  # by the caller, not us


AGENT_NUMBER = "+15550009999"


def identity_checking_agent(sipp: Sipp, port: int,
                            checks: dict[str, tuple[str, str]]) -> subprocess.Popen[bytes]:
    """A SIPp phone on ``port`` that answers (echoing RTP) only an INVITE whose headers
    match ``checks`` (name → (header, regular expression)); any mismatch fails it."""
    scenario = sipp.scenario(
        "uas_answer_identity.xml", variables=",".join(checks),
        checks="\n      ".join(
            f'<ereg regexp="{regexp}" search_in="hdr" header="{header}:" check_it="true" '
            f'assign_to="{name}"/>' for name, (header, regexp) in checks.items()))
    return sipp.start(scenario, "-rtp_echo", port=port)


@pytest.mark.parametrize("caller_id", ["original", "main"])
def test_a_transfer_to_a_number_leaves_through_the_trunk_with_its_credentials(
        serve: Serve, sipp: Sipp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caller_id: str) -> None:
    agent_port = free_udp_ports(1)
    proxy = Kamailio(tmp_path, USER, PASSWORD, agent=(AGENT_NUMBER, agent_port)).start()
    try:
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        serve.menu.write_text(serve.menu.read_text()
                              .replace('"1": {user: maria}', f'"1": {{external: "{AGENT_NUMBER}"}}')
                              .replace("directory:\n", f'directory:\n  external_numbers: '
                                                       f'["{AGENT_NUMBER}"]\n'))
        serve.start("--settings", str(settings(tmp_path, proxy.port, caller_id=caller_id,
                                               outbound_prefixes=["+1555"])))
        wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
                 context=lambda: serve.logs() + proxy.text())
        # The agent sees the original caller ("caller", SIPp's From) and the main number
        # it called in Diversion; with caller_id: main, the main number and no Diversion.
        seen = f"^ *&lt;sip:{'caller' if caller_id == 'original' else USER}@example[.]test&gt;$"
        checks = {"pai": ("P-Asserted-Identity", seen)}
        if caller_id == "original":
            checks["diversion"] = ("Diversion", f"^ *&lt;sip:{USER}@example[.]test&gt;"
                                                ";reason=unconditional$")
        agent = identity_checking_agent(sipp, agent_port, checks)
        pcap = write_dtmf_pcap(tmp_path / "dtmf-1.pcap", "1")
        caller = sipp.start(sipp.scenario("uac_dtmf.xml", pcap=str(pcap)), "-s", "frontdesk",
                            "-d", "5000", target=f"127.0.0.1:{serve.port}")
        assert sipp.wait(caller) == 0, sipp.logs() + serve.logs() + proxy.text()
        assert sipp.wait(agent) == 0, sipp.logs() + serve.logs() + proxy.text()
        # Kamailio asked for credentials (407) and let the second INVITE through.
        assert proxy.lines(f"INVITE to {AGENT_NUMBER} from {USER}: challenged (407)"), \
            proxy.text()
        assert proxy.lines(f"INVITE to {AGENT_NUMBER} from {USER}: authenticated"), proxy.text()
        assert "through trunk carrier" in serve.logs()
        call = wait_for("the call to end", lambda: (serve.status().get("recent") or [None])[-1],
                        context=serve.logs)
        assert call["outcome"] == f"transferred to external {AGENT_NUMBER}", call
        assert call["rtp"]["transfer_rx"] > 0, call  # the agent's echo came back
    finally:
        proxy.stop()


def test_beyond_loopback_only_the_trunks_sources_may_call_in(
        serve: Serve, sipp: Sipp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    path = settings(tmp_path, free_udp_ports(1), sources=["127.0.0.3"])
    serve.start("--settings", str(path), "--listen", "127.0.0.2")
    target = f"127.0.0.2:{serve.port}"
    stranger = sipp.start(sipp.scenario("uac_403.xml"), "-s", "frontdesk", "-i", "127.0.0.4",
                          target=target)
    assert sipp.wait(stranger) == 0, sipp.logs() + serve.logs()
    carrier = sipp.start(sipp.scenario("uac_hangup.xml"), "-s", "frontdesk", "-d", "2000",
                         "-i", "127.0.0.3", target=target)
    assert sipp.wait(carrier) == 0, sipp.logs() + serve.logs()
    call = wait_for("the answered call", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["rtp"]["caller_tx"] > 0, call  # the trunk's call heard the greeting
    status = serve.status()
    assert (status["answered"], status["refused_requests"]) == (1, 1), status
    assert "127.0.0.4 is not a trunk's source nor in allow_from" in serve.logs()
    assert "calls in: from 127.0.0.3/32 only" in serve.logs()


#: The caller of the queue tests: a number the trunk carries, so it can be called back.
QUEUE_CALLER = "+15550001234"
QUEUE_MENU = f"""\
version: 1
attendants:
  cb: {{name: cb, answers: ["cb"], timezone: UTC, business_hours: {{menu: cb}}}}
menus:
  cb:
    prompt: Queue test.
    options:
      "1": {{queue: cb}}
directory:
  users:
    cara: {{name: Cara Agent, extension: "402", sip: "sip:{AGENT_NUMBER}"}}
queues:
  cb: {{name: Callback, agents: [{{user: cara}}], callback_key: "9",
       callback_numbers: ["+1555"], alert_seconds: 60, announce_interval: 0}}
prompts:
  goodbye: Goodbye.
"""


@pytest.fixture
def queue_trunk(serve: Serve, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Any:
    """A server on QUEUE_MENU whose agent (and callers) are numbers behind Kamailio:
    yields (the server, Kamailio, the port the numbers ring)."""
    phones = free_udp_ports(1)
    proxy = Kamailio(tmp_path, USER, PASSWORD, agent=((AGENT_NUMBER, QUEUE_CALLER), phones))
    try:
        proxy.start()
        monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
        serve.menu.write_text(QUEUE_MENU)
        serve.start("--settings", str(settings(tmp_path, proxy.port,
                                               outbound_prefixes=["+1555"])))
        wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
                 context=lambda: serve.logs() + proxy.text())
        yield serve, proxy, phones
    finally:
        proxy.stop()


def said(proxy: Kamailio, number: str) -> str:
    """What the INVITE out to ``number`` said of who calls (Kamailio's log line)."""
    [line] = proxy.lines(f"INVITE to {number} says:")
    return line.split("says: ", 1)[1]


def test_a_queue_agent_at_a_number_is_rung_through_the_trunk_with_the_callers_id(
        queue_trunk: Any, sipp: Sipp, tmp_path: Path) -> None:
    serve, proxy, phones = queue_trunk
    caller_uri = f"sip:[+]{QUEUE_CALLER[1:]}@example[.]test"
    checks = {"pai": ("P-Asserted-Identity", f"^ *&lt;{caller_uri}&gt;$"),
              "diversion": ("Diversion", f"^ *&lt;sip:{USER}@example[.]test&gt;"
                                         ";reason=unconditional$")}
    agent = identity_checking_agent(sipp, phones, checks)
    pcap = write_dtmf_pcap(tmp_path / "dtmf-1.pcap", "1")
    caller = sipp.start(scenario_as(sipp, "uac_dtmf.xml", QUEUE_CALLER, pcap=str(pcap)),
                        "-s", "cb", "-d", "5000", target=f"127.0.0.1:{serve.port}")

    def context() -> str:
        return str(sipp.logs() + serve.logs() + proxy.text())

    assert sipp.wait(caller) == 0, context()
    assert sipp.wait(agent) == 0, context()
    assert proxy.lines(f"INVITE to {AGENT_NUMBER} from {USER}: challenged (407)"), proxy.text()
    assert proxy.lines(f"INVITE to {AGENT_NUMBER} from {USER}: authenticated"), proxy.text()
    assert "through trunk carrier" in serve.logs()
    call = wait_for("the call to end", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["outcome"].startswith("answered by cara from queue cb"), call
    assert call["rtp"]["transfer_rx"] > 0, call  # the agent's echo came back


def test_a_callback_rings_the_agent_and_the_caller_through_the_trunk(
        queue_trunk: Any, sipp: Sipp) -> None:
    serve, proxy, phones = queue_trunk
    office = QueueOffice(serve)
    assert "applied" in agent_command(office, "cara", "signout")
    join = write_dtmf_pcap(sipp.tmp / "join.pcap", "1")
    key = write_dtmf_pcap(sipp.tmp / "callback.pcap", "9")
    path = scenario_as(sipp, "uac_queue_callback.xml", QUEUE_CALLER, pcap=str(join),
                       pcap2=str(key), wait_ms="4000")

    def context() -> str:
        return str(sipp.logs() + serve.logs() + proxy.text())

    caller = sipp.start(path, "-s", "cb", target=f"127.0.0.1:{serve.port}")
    assert sipp.wait(caller) == 0, context()
    wait_for("the callback request", lambda: snapshot(office, "cb")["callbacks_waiting"] == 1,
             context=context)
    # cara signs in: the server rings her number, then calls the caller back; both go
    # out through Kamailio, which challenges each and relays both to the one SIPp.
    phone = sipp.start(sipp.scenario("uas_agent_callback.xml", agent=f"[+]{AGENT_NUMBER[1:]}",
                                     talk_ms="3000"), "-rtp_echo", "-m", "2", port=phones)
    assert "applied" in agent_command(office, "cara", "signin")
    assert sipp.wait(phone) == 0, context()
    for number in (AGENT_NUMBER, QUEUE_CALLER):
        assert proxy.lines(f"INVITE to {number} from {USER}: challenged (407)"), proxy.text()
        assert proxy.lines(f"INVITE to {number} from {USER}: authenticated"), proxy.text()
    # The caller is called back from the company's main number (no Diversion: nobody
    # was forwarded), and so is the agent's phone.
    main_number = f"sip:{USER}@example.test"
    for number in (QUEUE_CALLER, AGENT_NUMBER):
        assert said(proxy, number) == f"PAI {main_number} Diversion <null> From {main_number}"
    logs = serve.logs()
    rtp = re.search(r"callback \S+: RTP packets agent leg rx (\d+) tx (\d+), "
                    r"caller leg rx (\d+) tx (\d+)", logs)
    assert rtp is not None, logs
    assert all(int(n) > 0 for n in rtp.groups()), rtp.group(0)
    done = wait_for("the callback done", lambda: (q := snapshot(office, "cb"))
                    ["callbacks_waiting"] == 0 and not q["callers"] and q, context=context)
    assert done["callbacks"] == 1, done


HOLD_MENU = """\
version: 1
attendants:
  main: {name: Main, answers: ["harbor"], timezone: UTC, business_hours: {queue: hold}}
menus:
  unused:
    prompt: Never heard.
    options:
      "1": {queue: hold}
queues:
  hold: {name: Hold, agents: [], max_wait: 600, announce_interval: 0}
"""


def test_a_call_through_kamailio_longer_than_its_session_interval_is_refreshed(
        serve: Serve, kamailio: Kamailio, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # RFC 4028: a 90 s session interval (the least allowed); the caller waits in a queue
    # for longer. The server refreshes the session through Kamailio (Record-Route), the
    # caller answers, and the call is still up past 90 s. (The caller sends no RTP.)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    serve.menu.write_text(HOLD_MENU)
    serve.start("--settings", str(settings(tmp_path, kamailio.port)),
                "--session-expires", "90", "--rtp-timeout", "0")
    wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
             context=lambda: serve.logs() + kamailio.text())
    caller = RawPeer("127.0.0.1", kamailio.port, user="longcaller")
    try:
        dialog = caller.invite(called=USER)
        answer = caller.wait_answer(dialog, timeout=20)
        assert answer.status == 200, answer.raw
        assert dialog.routes, answer.raw  # Kamailio stays in the path
        assert "Session-Expires: 90" in answer.raw, answer.raw
        started = time.monotonic()

        def refreshes() -> list[Any]:
            return [r for r in caller.requests
                    if r.method in ("UPDATE", "INVITE") and r.header("call-id") == dialog.call_id]

        wait_for("a session refresh", refreshes, timeout=80,
                 context=lambda: serve.logs() + kamailio.text())
        assert kamailio.lines("in-dialog UPDATE from") or kamailio.lines("in-dialog INVITE from")
        # Past the whole interval: still up (an unrefreshed session would have ended).
        time.sleep(max(0.0, started + 95 - time.monotonic()))
        assert serve.status()["active_calls"] == 1, serve.logs()
        assert caller.bye(dialog) == 200
    finally:
        caller.close()
    call = wait_for("the call's record", lambda: (serve.status().get("recent") or [None])[-1],
                    context=serve.logs)
    assert call["seconds"] >= 95, call
    assert call["ended_by"] != "session_expired", call


def test_a_trunk_sends_keepalives_to_its_registrar_every_keepalive_seconds(
        serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    registrar = Registrar()
    try:
        serve.start("--settings", str(settings(tmp_path, registrar.port, keepalive_seconds=5)))
        wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
                 context=serve.logs)
        assert trunk(serve)["keepalive_seconds"] == 5
        wait_for("three keep-alives", lambda: len(registrar.keepalives) >= 3, timeout=40,
                 context=serve.logs)
        times = list(registrar.keepalives)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # pjsua spreads them over 80-100 % of the interval, in whole seconds: 4 or 5 s.
        assert all(3.5 < gap < 5.5 for gap in gaps), gaps
        assert registrar.registers == 1  # keep-alives, not re-registrations
    finally:
        registrar.close()


def test_options_pings_show_whether_the_trunk_is_reachable(
        serve: Serve, kamailio: Kamailio, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    serve.start("--settings", str(settings(tmp_path, kamailio.port, qualify_seconds=5)),
                "--metrics-port", "0")
    up = wait_for("the trunk to answer a ping", lambda: trunk(serve).get("reachable") and
                  trunk(serve), context=lambda: serve.logs() + kamailio.text())
    assert up["qualify_seconds"] == 5
    assert 0 < up["ping_ms"] < 5000, up
    assert kamailio.lines("OPTIONS from 127.0.0.1 answered")
    metrics = scrape(serve.status()["metrics_port"])
    assert metrics['attendant_trunk_reachable{trunk="carrier"}'] == 1
    # The carrier goes away: the next ping times out (pjsip's 408 after 32 s).
    kamailio.stop()
    down = wait_for("the trunk to be unreachable", lambda: trunk(serve).get("reachable") is
                    False and trunk(serve), timeout=70, context=serve.logs)
    assert down["ping_ms"] is None, down
    assert "trunk carrier: NOT reachable: OPTIONS to" in serve.logs()
    assert scrape(serve.status()["metrics_port"])[
        'attendant_trunk_reachable{trunk="carrier"}'] == 0
    kamailio.start()
    wait_for("the trunk reachable again", lambda: trunk(serve).get("reachable"), timeout=30,
             context=lambda: serve.logs() + kamailio.text())


def test_behind_nat_the_address_stun_reports_is_written_in_sip_and_sdp(
        serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    public = "203.0.113.7"  # TEST-NET-3: what the NAT's outside is, as STUN reports it
    stun, registrar = StunServer(public), Registrar()
    try:
        serve.start("--settings", str(settings(tmp_path, registrar.port, qualify_seconds=0)),
                    "--stun-servers", f"127.0.0.1:{stun.port}")
        wait_for("the trunk to register", lambda: trunk(serve).get("state") == "registered",
                 context=serve.logs)
        assert stun.requests >= 1
        # The carrier is told to send calls to the public address, not the private one.
        assert f"@{public}:" in registrar.contacts[0], registrar.contacts
        with RawPeer("127.0.0.1", serve.port, user="natcaller") as caller:
            dialog = caller.invite("main", rtp_port=free_udp_ports(2))
            answer = caller.wait_answer(dialog)
            assert answer.status == 200, answer.raw
            assert f"c=IN IP4 {public}" in answer.body, answer.body  # RTP: the public side
            assert f"@{public}:" in answer.header("contact"), answer.raw
            assert caller.bye(dialog) == 200
    finally:
        stun.close()
        registrar.close()
