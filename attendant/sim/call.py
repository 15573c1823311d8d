"""The simulator: drive the real engine with a fake clock and a scripted caller.

It is an adapter like the SIP endpoint, only its "media" is a transcript.
Prompts take no fake time: they play until the caller does something. A key
press while a prompt plays interrupts it when the prompt allows barge-in;
otherwise the simulated caller politely waits for the end first. ``wait N``
lets any prompt finish and then lets N seconds pass, firing the engine's
timers in order. Transcripts therefore do not depend on how long rendered
audio is, and stay stable from one build to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from attendant.engine import actions as act
from attendant.engine.agents import AGENT_COMMAND_WORDS
from attendant.engine.events import (
    CallStarted,
    Digit,
    Event,
    GreetingRecorded,
    GreetingSaved,
    Hangup,
    MailboxPinSet,
    PinChecked,
    PromptFinished,
    TimerFired,
    TransferResult,
)
from attendant.engine.machine import step
from attendant.engine.queue_phase import queue_music
from attendant.engine.schedule import local_time, select
from attendant.engine.state import CallState, Phase, initial_state
from attendant.engine.tables import MUSIC_ON_HOLD
from attendant.errors import SimulationError
from attendant.model import Digits, File, Flow, Fragment, Number, Silence, Text
from attendant.pins import verify_pin
from attendant.sim.mailboxes import SimMailbox, greeting_files, mark, open_mailbox

#: Events one caller step may cause before we call it a runaway (a loop that never waits).
MAX_EVENTS_PER_STEP = 500
TRANSFER_OUTCOMES = ("answered", "busy", "no_answer", "unreachable", "rejected")
_TIMER_WORDS = {"input": "no key pressed", "digits": "no more keys", "mailbox": "no key pressed",
                "record": "maximum message length reached"}


def describe_fragment(fragment: Fragment) -> str:
    """How a prompt fragment reads in a transcript."""
    if isinstance(fragment, Text):
        return fragment.text
    if isinstance(fragment, File):
        return f"<file {fragment.path}>"
    if isinstance(fragment, Silence):
        return f"<pause {fragment.seconds:g} s>"
    if isinstance(fragment, Digits):
        return f"<digits {fragment.digits}>"
    assert isinstance(fragment, Number)
    return f"<number {fragment.value}>"


def describe_play(play: act.Play) -> str:
    """A Play as the caller would hear it, one quoted piece per prompt."""
    pieces = []
    for item in play.items:
        if item.prompt_id == MUSIC_ON_HOLD.id:
            pieces.append("<music on hold>")
            continue
        runs = _language_runs(item)
        if len(runs) == 1:
            pieces.append(f'"{" ".join(describe_fragment(f) for f in item.fragments)}"')
            continue
        # A prompt that mixes languages: each part with the language it is spoken in.
        pieces.extend(f'{language} "{" ".join(describe_fragment(f) for f in run)}"'
                      for language, run in runs)
    return " ".join(pieces)


def _language_runs(item: act.Say) -> list[tuple[str, list[Fragment]]]:
    """The fragments of ``item`` in runs of one spoken language (Text may name its own)."""
    runs: list[tuple[str, list[Fragment]]] = []
    for fragment in item.fragments:
        language = (fragment.language if isinstance(fragment, Text) else None) or item.language
        if runs and runs[-1][0] == language:
            runs[-1][1].append(fragment)
        else:
            runs.append((language, [fragment]))
    return runs or [(item.language, [])]


@dataclass
class Simulator:
    """One simulated call. Use :meth:`start`, then caller steps; read :attr:`lines`."""

    flow: Flow
    at: datetime
    caller: str = "+15550000000"
    called: str = ""
    language: str | None = None
    #: The call comes from a trusted source (its caller ID is believed: no PIN asked).
    trusted: bool = False
    state: CallState = field(default_factory=initial_state)
    clock: float = 0.0
    lines: list[str] = field(default_factory=list)
    timers: dict[str, float] = field(default_factory=dict)
    playing: act.Play | act.PlayMessage | None = None
    ringing: act.Transfer | act.EnqueueCall | None = None
    #: When the transfer ringing now gives up unanswered (``ring_seconds``, each
    #: destination in turn for serial ringing), as ``attendant serve`` does.
    ring_due: float | None = None
    #: Prefix of this call's transcript lines (several callers share one transcript).
    label: str = ""
    #: The override set on the attendant (``closed``, ``open`` or one of its own), if any.
    override: str | None = None
    #: Called with every action the engine asks for (the queue simulator listens here).
    on_action: Callable[[Simulator, act.Action], None] | None = None
    #: Voicemail boxes' PINs and messages, for the mailbox menu (a scenario's ``mailboxes:``).
    mailboxes: dict[str, SimMailbox] = field(default_factory=dict)
    #: When the greeting take being recorded began (fake clock).
    _take_started: float = 0.0

    # --- caller steps ----------------------------------------------------------

    def start(self) -> None:
        """Answer the call."""
        attendant = self.flow.attendant_for(self.called)
        local = local_time(attendant, self.at)
        label, _ = select(attendant, self.at, self.override)
        self._say(f"call from {self.caller or 'unknown'} to {attendant.key} ({attendant.name}), "
                  f"{local:%a %Y-%m-%d %H:%M} {attendant.timezone}: {label}")
        for box in self.mailboxes.values():  # message times written as local ones
            box.messages = [replace(m, received=local_time(attendant, m.received))
                            for m in box.messages]
        overrides = {attendant.key: self.override} if self.override else {}
        self._send(CallStarted(self.at, self.caller, self.called, self.language,
                               trusted=self.trusted, overrides=overrides,
                               greetings=greeting_files(self.mailboxes)))

    def press(self, keys: str) -> None:
        """Press keys one after another."""
        for key in keys:
            self._require_live()
            note = ""
            if self.playing is not None:
                if isinstance(self.playing, act.PlayMessage):
                    note = (" (interrupts the message)" if act.StopPlayback() in
                            step(self.flow, self.state, Digit(key))[1] else "")
                elif self.playing.barge_in:
                    note = " (interrupts the prompt)"
                elif not self._taken_now(key):
                    self._finish_prompts()
                    self._require_live()  # the prompt may have been the goodbye
                    note = " (after the prompt, which cannot be interrupted)"
            self._say(f"caller presses {key}{note}")
            before = self.state
            if not self._send(Digit(key)) and self.state == before:
                self.lines[-1] += " (ignored here)"

    def _taken_now(self, key: str) -> bool:
        """Whether the engine acts on ``key`` while the prompt plays (a queue takes keys
        over its music); else a caller must wait for the prompt to end. ``step`` is pure:
        asking it changes nothing."""
        state, actions = step(self.flow, self.state, Digit(key))
        return bool(actions) or state != self.state

    def listen(self) -> None:
        """Let whatever is playing finish."""
        self._require_live()
        self._finish_prompts()

    def wait(self, seconds: float) -> None:
        """Stay silent: prompts finish, then ``seconds`` pass and due timers fire."""
        if seconds < 0:
            raise SimulationError("wait needs a number of seconds of 0 or more")
        self._require_live()
        target = self.clock + seconds
        for _ in range(MAX_EVENTS_PER_STEP):
            self._finish_prompts()
            if self.state.phase is Phase.ENDED:
                return
            due = [(when, name) for name, when in self.timers.items() if when <= target + 1e-9]
            if self.ring_due is not None and self.ring_due <= target + 1e-9:
                due.append((self.ring_due, ""))
            if not due:
                break
            when, name = min(due)
            self.clock = max(self.clock, when)
            if not name:
                self._nobody_answers()
                continue
            del self.timers[name]
            self._send(TimerFired(name))
        self.clock = target

    def run_out(self, limit: float = 4 * 3600.0) -> None:
        """The caller stays silent to the end: prompts finish, timers fire and transfers
        ring out on the fake clock until the call ends or waits on something no clock
        decides (a queue with no agents scripted, a call connected), at most ``limit`` s."""
        end = self.clock + limit
        for _ in range(MAX_EVENTS_PER_STEP):
            if self.ended:
                return
            self._finish_prompts()
            if self.ended:
                return
            if isinstance(self.ringing, act.Transfer) and self.ringing.mode == "refer":
                self.transfer_result("answered")  # handed over: the far end takes it
                continue
            due = [*self.timers.values(), *([self.ring_due] if self.ring_due is not None
                                            else [])]
            if not due or min(due) > end:
                return
            self.wait(max(0.0, min(due) - self.clock))

    def _nobody_answers(self) -> None:
        target = self.ringing
        self.ringing = self.ring_due = None
        if not isinstance(target, act.Transfer):
            return
        self._say(f"{target.display}: no answer")
        self._send(TransferResult(False, "no_answer"))

    def transfer_result(self, outcome: str) -> None:
        """Tell the call how the ringing transfer ended (answered, busy, no_answer ...)."""
        self._require_live()
        if outcome not in TRANSFER_OUTCOMES:
            raise SimulationError(f'unknown transfer outcome "{outcome}"; use one of '
                                  f"{', '.join(TRANSFER_OUTCOMES)}")
        self._finish_prompts()
        self._require_live()
        if self.ringing is None:
            raise SimulationError("nothing is ringing: the caller is not being transferred")
        target = self.ringing
        self.ringing = self.ring_due = None
        label = target.display if isinstance(target, act.Transfer) else f"queue {target.queue}"
        self._say(f"{label}: {outcome.replace('_', ' ')}")
        self._send(TransferResult(outcome == "answered", "" if outcome == "answered" else outcome))

    def deliver(self, event: Event) -> None:
        """Feed an event from outside the caller (the queue core's answers)."""
        self._send(event)

    def fire_timer(self, name: str) -> None:
        """Fire the engine timer ``name`` now (a driver with its own clock calls this)."""
        if self.timers.pop(name, None) is not None:
            self._send(TimerFired(name))

    def hangup(self) -> None:
        """The caller hangs up."""
        self._require_live()
        self._say("caller hangs up")
        self._send(Hangup())

    @property
    def ended(self) -> bool:
        """True once the call is over."""
        return self.state.phase is Phase.ENDED

    def transcript(self) -> str:
        """Everything so far, one line per thing that happened."""
        return "\n".join(self.lines) + "\n"

    # --- plumbing ----------------------------------------------------------------

    def _require_live(self) -> None:
        if self.state.phase is Phase.ENDED:
            raise SimulationError("the call has already ended")

    def _stamp(self) -> str:
        minutes, seconds = divmod(self.clock, 60)
        return f"[{int(minutes):02d}:{seconds:04.1f}]"

    def _say(self, text: str) -> None:
        self._line(text)

    def _line(self, text: str) -> None:
        label = f"{self.label}: " if self.label else ""
        self.lines.append(f"{self._stamp()} {label}{text}")

    def _is_music(self, play: act.Play | act.PlayMessage) -> bool:
        """Music on hold in a queue plays until something happens; it never "finishes"."""
        # queue_music: set by the engine while a queue plays music
        if not self.state.queue_music or isinstance(play, act.PlayMessage):
            return False
        return [i.prompt_id for i in play.items] == [queue_music(self.flow, self.state).id]

    def _finish_prompts(self) -> None:
        for _ in range(MAX_EVENTS_PER_STEP):
            if self.playing is None or self.state.phase is Phase.ENDED:
                return
            if self._is_music(self.playing):
                return
            token = self.playing.token
            self.playing = None
            self._send(PromptFinished(token))
        raise SimulationError("prompts keep following each other without end (a loop?)")

    def _send(self, event: Event) -> int:
        """Feed one event to the engine and act on its actions; returns how many there were."""
        before = self.state
        if isinstance(event, TimerFired):
            kind = event.name.split(":", 1)[0]
            self._say(_TIMER_WORDS.get(kind, f"timer {kind} fires"))
        self.state, actions = step(self.flow, self.state, event)
        entered_menu = self.state.phase is Phase.MENU and (
            before.phase is not Phase.MENU or self.state.menu != before.menu)
        if entered_menu:
            self._say(f"menu {self.state.menu}")
        for action in actions:
            self._apply(action)
        if self.state.phase is Phase.ENDED and before.phase is not Phase.ENDED:
            self._line(f"call ends: {self.state.outcome}")
        return len(actions)

    def _mailbox_action(self, action: act.OpenMailbox | act.PlayMessage | act.SkipMessage
                        | act.MarkMessage | act.SetMailboxPin) -> None:
        """The mailbox menu's actions, answered from :attr:`mailboxes`."""
        box = self.state.mailbox.box if self.state.mailbox is not None else ""
        if isinstance(action, act.OpenMailbox):
            event, line = open_mailbox(self.mailboxes, action.box in self.flow.voicemail,
                                       action)
            self._line(line)
            self._send(event)
        elif isinstance(action, act.PlayMessage):
            self.playing = action
            found = self.mailboxes.get(action.box)
            message = next((m for m in found.messages if m.id == action.message_id),
                           None) if found else None
            what = (f"from {message.caller or 'unknown'}, {message.seconds:g} s"
                    if message else "missing")
            self._line(f"hears: <message {action.message_id} {what}>")
        elif isinstance(action, act.SkipMessage):
            self._line(f"message skips {'forward' if action.seconds > 0 else 'back'} "
                       f"{abs(action.seconds):g} s")
        elif isinstance(action, act.MarkMessage):
            self._line(mark(self.mailboxes, box, action))
        else:
            self.mailboxes.setdefault(action.box, SimMailbox()).pin = action.digits
            self._line(f"mailbox {action.box}: new PIN stored")
            self._send(MailboxPinSet(True))

    def _greeting_action(self, action: act.RecordGreeting | act.SaveGreeting
                         | act.ClearGreeting) -> None:
        """Greetings recorded by phone, kept in :attr:`mailboxes` (as kinds)."""
        box = self.mailboxes.setdefault(action.box, SimMailbox())
        if isinstance(action, act.RecordGreeting):
            self._take_started = self.clock
            self._line(f"recording a take of the {action.kind} greeting of {action.box} "
                       f"(at most {action.max_seconds} s)")
        elif isinstance(action, act.SaveGreeting):
            box.greetings = (*(k for k in box.greetings if k != action.kind), action.kind)
            self._line(f"the {action.kind} greeting of {action.box} is now the take")
            self._send(GreetingSaved(True))
        else:
            had = action.kind in box.greetings
            box.greetings = tuple(k for k in box.greetings if k != action.kind)
            self._line(f"the {action.kind} greeting of {action.box} "
                       + ("is removed" if had else "was not there"))

    def _apply(self, action: act.Action) -> None:
        if isinstance(action, act.Play):
            self.playing = action
            self._line(f"hears: {describe_play(action)}")
        elif isinstance(action, act.StopPlayback):
            self.playing = None
        elif isinstance(action, act.StartTimer):
            self.timers[action.name] = self.clock + action.seconds
        elif isinstance(action, act.CancelTimer):
            self.timers.pop(action.name, None)
        elif isinstance(action, act.Transfer):
            self.ringing = action
            if action.mode == "bridge":
                turns = len(action.destinations) if action.ring == "serial" else 1
                self.ring_due = self.clock + action.ring_seconds * max(1, turns)
            where = ", ".join(action.destinations)
            if len(action.destinations) > 1 and action.ring == "serial":
                where += f" (one after another, {action.ring_seconds} s each)"
            elif len(action.destinations) > 1:
                where += f" (all at once, {action.ring_seconds} s)"
            how = "" if action.mode == "bridge" else " (blind transfer)"
            self._line(f"transfer to {action.kind} {action.key} "
                              f"({action.display}){how}: ringing {where}")
        elif isinstance(action, act.EnqueueCall):
            self.ringing = action
            queue = self.flow.queues.get(action.queue)
            name = f" ({queue.name})" if queue else ""
            prio = f", priority {action.priority}" if action.priority else ""
            self._line(f"joins queue {action.queue}{name}{prio}")
        elif isinstance(action, act.RecordVoicemail):
            self._line(f"recording a message for {action.box} "
                              f"(at most {action.max_seconds} s)")
        elif isinstance(action, act.StopRecording):
            self._line("recording stops")
            session = self.state.mailbox
            if session is not None and session.step == "greeting_stopping":
                seconds = self.clock - self._take_started
                self._send(GreetingRecorded(
                    seconds, f"greetings/{session.box}/take-{session.greeting_kind}.wav"))
        elif isinstance(action, act.AgentCommand):
            where = f" {action.queue}" if action.queue else ""
            self._line(f"feature code: agent {action.user} "
                       f"{AGENT_COMMAND_WORDS[action.command]}{where}")
        elif isinstance(action, act.SetOverride):
            self._line(f"override: {action.user} switches {action.attendant} to {action.name}"
                       if action.name else
                       f"override: {action.user} ends the override of {action.attendant}")
        elif isinstance(action, act.VerifyPin):
            user = self.flow.users.get(action.user)
            ok = user is not None and user.pin is not None and verify_pin(user.pin,
                                                                            action.digits)
            self._line(f"PIN for {action.user or '?'}: {'right' if ok else 'wrong'}")
            self._send(PinChecked(ok))
        elif isinstance(action, act.QueueKey | act.LeaveQueue):
            pass  # for the queue core: the driver (sim/queues.py) passes them on
        elif isinstance(action, act.OpenMailbox | act.PlayMessage | act.SkipMessage
                        | act.MarkMessage | act.SetMailboxPin):
            self._mailbox_action(action)
        elif isinstance(action, act.RecordGreeting | act.SaveGreeting | act.ClearGreeting):
            self._greeting_action(action)
        else:
            assert isinstance(action, act.Disconnect)
            self.playing = None
        if self.on_action is not None:
            self.on_action(self, action)
