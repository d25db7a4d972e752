"""``sessionlens.log_metrics``: a run records its own metrics in its session's record.

Where the run is tells where they go:

- inside ``Session.run(callable)`` (the Python API): into that session, saved at once;
- in a process ``sessionlens run`` started (``SESSIONLENS_SESSION_ID`` and ``SESSIONLENS_STORE``
  in its environment): into the stored record of that session, re-read and updated at each
  call, so the parent's final save (which keeps the stored ``metrics``) and other writers of
  the record (the Kedro store joining it) keep them;
- anywhere else: ``SessionError`` saying how to use it.

Metrics are ``{name: number}``; nested mappings are flattened with dots (``val.loss``). A
value that is not a finite number (text, a bool, NaN, None) is refused with a ``SessionError``
naming it: a metric compared across runs must be one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from sessionlens.errors import SessionError, UnknownSessionError
from sessionlens.results import METRICS_KEY

#: record key of the values logged with a ``step`` (a list of ``{"step", "metrics"}``)
STEPS_KEY = "metric_steps"
#: at most this many steps are kept per session (the latest values are always in ``metrics``)
MAX_STEPS = 10_000

_USAGE = (
    "sessionlens.log_metrics() needs a running session: call it from a command started with "
    "`sessionlens run -- ...` or from a function run by Session.run(...)"
)


def checked_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """``metrics`` flattened to ``{name: float}``; ``SessionError`` for anything else."""
    if not isinstance(metrics, Mapping):
        raise SessionError(
            f"log_metrics takes a mapping of name to number, not {type(metrics).__name__}"
        )
    found: dict[str, float] = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise SessionError(f"metric name {key!r} is not a non-empty string")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(checked_metrics(value, f"{name}."))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SessionError(
                f"metric {name!r} is {_shown(value)} ({type(value).__name__}); "
                "metrics must be numbers"
            )
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise SessionError(f"metric {name!r} is {value!r}; metrics must be finite numbers")
        found[name] = number
    return found


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def checked_step(step: Any) -> int | None:
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, int):
        raise SessionError(f"step {step!r} is not a whole number")
    return step


def merge_into(record: dict[str, Any], values: Mapping[str, float], step: int | None) -> None:
    """Merge logged values into a record (in place): ``metrics`` keeps the latest value of each
    name; with a ``step`` the values are also appended to ``metric_steps``."""
    current = record.get(METRICS_KEY)
    record[METRICS_KEY] = {**(current if isinstance(current, Mapping) else {}), **values}
    if step is not None:
        steps = record.get(STEPS_KEY)
        steps = list(steps) if isinstance(steps, list) else []
        steps.append({"step": step, "metrics": dict(values)})
        record[STEPS_KEY] = steps[-MAX_STEPS:]


def log_metrics(metrics: Mapping[str, Any], *, step: int | None = None) -> None:
    """Record ``metrics`` in the current run's session (see the module docstring)."""
    values = checked_metrics(metrics)
    step = checked_step(step)
    from sessionlens.session import current_session

    session = current_session()
    if session is not None:
        session.log_metrics(values, step=step)
        return
    session_id = os.environ.get("SESSIONLENS_SESSION_ID")
    location = os.environ.get("SESSIONLENS_STORE")
    if session_id and location:
        _log_to_store(location, session_id, values, step)
        return
    raise SessionError(_USAGE)


def _log_to_store(
    location: str, session_id: str, values: Mapping[str, float], step: int | None
) -> None:
    """Merge into the stored record of the parent's session (a process ``sessionlens run``
    started): read, merge, write back, each call."""
    from sessionlens.stores import open_store

    with open_store(location, read_only=False) as store:
        try:
            record = dict(store.get(session_id))
        except UnknownSessionError:
            raise SessionError(
                f"session {session_id} is not in the store {location} (SESSIONLENS_STORE); "
                "was this process started by `sessionlens run`?"
            ) from None
        merge_into(record, values, step)
        store.update(record)
