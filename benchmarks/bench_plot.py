"""How long the plot screen takes to draw 10,000 sessions (the target: < 300 ms).

    PYTHONPATH=src python3 benchmarks/bench_plot.py

Times the screen's steps on 10k points outside the app: the series (``plot.series``), thinned
to what 150 columns show (``plot.thin``), and plotext building the 150x36 canvas as
``PlotextPlot.render`` does.
"""

from __future__ import annotations

import statistics
import time

from textual_plotext import Plot

from sessionlens.tui.screens.plot import Point, series, thin

N = 10_000


def main() -> None:
    points = [
        Point(f"s{i}", f"2026-01-01T00:00:{i % 60:02d}Z", 0.5 + (i % 97) / 200) for i in range(N)
    ]
    marked = {f"s{i}" for i in range(0, N, 1000)}
    times = []
    for _ in range(5):
        start = time.perf_counter()
        xs, ys, marks = series(points, marked)
        plt = Plot()
        line_x, line_y = thin(xs, ys, 2 * 150)
        plt.scatter(line_x, line_y, marker="braille", color="cyan")
        plt.scatter([xs[n] for n in marks], [ys[n] for n in marks], marker="●", color="orange")
        plt.xticks([1, 2000, 4000, 6000, 8000, 10000], ["a", "b", "c", "d", "e", "f"])
        plt.plotsize(150, 36)
        plt._set_size(150, 36)
        plt.build()
        times.append(time.perf_counter() - start)
    print(
        f"plot of {N:,} sessions: median {statistics.median(times) * 1000:.0f} ms, "
        f"best {min(times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
