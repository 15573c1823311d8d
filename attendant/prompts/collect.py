"""Every prompt a compiled flow can play, in every language its attendants speak.

Walks menus, routes (announcements, goodbyes, dial-by-name and extension
prompts, language switches, fallbacks), attendants and holidays, queues,
voicemail boxes and the system prompts (the built-in ones unless the
configuration replaces them). It adds what the engine says at run time out of
parts: each user's and department's name (for dial by name and by extension)
and the digits 0-9 (for :class:`~attendant.model.Digits`). The result is what
``attendant prompts build`` renders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from attendant.model import (
    Announce,
    DialByExtension,
    DialByName,
    Digits,
    Disconnect,
    Flow,
    Fragment,
    Prompt,
    Route,
    SetLanguage,
    Text,
    ToDepartment,
    ToExternal,
    ToUser,
)
from attendant.system_prompts import DEFAULTS

#: Prompt id prefix of the digits Digits fragments are read with (``digits.0`` ...).
DIGIT_PREFIX = "digits."


@dataclass(frozen=True, slots=True)
class PromptJob:
    """One prompt in one language: what to render and where it was written.

    ``variant`` is the key of the prompt variant used (``None`` for a prompt with
    no language mapping); with ``prompt_id`` it finds the menu line of a fragment.
    """

    prompt_id: str
    language: str
    fragments: tuple[Fragment, ...]
    variant: str | None = None


def localise(fragment: Fragment, language: str) -> Fragment:
    """Text and digits without a language are spoken in ``language`` (as the engine does)."""
    if isinstance(fragment, Text | Digits) and fragment.language is None:
        return replace(fragment, language=language)
    return fragment


def variant_for(prompt: Prompt, language: str, default: str
                ) -> tuple[str | None, str, tuple[Fragment, ...]]:
    """(variant key, language, fragments) a caller in ``language`` hears, like the engine."""
    table = dict(prompt.variants)
    for wanted in (language, default):
        if wanted in table:
            return wanted, wanted, table[wanted]
    if None in table:
        return None, default, table[None]
    first, fragments = prompt.variants[0]
    return first, first or default, fragments


def _route_prompts(route: Route | None) -> Iterator[Prompt]:
    while route is not None:
        if isinstance(route, Announce):
            yield route.prompt
            route = route.then
        elif isinstance(route, Disconnect | DialByName):
            if route.prompt is not None:
                yield route.prompt
            return
        elif isinstance(route, DialByExtension):
            if route.entry.prompt is not None:
                yield route.entry.prompt
            return
        elif isinstance(route, SetLanguage):
            route = route.then
        elif isinstance(route, ToUser | ToDepartment | ToExternal):
            route = route.fallback
        else:
            return


def flow_prompts(flow: Flow) -> Iterator[Prompt]:
    """Every prompt the configuration writes, plus the system prompts in force."""
    for attendant in flow.attendants.values():
        for route in (attendant.business_hours, attendant.after_hours, attendant.operator,
                      *(h.flow for h in attendant.holidays)):
            yield from _route_prompts(route)
    for menu in flow.menus.values():
        yield menu.prompt
        for extra in (menu.invalid_prompt, menu.no_input_prompt,
                      menu.extension_dialing.prompt if menu.extension_dialing else None):
            if extra is not None:
                yield extra
        for route in (*menu.options.values(), menu.on_no_input, menu.on_invalid, menu.on_max):
            yield from _route_prompts(route)
    for queue in flow.queues.values():
        for prompt in (queue.greeting, queue.music):
            if prompt is not None:
                yield prompt
        for route in (queue.on_overflow, queue.on_timeout, queue.on_no_agents):
            yield from _route_prompts(route)
    for box in flow.voicemail.values():
        if box.greeting is not None:
            yield box.greeting
    for name, default in DEFAULTS.items():
        yield flow.system_prompts.get(name) or default
    for user in flow.users.values():
        if user.name_prompt is not None:
            yield user.name_prompt


def languages(flow: Flow, extra: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """(language, that attendant's default language) for every language offered.

    ``extra`` languages (``attendant prompts build --language``) are added with the
    first attendant's default, so a build can prepare a language before it is offered.
    """
    seen: dict[str, str] = {}
    for attendant in flow.attendants.values():
        for language in attendant.languages:
            seen.setdefault(language, attendant.default_language)
    first = next(iter(flow.attendants.values())).default_language
    for language in extra:
        seen.setdefault(language, first)
    return tuple(seen.items())


def collect(flow: Flow, extra: tuple[str, ...] = ()) -> list[PromptJob]:
    """Every (prompt, language) the flow can play, each once, in a stable order."""
    jobs: dict[tuple[str, str], PromptJob] = {}
    langs = languages(flow, extra)

    def add(job: PromptJob) -> None:
        jobs.setdefault((job.prompt_id, job.language), job)

    for prompt in flow_prompts(flow):
        for language, default in langs:
            key, spoken, fragments = variant_for(prompt, language, default)
            add(PromptJob(prompt.id, spoken,
                          tuple(localise(f, spoken) for f in fragments), key))
    for language, _default in langs:
        # Names are read in the caller's language (the engine passes it with the Say).
        for key, user in flow.users.items():
            if user.name_prompt is None:
                add(PromptJob(f"names.users.{key}", language, (Text(user.name, language),)))
        for key, dept in flow.departments.items():
            add(PromptJob(f"names.departments.{key}", language, (Text(dept.name, language),)))
        for digit in "0123456789":
            add(PromptJob(f"{DIGIT_PREFIX}{digit}", language, (Text(digit, language),)))
    return sorted(jobs.values(), key=lambda j: (j.prompt_id, j.language))
