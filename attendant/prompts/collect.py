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

from dataclasses import dataclass

from attendant.engine.tables import flow_prompts
from attendant.model import (
    Flow,
    Fragment,
    Text,
    localise,
)

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
            key, spoken, fragments = prompt.variant(language, default)
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
