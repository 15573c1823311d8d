"""The codec order: names checked, pjsua ids mapped, every other codec switched off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from attendant.config.settings import SETTINGS_FILE, load_settings
from attendant.sip.codecs import (
    DEFAULT_CODECS,
    apply_codecs,
    codec_names,
    missing_codecs,
    parse_codecs,
)

BUILD = ["speex/16000/1", "speex/8000/1", "iLBC/8000/1", "GSM/8000/1", "PCMU/8000/1",
         "PCMA/8000/1", "G722/16000/1", "opus/48000/2", "L16/44100/1"]


@dataclass
class Info:
    codecId: str  # pjsua2 spells it so


class Endpoint:
    """The two pjsua2 calls apply_codecs makes, with pjsua's prefix matching."""

    def __init__(self, ids: list[str]) -> None:
        self.priority = dict.fromkeys(ids, 128)

    def codecEnum2(self) -> list[Info]:
        return [Info(i) for i in self.priority]

    def codecSetPriority(self, prefix: str, priority: int) -> None:
        matched = [i for i in self.priority if i.lower().startswith(prefix.lower())]
        assert matched, prefix
        for codec in matched:
            self.priority[codec] = priority


def test_the_order_given_is_kept_and_everything_else_is_off() -> None:
    ep = Endpoint(BUILD)
    apply_codecs(ep, ("g722", "pcmu"))
    on = sorted((p, i) for i, p in ep.priority.items() if p)
    assert on == [(253, "PCMU/8000/1"), (254, "G722/16000/1")]


def test_the_default_prefers_g711_then_wideband() -> None:
    ep = Endpoint(BUILD)
    apply_codecs(ep, DEFAULT_CODECS)
    best_first = [i for i, p in sorted(ep.priority.items(), key=lambda kv: -kv[1]) if p]
    assert best_first == ["PCMU/8000/1", "PCMA/8000/1", "G722/16000/1", "opus/48000/2"]


def test_a_codec_the_build_lacks_is_refused_with_the_fix() -> None:
    with pytest.raises(RuntimeError, match=r"no opus codec \(it has pcmu, pcma, g722, speex, "
                                           r"gsm, ilbc\).*build-pjsua2.sh --force"):
        apply_codecs(Endpoint([i for i in BUILD if not i.startswith("opus")]), ("pcmu", "opus"))


def test_names_are_checked_and_mapped() -> None:
    assert parse_codecs(" PCMU, g722 ") == ("pcmu", "g722")
    for text, error in (("", "name at least one codec"), ("pcmu,amr", "unknown codec 'amr'"),
                        ("pcmu,pcmu", "named twice")):
        with pytest.raises(ValueError, match=error):
            parse_codecs(text)
    assert codec_names(BUILD) == ("pcmu", "pcma", "g722", "opus", "speex", "gsm", "ilbc")
    assert missing_codecs(("opus", "pcmu"), ("pcmu",)) == ["opus"]


def test_the_settings_file_gives_codecs_as_the_serve_option(tmp_path: Path) -> None:
    path = tmp_path / SETTINGS_FILE
    path.write_text("version: 1\ncodecs: [g722, pcmu]\n")
    settings, found = load_settings(path)
    assert settings is not None, found
    assert settings.options["codecs"] == "g722,pcmu"
    path.write_text("version: 1\ncodecs: [g729]\n")
    settings, found = load_settings(path)
    assert settings is None
    assert "codecs.0" in found[0].format(), found
