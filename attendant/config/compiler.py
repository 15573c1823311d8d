"""Load, validate and compile a configuration into an immutable :class:`Flow`.

Phases, each reporting every problem it finds:

1. :mod:`attendant.config.loader` reads YAML (syntax, encoding, duplicate keys);
2. :mod:`attendant.config.schema` checks the shape against the JSON Schema (durations
   such as ``5m`` turned into seconds first, :mod:`attendant.config.durations`);
3. :mod:`attendant.config.model_builder` builds the model and checks single values;
4. :mod:`attendant.config.checks` checks meaning across the whole configuration;
5. the indexes the engine needs (extensions, keypad spellings) are built.

A later phase runs only when the earlier ones found no errors, because its
findings would mostly be echoes of theirs. Compilation is deterministic: the
same files give the same Flow (and the same ``attendant compile --json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from attendant import numbers
from attendant.config import schema
from attendant.config.checks import Checker, Config
from attendant.config.diagnostics import Diagnostic, sort_diagnostics
from attendant.config.durations import to_seconds
from attendant.config.keypad import spell
from attendant.config.loader import gc_paused, load
from attendant.config.model_builder import Parser
from attendant.config.reach import OutboundRoutes, unreachable
from attendant.config.source_map import PathKey, PromptSite, PromptSiteKey
from attendant.errors import ConfigError
from attendant.model import Flow, frozen_map


@dataclass(frozen=True)
class CompileResult:
    """The Flow (None when there were errors) and every diagnostic found."""

    flow: Flow | None
    diagnostics: tuple[Diagnostic, ...]
    #: Where each prompt and prompt fragment was written, so that errors found while
    #: rendering audio (:mod:`attendant.prompts`) can name the menu file and line.
    prompt_sites: Mapping[PromptSiteKey, PromptSite] = field(default_factory=frozen_map)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """Only the diagnostics that stop the configuration from loading."""
        return tuple(d for d in self.diagnostics if d.is_error)


@gc_paused()
def compile_path(path: Path | str, outbound: OutboundRoutes | None = None) -> CompileResult:
    """Validate and compile the configuration at ``path``.

    ``path`` is a menu file, or a folder holding ``attendant.yaml`` and more YAML files.
    With ``outbound`` (the trunks of the server settings), every number the menus ring
    must leave through one of them (:mod:`attendant.config.reach`).
    """
    doc = load(Path(path))
    diags = list(doc.diagnostics)
    if doc.data is None:  # later phases still run after recoverable YAML findings
        return CompileResult(None, tuple(sort_diagnostics(diags)))
    to_seconds(doc.data)  # "5m" → 300 wherever seconds are written
    shape = schema.check(doc.data, doc.sources)
    diags.extend(shape)
    if any(d.is_error for d in shape):
        return CompileResult(None, tuple(sort_diagnostics(diags)))
    data = doc.data
    country = data.get("country")
    parser = Parser(doc.sources, doc.root, country)
    if country is not None and not numbers.known_country(country):
        parser.error(("country",), f'no numbering plan is known for country "{country}"',
                     "use an ISO 3166 code such as US, GB, FR or DE")
    attendants = {k: parser.attendant(k, v, ("attendants", k))
                  for k, v in data["attendants"].items()}
    menus = {k: parser.menu(k, v, ("menus", k)) for k, v in data["menus"].items()}
    directory = data.get("directory") or {}
    personal = directory.get("personal_mailboxes", True)
    users = {k: parser.user(k, v, ("directory", "users", k), personal)
             for k, v in (directory.get("users") or {}).items()}
    departments = {k: parser.department(k, v, ("directory", "departments", k))
                   for k, v in (directory.get("departments") or {}).items()}
    queues = {k: parser.queue(k, v, ("queues", k)) for k, v in (data.get("queues") or {}).items()}
    boxes = {k: parser.voicemail_box(k, v, ("voicemail", k))
             for k, v in (data.get("voicemail") or {}).items()}
    for user in users.values():
        parser.personal_box(user, boxes, directory.get("mailbox_defaults") or {})
    system_prompts = {k: parser.prompt(v, ("prompts", k))
                      for k, v in (data.get("prompts") or {}).items()}
    external = parser.external_numbers(directory.get("external_numbers") or [],
                                       ("directory", "external_numbers"))
    speech = parser.speech(data.get("speech"))
    diags.extend(parser.diags)

    extensions: dict[str, list[tuple[str, str, PathKey]]] = {}
    for key, user in users.items():
        if user.extension:
            extensions.setdefault(user.extension, []).append(("user", key, user.path))
    for key, dept in departments.items():
        if dept.extension:
            extensions.setdefault(dept.extension, []).append(("department", key, dept.path))

    config = Config(attendants, menus, users, departments, queues, boxes, external, extensions)
    diags.extend(Checker(config, doc.sources).run())
    if outbound is not None:
        diags.extend(unreachable(config, doc.sources, outbound))
    ordered = tuple(sort_diagnostics(diags))
    if any(d.is_error for d in diags):
        return CompileResult(None, ordered)

    # Department membership can be written on either side; the Flow holds the union.
    members: dict[str, list[str]] = {k: list(d.members) for k, d in departments.items()}
    for user_key, user in users.items():
        for dept_key in user.departments:
            if user_key not in members[dept_key]:
                members[dept_key].append(user_key)
    departments = {k: replace(d, members=tuple(members[k])) for k, d in departments.items()}
    names = sorted(
        {(spell(part), which, key)
         for key, user in users.items() if user.dial_by_name
         for which, part in (("first", user.first_name), ("last", user.last_name)) if spell(part)}
    )
    flow = Flow(
        root=str(doc.root),
        attendants=frozen_map(attendants),
        menus=frozen_map(menus),
        users=frozen_map(users),
        departments=frozen_map(departments),
        queues=frozen_map(queues),
        voicemail=frozen_map(boxes),
        external_numbers=external,
        system_prompts=frozen_map(system_prompts),
        extensions=frozen_map({ext: owners[0][:2] for ext, owners in sorted(extensions.items())}),
        names=tuple(names),
        sources=tuple(doc.sources.files),
        speech=speech,
        country=country,
    )
    return CompileResult(flow, ordered, parser.prompt_sites)


def load_flow(path: Path | str) -> Flow:
    """Compile ``path`` or raise :class:`ConfigError` carrying every error found."""
    result = compile_path(path)
    if result.flow is None:
        raise ConfigError(result.errors)
    return result.flow
