"""How fast sessionlens opens a store kedro-viz alone wrote (issue 9's targets), 1k to 1M sessions.

    python benchmarks/bench_kedro_viz.py [--sizes 1000 100000 1000000] [--repeat 5] [--dir DIR]

Each store is built once with ``make_store.py --kedro-viz`` (exactly kedro-viz's tables). Every
figure is a fresh process; "cold" means an empty index cache (the store never opened before),
"warm" the cache a previous open built. Printed:

- ``list --limit 50 --json`` and ``show ID --json``: the whole CLI process, cold and warm (the
  human table adds Rich's rendering, the same for every store);
- the app's first screen (process start -> first table row painted) and its memory (max RSS
  after 3 s, the index being built meanwhile when cold);
- the index: a full build from nothing, and bringing it up to date after kedro-viz added 5 runs;
- warm, in the app: ``end``, ``pageup``, and typing ``branch:main`` at 120 ms a key (last key ->
  the new filter's rows painted) and the same with ``param.scale:3``.

Targets (issue 9): 100k ``list`` < 0.3 s and first screen < 0.5 s on every open, each <= 1.5x
the 1k figure; 1M first screen < 1 s and memory < 150 MiB; a full index of 1M <= 30 s, seconds
after a few runs are added; at 1M ``end``/``pageup`` < 50 ms and last key -> final rows < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPED = (("branch:main", "branch"), ("param.scale:3", "param"), ("exp-1", "word"))


# -- children ----------------------------------------------------------------------------------
def first_screen_child(store_path: str, t0: float) -> dict[str, float]:
    """Process start -> first row painted, then RSS after 3 s of the app running."""
    from sessionlens.stores import open_store
    from sessionlens.tui.app import SessionLensApp
    from sessionlens.tui.widgets.session_table import SessionTable

    painted: list[float] = []
    render_line = SessionTable.render_line

    def timed(table: SessionTable, y: int):
        strip = render_line(table, y)
        index = table.scroll_offset.y + y - 1
        if y and index < table.count and table.pages.row(index) is not None and not painted:
            painted.append(time.time())
        return strip

    SessionTable.render_line = timed

    async def run() -> None:
        store = open_store(store_path, read_only=True)
        app = SessionLensApp(store, poll_interval=3600)
        async with app.run_test(size=(160, 48)) as pilot:
            while not painted:
                await pilot.pause(0.001)
            await pilot.pause(3)
        store.close()

    asyncio.run(run())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"first_screen_s": painted[0] - t0, "rss_mib": rss}


def typing_child(store_path: str) -> dict[str, float]:
    """Warm: end, pageup, and filters typed at 120 ms a key (last key -> its rows painted)."""
    from textual.keys import _character_to_key

    from sessionlens.stores import open_store
    from sessionlens.tui.app import SessionLensApp
    from sessionlens.tui.widgets.session_table import SessionTable

    painted: list[tuple[float, int, int]] = []
    render_line = SessionTable.render_line

    def timed(table: SessionTable, y: int):
        strip = render_line(table, y)
        index = table.scroll_offset.y + y - 1
        if y and index < table.count and table.pages.row(index) is not None:
            painted.append((time.perf_counter(), table._loaded_generation, index))
        return strip

    SessionTable.render_line = timed
    figures: dict[str, float] = {}

    async def until(condition, timeout: float = 60.0) -> float:
        deadline = time.perf_counter() + timeout
        while (hit := condition()) is None:
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out after {figures}")
            await asyncio.sleep(0.001)
        return hit

    def paint(after: float, *, generation: int = 0, index: int | None = None) -> float | None:
        return next(
            (
                t
                for t, g, i in painted
                if t >= after and g >= generation and (index is None or i == index)
            ),
            None,
        )

    async def run() -> None:
        store = open_store(store_path, read_only=True)
        app = SessionLensApp(store, poll_interval=3600)
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.screen.table
            await until(lambda: paint(0.0))
            await until(lambda: None if table.is_loading else True)
            await pilot.pause(0.3)
            mark = time.perf_counter()
            await pilot.press("end")
            figures["end_s"] = await until(lambda: paint(mark, index=table.count - 1)) - mark
            steps = []
            for _ in range(5):
                await pilot.pause(0.1)
                target = max(0, table.cursor_row - table._visible_rows)
                mark = time.perf_counter()
                await pilot.press("pageup")
                steps.append(await until(lambda t=target, m=mark: paint(m, index=t)) - mark)
            figures["pageup_max_s"] = max(steps)
            await pilot.press("home")
            for text, name in TYPED:
                await pilot.press("slash")
                for char in text[:-1]:
                    await pilot.press(_character_to_key(char))
                    await asyncio.sleep(0.12)
                generation = table._generation
                mark = time.perf_counter()
                await pilot.press(_character_to_key(text[-1]))
                # the rows of a generation after the last key's: the new filter's, not the old
                done = await until(
                    lambda m=mark, g=generation: (
                        paint(m, generation=g + 1)
                        or (
                            time.perf_counter()
                            if table._loaded_generation > g and not table.count
                            else None
                        )
                    )
                )
                figures[f"typed_{name}_s"] = done - mark
                await until(lambda: None if table.is_loading else True)
                figures[f"typed_{name}_counted_s"] = time.perf_counter() - mark
                await pilot.press("escape")
                app.screen.set_filter("")
                await until(lambda: None if table.is_loading else True)
                await pilot.pause(0.3)
        store.close()

    asyncio.run(run())
    return figures


def index_child(store_path: str) -> dict[str, float]:
    from sessionlens.stores import open_store

    with open_store(store_path, read_only=True) as store:
        began = time.perf_counter()
        store.build_index()
        return {"index_s": time.perf_counter() - began}


# -- parent ------------------------------------------------------------------------------------
def run_child(kind: str, store: Path, cache: Path) -> dict[str, float]:
    env = {**os.environ, "SESSIONLENS_CACHE_DIR": str(cache)}
    out = subprocess.run(
        [sys.executable, __file__, f"--{kind}", str(store), "--t0", repr(time.time())],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{kind} child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_cli(args: list[str], cache: Path) -> float:
    return timed([sys.executable, "-m", "sessionlens", *args], cache)


def timed(argv: list[str], cache: Path | None = None) -> float:
    """Seconds ``argv`` takes, with bytecode caching on (as after a normal install)."""
    env = {**os.environ, "SESSIONLENS_CACHE_DIR": str(cache or "")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    began = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if out.returncode:
        raise SystemExit(f"{argv} failed: {out.stderr.decode(errors='replace')}")
    return elapsed


def fresh(cache: Path) -> Path:
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    return cache


def add_runs(store: Path, n: int) -> None:
    """kedro-viz adds ``n`` runs (rows like the newest one, newer ids)."""
    conn = sqlite3.connect(store)
    with conn:
        newest, blob = conn.execute("SELECT id, blob FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        for i in range(1, n + 1):
            sid = f"{newest[:-5]}{i:03d}Z"
            conn.execute("INSERT INTO runs (id, blob) VALUES (?, ?)", (sid, blob))
    conn.close()


def bench(store: Path, size: int, repeat: int, work: Path) -> dict[str, float]:
    med = statistics.median
    cache = work / f"cache-{size}"
    r: dict[str, float] = {}
    newest = (
        sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        .execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1")
        .fetchone()[0]
    )
    listing = ["list", "--limit", "50", "--json", "--store", str(store)]
    r["list_cold_s"] = med(timed_cli(listing, fresh(cache)) for _ in range(repeat))
    r["show_cold_s"] = med(
        timed_cli(["show", newest, "--json", "--store", str(store)], fresh(cache))
        for _ in range(repeat)
    )
    cold = [run_child("first-screen", store, fresh(cache)) for _ in range(repeat)]
    r["app_cold_s"] = med(c["first_screen_s"] for c in cold)
    r["rss_cold_mib"] = max(c["rss_mib"] for c in cold)
    r["index_full_s"] = run_child("index", store, fresh(cache))["index_s"]
    r["list_warm_s"] = med(timed_cli(listing, cache) for _ in range(repeat))
    r["show_warm_s"] = med(
        timed_cli(["show", newest, "--json", "--store", str(store)], cache) for _ in range(repeat)
    )
    warm = [run_child("first-screen", store, cache) for _ in range(repeat)]
    r["app_warm_s"] = med(c["first_screen_s"] for c in warm)
    r["rss_warm_mib"] = max(c["rss_mib"] for c in warm)
    typing = [run_child("typing", store, cache) for _ in range(max(1, repeat // 2))]
    for key in typing[0]:
        r[key] = med(t[key] for t in typing)
    copy = work / f"added-{size}.db"
    shutil.copyfile(store, copy)
    copy_cache = work / f"cache-added-{size}"
    run_child("index", copy, fresh(copy_cache))
    add_runs(copy, 5)
    r["index_5_added_s"] = run_child("index", copy, copy_cache)["index_s"]
    copy.unlink()
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="where to keep the stores (default: a temp dir)")
    for kind in ("first-screen", "typing", "index"):
        parser.add_argument(f"--{kind}", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for kind, child in (
        ("first_screen", lambda p: first_screen_child(p, args.t0)),
        ("typing", typing_child),
        ("index", index_child),
    ):
        if getattr(args, kind):
            print(json.dumps(child(getattr(args, kind))))
            return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_store import make_kedro_viz_store

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-kedro-viz-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in args.sizes:
        store = work / f"kedro-viz-{size}.db"
        if not store.exists():
            took = make_kedro_viz_store(store, size)
            print(f"built {store} ({size:,} kedro-viz sessions) in {took:.0f} s", flush=True)
        results[size] = bench(store, size, args.repeat, work)
        print(f"{size:,}: {json.dumps(results[size])}", flush=True)

    ms = lambda s: f"{s * 1000:,.0f} ms"  # noqa: E731
    floor = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(args.repeat))
    print(f"\nkedro-viz-only stores, median of {args.repeat} fresh processes (cold: no index yet)")
    print(f"python -c pass on this machine: {ms(floor)}")
    rows = [
        ("list --limit 50 cold / warm", "list_cold_s", "list_warm_s"),
        ("show ID cold / warm", "show_cold_s", "show_warm_s"),
        ("app first screen cold / warm", "app_cold_s", "app_warm_s"),
    ]
    print(f"{'':34}" + "".join(f"{size:>22,}" for size in results))
    for label, a, b in rows:
        cells = "".join(f"{ms(r[a]) + ' / ' + ms(r[b]):>22}" for r in results.values())
        print(f"{label:34}{cells}")
    for label, key, fmt in (
        ("app memory cold / warm (MiB)", None, None),
        ("index from nothing", "index_full_s", lambda s: f"{s:.1f} s"),
        ("index after 5 runs added", "index_5_added_s", ms),
        ("end (warm)", "end_s", ms),
        ("pageup, slowest of 5 (warm)", "pageup_max_s", ms),
        ("typed branch:main -> rows", "typed_branch_s", ms),
        ("  ... -> count", "typed_branch_counted_s", ms),
        ("typed param.scale:3 -> rows", "typed_param_s", ms),
        ("  ... -> count", "typed_param_counted_s", ms),
        ("typed exp-1 (a word) -> rows", "typed_word_s", ms),
        ("  ... -> count", "typed_word_counted_s", ms),
    ):
        if key is None:
            cells = "".join(
                f"{r['rss_cold_mib']:,.0f} / {r['rss_warm_mib']:,.0f}".rjust(22)
                for r in results.values()
            )
        else:
            cells = "".join(f"{fmt(r[key]):>22}" for r in results.values())
        print(f"{label:34}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
