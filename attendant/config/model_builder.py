"""Turn schema-valid configuration data into the frozen model, with local checks.

The parser fills in defaults and checks what can be judged one value at a
time: hours that overlap or end before they start, impossible dates, unknown
time zones, unknown countries for public holidays, missing audio files.
Checks that need the whole configuration (unknown targets, unreachable menus,
loops) live in :mod:`attendant.config.checks`.
"""

from __future__ import annotations

import calendar
import difflib
import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from attendant import numbers
from attendant.config.diagnostics import Diagnostic, Severity
from attendant.config.source_map import (
    PathKey,
    PromptSiteKey,
    PromptSites,
    SourceMap,
    display_path,
)
from attendant.model import (
    BUILT_IN_OVERRIDES,
    CLEAR_OVERRIDE,
    SELF_MAILBOX,
    WEEKDAYS,
    AgentFeature,
    Announce,
    Attendant,
    Back,
    CallbackOffer,
    DateRule,
    Department,
    DialByExtension,
    DialByName,
    Disconnect,
    ExtensionEntry,
    File,
    Fragment,
    HolidaySet,
    MailboxMenu,
    MainMenu,
    Menu,
    Operator,
    Prompt,
    PublicHolidays,
    Queue,
    QueueAgent,
    Repeat,
    Route,
    SetLanguage,
    SetOverride,
    Silence,
    Speech,
    Text,
    ToAttendant,
    ToDepartment,
    ToExternal,
    ToMenu,
    ToQueue,
    ToUser,
    ToVoicemail,
    User,
    VoicemailBox,
    frozen_map,
)

_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
#: The actions written as one word, by that word (each made only when written).
_SIMPLE_ROUTES: dict[str, Callable[[PathKey], Route]] = {
    "back": Back, "main": MainMenu, "repeat": Repeat, "operator": Operator,
    "disconnect": lambda path: Disconnect(None, path),
    "dial_by_name": lambda path: DialByName(path=path),
    "dial_by_extension": lambda path: DialByExtension(path=path),
}
#: Where a menu's defaults are read from (one Menu, not one per menu parsed).
_MENU_DEFAULTS = Menu("", Prompt("", ()), {})
_LANG_RE = re.compile(r"^[a-z]{2,3}-[A-Z]{2}$")


def _suggest(word: str, known: list[str] | tuple[str, ...] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=3)
    return f"did you mean {', '.join(close)}?" if close else ""


class Parser:
    """Builds model objects from a schema-valid document, collecting diagnostics."""

    def __init__(self, sources: SourceMap, root: Path, country: str | None = None) -> None:
        self.sources = sources
        self.root = root
        #: The country national numbers belong to (:mod:`attendant.numbers`).
        self.country = country
        self.diags: list[Diagnostic] = []
        #: Where every prompt and fragment was written, for errors found when rendering audio.
        self.prompt_sites = PromptSites(sources)

    def error(self, path: PathKey, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.diags.append(self.sources.diag(path, message, hint, at_key=at_key))

    def warn(self, path: PathKey, message: str, hint: str = "") -> None:
        self.diags.append(self.sources.diag(path, message, hint, severity=Severity.WARNING))

    # --- prompts ---------------------------------------------------------------

    def prompt(self, raw: Any, path: PathKey) -> Prompt:
        pid = ".".join(map(str, path))
        self._site((pid, None, None), path)
        if isinstance(raw, dict) and raw and all(_LANG_RE.match(k) for k in raw):
            variants = tuple(
                (lang, self.fragments(value, (*path, lang), lang)) for lang, value in raw.items()
            )
            for lang, value in raw.items():
                self._fragment_sites(pid, lang, value, (*path, lang))
            return Prompt(pid, variants)
        self._fragment_sites(pid, None, raw, path)
        return Prompt(pid, ((None, self.fragments(raw, path, None)),))

    def _site(self, key: PromptSiteKey, path: PathKey) -> None:
        self.prompt_sites.add(key, path)

    def _fragment_sites(self, pid: str, lang: str | None, raw: Any, path: PathKey) -> None:
        if isinstance(raw, list):
            for i in range(len(raw)):
                self._site((pid, lang, i), (*path, i))
        else:
            self._site((pid, lang, 0), path)

    def fragments(self, raw: Any, path: PathKey, language: str | None) -> tuple[Fragment, ...]:
        if isinstance(raw, list):
            return tuple(self.fragment(item, (*path, i), language) for i, item in enumerate(raw))
        return (self.fragment(raw, path, language),)

    def fragment(self, raw: Any, path: PathKey, language: str | None) -> Fragment:
        if isinstance(raw, str):
            return Text(raw, language)
        if "text" in raw:
            return Text(raw["text"], raw.get("language", language), raw.get("voice"))
        if "silence" in raw:
            return Silence(float(raw["silence"]))
        file = str(raw["file"])
        self.check_audio_file(file, (*path, "file"))
        return File(file)

    def check_audio_file(self, file: str, path: PathKey) -> None:
        """Report an audio file that is missing, a folder, or not a usable name."""
        where = f"paths are relative to the configuration's folder ({display_path(self.root)})"
        try:
            target = (self.root / file).resolve()
            if target.is_file():
                return
            if target.is_dir():
                self.error(path, f'audio file "{file}" is a folder', f"{where}; name a file")
                return
            parent = target.parent
            near = sorted(p.name for p in parent.iterdir()) if parent.is_dir() else []
        except (OSError, ValueError):  # NUL bytes, unreadable folders, names too long
            self.error(path, f'audio file "{file}" is not a usable file name',
                       "write a path such as prompts/welcome.wav")
            return
        hint = _suggest(target.name, near) or (
            f"{where}; record the file or point to an existing one"
        )
        self.error(path, f'audio file "{file}" does not exist', hint)

    def speech(self, raw: dict[str, Any] | None) -> Speech:
        """The ``speech:`` section (engines are checked when prompts are built)."""
        if raw is None:
            return Speech()
        fallback = raw.get("fallback", "none")
        music = raw.get("music_on_hold")
        if music is not None:
            self.check_audio_file(music, ("speech", "music_on_hold"))
        return Speech(engine=raw.get("engine", "espeak"),
                      fallback=None if fallback == "none" else fallback,
                      voices=frozen_map(raw.get("voices") or {}),
                      max_prompt_seconds=float(raw.get("max_prompt_seconds", 120)),
                      music_on_hold=music, path=("speech",))

    def optional_prompt(self, raw: Any, path: PathKey) -> Prompt | None:
        return None if raw is None else self.prompt(raw, path)

    # --- routes ----------------------------------------------------------------

    def route(self, raw: Any, path: PathKey) -> Route:
        if isinstance(raw, str):
            return _SIMPLE_ROUTES[raw](path)
        if "menu" in raw:
            return ToMenu(raw["menu"], path)
        if "agent" in raw:  # before "queue": {agent: opt_in, queue: sales}
            return AgentFeature(raw["agent"], raw.get("queue"), path)
        if "mailbox" in raw:
            box = raw["mailbox"]
            return MailboxMenu(None if box == SELF_MAILBOX else box, path)
        if "override" in raw:
            name = raw["override"]
            return SetOverride(None if name == CLEAR_OVERRIDE else name, raw.get("attendant"),
                               path)
        if "user" in raw:
            return ToUser(raw["user"],
                          self.optional_route(raw.get("fallback"), (*path, "fallback")),
                          raw.get("mode", "bridge"), raw.get("ring_seconds"), path)
        if "department" in raw:
            return ToDepartment(raw["department"],
                                self.optional_route(raw.get("fallback"), (*path, "fallback")),
                                raw.get("mode", "bridge"), raw.get("ring_seconds"), path)
        if "external" in raw:
            return ToExternal(numbers.number(raw["external"], self.country),
                              self.optional_route(raw.get("fallback"), (*path, "fallback")),
                              raw.get("mode", "bridge"), raw.get("ring_seconds"), path)
        if "queue" in raw:
            return ToQueue(raw["queue"], raw.get("priority", 0), path)
        if "attendant" in raw:
            return ToAttendant(raw["attendant"], path)
        if "voicemail" in raw:
            return ToVoicemail(raw["voicemail"], path)
        if "announcement" in raw:
            then = self.route(raw.get("then", "repeat"), (*path, "then"))
            return Announce(self.prompt(raw["announcement"], (*path, "announcement")), then,
                            raw.get("barge_in", True), path)
        if "disconnect" in raw:
            return Disconnect(self.prompt(raw["disconnect"], (*path, "disconnect")), path)
        if "dial_by_name" in raw:
            spec = raw["dial_by_name"] or {}
            return DialByName(spec.get("match", "either"), spec.get("min_digits", 3),
                              spec.get("max_matches", 5),
                              self.optional_prompt(spec.get("prompt"),
                                                   (*path, "dial_by_name", "prompt")), path)
        if "dial_by_extension" in raw:
            return DialByExtension(self.extension_entry(raw["dial_by_extension"] or {},
                                                        (*path, "dial_by_extension")), path)
        return SetLanguage(raw["language"], self.route(raw["then"], (*path, "then")), path)

    def optional_route(self, raw: Any, path: PathKey) -> Route | None:
        return None if raw is None else self.route(raw, path)

    def extension_entry(self, raw: dict[str, Any], path: PathKey) -> ExtensionEntry:
        return ExtensionEntry(raw.get("length"), raw.get("terminator", "#"),
                              self.optional_prompt(raw.get("prompt"), (*path, "prompt")))

    # --- menus -----------------------------------------------------------------

    def menu(self, name: str, raw: dict[str, Any], path: PathKey) -> Menu:
        options = {
            key: self.route(value, (*path, "options", key))
            for key, value in (raw.get("options") or {}).items()
        }
        dialing = raw.get("extension_dialing", False)
        entry = None
        if dialing is True:
            entry = ExtensionEntry()
        elif isinstance(dialing, dict):
            entry = self.extension_entry(dialing, (*path, "extension_dialing"))
        defaults = _MENU_DEFAULTS
        return Menu(
            name=name,
            prompt=self.prompt(raw["prompt"], (*path, "prompt")),
            options=frozen_map(options),
            extension_dialing=entry,
            timeout=float(raw.get("timeout", defaults.timeout)),
            inter_digit_timeout=float(raw.get("inter_digit_timeout", defaults.inter_digit_timeout)),
            max_invalid=raw.get("max_invalid", defaults.max_invalid),
            max_timeouts=raw.get("max_timeouts", defaults.max_timeouts),
            on_no_input=self.route(raw.get("on_no_input", "repeat"), (*path, "on_no_input")),
            on_invalid=self.route(raw.get("on_invalid", "repeat"), (*path, "on_invalid")),
            on_max=self.optional_route(raw.get("on_max"), (*path, "on_max")),
            on_max_invalid=self.optional_route(raw.get("on_max_invalid"),
                                               (*path, "on_max_invalid")),
            on_max_timeouts=self.optional_route(raw.get("on_max_timeouts"),
                                                (*path, "on_max_timeouts")),
            invalid_prompt=self.optional_prompt(raw.get("invalid_prompt"),
                                                (*path, "invalid_prompt")),
            no_input_prompt=self.optional_prompt(raw.get("no_input_prompt"),
                                                 (*path, "no_input_prompt")),
            barge_in=raw.get("barge_in", True),
            repeat_key=raw.get("repeat_key", "*"),
            back_key=raw.get("back_key", "#"),
            path=path,
        )

    # --- attendants and schedules ---------------------------------------------

    def attendant(self, key: str, raw: dict[str, Any], path: PathKey) -> Attendant:
        tz = raw["timezone"]
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.error((*path, "timezone"), f'unknown time zone "{tz}"',
                       _suggest(tz, available_timezones())
                       or "use an IANA name such as Europe/Paris or America/New_York")
        hours = None
        if "hours" in raw:
            hours = self.hours(raw["hours"] or {}, (*path, "hours"))
        after = self.optional_route(raw.get("after_hours"), (*path, "after_hours"))
        if hours is not None and after is None and any(
            day != ((0, 1440),) for day in hours
        ):
            self.error((*path, "hours"), "business hours are set but after_hours is not",
                       "add after_hours: (for example {voicemail: general}) so callers outside "
                       "these hours are answered", at_key=True)
        holidays = tuple(
            self.holiday_set(item, (*path, "holidays", i))
            for i, item in enumerate(raw.get("holidays") or [])
        )
        self.overlapping_holidays(holidays)
        return Attendant(
            key=key,
            name=raw["name"],
            timezone=tz,
            business_hours=self.route(raw["business_hours"], (*path, "business_hours")),
            after_hours=after,
            answers=tuple(numbers.number(str(a), self.country) for a in raw.get("answers") or ()),
            languages=tuple(raw.get("languages") or ("en-US",)),
            operator=self.optional_route(raw.get("operator"), (*path, "operator")),
            hours=hours,
            holidays=holidays,
            overrides=frozen_map(self.overrides(raw.get("overrides") or {},
                                                (*path, "overrides"))),
            override_by=tuple(raw.get("override_by") or ()),
            path=path,
        )

    def overrides(self, raw: dict[str, Any], path: PathKey) -> dict[str, Route]:
        found = {}
        for name, action in raw.items():
            if name in (*BUILT_IN_OVERRIDES, CLEAR_OVERRIDE):
                self.error((*path, name), f'override "{name}" is built in' if name !=
                           CLEAR_OVERRIDE else 'an override cannot be named "clear"',
                           f'every attendant has "closed" (its after_hours, or goodbye) and '
                           f'"open" (its business_hours); give this one another name, e.g. '
                           f'"{name}-now"', at_key=True)
                continue
            found[name] = self.route(action, (*path, name))
        return found

    def hours(self, raw: dict[str, Any], path: PathKey) -> tuple[tuple[tuple[int, int], ...], ...]:
        week: list[tuple[tuple[int, int], ...]] = []
        for day in WEEKDAYS:
            value = raw.get(day)
            texts: list[str] = value if isinstance(value, list) else []
            ranges: list[tuple[int, int, int]] = []
            for i, text in enumerate(texts):
                item_path = (*path, day, i)
                match = _RANGE_RE.match(text)
                assert match is not None  # the schema's pattern guarantees the shape
                h1, m1, h2, m2 = (int(g) for g in match.groups())
                bad = [t for t, (h, m, last) in zip(text.split("-"), ((h1, m1, False),
                                                                     (h2, m2, True)), strict=True)
                       if h > 24 or m > 59 or (h == 24 and (m or not last))]
                if bad:
                    self.error(item_path, f'"{bad[0]}" in "{text}" is not a time of day',
                               "hours run from 00:00 to 24:00 (24:00 only as an end), "
                               "minutes from 00 to 59")
                    continue
                start, end = h1 * 60 + m1, h2 * 60 + m2
                if end <= start:
                    self.error(item_path, f'"{text}" ends before it starts',
                               "for hours past midnight, end this day at 24:00 and start the "
                               "next day at 00:00")
                    continue
                ranges.append((start, end, i))
            ranges.sort()
            for (_s1, e1, i1), (s2, _e2, i2) in itertools.pairwise(ranges):
                if s2 < e1:
                    self.error((*path, day, i2),
                               f'"{texts[i2]}" overlaps "{texts[i1]}" on {day}',
                               "merge the two ranges or make them follow each other")
            week.append(tuple((s, e) for s, e, _ in ranges))
        return tuple(week)

    def holiday_set(self, raw: dict[str, Any], path: PathKey) -> HolidaySet:
        rules = []
        for i, text in enumerate(raw.get("dates") or []):
            rule = self.date_rule(str(text), (*path, "dates", i))
            if rule is not None:
                rules.append(rule)
        public = None
        if "public" in raw:
            public = self.public_holidays(raw["public"], (*path, "public"))
        return HolidaySet(raw["name"], self.route(raw["flow"], (*path, "flow")), tuple(rules),
                          public, path)

    def date_rule(self, text: str, path: PathKey) -> DateRule | None:
        parts = text.split("..")
        parsed = []
        for part in parts:
            bits = [int(b) for b in part.split("-")]
            year, month, day = (bits if len(bits) == 3 else [0, *bits])
            problem = _date_problem(year, month, day)
            if problem is not None:
                self.error(path, f'"{part}" is not a date: {problem[0]}', problem[1])
                return None
            parsed.append((year, month, day))
        start, end = parsed[0], parsed[-1]
        if (start[0] == 0) != (end[0] == 0):
            self.error(path, f'"{text}" mixes a yearly date with a dated one',
                       "use YYYY-MM-DD..YYYY-MM-DD, or MM-DD..MM-DD for every year")
            return None
        if start[0] and end < start:
            self.error(path, f'"{text}" ends before it starts', "swap the two dates")
            return None
        return DateRule(start, end, text)

    def public_holidays(self, raw: dict[str, Any], path: PathKey) -> PublicHolidays | None:
        import holidays  # the package is large; only configurations that use it pay for it

        country, subdivision = raw["country"], raw.get("subdivision")
        supported = holidays.list_supported_countries()
        if country not in supported:
            self.error((*path, "country"), f'no public holidays known for country "{country}"',
                       _suggest(country, set(supported))
                       or "use an ISO 3166 code such as US, GB, FR or DE")
            return None
        if subdivision is not None and subdivision not in supported[country]:
            known = ", ".join(supported[country][:30]) or "none"
            self.error((*path, "subdivision"),
                       f'"{subdivision}" is not a subdivision of {country}',
                       f"known subdivisions: {known}")
            return None
        return PublicHolidays(country, subdivision)

    def overlapping_holidays(self, sets: tuple[HolidaySet, ...]) -> None:
        seen: dict[tuple[tuple[int, int, int], tuple[int, int, int]], str] = {}
        for hs in sets:
            for i, rule in enumerate(hs.dates):
                key = (rule.start, rule.end)
                if key in seen:
                    self.warn((*hs.path, "dates", i),
                              f'"{rule.text}" is already in holiday set "{seen[key]}"; '
                              "the first set listed wins",
                              "remove the date from one of the sets")
                else:
                    seen[key] = hs.name

    # --- directory -------------------------------------------------------------

    def user(self, key: str, raw: dict[str, Any], path: PathKey,
             personal_mailboxes: bool = True) -> User:
        name = raw["name"]
        words = name.split()
        mailbox = raw.get("mailbox", personal_mailboxes)
        box = raw.get("voicemail")
        if box == SELF_MAILBOX:
            box = key  # the box named like the user (checks.py: it must exist)
        return User(
            key=key,
            name=name,
            first_name=raw.get("first_name", words[0] if words else ""),
            last_name=raw.get("last_name", words[-1] if len(words) > 1 else ""),
            extension=raw.get("extension"),
            sip=raw.get("sip"),
            voicemail=box,
            departments=tuple(raw.get("departments") or ()),
            name_prompt=self.optional_prompt(raw.get("name_prompt"), (*path, "name_prompt")),
            email=raw.get("email"),
            dial_by_name=raw.get("dial_by_name", True),
            phones=tuple(numbers.number(str(p), self.country) for p in raw.get("phones") or ()),
            path=path,
            pin=raw.get("pin"),
            mailbox=mailbox,
        )

    def personal_box(self, user: User, boxes: dict[str, VoicemailBox],
                     defaults: dict[str, Any]) -> None:
        """Give ``user`` the mailbox named like them, with the directory's
        ``mailbox_defaults``, unless ``voicemail:`` declares it (then that declaration,
        with its greeting and limits, is theirs: the user is one of its owners). Its
        mailbox number is the user's extension unless the declaration gives one."""
        if not user.mailbox:
            return
        declared = boxes.get(user.key)
        if declared is not None:
            owners = declared.owners if user.key in declared.owners else (
                user.key, *declared.owners)
            boxes[user.key] = replace(declared, owners=owners,
                                      number=declared.number or user.extension)
            return
        box = self.voicemail_box(user.key, {"name": user.name, **defaults},
                                 ("directory", "mailbox_defaults"))
        boxes[user.key] = replace(box, owners=(user.key,),
                                  email=(user.email,) if user.email else (),
                                  number=user.extension, path=user.path)

    def department(self, key: str, raw: dict[str, Any], path: PathKey) -> Department:
        return Department(key, raw["name"], tuple(raw.get("members") or ()),
                          raw.get("ring", "simultaneous"), raw.get("ring_seconds", 30),
                          raw.get("extension"), raw.get("voicemail"), path)

    def queue(self, key: str, raw: dict[str, Any], path: PathKey) -> Queue:
        agents = tuple(
            QueueAgent("user", a["user"]) if "user" in a else QueueAgent("department",
                                                                          a["department"])
            for a in raw.get("agents") or ()
        )
        leave, callback = raw.get("leave_key"), raw.get("callback_key")
        if leave is not None and leave == callback:
            self.error((*path, "callback_key"),
                       f'callback_key "{callback}" is also the leave_key',
                       "give leaving the queue and asking for a callback different keys")
        level, max_wait = raw.get("service_level_seconds"), raw.get("max_wait", 1200)
        if level is not None and 0 < max_wait < level:
            # Callers leave at max_wait, so every answer would count as in time: 100 %.
            self.warn((*path, "service_level_seconds"),
                      f"service_level_seconds {level} is longer than max_wait {max_wait}: "
                      "every answered caller would count as answered in time",
                      f"use a value below {max_wait}, the most a caller can wait")
        if raw.get("no_agents") == "act" and "on_no_agents" not in raw:
            self.warn((*path, "no_agents"),
                      "no_agents: act without on_no_agents says goodbye to callers at once",
                      "add on_no_agents: (for example {voicemail: general})")
        return Queue(
            key=key, name=raw["name"], agents=agents,
            routing=raw.get("routing", "attendant"),
            alert_seconds=raw.get("alert_seconds", 30),
            wrap_up_seconds=raw.get("wrap_up_seconds", 0),
            max_callers=raw.get("max_callers", 50),
            max_wait=raw.get("max_wait", 1200),
            service_level_seconds=raw.get("service_level_seconds", 20),
            greeting=self.optional_prompt(raw.get("greeting"), (*path, "greeting")),
            music=self.optional_prompt(raw.get("music"), (*path, "music")),
            announce_interval=raw.get("announce_interval", 60),
            on_overflow=self.optional_route(raw.get("on_overflow"), (*path, "on_overflow")),
            on_timeout=self.optional_route(raw.get("on_timeout"), (*path, "on_timeout")),
            on_no_agents=self.optional_route(raw.get("on_no_agents"), (*path, "on_no_agents")),
            mode=raw.get("mode", "bridge"),
            announce_position=raw.get("announce_position", True),
            announce_wait=raw.get("announce_wait", True),
            no_agents=raw.get("no_agents", "act" if "on_no_agents" in raw else "queue"),
            miss_limit=raw.get("miss_limit", 3),
            leave_key=raw.get("leave_key"),
            leave_to=self.optional_route(raw.get("leave_to"), (*path, "leave_to")),
            callback_key=raw.get("callback_key"),
            callback_offer=_callback_offer(raw.get("callback_offer")),
            callback_retries=raw.get("callback_retries", 0),
            callback_retry_seconds=raw.get("callback_retry_seconds", 300),
            callback_failed_email=tuple(raw.get("callback_failed_email") or ()),
            callback_numbers=tuple(dict.fromkeys(self.callback_prefixes(
                raw.get("callback_numbers") or [], (*path, "callback_numbers")))),
            path=path,
        )

    def callback_prefixes(self, written: list[str], path: PathKey) -> list[str]:
        found = []
        for i, text in enumerate(written):
            start = numbers.prefix(text, self.country)
            if start is None or start in ("", "+"):
                self.error((*path, i), f'"{text}" is not the start of a phone number',
                           'write the digits callbacks may start with, e.g. "+33" or "+1 212"'
                           + ("" if self.country else
                              "; national forms such as 06 need country: at the top"))
                continue
            found.append(start)
        return found

    def external_numbers(self, written: list[str], path: PathKey) -> tuple[str, ...]:
        """The allow-list in comparable form: whole numbers and prefixes (``+1555*``)."""
        found = []
        for i, text in enumerate(written):
            if text.rstrip().endswith("*"):
                start = numbers.prefix(text, self.country)
                if start is None or start in ("", "+"):
                    self.error((*path, i), f'"{text}" would allow every number',
                               'give the start of the numbers, e.g. "+1 555*"')
                    continue
                found.append(start + "*")
            else:
                found.append(numbers.number(text, self.country))
        return tuple(dict.fromkeys(found))

    def voicemail_box(self, key: str, raw: dict[str, Any], path: PathKey) -> VoicemailBox:
        retention = raw.get("retention_days") or {}
        return VoicemailBox(key, raw["name"],
                            self.optional_prompt(raw.get("greeting"), (*path, "greeting")),
                            raw.get("max_seconds", 180), tuple(raw.get("owners") or ()),
                            tuple(raw.get("email") or ()), path,
                            max_messages=raw.get("max_messages", 100),
                            max_mb=raw.get("max_mb"),
                            when_full=self.optional_route(raw.get("when_full"),
                                                          (*path, "when_full")),
                            number=raw.get("number"),
                            keep_saved_days=retention.get("saved"),
                            keep_deleted_days=retention.get("deleted", 30))


def _date_problem(year: int, month: int, day: int) -> tuple[str, str] | None:
    """Why year-month-day (year 0: every year) is no date, and what to write; None if it is."""
    form = "YYYY-MM-DD, or MM-DD for every year"
    if not 1 <= month <= 12:
        if 1 <= day <= 12 and month <= 31:  # day first, as most of the world writes it
            swapped = f"{year:04d}-{day:02d}-{month:02d}" if year else f"{day:02d}-{month:02d}"
            return (f"there is no month {month}",
                    f"dates are month before day: for {month} {calendar.month_name[day]} "
                    f"write {swapped}")
        return f"there is no month {month}", f"write dates as {form}"
    # Every year: 2000 is a leap year, so 02-29 is allowed (it is skipped in other years).
    last = calendar.monthrange(year or 2000, month)[1]
    if not 1 <= day <= last:
        days = (f"{calendar.month_name[month]} {year} has {last} days" if year
                else f"{calendar.month_name[month]} has at most {last} days")
        return days, f"use a day from 1 to {last}"
    return None


def _callback_offer(raw: dict[str, Any] | None) -> CallbackOffer | None:
    """``callback_offer:``, its conditions (0: not set)."""
    if not raw:
        return None
    return CallbackOffer(after_seconds=int(raw.get("after_seconds", 0)),
                         callers_waiting=int(raw.get("callers_waiting", 0)),
                         calls_per_agent=float(raw.get("calls_per_agent", 0)))
