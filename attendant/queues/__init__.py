"""Call queues: the pure queue core shared by every call of a process.

- :mod:`~attendant.queues.events` and :mod:`~attendant.queues.actions`: what the core
  is told and what it asks for (closed sets of frozen dataclasses);
- :mod:`~attendant.queues.routing`: the order each routing method offers agents;
- :mod:`~attendant.queues.core`: ``step(flow, state, event) -> (state, actions)``.

Like the call engine, none of it does I/O or reads a clock; see ``docs/queues.md``.
"""

from attendant.queues.core import QueueState, initial_state, step

__all__ = ["QueueState", "initial_state", "step"]
