"""How fast ``copy`` moves sessions between stores (target: 100k SQLite -> SQLite >= 5k/s).

    python benchmarks/bench_copy.py [--sessions 100000] [--dir DIR] [--logs N] [--details N]

Builds (or reuses, in DIR, default a temp folder) an SQLite store of N sessions with
``make_store.py`` (metrics in the records), adds a log of two chunks to every ``--logs``-th
session and a title to every ``--details``-th, then copies it into a new SQLite file through
``copying.copy_sessions`` (what ``sessionlens copy`` runs), and a second time (everything
already there). Prints sessions/s of each; timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "src", ROOT / "benchmarks"):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--logs", type=int, default=100, help="a log on every N-th session")
    parser.add_argument("--details", type=int, default=100, help="a title on every N-th")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-copy-"))
    folder.mkdir(parents=True, exist_ok=True)
    src_path = folder / f"src-{args.sessions}.db"
    prepare(src_path, args.sessions, args.logs, args.details)
    dst_path = folder / "dst.db"
    dst_path.unlink(missing_ok=True)
    with open_store(f"sqlite://{src_path}", tracking=False) as src:
        for label in ("copy into a new file", "copy again (all there)"):
            began = time.perf_counter()
            with open_store(
                f"sqlite://{dst_path}", read_only=False, create=True, tracking=False
            ) as dst:
                result = copy_sessions(src, dst)
            took = time.perf_counter() - began
            done = result.copied + result.already
            print(
                f"{label}: {result.copied:,} copied, {result.already:,} there, "
                f"{took:.2f} s = {done / took:,.0f} sessions/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
