"""What ``log_metrics`` accepts, and how logged values join a record: shared by
``sessionlens.log_metrics`` (a run's child) and ``Session.log_metrics`` (the Python API).

A metric compared across runs must be a finite number: text, bools, None, NaN and infinities are
refused with a ``SessionError`` naming the value, never stored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sessionlens.errors import SessionError
from sessionlens.results import METRICS_KEY

#: record key of the values logged with a ``step`` (a list of ``{"step", "metrics"}``)
STEPS_KEY = "metric_steps"
#: at most this many steps are kept per session (the latest values are always in ``metrics``)
MAX_STEPS = 10_000


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
