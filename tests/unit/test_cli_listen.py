"""``serve --listen``: addresses with ports, and failed starts that say what to change."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from attendant.cli.listen import failure_hint, split_listen
from attendant.cli.main import main as cli


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1", ("127.0.0.1", None)), ("127.0.0.1:5099", ("127.0.0.1", 5099)),
    ("0.0.0.0:5060", ("0.0.0.0", 5060)), ("localhost:5070", ("localhost", 5070)),
])
def test_listen_takes_an_address_with_or_without_its_port(
        text: str, expected: tuple[str, int | None]) -> None:
    assert split_listen(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("127.0.0.1:99999", "not a number from 1 to 65535"),
    ("127.0.0.1:sip", "not a number from 1 to 65535"),
    ("[::1]:5060", "IPv6 is not served yet"),
    ("::1", "IPv6 is not served yet"),
    ("no-such-host.invalid", "neither an IPv4 address nor a name"),
    ("", "is not an address"),
])
def test_a_listen_address_that_cannot_be_used_says_why(text: str, says: str) -> None:
    with pytest.raises(click.BadParameter, match=says):
        split_listen(text)


def test_serve_with_a_port_in_listen_and_another_in_port_asks_for_one(tmp_path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text("version: 1\n")
    result = CliRunner().invoke(cli, ["serve", str(menu), "--listen", "127.0.0.1:5099",
                                      "--port", "5060"])
    assert result.exit_code == 2
    assert "--listen 127.0.0.1:5099 says port 5099 and --port says 5060" in result.output


def test_serve_refuses_an_ipv6_listen_address_before_starting(tmp_path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text("version: 1\n")
    result = CliRunner().invoke(cli, ["serve", str(menu), "--listen", "[::1]:5099"])
    assert result.exit_code == 2
    assert "Invalid value for '--listen'" in result.output
    assert "IPv6 is not served yet" in result.output


@pytest.mark.parametrize(("pjsip_says", "hint"), [
    ("cannot open 10.9.9.9:5060/udp: ... Cannot assign requested address (status=120099)",
     "10.9.9.9 is not an address of this host"),
    ("cannot open 127.0.0.1:5060/udp: ... Address already in use (status=120098)",
     "another program already listens on that port"),
    ("bind: Permission denied", "ports below 1024 need root"),
    ("something nobody foresaw", ""),
])
def test_pjsip_start_failures_get_a_hint(pjsip_says: str, hint: str) -> None:
    assert failure_hint(pjsip_says, "10.9.9.9").startswith(hint)
