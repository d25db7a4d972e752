"""How fast ``copy`` moves sessions between stores (target: 100k SQLite -> PostgreSQL >= 5k/s).

    python benchmarks/bench_copy.py [--sessions 100000] [--dir DIR] [--logs N] [--details N]
        [--no-postgresql]

Builds (or reuses, in DIR, default a temp folder) an SQLite store of N sessions with
``make_store.py`` (metrics in the records), adds a log of two chunks to every ``--logs``-th
session and a title to every ``--details``-th, then copies it through
``copying.copy_sessions`` (what ``sessionlens copy`` runs) into a new database on a PostgreSQL
server this script starts (as the tests do) and into a new SQLite file, each a second time too
(everything already there). Prints sessions/s of each, and the CPU this process and the
server's backend spent per session; timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "src", ROOT / "benchmarks", ROOT / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from make_store import make_store  # noqa: E402

from sessionlens.copying import copy_sessions  # noqa: E402
from sessionlens.stores import open_store  # noqa: E402


def prepare(path: Path, n: int, logs: int, details: int) -> None:
    """The source store, built once per size and reused."""
    if path.exists():
        return
    took = make_store(path, n, metrics=True)
    with open_store(f"sqlite://{path}", read_only=False, tracking=False) as store:
        ids = [sid for sid, _ in store.iter_records(None)]
        for i, sid in enumerate(ids):
            if logs and i % logs == 0:
                store.append_log(sid, f"run {i} starting\n")
                store.append_log(sid, "a warning\n", "stderr")
            if details and i % details == 0:
                store.set_user_details(sid, title=f"run {i}", bookmark=i % 2 == 0)
    print(f"built {n:,} sessions in {took:.1f} s (+ logs and details)")


def _server_cpu() -> float:
    """CPU seconds all PostgreSQL processes here have used (0 where /proc cannot tell): the
    copy writes on several connections, each served by a backend of its own."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        if name == "postgres":
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def copy_into(src_spec: str, dst_spec: str, label: str) -> None:
    with open_store(src_spec, tracking=False) as src:
        for again in (False, True):
            with open_store(dst_spec, read_only=False, create=True, tracking=False) as dst:
                server, cpu = _server_cpu(), time.process_time()
                began = time.perf_counter()
                result = copy_sessions(src, dst)
                took = time.perf_counter() - began
                cpu, server = time.process_time() - cpu, _server_cpu() - server
            done = result.copied + result.already
            line = (
                f"{label}{' again (all there)' if again else ''}: {result.copied:,} copied, "
                f"{result.already:,} there, {took:.2f} s = {done / took:,.0f} sessions/s; "
                f"CPU per session: this process {cpu / done * 1e6:.0f} us"
            )
            if dst_spec.startswith("postgresql") and not again:  # backends gone since
                line += f", the server {server / done * 1e6:.0f} us"
            print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--logs", type=int, default=100, help="a log on every N-th session")
    parser.add_argument("--details", type=int, default=100, help="a title on every N-th")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite -> SQLite only")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-copy-"))
    folder.mkdir(parents=True, exist_ok=True)
    src_path = folder / f"src-{args.sessions}.db"
    prepare(src_path, args.sessions, args.logs, args.details)
    src_spec = f"sqlite://{src_path}"
    if not args.no_postgresql:
        from pgserver import skip_reason, started_server

        reason = skip_reason()
        if reason:
            print(f"SQLite -> PostgreSQL skipped: {reason}")
        else:
            server = started_server()
            try:
                copy_into(src_spec, next(server).create_database(), "SQLite -> PostgreSQL")
            finally:
                server.close()
    dst_path = folder / "dst.db"
    dst_path.unlink(missing_ok=True)
    copy_into(src_spec, f"sqlite://{dst_path}", "SQLite -> SQLite")
    return 0


if __name__ == "__main__":
    sys.exit(main())
