"""A caller waiting in a queue: what the queue core asks to be said (position, wait),
music on hold between announcements, and the queue's verdict (answered, sent
elsewhere, to be called back).
"""

from __future__ import annotations

from attendant.engine import actions as act
from attendant.engine import routes
from attendant.engine.events import Digit, QueueAnnouncement, QueueOutcome
from attendant.engine.outcomes import Outcome
from attendant.engine.playback import goodbye, say, start_play, stop_playback, system
from attendant.engine.state import CallState, Phase, Result, update
from attendant.engine.tables import MUSIC_ON_HOLD
from attendant.model import Digits, Disconnect, Flow, Number, Prompt, ToQueue


def queue_music(flow: Flow, state: CallState) -> Prompt:
    """What a queued caller hears between announcements: the queue's music or the default."""
    queue = flow.queues.get(state.handover.queue) if isinstance(state.handover, ToQueue) else None
    return queue.music if queue is not None and queue.music is not None else MUSIC_ON_HOLD


def queue_part(flow: Flow, state: CallState, kind: str, number: int) -> list[act.Say]:
    """One piece of what the queue core says: greeting, position, estimated wait..."""
    queue = flow.queues.get(state.handover.queue) if isinstance(state.handover, ToQueue) else None

    def n(value: int) -> act.Say:
        return act.Say("", state.language, (Number(value, state.language),))

    minutes = say(flow, state, system(flow, "queue_minute" if number == 1 else "queue_minutes"))
    if kind == "greeting":
        return [say(flow, state, queue.greeting)] if queue and queue.greeting else []
    if kind == "position":
        return [say(flow, state, system(flow, "queue_position")), n(number),
                say(flow, state, system(flow, "queue_position_end"))]
    if kind == "wait":
        return [say(flow, state, system(flow, "queue_wait")), n(number), minutes]
    if kind == "wait_more":
        return [say(flow, state, system(flow, "queue_wait_more")), n(number), minutes]
    if kind == "callback_refused":
        return [say(flow, state, system(flow, "queue_callback_refused"))]
    if kind == "callback_offer" and queue is not None and queue.callback_key:
        return [say(flow, state, system(flow, "queue_callback_offer")),
                act.Say("", state.language, (Digits(queue.callback_key, state.language),))]
    return []


def queue_announcement(flow: Flow, state: CallState, event: QueueAnnouncement) -> Result:
    """Say what the queue core asks for (interrupting the music), then music again."""
    state, out = stop_playback(state)
    items = [say for kind, number in event.parts for say in queue_part(flow, state, kind, number)]
    state = update(state, queue_music=True)
    if not items:
        items = [say(flow, state, queue_music(flow, state))]
    state, play = start_play(state, tuple(items), barge_in=False)
    return state, out + play


def queue_outcome(flow: Flow, state: CallState, event: QueueOutcome) -> Result:
    """The queue is done with the caller: connected, sent elsewhere, or to be called back."""
    state, out = stop_playback(state)
    queue = state.handover.queue if isinstance(state.handover, ToQueue) else ""
    state = update(state, queue_music=False)
    if event.kind == "connected":
        return update(state, phase=Phase.CONNECTED,
                      outcome=f"answered by {event.agent} from queue {queue}",
                      ending=Outcome.ANSWERED_BY_AGENT), out
    if event.kind == "callback":
        result = goodbye(flow, state, system(flow, "queue_callback_confirm"),
                         reason=f"callback requested from queue {queue}",
                         ending=Outcome.CALLBACK_REQUESTED)
    else:
        result = routes.run(flow, state, event.route or Disconnect())
    return result[0], out + result[1]


def queue_key(flow: Flow, state: CallState, event: Digit) -> Result:
    """A key while queued is the queue's to judge (leave, callback); the music goes on."""
    return state, [act.QueueKey(event.key)]
