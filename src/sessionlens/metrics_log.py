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

import os
from collections.abc import Mapping
from typing import Any

from sessionlens.errors import SessionError, UnknownSessionError
from sessionlens.metric_checks import checked_metrics, checked_step, merge_into

_USAGE = (
    "sessionlens.log_metrics() needs a running session: call it from a command started with "
    "`sessionlens run -- ...` or from a function run by Session.run(...)"
)


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
