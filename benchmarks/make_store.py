"""Build a realistic SQLite session store of N sessions, fast (``insert_many``, one transaction).

    python benchmarks/make_store.py PATH --sessions 100000 [--seed 0] [--force] [--kedro-viz]
        [--metrics]

``--kedro-viz`` builds the store as kedro-viz alone writes it: exactly its tables (``runs`` with
Kedro's records as JSON text encoded twice, ``user_run_details`` with a title on one session in a
hundred) and nothing of sessionlens's.

``--metrics`` gives each session that got far enough (all successes, half the failures) the
metrics a training run logs, in its record as ``sessionlens.log_metrics`` writes them:
``accuracy`` (0.5-1.0), ``loss`` and ``r2``; ``metric.accuracy>=0.95`` matches about 9%.

Other benchmarks import it: ``make_store(path, n)`` (``make_kedro_viz_store``) builds the file
and returns the seconds it took; ``make_records(n)`` yields the records. Records are shaped
like sessionlens's own (DESIGN.md section 1): ``run`` (status, times, exit code, pid, hostname,
argv, rerun_of), ``git`` with ``commit_sha_full``, ``cli`` with parameters, ``environment``,
and an ``exception`` on failures, with varied branches, statuses, users, parameters, dirty
trees and commands. Session ids are Kedro-format times about a minute apart, the newest near
now. No record is ``running``: a benchmark store holds finished work (a live run would make the
pid check part of the timing).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from sessionlens.record import new_session_id  # noqa: E402
from sessionlens.stores import open_store, sqlite_schema  # noqa: E402

BRANCHES = ["main"] * 6 + ["dev"] * 3 + [f"feature/exp-{n}" for n in range(40)] + [None]
USERS = ["ana", "bob", "chen", "dana", "emre", "fatou", "gil", "hana"]
HOSTS = ["ws-ana", "ws-bob", "ci-runner-1", "ci-runner-2", "gpu-01", "gpu-02"]
STATUSES = ["success"] * 80 + ["failed"] * 15 + ["interrupted"] * 5
COMMANDS = [
    ["kedro", "run"],
    ["kedro", "run", "--pipeline", "train"],
    ["kedro", "run", "--tags", "preprocess"],
    ["python", "train.py"],
    ["python", "-m", "pipeline.evaluate"],
    ["make", "report"],
]


def make_records(
    n: int, *, seed: int = 0, end: datetime | None = None, metrics: bool = False
) -> Iterator[dict[str, Any]]:
    """``n`` records, oldest first, the newest about ``end`` (now by default); ``metrics``: with
    a ``metrics`` part (its own random stream, so the other fields do not change)."""
    rng = random.Random(seed)
    metric_rng = random.Random(seed + 1)
    end = end or datetime.now(timezone.utc)
    start = end - timedelta(minutes=n)
    commits = [hashlib.sha1(f"{seed}-{c}".encode()).hexdigest() for c in range(max(8, n // 50))]
    previous: list[str] = []
    for i in range(n):
        moment = start + timedelta(minutes=i, seconds=rng.random() * 50)
        session_id = new_session_id(moment)
        status = rng.choice(STATUSES)
        duration = round(rng.lognormvariate(3, 1.2), 3)
        command = list(rng.choice(COMMANDS))
        params = {
            "scale": rng.choice([1, 2, 3, 5, 10]),
            "lr": rng.choice([0.1, 0.03, 0.01, 0.003]),
            "epochs": rng.randrange(1, 50),
            "model": rng.choice(["linear", "tree", "mlp"]),
        }
        if rng.random() < 0.5:
            command += ["--params", ",".join(f"{k}={v}" for k, v in params.items())]
        sha = commits[min(len(commits) - 1, int(i / n * len(commits)))]
        branch = rng.choice(BRANCHES)
        git: dict[str, Any] = {
            "commit_sha": sha[:7],
            "commit_sha_full": sha,
            "dirty": rng.random() < 0.3,
        }
        if branch is not None:
            git["branch"] = branch
        finished = moment + timedelta(seconds=duration)
        rerun_of = rng.choice(previous) if previous and rng.random() < 0.05 else None
        record: dict[str, Any] = {
            "session_id": session_id,
            "package_name": "forecast",
            "project_path": "/home/team/forecast",
            "username": rng.choice(USERS),
            "cli": {
                "command_name": "run",
                "command_path": "sessionlens run -- " + " ".join(command),
                "args": command[1:],
                "params": {"params": params},
            },
            "git": git,
            "run": {
                "status": status,
                "started_at": _iso(moment),
                "finished_at": _iso(finished),
                "duration_s": duration,
                "exit_code": {"success": 0, "failed": rng.choice([1, 2]), "interrupted": -2}[
                    status
                ],
                "pid": rng.randrange(1000, 60000),
                "hostname": rng.choice(HOSTS),
                "command": command,
                "rerun_of": rerun_of,
            },
            "environment": {"python": "3.11.7", "platform": "linux", "sessionlens": "0.1.0"},
        }
        if rng.random() < 0.2:
            record["env"] = rng.choice(["local", "prod", "staging"])
        if status == "failed":
            record["exception"] = {
                "type": rng.choice(["ValueError", "KeyError", "RuntimeError"]),
                "value": f"node {rng.randrange(12)} failed",
                "traceback": [f'  File "pipeline/nodes.py", line {rng.randrange(400)}, in run\n'],
            }
        if metrics and (status == "success" or (status == "failed" and metric_rng.random() < 0.5)):
            record["metrics"] = fake_metrics(metric_rng)
        previous.append(session_id)
        if len(previous) > 100:
            previous.pop(0)
        yield record


def fake_metrics(rng: random.Random) -> dict[str, float]:
    """A training run's metrics: better accuracy comes with lower loss and higher r2."""
    accuracy = round(rng.uniform(0.5, 1.0), 4)
    return {
        "accuracy": accuracy,
        "loss": round((1 - accuracy) * rng.uniform(0.8, 1.6), 4),
        "r2": round(accuracy - rng.uniform(0.0, 0.2), 4),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_store(
    path: str | Path, n: int, *, seed: int = 0, force: bool = False, metrics: bool = False
) -> float:
    """Build an SQLite store of ``n`` sessions at ``path``; returns the seconds it took."""
    path = Path(path)
    if path.exists():
        if not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    began = time.perf_counter()
    with open_store(f"sqlite://{path.absolute()}", read_only=False, create=True) as store:
        store.insert_many(make_records(n, seed=seed, metrics=metrics))
    return time.perf_counter() - began


def kedro_record(record: dict[str, Any]) -> dict[str, Any]:
    """What Kedro's session store keeps of a run (no ``run`` part: Kedro records none)."""
    command = record["run"]["command"]
    return {
        "package_name": record["package_name"],
        "project_path": record["project_path"],
        "session_id": record["session_id"],
        "cli": {**record["cli"], "command_path": " ".join(command)},
        "username": record["username"],
        "git": {k: v for k, v in record["git"].items() if k != "commit_sha_full"},
    }


def make_kedro_viz_store(path: str | Path, n: int, *, seed: int = 0, force: bool = False) -> float:
    """Build a store of ``n`` sessions as kedro-viz writes it; returns the seconds it took."""
    import json
    import sqlite3

    path = Path(path)
    if path.exists():
        if not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to replace it")
        path.unlink()
    began = time.perf_counter()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    for ddl in sqlite_schema.KEDRO_VIZ_DDL:
        conn.execute(ddl)
    details = 0
    for record in make_records(n, seed=seed):
        sid = record["session_id"]
        conn.execute(
            "INSERT INTO runs (id, blob) VALUES (?, ?)",
            (sid, json.dumps(json.dumps(kedro_record(record)))),
        )
        if rng.random() < 0.01:
            details += 1
            conn.execute(
                "INSERT INTO user_run_details (id, run_id, bookmark, title, notes) "
                "VALUES (?, ?, ?, ?, ?)",
                (details, sid, rng.random() < 0.3, f"experiment {details}", None),
            )
    conn.commit()
    conn.close()
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument("--kedro-viz", action="store_true", help="as kedro-viz alone writes it")
    parser.add_argument("--metrics", action="store_true", help="give sessions accuracy/loss/r2")
    args = parser.parse_args(argv)
    if args.kedro_viz and args.metrics:
        print("make_store: --metrics is for sessionlens stores", file=sys.stderr)
        return 2
    try:
        if args.kedro_viz:
            seconds = make_kedro_viz_store(
                args.path, args.sessions, seed=args.seed, force=args.force
            )
        else:
            seconds = make_store(
                args.path, args.sessions, seed=args.seed, force=args.force, metrics=args.metrics
            )
    except FileExistsError as exc:
        print(f"make_store: {exc}", file=sys.stderr)
        return 2
    size = args.path.stat().st_size / 2**20
    print(f"built {args.sessions:,} sessions in {seconds:.1f} s -> {args.path} ({size:.0f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
