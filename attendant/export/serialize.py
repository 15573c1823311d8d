"""A compiled Flow as plain JSON data, for ``attendant compile --json``.

Every dataclass becomes an object with a ``"type"`` field naming it, so routes
and prompt fragments stay distinguishable. Source positions are left out:
they describe the files, not the flow; so are ``Flow.tables`` (the engine's tables,
made from the rest) and secrets (fields with ``repr=False``, such as a user's PIN hash).
Output is deterministic.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from attendant.model import Flow


def to_data(value: Any) -> Any:
    """Plain JSON-ready data for any model value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data: dict[str, Any] = {"type": type(value).__name__}
        for f in dataclasses.fields(value):
            if f.name == "path" or not f.init or not f.repr:
                continue  # positions; Flow.tables (derived); secrets such as User.pin
            data[f.name] = to_data(getattr(value, f.name))
        return data
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    return value


def flow_json(flow: Flow) -> str:
    """The flow as indented JSON text."""
    return json.dumps(to_data(flow), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
