"""How fast the app shows a store of 1k and of 100k sessions (DESIGN.md section 6).

    python benchmarks/bench_tui.py [--sizes 1000 100000] [--repeat 3] [--dir DIR]

For each size an SQLite store is built once with ``benchmarks/make_store.py``; then each repeat
runs the real app headless (``App.run_test``) in a FRESH subprocess and measures, with the session
table's ``render_line`` wrapped (in the child only) to note each loaded row it renders:

- import: importing ``sessionlens.tui.app`` (Textual included), in the child;
- first screen: from just before the parent starts the child process to the first table row
  rendered with data (so interpreter start, imports, opening the store and the first page count);
- end: the ``end`` key pressed -> the last session's row rendered;
- pageup: each of 5 ``pageup`` presses from the end -> its top row rendered (max shown);
- filter: the last keystroke of a filter -> the first row of the new result rendered, for a field
  term (``status:failed``), a field term on JSON data (``param.scale:3``) and a free word; and
  (in brackets) -> the header's count of matches complete (the store counts after the first page).

Targets: first screen < 0.5 s at 100k and within 1.5x of the 1k time; end, pageup and filter
keystroke < 100 ms. Figures are the median of the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILTERS = (("status:failed", "status"), ("param.scale:3", "param"), ("exp-1", "word"))


# -- child: one fresh process, one app ---------------------------------------------------------
def child(store_path: str, t0: float) -> dict[str, float]:
    started_import = time.perf_counter()
    from sessionlens.tui import app as app_module  # Textual comes in with it
    from sessionlens.tui.widgets.session_table import SessionTable

    import_s = time.perf_counter() - started_import
    from sessionlens.stores import open_store

    painted: list[tuple[float, int, int]] = []  # (wall time, generation, row index)
    render_line = SessionTable.render_line

    def timed_render_line(table: SessionTable, y: int):
        """The table's own ``render_line``, noting when it drew a row with its data."""
        strip = render_line(table, y)
        index = table.scroll_offset.y + y - 1
        if y and index < table.count and table.pages.row(index) is not None:
            painted.append((time.perf_counter(), table._loaded_generation, index))
        return strip

    SessionTable.render_line = timed_render_line
    from sessionlens.tui.widgets.store_header import StoreHeader

    counted_at: list[float] = []  # when the header got an exact count
    set_counts = StoreHeader.set_counts

    def timed_set_counts(header, count, total, query, *, exact=True):
        if exact:
            counted_at.append(time.perf_counter())
        return set_counts(header, count, total, query, exact=exact)

    StoreHeader.set_counts = timed_set_counts
    wall_offset = time.time() - time.perf_counter()
    figures: dict[str, float] = {"import_s": import_s}

    async def until(condition, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            hit = condition()
            if hit is not None:
                return hit
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out: {figures}")
            await asyncio.sleep(0.001)

    def first_paint(after: float, generation: int | None = None, index: int | None = None):
        for moment, gen, row in painted:
            if moment < after:
                continue
            if generation is not None and gen < generation:
                continue
            if index is not None and row != index:
                continue
            return moment
        return None

    async def run() -> None:
        store = open_store(store_path, read_only=True)
        app = app_module.SessionLensApp(store, poll_interval=3600)
        async with app.run_test(size=(160, 48)) as pilot:
            first = await until(lambda: first_paint(0.0))
            figures["first_screen_s"] = first + wall_offset - t0
            figures["open_store_s"] = 0.0  # included in first_screen
            table = app.screen.table
            await until(lambda: True if not table.is_loading else None)  # counted by now
            count = table.count
            figures["sessions"] = count
            await pilot.pause(0.3)

            # end
            mark = time.perf_counter()
            await pilot.press("end")
            end = await until(lambda: first_paint(mark, index=count - 1))
            figures["end_s"] = end - mark
            await pilot.pause(0.2)

            # pageup steps
            steps = []
            for _ in range(5):
                await pilot.pause(0.1)
                target = max(0, table.cursor_row - table._visible_rows)
                mark = time.perf_counter()
                await pilot.press("pageup")
                steps.append(await until(lambda t=target, m=mark: first_paint(m, index=t)) - mark)
            figures["pageup_max_s"] = max(steps)

            # filter keystrokes: everything but the last character set at once, then one key
            await pilot.press("home")
            await pilot.press("slash")
            for text, name in FILTERS:
                app.screen.set_filter(text[:-1])
                await pilot.pause(0.3)  # past the typing pause: its search has started
                await until(lambda: True if not table.is_loading else None)
                generation = table._generation  # rows of a later generation: the last key's
                mark = time.perf_counter()
                await pilot.press(text[-1])
                done = await until(lambda g=generation, m=mark: first_paint(m, generation=g + 1))
                figures[f"filter_{name}_s"] = done - mark
                counted = await until(lambda m=mark: next((t for t in counted_at if t >= m), None))
                figures[f"filter_{name}_counted_s"] = counted - mark
                figures[f"filter_{name}_count"] = table.count
            await pilot.press("escape")
        store.close()

    asyncio.run(run())
    return figures


# -- child: the detail screen on a big log ---------------------------------------------------
def log_child(store_path: str) -> dict[str, float]:
    """Open the newest session (the one with the big log) and time its log viewer; a 5 ms timer
    on the UI thread measures how long the event loop was ever stalled (= worst key latency)."""
    from sessionlens.stores import open_store
    from sessionlens.tui.app import SessionLensApp
    from sessionlens.tui.screens.detail import DetailScreen
    from sessionlens.tui.widgets.log_view import LogView

    figures: dict[str, float] = {}

    def stall(ticks: list[float]) -> float:
        return max((b - a for a, b in itertools.pairwise(ticks)), default=0.0)

    async def run() -> None:
        store = open_store(store_path, read_only=True)
        app = SessionLensApp(store, poll_interval=3600)
        async with app.run_test(size=(160, 48)) as pilot:
            while not (app.screen.table.count and app.screen.table.selected):
                await asyncio.sleep(0.01)
            await pilot.pause(0.5)  # the detail panel has read the log tail
            ticks: list[float] = []
            timer = app.set_interval(0.005, lambda: ticks.append(time.perf_counter()))
            mark = time.perf_counter()
            await pilot.press("enter")
            while not (isinstance(app.screen, DetailScreen) and app.screen.record):
                await asyncio.sleep(0.005)
            figures["open_s"] = time.perf_counter() - mark
            figures["max_stall_open_s"] = stall(ticks)
            ticks.clear()
            await pilot.press("3")
            view = app.screen.query_one("#log-view", LogView)
            figures["lines"] = len(view.log_text)
            for key in ("end", "home", "pagedown", "end", "pageup"):
                await pilot.press(key)
            mark = time.perf_counter()
            view.search("THE END")
            while view.match is None:
                await asyncio.sleep(0.001)
            figures["search_s"] = time.perf_counter() - mark
            view.search("processed batch", backward=True)
            await pilot.pause(0.3)
            figures["max_stall_browse_s"] = stall(ticks)
            timer.stop()
        store.close()

    asyncio.run(run())
    return figures


def build_log_store(path: Path, megabytes: int) -> None:
    """Three sessions; the newest has a log of ``megabytes`` MB, appended in 64 KiB chunks as
    a run would, ending with a line to search for."""
    from make_store import make_records

    from sessionlens.stores import open_store

    store = open_store(f"sqlite://{path}", read_only=False, create=True)
    records = list(make_records(3))
    store.insert_many(records)
    newest = records[-1]["session_id"]
    line = "2026-11-25 09:44:11 INFO node_x: processed batch 12345 with value 0.12345\n"
    chunk = line * (65536 // len(line))
    for _ in range(megabytes * 1_000_000 // len(chunk)):
        store.append_log(newest, chunk)
    store.append_log(newest, "THE END\n")
    store.close()


# -- parent ------------------------------------------------------------------------------------
def measure(store: Path, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(store), "--t0", repr(t0)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise SystemExit(f"child failed:\n{out.stderr}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="where to keep the stores (default: a temp dir)")
    parser.add_argument("--log-mb", type=int, default=100, help="size of the big log (0: skip)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--log-child", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.t0)))
        return 0
    if args.log_child:
        print(json.dumps(log_child(args.log_child)))
        return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from make_store import make_store

    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-tui-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for size in args.sizes:
        path = folder / f"sessions-{size}.db"
        if not path.exists():
            built = make_store(path, size)
            print(f"built {path} ({size:,} sessions) in {built:.1f}s", flush=True)
        results[size] = measure(path, args.repeat)

    ms = lambda seconds: f"{seconds * 1000:7.1f} ms"  # noqa: E731
    print(f"\nsessionlens app, headless, median of {args.repeat} fresh processes")
    print(
        "sessions   import     first screen  end         pageup max  "
        "filter: status (counted)    param (counted)      word (counted)"
    )
    for size, r in results.items():
        filters = "  ".join(
            f"{ms(r[f'filter_{n}_s'])} ({ms(r[f'filter_{n}_counted_s']).strip()})"
            for _, n in FILTERS
        )
        print(
            f"{size:>8,}  {ms(r['import_s'])}  {ms(r['first_screen_s'])}  {ms(r['end_s'])}  "
            f"{ms(r['pageup_max_s'])}  {filters}"
        )
    if len(results) >= 2:
        small, large = results[min(results)], results[max(results)]
        ratio = large["first_screen_s"] / small["first_screen_s"]
        met = ratio < 1.5 and large["first_screen_s"] < 0.5
        print(
            f"\nfirst screen at {max(results):,} is {ratio:.2f}x the time at {min(results):,} "
            f"(target < 1.5x and < 500 ms: {'met' if met else 'NOT met'})"
        )
        worst = max(
            large[k]
            for k in ("end_s", "pageup_max_s", "filter_status_s", "filter_param_s", "filter_word_s")
        )
        print(f"slowest step at {max(results):,}: {worst * 1000:.1f} ms (target < 100 ms)")
    if args.log_mb:
        path = folder / f"log-{args.log_mb}mb.db"
        if not path.exists():
            build_log_store(path, args.log_mb)
        out = subprocess.run(
            [sys.executable, __file__, "--log-child", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise SystemExit(f"child failed:\n{out.stderr}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\nlog viewer, {args.log_mb} MB log ({int(r['lines']):,} lines): opened (record, JSON,"
            f" log indexed) in {ms(r['open_s']).strip()}; longest UI-thread stall while opening"
            f" {ms(r['max_stall_open_s']).strip()}, while scrolling end/home/pages and searching"
            f" {ms(r['max_stall_browse_s']).strip()}; search to the last line"
            f" {ms(r['search_s']).strip()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
