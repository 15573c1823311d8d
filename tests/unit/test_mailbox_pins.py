"""Mailbox PINs: kept only as scrypt hashes, set and cleared by `attendant voicemail pin`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from attendant.cli.main import main
from attendant.pins import PinError
from attendant.storage.mailbox_pins import MailboxPinError, MailboxPins

NORTHWIND = Path(__file__).resolve().parents[2] / "menus" / "northwind-main-line.yaml"
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_a_pin_is_kept_as_a_hash_and_checked(tmp_path: Path) -> None:
    pins = MailboxPins(tmp_path)
    assert not pins.check("anna", "2468")  # no PIN yet: nothing opens the box
    pins.set("anna", "2468", NOW)
    assert pins.check("anna", "2468")
    assert not pins.check("anna", "2469")
    text = pins.path.read_text()
    assert "2468" not in text
    assert '"hash": "scrypt$' in text
    assert pins.path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(PinError):
        pins.set("anna", "12", NOW)
    assert pins.clear("anna")
    assert not pins.has_pin("anna")


def test_a_damaged_pin_file_names_the_entry_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "mailbox-pins.json").write_text(
        '{"version": 1, "pins": {"anna": {"hash": "2468", "set_at": "2026-12-08T09:00Z"}}}')
    with pytest.raises(MailboxPinError, match=r"pins\.anna\.hash: not a PIN hash .* "
                                              r"attendant voicemail pin anna"):
        MailboxPins(tmp_path).check("anna", "2468")


def test_voicemail_pin_sets_and_clears_a_boxs_pin(tmp_path: Path) -> None:
    args = ["voicemail", "pin", "anna", "--menu", str(NORTHWIND), "--data", str(tmp_path)]
    done = CliRunner().invoke(main, args, input="2468\n")
    assert done.exit_code == 0, done.output
    assert MailboxPins(tmp_path).check("anna", "2468")
    assert "2468" not in done.output
    unknown = CliRunner().invoke(main, [*args[:2], "nobody", *args[3:]], input="2468\n")
    assert unknown.exit_code == 2
    assert 'no voicemail box "nobody"' in unknown.output
    short = CliRunner().invoke(main, args, input="12\n")
    assert short.exit_code == 2
    assert "4 to 12 digits" in short.output
    cleared = CliRunner().invoke(main, [*args, "--clear"])
    assert "PIN of anna cleared" in cleared.output
    assert not MailboxPins(tmp_path).has_pin("anna")
