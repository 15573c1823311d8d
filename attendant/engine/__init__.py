"""The call state machine: the pure core that runs one call.

``machine`` holds ``step(flow, state, event) -> (state, actions)`` and the call's
state; ``events`` and ``actions`` are the closed sets of what an adapter tells the
machine and what the machine asks the adapter to do; ``schedule`` picks the flow
that runs at a given moment (holidays, then business hours, in the attendant's
zone). No sockets, no audio, no clock: time arrives as events.
"""
