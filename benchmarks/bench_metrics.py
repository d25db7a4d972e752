"""How fast a store with metrics answers the app's metric questions at 100k sessions.

    python benchmarks/bench_metrics.py [--sessions 100000] [--dir DIR] [--repeat 10]

Builds (or reuses, in DIR, default a temp folder) a store whose sessions have ``accuracy``,
``loss`` and ``r2`` (``make_store.py --metrics``), opens it read-only as the app does, and prints
median (and max) milliseconds of:

- a metric filter keystroke, ``metric.accuracy>=0.9``: open + count + first page (cold, as
  ``bench_store.py`` times keystrokes), and the first page and count on an open store (target
  < 100 ms each);
- a metric sort, ``--sort metric.accuracy``: the first page and the ``end`` page (count, then
  the last 50) (target < 100 ms each);
- the plot data of ~10k sessions: the values of one metric over the sessions a filter matches,
  in time order, from ``list_summaries(limit=None)`` (target < 300 ms).

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import timed
from make_store import make_store

from sessionlens.query import parse_query
from sessionlens.stores import SessionStore, open_store

#: about 10% of the sessions (accuracy uniform in 0.5-1.0, success or half the failures)
PLOT_FILTER = "metric.accuracy>=0.95"
FILTER = "metric.accuracy>=0.9"
SORT = "metric.accuracy"
PAGE = 50


def row(label: str, figures: tuple[float, float], target: float | None = None) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  target < {target:.0f} ms: {'ok' if figures[0] < target else 'MISSED'}"
    print(f"  {label:<52} {figures[0]:8.2f} ms  (max {figures[1]:.2f}){verdict}")


def plot_points(store: SessionStore, text: str, metric: str) -> list[tuple[str, float]]:
    """(start time, value) of ``metric`` for the sessions ``text`` matches, oldest first, from
    every summary: the series a metric plot draws, the way any store can answer it."""
    query = parse_query(text, sort="started", descending=False)
    return [
        (s.started_at or s.session_id, s.metrics[metric])
        for s in store.list_summaries(query, limit=None)
        if s.metrics and metric in s.metrics
    ]


def series_points(store: SessionStore, text: str, metric: str) -> list[tuple[str, float]]:
    """The same series from ``store.metric_series`` (SQLite: one pass over the metric index)."""
    return [(t or sid, v) for sid, t, v in store.metric_series(parse_query(text), metric)]


def bench(path: Path, repeat: int) -> None:
    spec = str(path)
    with open_store(spec) as store:
        began = time.perf_counter()
        store.list_summaries(limit=PAGE)
        print(f"  {'first page after open':<52} {(time.perf_counter() - began) * 1000:8.2f} ms")

        where = parse_query(FILTER)

        def keystroke() -> None:
            with open_store(spec) as fresh:
                fresh.count(where)
                fresh.list_summaries(where, limit=PAGE)

        print(f"  {FILTER}: {store.count(where):,} of {store.count():,} sessions")
        row(f"filter {FILTER}: open + count + page (cold)", timed(keystroke, repeat), 100)
        row(f"filter {FILTER}: first page", timed(lambda: store.list_summaries(where), repeat), 100)
        row(f"filter {FILTER}: count", timed(lambda: store.count(where), repeat), 100)

        for descending in (True, False):
            order = parse_query("", sort=SORT, descending=descending)
            way = "desc" if descending else "asc"
            row(
                f"sort {SORT} {way}: first page",
                timed(lambda q=order: store.list_summaries(q, limit=PAGE), repeat),
                100,
            )

            def end(q: Any = order) -> None:
                total = store.count(q)
                store.list_summaries(q, offset=max(0, total - PAGE), limit=PAGE)

            row(f"sort {SORT} {way}: end (count + last page)", timed(end, repeat), 100)

        both = parse_query(FILTER, sort=SORT, descending=True)
        row(
            f"filter + sort {SORT}: first page",
            timed(lambda: store.list_summaries(both, limit=PAGE), repeat),
            100,
        )
        points = plot_points(store, PLOT_FILTER, "accuracy")
        print(f"  plot {PLOT_FILTER}: {len(points):,} points")
        row(
            f"plot data of {len(points):,} sessions, list_summaries(limit=None)",
            timed(lambda: plot_points(store, PLOT_FILTER, "accuracy"), max(3, repeat // 2)),
            300,
        )
        assert series_points(store, PLOT_FILTER, "accuracy") == points
        row(
            f"plot data of {len(points):,} sessions, metric_series",
            timed(lambda: series_points(store, PLOT_FILTER, "accuracy"), repeat),
            300,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.gettempdir()) / "sessionlens-bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"metrics-{args.sessions}.db"
    if not path.exists():
        seconds = make_store(path, args.sessions, metrics=True)
        print(f"built {args.sessions:,} sessions with metrics in {seconds:.1f} s ({path})")
    size = path.stat().st_size / 2**20
    print(f"\nSQLite store with metrics, {args.sessions:,} sessions ({size:.0f} MiB)")
    bench(path, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
