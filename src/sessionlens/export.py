"""Sessions as CSV or JSON rows with the columns of a table (``list --csv/--json --columns``,
the app's export).

Standard library only: ``list --json`` must not import Rich. Values are data, not display text:
the full sha, the start time as recorded (ISO 8601), the duration in seconds, ``dirty`` as a
boolean. Parameters are an object in JSON and the ``k=v`` line in CSV; metrics an object in
JSON, and one ``metric.NAME`` column per metric in CSV (``metrics`` stands for every metric
the exported sessions have). Text is written as stored: CSV and JSON quote it, nothing obeys it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from sessionlens.errors import SessionLensError
from sessionlens.query import METRIC_PREFIX, SORT_KEYS

if TYPE_CHECKING:
    from sessionlens.record import SessionSummary
    from sessionlens.stores.base import SessionStore

#: column -> the SessionSummary attribute it holds: the sort keys' (``command`` and ``params``
#: are built below), and the host
_ATTRIBUTES = {
    **{k: v for k, v in SORT_KEYS.items() if k not in ("command", "params")},
    "host": "hostname",
}


def json_row(
    summary: SessionSummary, columns: Sequence[str], store: SessionStore | None = None
) -> dict[str, Any]:
    """One session as a JSON object of ``columns``: ``params`` an object (read from the
    record, so ``store`` is needed for it), ``metrics`` an object, ``metric.NAME`` a number."""
    row: dict[str, Any] = {}
    for column in columns:
        if column == "params":
            row[column] = params_object(store, summary)
        elif column == "metrics":
            row[column] = dict(summary.metrics or {})
        else:
            row[column] = _value(column, summary)
    return row


def csv_header(columns: Sequence[str], summaries: Iterable[SessionSummary]) -> list[str]:
    """The CSV columns: ``metrics`` becomes one ``metric.NAME`` per metric the sessions have
    (sorted), after the metric columns named already."""
    header: list[str] = []
    for column in columns:
        if column == "metrics":
            names = sorted({name for s in summaries for name in (s.metrics or {})})
            header += [METRIC_PREFIX + n for n in names if METRIC_PREFIX + n not in header]
        elif column not in header:
            header.append(column)
    return header


def csv_row(summary: SessionSummary, header: Sequence[str]) -> list[Any]:
    """One session's CSV cells (empty for a missing value)."""
    cells = []
    for column in header:
        value = summary.params if column == "params" else _value(column, summary)
        if isinstance(value, bool):
            value = "true" if value else "false"
        cells.append("" if value is None else value)
    return cells


def write_csv(out: IO[str], summaries: Sequence[SessionSummary], columns: Sequence[str]) -> int:
    """The header and a row per session; the number of rows written."""
    header = csv_header(columns, summaries)
    writer = csv.writer(out)
    writer.writerow(header)
    for summary in summaries:
        writer.writerow(csv_row(summary, header))
    return len(summaries)


def iter_matching(
    store: SessionStore, query: Any, page: int = 1000, limit: int | None = None
) -> Iterator[SessionSummary]:
    """Every session ``query`` matches, a page at a time (a big export never asks for one
    huge page at once)."""
    offset = 0
    while limit is None or offset < limit:
        size = page if limit is None else min(page, limit - offset)
        rows = store.list_summaries(query, offset=offset, limit=size)
        yield from rows
        if len(rows) < size:
            return
        offset += len(rows)


def params_object(store: SessionStore | None, summary: SessionSummary) -> dict[str, Any]:
    """The session's parameters as recorded ({} when its record cannot be read)."""
    if store is None or summary.problem is not None:
        return {}
    from sessionlens.record import params_of, to_jsonable

    try:
        return dict(to_jsonable(params_of(store.get(summary.session_id))))
    except SessionLensError:
        return {}


def _value(column: str, summary: SessionSummary) -> Any:
    if column.startswith(METRIC_PREFIX):
        return (summary.metrics or {}).get(column[len(METRIC_PREFIX) :])
    if column == "command":
        return summary.command if summary.problem is None else summary.problem
    if column == "metrics":
        return " ".join(f"{k}={v}" for k, v in (summary.metrics or {}).items()) or None
    return getattr(summary, _ATTRIBUTES[column])
