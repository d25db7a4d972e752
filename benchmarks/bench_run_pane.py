"""The run pane under a flood: a child printing N lines as fast as it can, through the real app.

    python benchmarks/bench_run_pane.py [--lines 1000000] [--store sqlite|memory] [--keep]

What it does, end to end and headless (``App.run_test``): builds a git project whose
``[tool.sessionlens] run`` is a Python script printing ``--lines`` numbered lines in one go,
seeds the SQLite store with 100 finished sessions, opens the app read-only on it (as
``sessionlens`` does), presses ``r`` and, while the flood goes on, moves the session table's
cursor with a key every ``--key-every`` seconds.

Figures printed (DESIGN.md section 6, "live log"):

* lines/s end to end: from the key ``r`` to the final record saved, every line in the stored log
  (the log is read back and counted, and must equal ``--lines``), and the pane's line count;
* key latency p50/p95/max during the flood: from posting the key event (as the terminal driver
  does) until the table has handled it (its cursor action ran) **and** a frame after that was
  composed;
* memory: process RSS before the run, its peak during, after; the pane's kept lines and the
  Python size of what it holds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from sessionlens.stores import open_store  # noqa: E402
from sessionlens.stores.memory import MemoryStore  # noqa: E402
from sessionlens.tui.app import SessionLensApp  # noqa: E402

FLOOD = """
import sys
n = int(sys.argv[1])
write = sys.stdout.write
step = 100_000
for start in range(0, n, step):
    end = min(n, start + step)
    write("".join(f"line {i} of the flood, as fast as it can\\n" for i in range(start, end)))
sys.stdout.flush()
"""


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def make_project(root: Path, lines: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "flood.py").write_text(textwrap.dedent(FLOOD).lstrip())
    (root / ".gitignore").write_text(".viz/\n")
    (root / "pyproject.toml").write_text(
        f'[tool.sessionlens]\nrun = ["{sys.executable}", "flood.py", "{lines}"]\n'
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")
    return root


def seed_records(n: int) -> list[dict[str, Any]]:
    """Finished sessions for the table to move through (ids an hour in the past and older)."""
    from datetime import datetime, timedelta, timezone

    from sessionlens.record import new_session_id

    now = datetime.now(timezone.utc) - timedelta(hours=1)
    records = []
    for i in range(n):
        started = now - timedelta(minutes=i)
        records.append(
            {
                "session_id": new_session_id(started),
                "project_path": "/bench",
                "run": {
                    "status": "success",
                    "started_at": started.isoformat(),
                    "duration_s": 1.0 + i,
                    "exit_code": 0,
                    "command": ["python", "train.py"],
                },
            }
        )
    return records


class PaintClock:
    """Wraps ``App._display`` to know when a frame was composed (also headless)."""

    def __init__(self, app: SessionLensApp) -> None:
        self.last = 0.0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None:
                self.last = time.monotonic()
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]


async def measure(args: argparse.Namespace, project: Path) -> dict[str, Any]:
    store: Any = None
    if args.store == "memory":
        store = MemoryStore()
        store.insert_many(seed_records(100))
        browse: Any = store
    else:
        db = project / ".viz" / "session_store.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        writer = open_store(str(db), read_only=False, create=True)
        writer.insert_many(seed_records(100))
        writer.close()
        browse = open_store(str(db), read_only=True)
    app = SessionLensApp(browse, project=project)
    paints = PaintClock(app)
    figures: dict[str, Any] = {}
    rss_peak = 0.0
    stop_sampling = threading.Event()

    def sample() -> None:
        nonlocal rss_peak
        while not stop_sampling.is_set():
            rss_peak = max(rss_peak, rss_mib())
            time.sleep(0.02)

    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.sessions_screen
        table = screen.table
        deadline = time.monotonic() + 30
        while table.count < 100 and time.monotonic() < deadline:
            await pilot.pause(0.05)
        gc.collect()
        figures["rss_before_mib"] = rss_mib()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        table.focus()
        await pilot.pause()
        t_key = time.monotonic()
        app.simulate_key("r")
        while app.sessions_screen.run_pane is None or app.sessions_screen.run_pane.running is None:
            await asyncio.sleep(0.001)
        pane = app.sessions_screen.run_pane
        t_started = time.monotonic()
        while app.focused is not pane.log_view:  # the pane takes the focus when it starts
            await asyncio.sleep(0.001)
        table.focus()  # the keys move the table's cursor
        # The footer recomposes for the table's keys (not part of the figure): a fixed 0.1 s was
        # not always enough on a busy machine, and the first key then measured the recompose
        # (300-700 ms). Wait until the app has handled what the focus change queued.
        await pilot.pause()
        await asyncio.sleep(0.1)
        await pilot.pause()
        latencies: list[float] = []
        handled: list[float] = []
        for name in ("action_cursor_down", "action_cursor_up"):
            original = getattr(table, name)

            def wrapped(original: Any = original) -> None:
                handled.append(time.monotonic())
                original()

            setattr(table, name, wrapped)
        key = "down"
        while pane.record is None:
            count = len(handled)
            t0 = time.monotonic()
            app.simulate_key(key)
            while len(handled) == count and pane.record is None:
                await asyncio.sleep(0.0005)
            if len(handled) == count:
                break
            while paints.last <= handled[-1] and pane.record is None:
                await asyncio.sleep(0.0005)
            if paints.last > handled[-1]:
                latencies.append(paints.last - t0)
                if args.verbose:
                    print(f"{key}: {(paints.last - t0) * 1000:.1f} ms")
            key = "up" if key == "down" else "down"
            await asyncio.sleep(args.key_every)
        t_end = time.monotonic()
        stop_sampling.set()
        sampler.join()
        run = pane.record["run"]
        figures.update(
            session_id=pane.session_id,
            status=run["status"],
            child_duration_s=run["duration_s"],
            launch_s=t_started - t_key,
            end_to_end_s=t_end - t_key,
            pane_lines=pane.log_view.line_count,
            pane_kept=len(pane.log_view._lines),
            pane_bytes=sum(sys.getsizeof(raw) + 24 for raw in pane.log_view._lines),
            latencies=latencies,
            rss_peak_mib=rss_peak,
        )
        await pilot.pause(0.2)
        gc.collect()
        figures["rss_after_mib"] = rss_mib()
    # every line in the stored log
    reader = store if store is not None else open_store(browse.location, read_only=True)
    t0 = time.monotonic()
    stored = 0
    last = ""
    for chunk in reader.iter_log(figures["session_id"]):
        stored += chunk.text.count("\n")
        last = chunk.text
    figures["stored_lines"] = stored
    figures["stored_last"] = last.rstrip("\n").rsplit("\n", 1)[-1]
    figures["read_back_s"] = time.monotonic() - t0
    if store is None:
        reader.close()
        browse.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--key-every", type=float, default=0.05, help="seconds between keys")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument("--verbose", action="store_true", help="print every key")
    parser.add_argument("--repeat", type=int, default=1, help="floods in a row (fresh apps)")
    args = parser.parse_args()
    ok = True
    pooled: list[float] = []
    rates: list[float] = []
    for _ in range(args.repeat):
        good, latencies, rate = run_once(args)
        ok = ok and good
        pooled += latencies
        rates.append(rate)
    if args.repeat > 1 and pooled:
        ms = sorted(x * 1000 for x in pooled)
        p50, p95 = ms[len(ms) // 2], ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        print(
            f"all {args.repeat} floods: {statistics.median(rates):,.0f} lines/s median end to end;"
            f" {len(ms)} keys: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
        )
    return 0 if ok else 1


def run_once(args: argparse.Namespace) -> tuple[bool, list[float], float]:
    tmp = Path(tempfile.mkdtemp(prefix="sessionlens-bench-run-"))
    project = make_project(tmp / "project", args.lines)
    figures = asyncio.run(measure(args, project))
    n = args.lines
    ms = sorted(x * 1000 for x in figures["latencies"])

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))] if ms else float("nan")

    print(f"flood: {n:,} lines from a child, store {args.store}, session {figures['session_id']}")
    print(f"  status {figures['status']}; child ran {figures['child_duration_s']:.2f}s")
    print(
        f"  end to end (key r -> final record saved): {figures['end_to_end_s']:.2f}s = "
        f"{n / figures['end_to_end_s']:,.0f} lines/s (launch {figures['launch_s'] * 1000:.0f} ms)"
    )
    ok = figures["stored_lines"] == n and figures["stored_last"].startswith(f"line {n - 1} ")
    print(
        f"  stored log: {figures['stored_lines']:,} lines ({'all' if ok else 'MISSING LINES'}), "
        f"read back in {figures['read_back_s']:.2f}s"
    )
    print(
        f"  pane: {figures['pane_lines']:,} lines seen, {figures['pane_kept']:,} kept, "
        f"~{figures['pane_bytes'] / 2**20:.1f} MiB held"
    )
    if ms:
        print(
            f"  key latency during the flood ({len(ms)} keys): p50 {pct(50):.1f} ms, "
            f"p95 {pct(95):.1f} ms, max {ms[-1]:.1f} ms, mean {statistics.fmean(ms):.1f} ms"
        )
    print(
        f"  RSS: {figures['rss_before_mib']:.0f} MiB before, peak {figures['rss_peak_mib']:.0f} "
        f"MiB during, {figures['rss_after_mib']:.0f} MiB after"
    )
    if args.keep:
        print(f"  project kept in {project}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return ok, figures["latencies"], n / figures["end_to_end_s"]


if __name__ == "__main__":
    sys.exit(main())
