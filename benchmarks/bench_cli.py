"""CLI timings against DESIGN.md section 6; prints figures, asserts nothing.

    python benchmarks/bench_cli.py [--repeat 7] [--sizes 1000,100000] [--keep DIR]

1. ``sessionlens list --limit 50 --json`` on SQLite stores of 1k and 100k sessions: wall time of
   the whole process (target < 0.3 s at 100k), median of several runs, plus the first (cold) run.
2. Overhead of ``sessionlens run -- true`` over ``true`` alone, in a git repo of 10k files
   (target < 100 ms): git status + store writes + interpreter start.
3. A child printing 1M lines through ``sessionlens run``: lines/s end to end, every line checked
   in the saved log.

Stores are built with ``benchmarks/make_store.py`` when it provides ``make_store(path, n)``,
else with the store's own ``save_many`` (synthetic but realistically shaped records).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sessionlens.record import SESSION_ID_FORMAT  # noqa: E402

BRANCHES = ["main", "main", "main", "feature/offset-20", "feature/faster-scale", "fix/io"]
USERS = ["ana", "bo", "chen", "dev"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def synthetic_record(i: int, start: datetime, rng: random.Random) -> dict[str, Any]:
    moment = start + timedelta(seconds=37 * i, milliseconds=rng.randrange(1000))
    session_id = moment.strftime(SESSION_ID_FORMAT)[:-4] + "Z"
    duration = round(rng.uniform(0.5, 900), 3)
    status = rng.choices(["success", "failed", "interrupted"], [85, 12, 3])[0]
    params = {"scale": rng.randrange(1, 10), "offset": rng.choice([0, 10, 100])}
    if status == "failed":
        params["fail"] = True
    sha = f"{rng.getrandbits(160):040x}"
    git = {"commit_sha": sha[:7], "commit_sha_full": sha, "dirty": rng.random() < 0.2}
    if rng.random() < 0.97:
        git["branch"] = rng.choice(BRANCHES)
    finished = moment + timedelta(seconds=duration)
    record: dict[str, Any] = {
        "session_id": session_id,
        "package_name": "spaceflights",
        "project_path": "/home/ana/projects/spaceflights",
        "username": rng.choice(USERS),
        "git": git,
        "cli": {
            "command_name": "run",
            "command_path": f"sessionlens run --params scale={params['scale']}",
            "args": ["kedro", "run"],
            "params": {"store": None, "env": None, "rerun_of": None, "params": params},
        },
        "run": {
            "status": status,
            "started_at": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "finished_at": finished.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "duration_s": duration,
            "exit_code": {"success": 0, "failed": 1, "interrupted": 130}[status],
            "pid": 1000 + i,
            "hostname": "bench-host",
            "command": ["kedro", "run", "--params", f"scale={params['scale']}"],
            "rerun_of": None,
        },
        "environment": {"python": "3.11.7", "platform": "linux"},
    }
    if status == "failed":
        record["exception"] = {
            "type": "ValueError",
            "value": "Intentional failure requested via params:fail",
            "traceback": ['  File "nodes.py", line 12, in split\n'],
        }
    return record


def build_store(path: Path, n: int) -> str:
    """Fill an SQLite store with ``n`` sessions; returns how it was built."""
    maker = ROOT / "benchmarks" / "make_store.py"
    if maker.is_file():
        import importlib.util

        spec = importlib.util.spec_from_file_location("make_store", maker)
        if spec and spec.loader:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            if callable(getattr(module, "make_store", None)):
                module.make_store(str(path), n)
                return "benchmarks/make_store.py"
    from sessionlens.stores import open_store

    rng = random.Random(n)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with open_store(f"sqlite://{path}", read_only=False, create=True) as store:
        batch: list[dict[str, Any]] = []
        for i in range(n):
            batch.append(synthetic_record(i, start, rng))
            if len(batch) == 5000:
                store.insert_many(batch)
                batch = []
        if batch:
            store.insert_many(batch)
    return "save_many"


def base_env() -> dict[str, str]:
    """The environment of a normal install: bytecode caching on (some sandboxes and CI images
    set PYTHONDONTWRITEBYTECODE, which makes every run recompile sessionlens)."""
    env = {**os.environ, **GIT_ENV}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # this checkout's code, not whatever an (editable) install elsewhere points at
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def timed(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env or base_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def bench_list(work: Path, sizes: list[int], repeat: int) -> None:
    print("== sessionlens list --limit 50 --json (whole process; target < 300 ms at 100k)")
    base = [sys.executable, "-c", "pass"]
    floor = statistics.median(timed(base) for _ in range(repeat))
    print(f"   python -c pass (interpreter start on this machine): {ms(floor)}")
    entry = shutil.which("sessionlens")
    for n in sizes:
        db = work / f"store-{n}.db"
        if not db.exists():
            t0 = time.perf_counter()
            how = build_store(db, n)
            print(f"   built {n} sessions with {how} in {time.perf_counter() - t0:.1f} s")
        cmd = [sys.executable, "-m", "sessionlens", "list", "--limit", "50", "--json"]
        cmd += ["--store", str(db)]
        first = timed(cmd)
        runs = [timed(cmd) for _ in range(repeat)]
        line = f"   {n:>7} sessions: python -m sessionlens  median {ms(statistics.median(runs))}"
        print(f"{line}  (min {ms(min(runs))}, first {ms(first)})")
        if entry:
            cmd2 = [entry, *cmd[3:]]
            runs2 = [timed(cmd2) for _ in range(repeat)]
            print(f"   {n:>7} sessions: {entry}  median {ms(statistics.median(runs2))}")


def make_big_repo(path: Path, files: int) -> None:
    env = {**os.environ, **GIT_ENV}
    path.mkdir(parents=True)
    for i in range(files):
        folder = path / f"pkg{i // 500:02d}" / f"mod{(i // 50) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{i:05d}.py").write_text(f"VALUE = {i}\n")
    (path / ".gitignore").write_text("*.db\n*.db-*\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "10k files"]):
        subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=path, env=env, check=True)


def bench_run(work: Path, repeat: int) -> None:
    print("== overhead of sessionlens run -- true over true (10k-file repo; target < 100 ms)")
    repo = work / "repo10k"
    if not repo.exists():
        t0 = time.perf_counter()
        make_big_repo(repo, 10_000)
        print(f"   made a git repo of 10k files in {time.perf_counter() - t0:.1f} s")
    true = shutil.which("true") or "true"
    env = base_env()
    cmd = [sys.executable, "-m", "sessionlens", "run", "-q", "--store", "runs.db", "--", true]
    timed(cmd, cwd=repo, env=env)  # creates the store (and the bytecode caches)
    # in alternation, so a busy moment of a shared machine hits all of them alike
    kinds: dict[str, list[str]] = {
        "true": [true],
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
        "git status": ["git", "status", "--porcelain=v2", "--branch"],
        "run": cmd,
    }
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind, argv in kinds.items():
            times[kind].append(timed(argv, cwd=repo, env=env))
    med = {kind: statistics.median(values) for kind, values in times.items()}
    print(f"   true alone:                 median {ms(med['true'])}")
    print(f"   git status --porcelain=v2:  median {ms(med['git status'])}")
    print(f"   python -c pass:             median {ms(med['python -c pass'])}")
    print(f"   sessionlens run -- true:    median {ms(med['run'])}  (min {ms(min(times['run']))})")
    print(f"   overhead over true:         {ms(med['run'] - med['true'])}")
    print(f"   overhead over python start: {ms(med['run'] - med['python -c pass'])}")
    site = med["python -c pass"] - med["python -S -c pass"]
    print(f"   (site and .pth files cost {ms(site)} of the interpreter start)")


def bench_flood(work: Path, lines: int) -> None:
    print(f"== {lines:,} lines through sessionlens run (target >= 100k lines/s, none lost)")
    folder = work / "flood"
    folder.mkdir(exist_ok=True)
    script = folder / "flood.py"
    script.write_text(
        "import sys\nw = sys.stdout.write\n"
        f"for i in range({lines}):\n    w(f'line {{i}} of the flood\\n')\n"
    )
    env = base_env()
    env.pop("PYTHONUNBUFFERED", None)
    db = folder / "flood.db"
    cmd = [sys.executable, "-m", "sessionlens", "run", "-q", "--store", str(db), "--"]
    cmd += [sys.executable, str(script)]
    elapsed = timed(cmd, cwd=folder, env=env)
    alone = timed([sys.executable, str(script)], cwd=folder)
    from sessionlens.stores import open_store

    with open_store(str(db)) as store:
        (summary,) = store.list_summaries(limit=1)
        text = store.read_log(summary.session_id)
    got = text.count("\n")
    ok = got == lines and text.endswith(f"line {lines - 1} of the flood\n")
    print(f"   child alone {alone:.2f} s; through sessionlens {elapsed:.2f} s")
    verdict = "ok" if ok else "LOST LINES"
    print(f"   {lines / elapsed:,.0f} lines/s end to end; {got:,} lines in the log ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--flood", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="DIR", help="reuse/keep stores and the repo here")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sessionlens-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        bench_list(work, [int(n) for n in args.sizes.split(",")], args.repeat)
        bench_run(work, args.repeat)
        if args.flood:
            bench_flood(work, args.flood)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
