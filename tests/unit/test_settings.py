"""The server settings file (server.yaml): its checks, its defaults, and its secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant.cli.main import main
from attendant.config.settings import (
    DEFAULT_EXPIRES,
    SETTINGS_FILE,
    SettingsError,
    load_settings,
)

CARRIER = """\
version: 1
listen: 0.0.0.0
port: 5080
data: ../var
clock_rate: 16000
trunks:
  carrier:
    registrar: sip:sip.carrier.example:5060;transport=udp
    username: "+33155501000"
    password: {env: ATTENDANT_TEST_CARRIER_PASSWORD}
"""


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    path.write_text(text, encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    settings, found = load_settings(path)
    assert settings is None
    return [d.format() for d in found if d.is_error]


def test_a_trunk_gets_the_documented_defaults_and_paths_are_relative_to_the_file(
        tmp_path: Path) -> None:
    settings, found = load_settings(write(tmp_path / "etc", CARRIER))
    assert found == []
    assert settings is not None
    assert settings.options["data"] == str(tmp_path / "etc" / "../var")
    assert settings.options["clock_rate"] == "16000"  # the serve option's choice
    assert (settings.options["listen"], settings.options["port"]) == ("0.0.0.0", 5080)
    trunk = settings.trunks["carrier"]
    assert (trunk.expires, trunk.retry_seconds, trunk.retry_max_seconds) == (
        DEFAULT_EXPIRES, 30, 600)
    assert (trunk.auth_username, trunk.realm, trunk.domain) == (
        "+33155501000", "*", "sip.carrier.example")
    assert trunk.numbers == ("+33155501000",)
    assert trunk.address == "sip:+33155501000@sip.carrier.example"
    assert trunk.password.describe() == "environment variable ATTENDANT_TEST_CARRIER_PASSWORD"
    assert trunk.registrar_host == "sip.carrier.example:5060"
    assert trunk.outbound_prefixes == ()  # nothing leaves through a trunk unless asked


def test_outbound_prefixes_name_the_numbers_a_trunk_carries_out(tmp_path: Path) -> None:
    settings, found = load_settings(write(tmp_path, CARRIER + '    outbound_prefixes: ["+33", '
                                                               '"0", ""]\n'))
    assert found == []
    assert settings is not None
    assert settings.trunks["carrier"].outbound_prefixes == ("+33", "0", "")
    assert errors(write(tmp_path, CARRIER + '    outbound_prefixes: ["+33 1"]\n')) == [
        f'{tmp_path / SETTINGS_FILE}:11:25: error: trunks.carrier.outbound_prefixes.0 is "+33 1", '
        'which is not in the expected form\n  hint: write the start of the numbers, e.g. "+33" '
        'or "0"; "" is every number']


def test_a_password_written_in_the_file_is_refused_and_never_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER.replace("{env: ATTENDANT_TEST_CARRIER_PASSWORD}",
                                           "s3cr3t-Pa55"))
    [error] = errors(path)
    assert error.startswith(f"{path}:10:15: error: trunks.carrier.password is written in the "
                            "file"), error
    assert "password: {env: NAME}" in error
    assert "s3cr3t" not in error
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "s3cr3t" not in result.output


def test_unknown_keys_and_values_out_of_range_are_placed_with_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER + "    expire: 20\n    retry_seconds: 2\n")
    assert errors(path) == [
        f'{path}:11:5: error: unknown key "expire" in trunks.carrier\n  hint: did you mean '
        '"expires"?',
        f"{path}:12:20: error: trunks.carrier.retry_seconds is 2: less than the minimum of 5\n"
        "  hint: see docs/trunks.md for the allowed range"]


def test_retries_that_shrink_and_a_number_on_two_trunks_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER + """\
    retry_seconds: 60
    retry_max_seconds: 30
  backup:
    registrar: sip:backup.carrier.example
    username: backup
    password: {file: backup.secret}
    numbers: ["+33155501000"]
""")
    found = errors(path)
    assert any(":12:24: error: retry_max_seconds 30 is shorter than retry_seconds 60" in e
               for e in found), found
    assert any(":17:15: error: number +33155501000 arrives on two trunks, carrier and backup"
               in e for e in found), found


def test_a_secret_from_the_environment_is_read_at_start_and_a_missing_one_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _ = load_settings(write(tmp_path, CARRIER))
    assert settings is not None
    secret = settings.trunks["carrier"].password
    monkeypatch.delenv("ATTENDANT_TEST_CARRIER_PASSWORD", raising=False)
    with pytest.raises(SettingsError, match=r"server.yaml:10:15: trunks.carrier.password: the "
                                            r"environment variable ATTENDANT_TEST_CARRIER_"
                                            r"PASSWORD is not set"):
        secret.read()
    monkeypatch.setenv("ATTENDANT_TEST_CARRIER_PASSWORD", "from-the-env")
    assert secret.read() == "from-the-env"


def test_a_secret_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER.replace("{env: ATTENDANT_TEST_CARRIER_PASSWORD}",
                                           "{file: carrier.secret}"))
    settings, _ = load_settings(path)
    assert settings is not None
    secret = settings.trunks["carrier"].password
    with pytest.raises(SettingsError, match=r"cannot read .*carrier\.secret .*chmod 600"):
        secret.read()
    secret_file = tmp_path / "carrier.secret"
    secret_file.write_text("from-a-file\n")
    secret_file.chmod(0o644)
    with pytest.raises(SettingsError, match=r"may be read by other users \(mode 644\); run: "
                                            r"chmod 600"):
        secret.read()
    secret_file.chmod(0o600)
    assert secret.read() == "from-a-file"


def test_validate_checks_server_yaml_beside_the_menus_and_keeps_it_out_of_them(
        tmp_path: Path) -> None:
    menus = Path(__file__).resolve().parents[2] / "menus" / "small-office.yaml"
    folder = tmp_path / "menus"
    folder.mkdir()
    (folder / "main.yaml").write_text(menus.read_text(encoding="utf-8"), encoding="utf-8")
    write(folder, CARRIER + "    outbound_prefixes: [\"+1\"]\n")  # carries the transfer
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 configuration(s) valid" in result.output
    write(folder, CARRIER.replace("port: 5080", "port: 99999"))
    result = CliRunner().invoke(main, ["validate", str(folder), "--format", "json"])
    assert result.exit_code == 1
    [finding] = json.loads(result.output)
    assert (finding["file"].endswith(SETTINGS_FILE), finding["line"]) == (True, 3), finding


def test_schema_prints_the_settings_schema_with_server() -> None:
    result = CliRunner().invoke(main, ["schema", "--server"])
    schema = json.loads(result.output)
    assert schema["title"] == "attendant server settings, version 1"
    assert "trunks" in schema["properties"]


def test_serve_stops_before_starting_when_a_secret_cannot_be_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATTENDANT_TEST_CARRIER_PASSWORD", raising=False)
    path = write(tmp_path, CARRIER)
    result = CliRunner().invoke(main, ["serve", "--settings", str(path), "menus/small-office.yaml"])
    assert result.exit_code == 1
    assert "trunks.carrier.password: the environment variable ATTENDANT_TEST_CARRIER_PASSWORD " \
           "is not set" in result.output


def test_serve_refuses_an_invalid_settings_file_with_its_diagnostics(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER.replace("port: 5080", "port: many"))
    result = CliRunner().invoke(main, ["serve", "--settings", str(path), "menus/small-office.yaml"])
    assert result.exit_code == 1
    assert f"{path}:3:7: error: port should be a whole number" in result.output
    assert "has errors; not serving" in result.output


def test_validate_checks_server_yaml_inside_a_multi_file_configuration(tmp_path: Path) -> None:
    folder = tmp_path / "office"
    folder.mkdir()
    menus = Path(__file__).resolve().parents[2] / "menus" / "small-office.yaml"
    (folder / "attendant.yaml").write_text(menus.read_text(encoding="utf-8"), encoding="utf-8")
    path = write(folder, CARRIER.replace("port: 5080", "prot: 5080"))
    result = CliRunner().invoke(main, ["validate", str(folder)])
    assert result.exit_code == 1
    assert f'{path}:3:1: error: unknown key "prot" in the file' in result.output, result.output


def test_sources_and_allow_from_must_be_addresses_networks_or_host_names(tmp_path: Path) -> None:
    text = CARRIER.replace("port: 5080", 'port: 5080\nallow_from: ["10.0.0.0/8", "pbx.example"]')
    path = write(tmp_path, text + '    sources: ["198.51.100.0/24", "sip.carrier.example", '
                                  '"1.2.3.4/99"]\n')
    found = errors(path)
    assert any(":4:28: error: 'pbx.example' is not an address or a network" in e
               for e in found), found
    assert any(":12:57: error: '1.2.3.4/99' is not an address, a network or a host name"
               in e for e in found), found
    settings, _ = load_settings(write(tmp_path, CARRIER))
    assert settings is not None
    assert settings.trunks["carrier"].source_hosts == ("sip.carrier.example",)


def test_phones_name_their_passwords_by_reference_and_a_written_one_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from attendant.sip.options import read_phones

    path = write(tmp_path, 'version: 1\nphone_realm: office.example\nphones:\n'
                           '  "201": {password: {env: ATTENDANT_TEST_PHONE}}\n')
    settings, found = load_settings(path)
    assert settings is not None, found
    assert (settings.phone_realm, list(settings.phones)) == ("office.example", ["201"])
    assert "phones" not in settings.options  # not a serve option
    monkeypatch.setenv("ATTENDANT_TEST_PHONE", "phone-secret")
    phones = read_phones(settings)
    assert phones is not None
    assert (phones.realm, dict(phones.passwords)) == ("office.example", {"201": "phone-secret"})
    assert "phone-secret" not in repr(phones)
    assert read_phones(load_settings(write(tmp_path, "version: 1\n"))[0]) is None
    path = write(tmp_path, 'version: 1\nphones:\n  "201": {password: hunter2}\n')
    [error] = errors(path)
    assert error.startswith(f"{path}:3:21: error: phones.201.password is written in the file; "
                            "passwords are never kept in server.yaml\n  hint: write password: "
                            "{env: NAME}"), error
    assert "hunter2" not in error


def test_transports_srtp_and_a_trunks_own_srtp_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER.replace("port: 5080", "port: 5080\ntransport: [udp, tls]\n"
                                           "tls_port: 5062\ntls_cert: c.pem\ntls_key: k.pem\n"
                                           "srtp: mandatory\nsrtp_signaling: tls")
                 + "    srtp: 'off'\n    srtp_signaling: any\n")
    settings, found = load_settings(path)
    assert settings is not None, found
    assert (settings.options["transport"], settings.options["tls_port"]) == ("udp,tls", 5062)
    assert (settings.options["srtp"], settings.options["srtp_signaling"]) == ("mandatory", "tls")
    trunk = settings.trunks["carrier"]
    assert (trunk.srtp, trunk.srtp_signaling) == ("off", "any")
    # TLS in a list still needs its certificate.
    path = write(tmp_path, "version: 1\ntransport: [udp, tls]\n")
    assert any("transport tls needs tls_cert and tls_key" in e for e in errors(path))


def test_tls_checks_are_read_and_checking_callers_needs_a_ca(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\ntransport: [udp, tls]\ntls_cert: c.pem\n"
                 "tls_key: k.pem\ntls_ca: ca/carriers.pem\ntls_verify_server: true\n"
                 "tls_verify_client: true\n")
    settings, found = load_settings(path)
    assert settings is not None, found
    assert settings.options["tls_ca"] == str(tmp_path / "ca" / "carriers.pem")
    assert (settings.options["tls_verify_server"], settings.options["tls_verify_client"]) == (
        True, True)
    path = write(tmp_path, "version: 1\ntransport: tls\ntls_cert: c.pem\ntls_key: k.pem\n"
                 "tls_verify_client: true\n")
    [error] = errors(path)
    assert ":5:20: error: tls_verify_client needs tls_ca" in error, error
    assert "add tls_ca:" in error


def test_a_keepalive_too_short_to_be_an_interval_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CARRIER + "    keepalive_seconds: 1\n")
    [error] = errors(path)
    assert "keepalive_seconds 1 is too short" in error
    assert "use 0 (no keep-alives) or 5 or more" in error
    settings, _ = load_settings(write(tmp_path, CARRIER + "    keepalive_seconds: 0\n"))
    assert settings is not None
    assert settings.trunks["carrier"].keepalive_seconds == 0
    assert settings.trunks["carrier"].qualify_seconds == 60
    [error] = errors(write(tmp_path, CARRIER + "    qualify_seconds: 2\n"))
    assert "qualify_seconds 2 is too short" in error
    assert "use 0 (no pings) or 5 or more; 60 is the default" in error


def test_stun_servers_become_the_serve_option_and_a_bad_one_says_the_form(
        tmp_path: Path) -> None:
    path = write(tmp_path, 'version: 1\nstun_servers: [stun.example.com, "10.0.0.1:3478"]\n')
    settings, found = load_settings(path)
    assert settings is not None, found
    assert settings.options["stun_servers"] == "stun.example.com,10.0.0.1:3478"
    path = write(tmp_path, 'version: 1\nstun_servers: ["bad host"]\n')
    [error] = errors(path)
    assert "hint: write a host or host:port, e.g. stun.example.com:3478" in error
