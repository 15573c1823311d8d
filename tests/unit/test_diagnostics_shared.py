"""A mistake in a block shared through a YAML anchor is told once, naming every user."""

from __future__ import annotations

from attendant.config.diagnostics import Diagnostic, Position, sort_diagnostics

AT = Position("menus.yaml", 12, 12)


def _diag(message: str, hint: str = "fix it", at: Position = AT) -> Diagnostic:
    return Diagnostic.at(at, "menus.x", message, hint)


def test_messages_differing_only_in_the_menu_become_one_naming_the_others() -> None:
    found = sort_diagnostics([_diag(f'option "2" of menu "{menu}" goes nowhere')
                              for menu in ("welcome", "sales", "support")])
    assert [d.message for d in found] == [
        'option "2" of menu "sales" goes nowhere (and the same in support and welcome, which '
        "use this line through a YAML anchor)"]


def test_different_mistakes_at_one_place_are_each_told() -> None:
    found = sort_diagnostics([_diag("extension 201 is taken"),
                              _diag("extension 201 is too short for the plan"),
                              _diag('option "2" of menu "sales" goes nowhere', hint="other")])
    assert len(found) == 3


def test_the_same_words_at_different_places_are_not_merged() -> None:
    found = sort_diagnostics([_diag('menu "a" is never reached'),
                              _diag('menu "b" is never reached', at=Position("menus.yaml", 20, 3))])
    assert len(found) == 2
