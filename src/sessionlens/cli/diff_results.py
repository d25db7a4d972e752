"""``diff``'s results part as plain data: the metric and node rows of
:mod:`sessionlens.compare_results` for ``--json``, and the ``--higher-is-better`` /
``--lower-is-better`` overrides. Standard library only (``--json`` never imports Rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sessionlens.cli.common import UsageError
from sessionlens.compare_results import MetricRow, NodeRow
from sessionlens.results import Results


def metric_overrides(higher: Sequence[str] | None, lower: Sequence[str] | None) -> dict[str, str]:
    """name -> ``higher``/``lower`` from the options (each may be given many times, or as
    ``a,b``); UsageError when one metric is named both ways."""
    overrides: dict[str, str] = {}
    for direction, names in (("higher", higher or ()), ("lower", lower or ())):
        for text in names:
            for name in (n.strip() for n in text.split(",")):
                if not name:
                    continue
                if overrides.get(name, direction) != direction:
                    raise UsageError(
                        f"metric {name!r} is given both --higher-is-better and --lower-is-better"
                    )
                overrides[name] = direction
    return overrides


def metric_row_dict(row: MetricRow) -> dict[str, Any]:
    """One metric, A against B: values, delta (B - A) and the verdict for B."""
    return {
        "name": row.name,
        "lower_is_better": row.lower_is_better,
        "left": row.values[0],
        "right": row.values[1],
        "delta": row.deltas[1],
        "change": row.verdicts[1],
    }


def node_row_dict(row: NodeRow) -> dict[str, Any]:
    """One node, A against B: durations, statuses and ``slower``/``faster``/``same``/``missing``."""
    return {
        "name": row.name,
        "left_duration_s": row.durations[0],
        "right_duration_s": row.durations[1],
        "left_status": row.statuses[0] or None,
        "right_status": row.statuses[1] or None,
        "change": row.verdicts[1],
    }


def results_to_dict(
    metrics: Sequence[MetricRow], nodes: Sequence[NodeRow], results: Sequence[Results]
) -> dict[str, Any]:
    """The keys ``diff --json`` adds: ``metrics``, ``nodes``, ``results_problems``."""
    return {
        "metrics": [metric_row_dict(r) for r in metrics],
        "nodes": [node_row_dict(r) for r in nodes],
        "results_problems": [p for r in results for p in r.problems],
    }
