"""Compare the results of two or more sessions: metric by metric and node by node.

The first session is the baseline: each other session's value gets a delta against it and a
verdict (``better``/``worse``/``same``/``missing``) whose direction comes from the metric's name
(``loss``, ``error``, ``mae``, ``rmse``... lower is better) unless ``overrides`` says otherwise.
Node timings compare durations: a node that took longer is ``slower``. Shared by ``diff`` and
the app's Metrics and Nodes tabs, so both say the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from sessionlens.results import NodeTiming, Results, change, lower_is_better, metric_names

#: a node at least this much slower (relative to the baseline) is called ``slower``; smaller
#: differences are noise for a timing
SLOWER_BY = 0.10


class MetricRow(NamedTuple):
    """One metric across the sessions compared: ``values`` in the sessions' order (None where a
    session lacks it), ``deltas`` against the first (None for the first, or when missing),
    ``verdicts`` likewise (``""`` for the first)."""

    name: str
    lower_is_better: bool
    values: tuple[float | None, ...]
    deltas: tuple[float | None, ...]
    verdicts: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


class NodeRow(NamedTuple):
    """One pipeline node across the sessions: durations (None when a session has no timing),
    statuses (``""`` when the node did not run), and per session after the first ``slower``,
    ``faster``, ``same`` or ``missing``."""

    name: str
    durations: tuple[float | None, ...]
    statuses: tuple[str, ...]
    verdicts: tuple[str, ...]

    @property
    def differs(self) -> bool:
        return any(v not in ("", "same") for v in self.verdicts) or len(set(self.statuses)) > 1


def metric_rows(
    results: Sequence[Results], overrides: Mapping[str, str] | None = None
) -> list[MetricRow]:
    """A row per metric any session has, in first-seen order."""
    rows = []
    for name in metric_names(r.metrics for r in results):
        values = tuple(r.metrics.get(name) for r in results)
        base = values[0]
        deltas = tuple(
            None if n == 0 or v is None or base is None else v - base for n, v in enumerate(values)
        )
        verdicts = tuple(
            "" if n == 0 else change(name, base, v, overrides) for n, v in enumerate(values)
        )
        rows.append(MetricRow(name, lower_is_better(name, overrides), values, deltas, verdicts))
    return rows


def node_rows(results: Sequence[Results]) -> list[NodeRow]:
    """A row per node any session ran, in the order the first session that ran it did."""
    names: dict[str, None] = {}
    per_session: list[dict[str, NodeTiming]] = []
    for r in results:
        timings = {}
        for node in r.nodes:
            names.setdefault(node.name, None)
            timings[node.name] = node
        per_session.append(timings)
    rows = []
    for name in names:
        found = [timings.get(name) for timings in per_session]
        durations = tuple(None if t is None else t.duration_s for t in found)
        statuses = tuple("" if t is None else t.status for t in found)
        verdicts = tuple(
            "" if n == 0 else _timing_verdict(durations[0], d) for n, d in enumerate(durations)
        )
        rows.append(NodeRow(name, durations, statuses, verdicts))
    return rows


def _timing_verdict(base: float | None, other: float | None) -> str:
    if base is None or other is None:
        return "missing"
    if other > base * (1 + SLOWER_BY) and other - base > 0.001:
        return "slower"
    if other < base * (1 - SLOWER_BY) and base - other > 0.001:
        return "faster"
    return "same"
