"""The ``attendant`` command (click): ``main`` and one module per group of sub-commands.

``main`` holds the core commands (validate, compile, schema, graph, simulate,
test); ``prompts``, ``serve`` (with doctor, reload, stop), ``voicemail``,
``queues``, ``pin`` and ``safety`` hold theirs, and ``common`` what they share.
The console script and ``python -m attendant`` call :func:`main`.
"""

from attendant.cli.main import main

__all__ = ["main"]
