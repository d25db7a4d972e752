"""Concurrent writers, DESIGN.md's target: 16 processes x 100 sessions into one store while two
busy loops load the CPU, repeated; prints one row per run and store kind.

    python benchmarks/torture_writers.py            # 10 runs each for sqlite and shelve
    python benchmarks/torture_writers.py --runs 3 --kinds sqlite

The writers are the torture suite's (``tests/torture.py``): each process records its sessions
through the Python API (``Session.create`` + ``run``), all starting at the same instant.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sessionlens.stores import open_store
from storetools import store_location
from torture import cpu_load, make_project, many_writers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--kinds", nargs="+", default=["sqlite", "shelve"])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    expected = args.processes * args.sessions
    print(
        f"{'store':7} {'run':>3} {'expected':>8} {'stored':>6} {'distinct':>8} "
        f"{'exit codes':>12} {'errors':>6} {'seconds':>7}"
    )
    failures = 0
    for kind in args.kinds:
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory(prefix="sessionlens-torture-") as tmp:
                where = Path(tmp)
                project = make_project(where / "project")
                spec = store_location(kind, where)
                started = time.monotonic()
                with cpu_load():
                    codes, ids, errors = many_writers(project, spec, args.processes, args.sessions)
                took = time.monotonic() - started
                with open_store(spec) as store:
                    stored = store.count()
            codes_text = "all 0" if set(codes) == {0} else ",".join(map(str, sorted(set(codes))))
            ok = stored == len(set(ids)) == expected and not errors and set(codes) == {0}
            failures += not ok
            print(
                f"{kind:7} {run:>3} {expected:>8} {stored:>6} {len(set(ids)):>8} "
                f"{codes_text:>12} {len(errors):>6} {took:>7.1f}"
            )
    print("all runs stored every session" if not failures else f"{failures} runs lost sessions")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
