"""The call state machine: the pure core that runs one call.

Theory of operation
-------------------
``machine.step(flow, state, event) -> (state, actions)`` is the whole interface. The
state (:class:`state.CallState`) is a frozen value; the actions (``actions``) are
instructions for whoever drives the call (the pjsua2 endpoint, the simulator); the
events (``events``) are what happened on the call. There is no I/O, no clock and no
asyncio here, so the same call gives the same answers everywhere, and a property test
can throw any event at any state. ``schedule`` picks the flow that runs at a given
moment (holidays, then business hours, in the attendant's zone).

A call is always in one *phase* (:class:`state.Phase`): playing a menu and waiting for
keys, spelling a name, typing an extension, listening to an announcement, being
transferred, waiting in a queue, leaving a message, hearing goodbye. The table
``machine.TRANSITIONS`` maps (phase, event type) to a handler; a pair not in the table
is ignored on purpose (a late digit while transferring, a timer already cancelled) and
never raises. Staleness is handled with tokens: every ``Play`` carries a number and
every timer a unique name (``playback``), so a ``PromptFinished`` or ``TimerFired``
that arrives after the caller moved on is recognised and dropped.

*Routes* (what a key leads to, from :mod:`attendant.model`) are carried out by
``routes.run``, one function per kind of route; they may chain but never loop.

One job per module, in the order a call meets them:

- ``state``: the phases and the call's state.
- ``playback``: saying prompts, the call's one timer, goodbye.
- ``machine``: ``step``, the transitions table, starting, hanging up, prompts ending,
  timers firing.
- ``routes``: carrying out a route.
- ``menus``: keys typed in a menu, invalid keys and silence.
- ``directory``: dial by name and by extension.
- ``transfers``: transfers and their fallbacks.
- ``queue_phase``: waiting in a queue.
- ``voicemail_phase``: leaving a message.
- ``agents``: agents' feature codes and their PIN.
- ``outcomes``: the closed set of ways a call ends (``CallState.ending``).
- ``tables``: what a step reads of the flow, made once when the flow is made (a
  compiled flow is never written afterwards).

The phase modules call each other through their modules (``routes.run(...)``), never
through names imported at load time, because a route may lead to any phase and any
phase may lead to a route.
"""
