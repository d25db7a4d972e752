"""A session's results: its metrics, the data its tracking datasets saved, its plots and the
timing of each pipeline node.

Where they come from, merged by :func:`merge`:

- the record itself (sessionlens writes them there: ``sessionlens.log_metrics``, the Kedro hooks
  and datasets): ``metrics`` (``{name: number}``), ``nodes`` (a list of node timings, in run
  order) and ``tracking`` (``{dataset: JSON data}``);
- Kedro's tracking datasets on disk, for sessions kedro-viz recorded
  (:mod:`sessionlens.tracking`);
- kedro-viz 12's ``.viz/kedro_pipeline_events.json`` for the one run it belongs to.

Metric names are flat text (``accuracy``, ``val.loss``): nested mappings given to
:func:`metric_values` are joined with dots. Values are finite floats (Kedro's
``MetricsDataset`` stores floats too).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

#: record keys sessionlens writes results under
METRICS_KEY = "metrics"
NODES_KEY = "nodes"
TRACKING_KEY = "tracking"

#: Metric names whose last dot-part says lower is better (``val_loss``, ``test.rmse``); any other
#: name is higher-is-better unless overridden (``metric_direction``).
_LOWER_IS_BETTER = re.compile(
    r"(?:^|[._\-/])(?:loss|error|err|mae|mse|rmse|mape|smape|logloss|nll|perplexity|wer|cer|"
    r"latency|duration|time|seconds|cost|regret)$",
    re.IGNORECASE,
)


class NodeTiming(NamedTuple):
    """One pipeline node's run: ``status`` is ``success``, ``failed`` or ``running``."""

    name: str
    status: str
    started_at: str | None = None
    duration_s: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self._asdict().items() if v is not None}


class Results(NamedTuple):
    """Everything a session produced besides its log. ``problems``: what could not be read
    (a tracking file that is not JSON, a catalog entry that cannot be resolved), once each."""

    metrics: dict[str, float]
    data: dict[str, Any]
    plots: dict[str, str]
    nodes: tuple[NodeTiming, ...]
    problems: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.metrics or self.data or self.plots or self.nodes or self.problems)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (``show --json``)."""
        return {
            "metrics": dict(self.metrics),
            "data": self.data,
            "plots": dict(self.plots),
            "nodes": [n.to_dict() for n in self.nodes],
            "problems": list(self.problems),
        }


NO_RESULTS = Results({}, {}, {}, ())


def as_metric(value: Any) -> float | None:
    """``value`` as a metric: a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None
    return number if math.isfinite(number) else None


def metric_values(values: Mapping[Any, Any], prefix: str = "") -> dict[str, float]:
    """The metrics in ``values``: numbers kept, nested mappings flattened with dots, anything
    else (text, lists, NaN) left out."""
    found: dict[str, float] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(metric_values(value, f"{name}."))
            continue
        number = as_metric(value)
        if number is not None:
            found[name] = number
    return found


def metrics_of(record: Mapping[str, Any]) -> dict[str, float]:
    """The metrics a record holds (``metrics``); never raises on a record of another shape."""
    value = record.get(METRICS_KEY)
    return metric_values(value) if isinstance(value, Mapping) else {}


def nodes_of(record: Mapping[str, Any]) -> tuple[NodeTiming, ...]:
    """The node timings a record holds (``nodes``), entries of another shape skipped."""
    value = record.get(NODES_KEY)
    if not isinstance(value, list | tuple):
        return ()
    return tuple(t for t in (node_timing(v) for v in value) if t is not None)


def node_timing(value: Any) -> NodeTiming | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
        return None
    started = value.get("started_at")
    error = value.get("error")
    return NodeTiming(
        name=value["name"],
        status=str(value.get("status") or "success"),
        started_at=started if isinstance(started, str) else None,
        duration_s=as_metric(value.get("duration_s")),
        error=None if error is None else str(error),
    )


def tracking_of(record: Mapping[str, Any]) -> dict[str, Any]:
    value = record.get(TRACKING_KEY)
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def merge(record: Mapping[str, Any], *found: Results) -> Results:
    """The record's own results with what was found elsewhere; the record wins on a name both
    have (it is what the run itself said)."""
    metrics: dict[str, float] = {}
    data: dict[str, Any] = {}
    plots: dict[str, str] = {}
    nodes: tuple[NodeTiming, ...] = ()
    problems: list[str] = []
    for other in found:
        metrics.update(other.metrics)
        data.update(other.data)
        plots.update(other.plots)
        nodes = nodes or other.nodes
        problems.extend(p for p in other.problems if p not in problems)
    metrics.update(metrics_of(record))
    data.update(tracking_of(record))
    return Results(metrics, data, plots, nodes_of(record) or nodes, tuple(problems))


def lower_is_better(name: str, overrides: Mapping[str, str] | None = None) -> bool:
    """Whether a smaller value of metric ``name`` is an improvement: ``overrides`` (name ->
    ``lower``/``higher``) first, else the name (``loss``, ``error``, ``mae``, ``rmse``...)."""
    if overrides and name in overrides:
        return overrides[name] == "lower"
    return _LOWER_IS_BETTER.search(name) is not None


def change(
    name: str, before: float | None, after: float | None, overrides: Mapping[str, str] | None = None
) -> str:
    """How ``after`` compares with ``before`` for metric ``name``: ``better``, ``worse``,
    ``same``, or ``missing`` when either is absent."""
    if before is None or after is None:
        return "missing"
    if after == before:
        return "same"
    improved = (after < before) == lower_is_better(name, overrides)
    return "better" if improved else "worse"


def format_metric(value: float | None) -> str:
    """A metric as every table shows it (the app's cells, ``list``, ``show``, ``diff``): 4
    significant digits (``0.9123``, ``12``, ``1.235e6``), '' when the session lacks it."""
    if value is None:
        return ""
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def metric_names(items: Iterable[Mapping[str, float]]) -> list[str]:
    """Every metric name in ``items``, in first-seen order."""
    seen: dict[str, None] = {}
    for metrics in items:
        for name in metrics:
            seen.setdefault(name, None)
    return list(seen)
