"""How long the SQLite store takes to answer the app's questions at 1k and 100k sessions.

    python benchmarks/bench_store.py [--sessions 1000 100000] [--dir DIR] [--repeat 20]

Builds the stores with ``make_store.py`` (kept in DIR, default a temp folder, reused when
present), opens each read-only as the app does, and prints the median (and max) time of: the
first page at open, a warm first page, ``count()``, filtered pages, other sort orders, a deep
page, ``get`` and ``change_token``, and a filter keystroke (a new query: count + first page, from
a freshly opened store, since counts are cached until the data changes). The last block times a
kedro-viz store without sessionlens's index (its temp index is built on the first listing).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_store import make_store

from sessionlens.query import parse_query
from sessionlens.stores import open_store

QUERIES = [
    ("branch:main status:failed", "started", True),
    ("param.scale:3", "started", True),
    ("user:ana -dirty:yes", "started", True),
    ("train", "started", True),
    ("sha:4f since:2026-01-01", "started", True),
    ("param.scale>=3 duration>60", "started", True),
    ("branch:feat* command:*train*", "started", True),
    ("since:7d -exit:0", "started", True),
    ("", "duration", False),
    ("", "branch", True),
    ("status:failed", "command", False),
]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, max) milliseconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


def row(label: str, figures: tuple[float, float]) -> None:
    print(f"  {label:<44} {figures[0]:8.2f} ms  (max {figures[1]:.2f})")


def bench(path: Path, repeat: int) -> None:
    began = time.perf_counter()
    store = open_store(path)
    opened = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    first = store.list_summaries(limit=50)
    first_ms = (time.perf_counter() - began) * 1000
    print(f"  {'open (read-only)':<44} {opened:8.2f} ms")
    print(f"  {'first page, first call after open':<44} {first_ms:8.2f} ms")
    row("first page (50, newest first)", timed(lambda: store.list_summaries(limit=50), repeat))
    row("count()", timed(store.count, repeat))
    for text, sort, descending in QUERIES:
        query = parse_query(text, sort=sort, descending=descending)
        label = f"page: {text or '(all)'} sort {sort} {'desc' if descending else 'asc'}"
        row(label, timed(lambda q=query: store.list_summaries(q, limit=50), repeat))

        def keystroke(q: Any = query) -> None:
            """What a filter keystroke costs the app: a new query, counted, first page.
            counts are cached per store until the data changes, so each sample opens anew."""
            with open_store(path) as fresh:
                fresh.count(q)
                fresh.list_summaries(q, limit=50)

        row("  keystroke: open + count + page (cold)", timed(keystroke, max(3, repeat // 4)))
    total = store.count()
    row(f"page at offset {total // 2:,}", timed(lambda: store.list_summaries(offset=total // 2), 5))
    sid = first[len(first) // 2].session_id
    row("get(session_id)", timed(lambda: store.get(sid), repeat))
    row("change_token()", timed(store.change_token, repeat))
    store.close()


def strip_index(source: Path, target: Path) -> None:
    """A copy as kedro-viz alone would have written it: runs and user_run_details only."""
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target)
    conn.execute(f"ATTACH DATABASE '{source}' AS src")
    conn.execute("CREATE TABLE runs (id VARCHAR NOT NULL, blob JSON, PRIMARY KEY (id))")
    conn.execute("INSERT INTO runs SELECT id, blob FROM src.runs")
    conn.commit()
    conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.gettempdir()) / "sessionlens-bench"
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for n in args.sessions:
        path = folder / f"store-{n}.db"
        if not path.exists():
            seconds = make_store(path, n)
            print(f"built {n:,} sessions in {seconds:.1f} s ({path})")
        print(f"\nSQLite store, {n:,} sessions ({path.stat().st_size / 2**20:.0f} MiB)")
        bench(path, args.repeat)
        results[str(n)] = str(path)
    largest = folder / f"store-{max(args.sessions)}.db"
    bare = folder / "kedro-viz-only.db"
    strip_index(largest, bare)
    print(f"\nkedro-viz store without sessionlens's index, {max(args.sessions):,} sessions")
    with open_store(bare) as store:
        began = time.perf_counter()
        store.list_summaries(limit=50)
        print(
            f"  {'first page (builds the temp index)':<44} "
            f"{(time.perf_counter() - began) * 1000:8.1f} ms"
        )
        row("first page afterwards", timed(lambda: store.list_summaries(limit=50), args.repeat))
        query = parse_query("branch:main status:failed")
        row("page: branch:main status:failed", timed(lambda: store.list_summaries(query), 5))
    print(json.dumps({"stores": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
