"""Build flows for tests: from YAML text (:func:`compile_text`), and flows the validator
would reject, to prove the engine survives them anyway.

The validator refuses entry routes that loop (``business_hours: {announcement: ...,
then: main}``), but the engine must still never raise or spin if such a Flow is
built some other way. These helpers take a valid compiled Flow and swap an
attendant's entry route for one made from model objects.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

from attendant.config.compiler import compile_path
from attendant.model import Announce, Flow, MainMenu, Prompt, Route, SetLanguage, Text, frozen_map


def compile_text(folder: Path, text: str, name: str = "m.yaml") -> Flow:
    """Compile menu-file ``text`` (dedented) written to ``folder``; fail on any error."""
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = compile_path(path)
    assert result.flow is not None, [d.format() for d in result.errors]
    return result.flow


def with_entry(flow: Flow, attendant: str, route: Route) -> Flow:
    """``flow`` with ``attendant``'s business-hours route replaced by ``route``."""
    patched = replace(flow.attendants[attendant], business_hours=route)
    return replace(flow, attendants=frozen_map({**flow.attendants, attendant: patched}))


def announcement_then_main(text: str) -> Route:
    """An announcement that leads back to the start of the call, for ever."""
    return Announce(Prompt("test.loop", ((None, (Text(text),)),)), MainMenu())


def language_then_main(language: str = "en-US") -> Route:
    """A language switch that leads straight back to the start: a synchronous loop."""
    return SetLanguage(language, MainMenu())
