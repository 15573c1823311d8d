"""`attendant validate` with server settings: every number the menus ring must leave
through a trunk's outbound_prefixes (or the settings' outbound proxy)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from attendant.cli.main import main
from attendant.config.compiler import compile_path
from attendant.config.diagnostics import Severity
from attendant.config.reach import OutboundRoutes
from attendant.config.settings import SETTINGS_FILE, load_settings

MENUS = Path(__file__).resolve().parents[2] / "menus"
SETTINGS = """\
version: 1
trunks:
  carrier:
    registrar: sip:sip.carrier.example:5060
    username: "+15035550100"
    password: {env: ATTENDANT_TEST_CARRIER_PASSWORD}
"""


def office(tmp_path: Path, prefixes: str | None, extra: str = "",
           menus: str = "small-office.yaml") -> Path:
    """A folder with the example menus and a server.yaml beside them."""
    folder = tmp_path / "office"
    folder.mkdir(exist_ok=True)
    (folder / "main.yaml").write_text((MENUS / menus).read_text(encoding="utf-8"),
                                      encoding="utf-8")
    text = SETTINGS + (f"    outbound_prefixes: {prefixes}\n" if prefixes is not None else "")
    (folder / SETTINGS_FILE).write_text(text + extra, encoding="utf-8")
    return folder


def findings(folder: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["validate", str(folder), "--format", "json", *args])
    return result.exit_code, json.loads(result.output)


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_transfer_no_trunk_carries_is_an_error_at_its_line_naming_the_trunks(
        tmp_path: Path) -> None:
    folder = office(tmp_path, '["+33"]')
    code, found = findings(folder)
    assert code == 1
    menus = folder / "main.yaml"
    by_line = {f["line"]: f for f in found}
    transfer = by_line[line_of(menus, '"9": {external: "+15035550199"}')]
    assert transfer["file"] == str(menus)
    assert transfer["message"] == ('the transfer to "+15035550199" can never be rung: no '
                                   "trunk carries it out")
    assert transfer["hint"] == (f'add "+15035550199" (or a shorter prefix of it) to a trunk\'s '
                                f"outbound_prefixes in {folder / SETTINGS_FILE} (now carrier: "
                                '"+33"), or set outbound_proxy there')
    allowed = by_line[line_of(menus, "external_numbers:")]
    assert allowed["message"] == ('directory.external_numbers allows "+15035550199", but no '
                                  "trunk carries it out")
    assert len(found) == 2, found


def test_numbers_a_trunk_prefix_carries_validate(tmp_path: Path) -> None:
    code, found = findings(office(tmp_path, '["+1503", "+44"]'))
    assert (code, found) == (0, [])


def test_an_outbound_proxy_in_the_settings_carries_every_number(tmp_path: Path) -> None:
    code, found = findings(office(tmp_path, None, "outbound_proxy: sip:edge.example;lr\n"))
    assert (code, found) == (0, [])


def test_a_trunk_with_no_outbound_prefixes_carries_nothing(tmp_path: Path) -> None:
    code, found = findings(office(tmp_path, None))
    assert code == 1
    assert {f["message"] for f in found} == {
        'the transfer to "+15035550199" can never be rung: no trunk carries it out',
        'directory.external_numbers allows "+15035550199", but no trunk carries it out'}
    assert all("(now carrier: none)" in str(f["hint"]) for f in found)


def test_users_rung_at_a_bare_number_or_extension_need_a_trunk(tmp_path: Path) -> None:
    folder = office(tmp_path, '["+1503"]')
    menus = folder / "main.yaml"
    menus.write_text(menus.read_text().replace("sip: sip:maria@127.0.0.1", "sip: sip:+442071234567")
                     .replace("      sip: sip:tom@127.0.0.1\n", ""))
    code, found = findings(folder)
    assert code == 1
    assert [(f["line"], f["message"]) for f in found] == [
        (line_of(menus, "sip:+442071234567"),
         'user "maria" can never be rung at "+442071234567": no trunk carries it out'),
        (line_of(menus, 'extension: "102"'),
         'user "tom" can never be rung at extension "102": no trunk carries it out')]


def test_callback_prefixes_partly_carried_warn_and_uncarried_fail(tmp_path: Path) -> None:
    folder = office(tmp_path, '["+1212", "+16465", "+1"]', menus="northwind-main-line.yaml")
    code, found = findings(folder)
    assert (code, found) == (0, []), found
    folder = office(tmp_path, '["+1212", "+16465", "+1800"]', menus="northwind-main-line.yaml")
    code, found = findings(folder)
    menus = folder / "main.yaml"
    callbacks = [f for f in found if f["line"] == line_of(menus, "callback_numbers:")]
    assert [(f["severity"], f["message"]) for f in callbacks] == [
        ("warning", 'queue "sales" calls back numbers starting "+1646", but only those '
                    'starting "+16465" have a trunk'),
        ("error", 'queue "sales" calls back numbers starting "+1917", but no trunk carries '
                  "them out")], found


def test_settings_given_with_the_option_check_a_menu_file(tmp_path: Path) -> None:
    folder = office(tmp_path, '["+33"]')
    result = CliRunner().invoke(main, ["validate", str(folder / "main.yaml"),
                                       "--settings", str(folder / SETTINGS_FILE)])
    assert result.exit_code == 1
    assert "can never be rung" in result.output
    result = CliRunner().invoke(main, ["validate", str(folder / "main.yaml")])
    assert result.exit_code == 0, result.output  # without settings nothing is known of trunks


def test_the_server_reports_uncarried_numbers_as_warnings_and_still_compiles(
        tmp_path: Path) -> None:
    folder = office(tmp_path, '["+33"]')
    settings, _ = load_settings(folder / SETTINGS_FILE)
    assert settings is not None
    routes = OutboundRoutes.of(settings, None, Severity.WARNING)
    result = compile_path(folder / "main.yaml", routes)
    assert result.flow is not None
    assert {d.severity for d in result.diagnostics} == {Severity.WARNING}
    assert OutboundRoutes.of(settings, "sip:edge.example;lr") is None
