"""Build flows the validator would reject, to prove the engine survives them anyway.

The validator refuses entry routes that loop (``business_hours: {announcement: ...,
then: main}``), but the engine must still never raise or spin if such a Flow is
built some other way. These helpers take a valid compiled Flow and swap an
attendant's entry route for one made from model objects.
"""

from __future__ import annotations

from dataclasses import replace

from attendant.model import Announce, Flow, MainMenu, Prompt, Route, SetLanguage, Text, frozen_map


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
