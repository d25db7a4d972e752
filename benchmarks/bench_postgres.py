"""PostgreSQL store figures (issue 11), against a server this script starts (as the tests do).

    python benchmarks/bench_postgres.py [--sessions 1000000] [--writers 16] [--per-writer 100]
        [--jobs 2] [--uri postgresql://.../db]

1. 16 writer processes x 100 sessions through the API (insert, a log line, update): all
   stored, no error; the wall time.
2. A store of ``--sessions`` sessions: the first page from open (open + count + first page,
   what the app's first screen needs), and a filter keystroke (count + first page).
3. A write from another connection seen by ``change_token`` (LISTEN/NOTIFY), in ms.

The big store is filled by ``--jobs`` processes, each ``insert_many`` batches of its own span of
time (the store's own derivation of index rows and its COPY), with the secondary indexes made
after the load, as PostgreSQL's manual advises for a bulk load: 1M sessions in minutes instead
of hours. ``--uri`` names a database kept between runs (filled only when it holds fewer
sessions than ``--sessions``; no writer test then); by default a server is started and removed.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "src", ROOT / "tests", ROOT / "benchmarks"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from pgserver import skip_reason, started_server  # noqa: E402
from sessionlens.query import parse_query  # noqa: E402
from sessionlens.stores import open_store  # noqa: E402
from sessionlens.stores import postgres_schema as schema  # noqa: E402

WRITER = """
import sys
from sessionlens.stores import open_store
spec, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open_store(spec, read_only=False) as store:
    for k in range(n):
        sid = f"2026-12-{1 + worker % 28:02d}T10.{worker:02d}.{k // 1000:02d}.{k % 1000:03d}Z"
        store.insert({"session_id": sid, "worker": worker, "run": {"status": "running"}})
        store.append_log(sid, f"worker {worker} session {k}\\n")
        store.update({"session_id": sid, "worker": worker, "run": {"status": "success"}})
"""


def writers(server_db: str, n_writers: int, per_writer: int) -> None:
    open_store(server_db, read_only=False).close()
    started = time.perf_counter()
    env_path = f"{ROOT / 'src'}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, server_db, str(w), str(per_writer)],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": env_path},
        )
        for w in range(n_writers)
    ]
    errors = [p.communicate()[1] for p in procs]
    took = time.perf_counter() - started
    failed = [e for p, e in zip(procs, errors, strict=True) if p.returncode]
    with open_store(server_db) as store:
        stored = store.count()
    print(
        f"writers: {n_writers} processes x {per_writer} sessions: {stored:,} stored, "
        f"{len(failed)} failed, {took:.1f} s ({stored / took:,.0f} sessions/s)"
    )
    for e in failed[:3]:
        print("  error:", e.strip().splitlines()[-1])


FILLER = """
import itertools, sys
from datetime import datetime, timedelta, timezone
sys.path.insert(0, sys.argv[5])
from make_store import make_records
from sessionlens.stores import open_store
spec, n, job, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
end = datetime.now(timezone.utc) - timedelta(minutes=n * job)  # each job its own span of time
records = make_records(n, seed=job, end=end, metrics=True)
with open_store(spec, read_only=False) as store:
    while chunk := list(itertools.islice(records, batch)):
        store.insert_many(chunk)
"""


def _secondary_indexes() -> list[str]:
    """The schema's ``CREATE INDEX`` statements (the keys stay: ids are still claimed)."""
    made = {}  # by name: the last migration's definition
    for _, ddls in sorted(schema.MIGRATIONS.items()):
        for ddl in ddls:
            if ddl.startswith("CREATE INDEX"):
                made[ddl.split()[2]] = ddl
    return list(made.values())


def fill(server_db: str, n: int, jobs: int) -> None:
    """``n`` sessions by ``jobs`` processes, the secondary indexes made after the load."""
    import psycopg

    with open_store(server_db, read_only=False) as store:
        have = store.count()
    if have >= n:
        print(f"fill: {have:,} sessions there already")
        return
    if have:
        sys.exit(f"{server_db} holds {have:,} sessions, fewer than {n:,}: use an empty database")
    started = time.perf_counter()
    indexes = _secondary_indexes()
    with psycopg.connect(server_db, autocommit=True) as conn:
        for ddl in indexes:
            conn.execute(f"DROP INDEX {ddl.split()[2]}")
        each = -(-n // jobs)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        argv = [sys.executable, "-c", FILLER, server_db]
        procs = [
            subprocess.Popen(
                [*argv, str(min(each, n - j * each)), str(j), "5000", str(ROOT / "benchmarks")],
                env=env,
            )
            for j in range(jobs)
        ]
        if any(p.wait() for p in procs):
            sys.exit("fill: a filler failed")
        loaded = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for ddl in indexes:
            conn.execute(ddl)
        conn.execute("VACUUM ANALYZE")
    took = time.perf_counter() - started
    print(
        f"fill: {n:,} sessions in {took:.0f} s ({n / took:,.0f} sessions/s; load "
        f"{loaded - started:.0f} s by {jobs} processes, indexes + analyze "
        f"{time.perf_counter() - loaded:.0f} s)"
    )


def browse(server_db: str) -> None:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        store = open_store(server_db)
        store.change_token()  # the app listens from the start
        page = store.list_summaries(limit=50)
        count = store.count_at_most(parse_query(""), 10_000)
        times.append(time.perf_counter() - started)
        store.close()
    print(
        f"first page from open (open, listen, 50 rows, capped count): "
        f"{1000 * min(times):.0f} ms best, {1000 * max(times):.0f} ms worst "
        f"({len(page)} rows, {count:,}+ counted)"
    )
    with open_store(server_db) as store:
        store.change_token()
        for text in (
            "branch:main",
            "branch:ma",
            "status:failed",
            "user:ana",
            "param.scale>=3",
            "metric.accuracy>0.9",
            "train",
            "-status:success dirty:yes",
            "since:7d",
            "status:failed branch:main dirty:yes",
            "param.model:mlp metric.accuracy>0.9",
        ):
            query = parse_query(text)
            pages, counts = [], []
            for _ in range(3):  # the app shows the rows first, then counts up to 10,001
                started = time.perf_counter()
                store.list_summaries(query, limit=100)
                pages.append(time.perf_counter() - started)
                store.count_at_most(query, 10_001)
                counts.append(time.perf_counter() - started - pages[-1])
            started = time.perf_counter()
            total = store.count(query)  # what the header shows last (after "10,000+")
            exact = 1000 * (time.perf_counter() - started)
            page, count = 1000 * statistics.median(pages), 1000 * statistics.median(counts)
            print(
                f"filter {text!r:40} first page {page:6.1f} ms + capped count {count:6.1f} ms"
                f" = {page + count:6.1f} ms ({total:,} match; exact count {exact:.0f} ms)"
            )
        query = parse_query("")
        total = store.count(query)
        started = time.perf_counter()
        store.list_summaries(query, offset=total - 50, limit=50)
        print(f"end (last page of {total:,}): {1000 * (time.perf_counter() - started):.1f} ms")


def live(server_db: str) -> None:
    with open_store(server_db) as reader, open_store(server_db, read_only=False) as writer:
        laps = []
        for k in range(10):
            token = reader.change_token()
            started = time.perf_counter()
            stamp = time.strftime("%H.%M.%S", time.gmtime())  # new ids in a kept database
            writer.insert({"session_id": f"2030-01-01T{stamp}.{k:03d}Z"})
            while reader.change_token() == token:
                time.sleep(0.001)
            laps.append(time.perf_counter() - started)
        print(
            f"live: a write elsewhere seen by change_token in {1000 * statistics.median(laps):.1f}"
            f" ms median, {1000 * max(laps):.1f} ms worst"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--per-writer", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2, help="processes filling the big store")
    parser.add_argument("--uri", help="a database to fill (or filled before) and keep")
    args = parser.parse_args()
    reason = skip_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    if args.uri:
        fill(args.uri, args.sessions, args.jobs)
        browse(args.uri)
        live(args.uri)
        return
    server_gen = started_server()
    server = next(server_gen)
    try:
        writers(server.create_database("writers"), args.writers, args.per_writer)
        big = server.create_database("big")
        fill(big, args.sessions, args.jobs)
        browse(big)
        live(big)
    finally:
        server_gen.close()


if __name__ == "__main__":
    main()
