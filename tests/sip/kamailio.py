"""A real Kamailio as the carrier's registrar and proxy, for the trunk tests.

The test writes the configuration: a registrar with digest authentication (one user,
its password in an ``htable`` filled at start, no database), usrloc in memory, a proxy
that relays INVITEs to the registered contact with Record-Route, and, for calls out to
the numbers behind it (an agent's, a caller's to call back), a proxy that asks for the
same user's credentials (407), logs the identity the INVITE carries (P-Asserted-Identity,
Diversion, From) and relays to one SIPp port. Kamailio runs in the foreground on a free
loopback port and is stopped by its PID.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sip_harness import free_udp_ports, stop_process, wait_for

REALM = "example.test"

CONFIG = """\
#!KAMAILIO
debug=2
log_stderror=yes
children=2
disable_tcp=yes
alias="example.test"
auto_aliases=no

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "htable.so"
loadmodule "auth.so"
loadmodule "xlog.so"

modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 10)
modparam("htable", "htable", "users=>size=4;")

event_route[htable:mod-init] {
    $sht(users=>@USER@) = "@PASSWORD@";
}

request_route {
    if (is_method("REGISTER")) {
        if (!pv_auth_check("example.test", "$sht(users=>$au)", "0", "0")) {
            xlog("L_NOTICE", "REGISTER from $fU: challenged\\n");
            auth_challenge("example.test", "0");
            exit;
        }
        xlog("L_NOTICE", "REGISTER from $au: authenticated, expires $hdr(Expires)\\n");
        save("location", "0x04");
        exit;
    }
    if (has_totag()) {
        if (loose_route()) {
            xlog("L_NOTICE", "in-dialog $rm from $si relayed\n");
            t_relay();
            exit;
        }
        if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
        t_relay();
        exit;
    }
    if (is_method("CANCEL")) { if (t_check_trans()) { t_relay(); } exit; }
    if (is_method("OPTIONS")) {
        xlog("L_NOTICE", "OPTIONS from $si answered\n");
        sl_send_reply("200", "OK");
        exit;
    }
    if (is_method("INVITE") && $rU =~ "^(@AGENT_NUMBERS@)$") {
        # A call out to a number behind us: only for our user.
        if (!pv_proxy_authenticate("example.test", "$sht(users=>$au)", "0")) {
            xlog("L_NOTICE", "INVITE to $rU from $fU: challenged (407)\n");
            proxy_challenge("example.test", "0");
            exit;
        }
        xlog("L_NOTICE", "INVITE to $rU from $au: authenticated, relayed\n");
        xlog("L_NOTICE", "INVITE to $rU says: PAI $ai Diversion $di From $fu\n");
        consume_credentials();
        record_route();
        $du = "sip:127.0.0.1:@AGENT_PORT@";
        t_relay();
        exit;
    }
    if (is_method("INVITE")) {
        record_route();
        if (!lookup("location")) {
            xlog("L_NOTICE", "INVITE for $rU: not registered\\n");
            sl_send_reply("404", "Not Found");
            exit;
        }
        xlog("L_NOTICE", "INVITE for $rU: relayed to $ru\\n");
        t_relay();
        exit;
    }
    sl_send_reply("405", "Method Not Allowed");
}
"""


def available() -> bool:
    return shutil.which("kamailio") is not None


class Kamailio:
    """One Kamailio process: registrar for ``user`` with ``password``, and proxy."""

    def __init__(self, tmp: Path, user: str, password: str,
                 agent: tuple[str | tuple[str, ...], int] = ("no-agent", 9)):
        """``agent``: the number (or numbers) behind the carrier, and the port they ring."""
        self.folder = tmp / "kamailio"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = self.folder / "kamailio.cfg"
        text = CONFIG.replace("@USER@", user).replace("@PASSWORD@", password)
        numbers = (agent[0],) if isinstance(agent[0], str) else agent[0]
        # A regular expression of the numbers, "+" written as [+] (no escapes to get wrong).
        pattern = "|".join(n.replace("+", "[+]") for n in numbers)
        self.config.write_text(text.replace("@AGENT_NUMBERS@", pattern)
                               .replace("@AGENT_PORT@", str(agent[1])))
        self.port = free_udp_ports(1)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log(self) -> Path:
        return self.folder / f"kamailio-{self.runs}.log"

    def start(self) -> Kamailio:
        """Start (or start again, on the same port, with nothing registered)."""
        self.runs += 1
        binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
        cmd = [binary, "-f", str(self.config), "-DD", "-E", "-P", str(self.folder / "k.pid"),
               "-Y", str(self.folder), "-w", str(self.folder), "-m", "32", "-M", "4",
               "-l", f"udp:127.0.0.1:{self.port}"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        wait_for("Kamailio to listen", lambda: "SO_RCVBUF is finally" in self.text(),
                 context=self.text)
        return self

    def text(self) -> str:
        """This run's log."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def lines(self, marker: str) -> list[str]:
        return [line for line in self.text().splitlines() if marker in line]

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)  # SIGTERM to its PID; its children follow it
        self.proc = None
