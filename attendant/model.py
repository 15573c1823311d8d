"""The menu language as frozen dataclasses: prompts, routes, menus, directory, flow.

These types are both the validated model of a configuration and, with the
indexes :mod:`attendant.config.compiler` adds, the compiled :class:`Flow` the engine
runs. Nothing here does I/O. Every type is frozen and holds only tuples and
read-only mappings, so one Flow can be shared by every call in a process.

A *route* is what a key press (or a timeout, or a failed transfer) leads to:
go to a menu, transfer to a user, take a voicemail... The engine's *actions*
(:mod:`attendant.engine.actions`) are a different thing: instructions to the media
adapter (play this, start that timer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from attendant.engine.tables import EngineTables

K = TypeVar("K")
V = TypeVar("V")
PathKey = tuple[str | int, ...]
_NOWHERE: PathKey = ()


def frozen_map(items: Mapping[K, V] | None = None) -> Mapping[K, V]:
    """A read-only view of a fresh dict, for fields of frozen dataclasses."""
    return MappingProxyType(dict(items or {}))


# --- prompts -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """Words to speak with text-to-speech; ``language`` None means the call's default."""

    text: str
    language: str | None = None
    voice: str | None = None


@dataclass(frozen=True, slots=True)
class File:
    """A recorded audio file, relative to the configuration's folder."""

    path: str


@dataclass(frozen=True, slots=True)
class Silence:
    """A pause."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Digits:
    """Digits read one by one (an extension, a position), made at run time."""

    digits: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Number:
    """A number read as a number ("twelve"), made at run time."""

    value: int
    language: str | None = None


Fragment = Text | File | Silence | Digits | Number


def localise(fragment: Fragment, language: str) -> Fragment:
    """Text and digits written without a language are spoken in ``language``, the language
    of the variant they belong to (or of the caller, for names read at run time)."""
    # Direct construction: dataclasses.replace is several times slower, and the engine
    # localises on every prompt it has not met before.
    if isinstance(fragment, Text) and fragment.language is None:
        return Text(fragment.text, language, fragment.voice)
    if isinstance(fragment, Digits) and fragment.language is None:
        return Digits(fragment.digits, language)
    return fragment


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something callers hear, with a variant per language.

    ``variants`` maps a language (or ``None`` for "any language") to fragments.
    ``id`` is stable across builds (derived from where the prompt was written), so
    rendered audio can be cached and looked up by it.
    """

    id: str
    variants: tuple[tuple[str | None, tuple[Fragment, ...]], ...]

    def variant(self, language: str,
                default_language: str) -> tuple[str | None, str, tuple[Fragment, ...]]:
        """What a caller speaking ``language`` hears: (variant key, the language it is spoken
        in, its fragments). The one rule, used by the engine, the prompt builder and the
        checks: the caller's language, else the attendant's default, else the variant
        without a language (spoken in the default), else the first variant."""
        # A prompt has one or two variants: scanning them beats building a dict per call.
        for wanted in (language, default_language):
            for lang, fragments in self.variants:
                if lang == wanted:
                    return lang, wanted, fragments
        for lang, fragments in self.variants:
            if lang is None:
                return None, default_language, fragments
        first, fragments = self.variants[0]
        return first, first or default_language, fragments

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this prompt has an explicit variant for."""
        return tuple(lang for lang, _ in self.variants if lang is not None)


# --- routes: what a choice leads to -------------------------------------------


@dataclass(frozen=True, slots=True)
class ToMenu:
    """Go to another menu (it remembers where the caller came from, for back)."""

    menu: str
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Back:
    """Return to the previous menu (repeats the menu when there is none)."""

    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MainMenu:
    """Return to the menu the call started in."""

    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Repeat:
    """Play the current menu again."""

    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Operator:
    """Go wherever the attendant's ``operator`` points."""

    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


TransferMode = Literal["bridge", "refer"]


@dataclass(frozen=True, slots=True)
class ToUser:
    """Ring a user from the directory."""

    user: str
    fallback: Route | None = None
    mode: TransferMode = "bridge"
    ring_seconds: int | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToDepartment:
    """Ring a department (its members, as the department says)."""

    department: str
    fallback: Route | None = None
    mode: TransferMode = "bridge"
    ring_seconds: int | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToExternal:
    """Dial an outside number (only numbers on the allow-list)."""

    number: str
    fallback: Route | None = None
    mode: TransferMode = "bridge"
    ring_seconds: int | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToQueue:
    """Hand the caller to a call queue."""

    queue: str
    priority: int = 0
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToAttendant:
    """Continue in another attendant (its schedule decides where)."""

    attendant: str
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    """Take a message for a voicemail box."""

    box: str
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Announce:
    """Play an announcement, then carry on with ``then``."""

    prompt: Prompt
    then: Route
    barge_in: bool = True
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Say goodbye (the system goodbye unless a prompt is given) and hang up."""

    prompt: Prompt | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


NameMatch = Literal["first", "last", "either"]


@dataclass(frozen=True, slots=True)
class DialByName:
    """Spell a name on the keypad, confirm among matches, transfer."""

    match: NameMatch = "either"
    min_digits: int = 3
    max_matches: int = 5
    prompt: Prompt | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ExtensionEntry:
    """How extensions are typed: a fixed length, or ended by a terminator key."""

    length: int | None = None
    terminator: str = "#"
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class DialByExtension:
    """Type an extension, transfer to its owner."""

    entry: ExtensionEntry = ExtensionEntry()
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """Switch the caller's language, then carry on with ``then``."""

    language: str
    then: Route
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


AgentCommandName = Literal["sign_in", "sign_out", "opt_in", "opt_out"]


@dataclass(frozen=True, slots=True)
class AgentFeature:
    """An agent's feature code: sign in or out of every queue, or opt in or out of ``queue``.

    The caller is matched to a directory user (extension, ``sip:`` user or ``phones``);
    see :func:`attendant.engine.agents.agent_for_caller`.
    """

    command: AgentCommandName
    queue: str | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class SetOverride:
    """Staff switch a line from a phone (after their PIN, unless the call is trusted):
    ``name`` is ``closed``, ``open`` or one of the attendant's ``overrides``; None clears.
    ``attendant`` None: the attendant the call reached."""

    name: str | None
    attendant: str | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MailboxMenu:
    """The mailbox menu: a box's owner listens to its messages by phone, after its PIN
    (see :mod:`attendant.engine.mailbox`). ``box`` None (``mailbox: self``): the caller's
    own mailbox when their number is a user's, else the mailbox number is asked."""

    box: str | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


Route = (
    ToMenu | Back | MainMenu | Repeat | Operator | ToUser | ToDepartment | ToExternal | ToQueue
    | ToAttendant | ToVoicemail | Announce | Disconnect | DialByName | DialByExtension
    | SetLanguage | AgentFeature | SetOverride | MailboxMenu
)

#: Routes that hand the caller to someone or something outside the menus.
Handover = ToUser | ToDepartment | ToExternal | ToQueue | ToVoicemail


# --- menus ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Menu:
    """A prompt and what each key does, with its timeouts and retry rules."""

    name: str
    prompt: Prompt
    options: Mapping[str, Route]
    extension_dialing: ExtensionEntry | None = None
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    max_invalid: int = 3
    max_timeouts: int = 3
    on_no_input: Route = Repeat()
    on_invalid: Route = Repeat()
    on_max: Route | None = None
    #: After ``max_invalid`` invalid entries; None: ``on_max``.
    on_max_invalid: Route | None = None
    #: After ``max_timeouts`` timeouts in a row; None: ``on_max``.
    on_max_timeouts: Route | None = None
    invalid_prompt: Prompt | None = None
    no_input_prompt: Prompt | None = None
    barge_in: bool = True
    repeat_key: str | None = "*"
    back_key: str | None = "#"
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)

    def after_max(self, kind: Literal["invalid", "timeouts"]) -> Route | None:
        """The route written for one maximum (None: the default, operator or goodbye)."""
        specific = self.on_max_invalid if kind == "invalid" else self.on_max_timeouts
        return specific if specific is not None else self.on_max

    def max_routes(self) -> tuple[Route, ...]:
        """The routes written for the maxima that can be taken, each once."""
        found: list[Route] = []
        for route in (self.after_max("invalid"), self.after_max("timeouts")):
            if route is not None and route not in found:
                found.append(route)
        return tuple(found)

    def choices(self) -> Mapping[str, Route]:
        """Every key sequence that does something here, defaults included."""
        table: dict[str, Route] = {}
        if self.repeat_key:
            table[self.repeat_key] = Repeat()
        if self.back_key:
            table[self.back_key] = Back()
        table.update(self.options)
        return table


# --- schedules -----------------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class DateRule:
    """One holiday date rule: a day or range, once (``year`` set) or every year."""

    start: tuple[int, int, int]  # (year or 0, month, day)
    end: tuple[int, int, int]
    text: str


@dataclass(frozen=True, slots=True)
class PublicHolidays:
    """A country's (and region's) public holidays, as the holidays package knows them."""

    country: str
    subdivision: str | None = None


@dataclass(frozen=True, slots=True)
class HolidaySet:
    """Named dates that switch the attendant to ``flow``."""

    name: str
    flow: Route
    dates: tuple[DateRule, ...] = ()
    public: PublicHolidays | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Attendant:
    """A main line: when it is open, in which languages, and where calls start."""

    key: str
    name: str
    timezone: str
    business_hours: Route
    after_hours: Route | None = None
    answers: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en-US",)
    operator: Route | None = None
    #: Opening minutes per weekday (0 = Monday): ((start, end), ...) in minutes from midnight.
    #: ``None`` means open around the clock.
    hours: tuple[tuple[tuple[int, int], ...], ...] | None = None
    holidays: tuple[HolidaySet, ...] = ()
    #: Named flows staff can switch the line to now (``attendant override set``), besides
    #: the built-in ``closed`` and ``open``.
    overrides: Mapping[str, Route] = field(default_factory=frozen_map)
    #: Users who may set an override from a phone, with their PIN.
    override_by: tuple[str, ...] = ()
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)

    @property
    def default_language(self) -> str:
        """The language callers hear until they choose another."""
        return self.languages[0]

    def override_names(self) -> tuple[str, ...]:
        """Every override this attendant can be switched to: closed, open, its own."""
        return (*BUILT_IN_OVERRIDES, *self.overrides)

    def override_route(self, name: str) -> Route | None:
        """Where calls start under override ``name``; None for a name it does not have."""
        if name == "closed":
            return self.after_hours if self.after_hours is not None else Disconnect()
        if name == "open":
            return self.business_hours
        return self.overrides.get(name)


#: No attendant overridden (``CallStarted.overrides``' default).
NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})
#: Overrides every attendant has: ``closed`` (its after-hours flow, or goodbye) and
#: ``open`` (its business-hours flow, whatever the clock and the holidays say).
BUILT_IN_OVERRIDES = ("closed", "open")
#: What the ``override`` action writes to end an override (so no override may be named so).
CLEAR_OVERRIDE = "clear"


# --- directory, queues, voicemail ----------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    """A person calls can be transferred to."""

    key: str
    name: str
    first_name: str = ""
    last_name: str = ""
    extension: str | None = None
    sip: str | None = None
    voicemail: str | None = None
    departments: tuple[str, ...] = ()
    name_prompt: Prompt | None = None
    email: str | None = None
    dial_by_name: bool = True
    #: Caller numbers or SIP users of this person's phones (agent feature codes match them).
    phones: tuple[str, ...] = ()
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)
    #: The scrypt hash of the feature-code PIN (:mod:`attendant.pins`); None: no PIN.
    pin: str | None = field(default=None, repr=False)
    #: Has a personal mailbox (the voicemail box named like the user).
    mailbox: bool = True


#: What a user's ``voicemail:`` says for their own mailbox.
SELF_MAILBOX = "self"


@dataclass(frozen=True, slots=True)
class Department:
    """A group of users rung together or one after another."""

    key: str
    name: str
    members: tuple[str, ...] = ()
    ring: Literal["simultaneous", "serial"] = "simultaneous"
    ring_seconds: int = 30
    extension: str | None = None
    voicemail: str | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class QueueAgent:
    """An agent entry of a call queue: a user or a whole department."""

    kind: Literal["user", "department"]
    key: str


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """When a queue offers its callback (0: that condition is not set; any set one that
    holds offers it)."""

    #: The caller has waited this long.
    after_seconds: int = 0
    #: At least this many callers were waiting when the caller arrived.
    callers_waiting: int = 0
    #: At least this many callers waiting per available agent when the caller arrived.
    calls_per_agent: float = 0.0


@dataclass(frozen=True, slots=True)
class Queue:
    """A call queue as declared; its behaviour lives in the queue core."""

    key: str
    name: str
    agents: tuple[QueueAgent, ...] = ()
    routing: str = "attendant"
    alert_seconds: int = 30
    wrap_up_seconds: int = 0
    max_callers: int = 50
    max_wait: int = 1200
    #: Callers answered within this many seconds count as answered in time (service level).
    service_level_seconds: int = 20
    greeting: Prompt | None = None
    music: Prompt | None = None
    announce_interval: int = 60
    on_overflow: Route | None = None
    on_timeout: Route | None = None
    on_no_agents: Route | None = None
    #: "bridge": the endpoint stays in the call; "refer": the caller is handed over with REFER.
    mode: TransferMode = "bridge"
    announce_position: bool = True
    announce_wait: bool = True
    #: "queue": callers wait even with no agent signed in; "act": ``on_no_agents`` at once.
    no_agents: Literal["queue", "act"] = "queue"
    #: Missed offers in a row after which an agent is paused (0: never).
    miss_limit: int = 3
    leave_key: str | None = None
    leave_to: Route | None = None
    callback_key: str | None = None
    #: When the callback is offered; None: from the moment the caller joins.
    callback_offer: CallbackOffer | None = None
    #: How many more times an unanswered callback is tried, and the gap before each.
    callback_retries: int = 0
    callback_retry_seconds: int = 300
    #: Who is e-mailed when a callback is given up.
    callback_failed_email: tuple[str, ...] = ()
    #: Number prefixes a callback may dial; empty means the directory's external numbers only.
    callback_numbers: tuple[str, ...] = ()
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VoicemailBox:
    """Where messages are recorded, and who is told about them."""

    key: str
    name: str
    greeting: Prompt | None = None
    max_seconds: int = 180
    owners: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)
    #: Messages kept (not counting deleted ones); a caller finding the box full hears
    #: ``voicemail_full`` and goes to ``when_full`` (None: the call ends).
    max_messages: int = 100
    #: Megabytes of audio kept; None: no limit but the disk's (``serve --min-free-mb``).
    max_mb: float | None = None
    when_full: Route | None = None
    #: The mailbox number owners type to log in by phone (a user's box: their extension).
    number: str | None = None
    #: Days a saved message is kept before it is deleted (None: until its owner deletes it).
    keep_saved_days: int | None = None
    #: Days a deleted message can still be undeleted before its audio is removed.
    keep_deleted_days: int | None = 30


# --- speech --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Speech:
    """How prompts become audio: the ``speech:`` section of a configuration.

    ``engine`` and ``fallback`` name text-to-speech engines known to
    :mod:`attendant.prompts.engines`; ``fallback`` None means "stop and say why"
    when the engine cannot be reached. ``voices`` maps a language to a voice name.
    ``music_on_hold`` replaces the music attendant synthesises.
    """

    engine: str = "espeak"
    fallback: str | None = None
    voices: Mapping[str, str] = field(default_factory=frozen_map)
    max_prompt_seconds: float = 120.0
    #: An audio file (relative to the configuration) replacing the default music on hold.
    music_on_hold: str | None = None
    path: PathKey = field(default=_NOWHERE, compare=False, repr=False)


# --- the whole configuration ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    """A validated, compiled configuration: everything the engine needs, immutable.

    ``names`` and ``extensions`` are the dial-by-name and dial-by-extension
    indexes the compiler builds; ``root`` is the folder file prompts are
    relative to. ``tables`` is not configuration: see its comment.
    """

    root: str
    attendants: Mapping[str, Attendant]
    menus: Mapping[str, Menu]
    users: Mapping[str, User] = field(default_factory=frozen_map)
    departments: Mapping[str, Department] = field(default_factory=frozen_map)
    queues: Mapping[str, Queue] = field(default_factory=frozen_map)
    voicemail: Mapping[str, VoicemailBox] = field(default_factory=frozen_map)
    external_numbers: tuple[str, ...] = ()
    system_prompts: Mapping[str, Prompt] = field(default_factory=frozen_map)
    #: extension -> ("user" | "department", key)
    extensions: Mapping[str, tuple[str, str]] = field(default_factory=frozen_map)
    #: (keypad digits of a first or last name, "first" | "last", user key), for dial by name
    names: tuple[tuple[str, str, str], ...] = ()
    sources: tuple[str, ...] = ()
    speech: Speech = Speech()
    #: The country national numbers belong to (ISO 3166), or None (:mod:`attendant.numbers`).
    country: str | None = None
    #: What the engine reads on every step (each menu's key table, every prompt resolved per
    #: language), made from the fields above when the flow is made, so that no step
    #: recomputes it and nothing writes to a flow afterwards (:mod:`attendant.engine.tables`).
    #: Not configuration: outside ``__init__``, equality, repr and JSON.
    tables: EngineTables = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Imported here: the engine imports this module.
        from attendant.engine.tables import build
        object.__setattr__(self, "tables", build(self))

    def called(self, *candidates: str) -> str:
        """Which of the numbers a call names (the Request-URI's user, the To user...) it is
        for: the first one some attendant answers to, else the first one given."""
        for user in candidates:
            comparable = self.number(user) if user else ""
            if user and any(comparable in a.answers or user == a.key
                            for a in self.attendants.values()):
                return user
        return next((c for c in candidates if c), "")

    def number(self, text: str) -> str:
        """``text`` (a called or calling number) in the form the configuration's numbers
        were compiled to: E.164 for whole numbers, national ones read as :attr:`country`'s."""
        from attendant.numbers import number  # phonenumbers loads only for flows that ask

        return number(text, self.country)

    def voicemail_recipients(self, box: str) -> list[str]:
        """E-mail addresses for voicemail ``box``: its ``email:`` list, then its owners'
        addresses, each once (none for a box the flow does not have)."""
        found = self.voicemail.get(box)
        if found is None:
            return []
        addresses = list(found.email)
        for owner in found.owners:
            user = self.users.get(owner)
            if user is not None and user.email:
                addresses.append(user.email)
        return list(dict.fromkeys(a.strip() for a in addresses if a.strip()))

    def mailbox_numbered(self, number: str) -> str | None:
        """The voicemail box whose mailbox ``number`` this is, if any."""
        return next((key for key, box in self.voicemail.items() if box.number == number),
                    None)

    def attendant_for(self, called: str | None) -> Attendant:
        """The attendant answering ``called`` (the first one when nothing matches)."""
        if called:
            comparable = self.number(called)
            for attendant in self.attendants.values():
                if comparable in attendant.answers:
                    return attendant
            if called in self.attendants:
                return self.attendants[called]
        return next(iter(self.attendants.values()))
