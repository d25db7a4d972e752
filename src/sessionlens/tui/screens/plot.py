"""``p``: one metric over the sessions of the filter, oldest to newest, the marked ones
highlighted; ``m`` picks another metric. Drawn by ``textual-plotext`` (imported here only).

The sessions are read in a worker: the newest :data:`CAP` sessions of the filter (newest first,
which every backend answers from its index without reading the rest), then turned oldest first.
When there were more, the header says the plot shows only the last :data:`CAP`. Metric names
are store text: they appear only in our own widgets, as literal text, never handed to plotext
(whose output is read back as ANSI).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from sessionlens.query import Query
from sessionlens.results import format_metric
from sessionlens.timefmt import absolute_time, parse_time
from sessionlens.tui.client import StoreClient
from sessionlens.tui.palette import PALETTE_CLASSES, palette_of
from sessionlens.tui.screens.metric_chooser import MetricChooserScreen
from sessionlens.tui.text import Clock, literal
from sessionlens.tui.workers import ReportsWorkerErrors

#: at most this many sessions are plotted (the newest of the filter)
CAP = 10_000
#: labels on the time axis
X_TICKS = 6
#: up to this many sessions are joined by lines; more are drawn as dots (thinned)
LINE_UP_TO = 200


class Point(NamedTuple):
    session_id: str
    started_at: str | None
    value: float


class PlotData(NamedTuple):
    metric: str
    #: sessions with the metric, oldest first
    points: list[Point]
    #: sessions of the filter read (with the metric or not)
    read: int
    #: the filter has more sessions than :data:`CAP` (only the newest were read)
    capped: bool


def series(points: list[Point], marked: set[str]) -> tuple[list[int], list[float], list[int]]:
    """x (1..n, time order), y, and the positions of the marked sessions in them."""
    xs = list(range(1, len(points) + 1))
    ys = [p.value for p in points]
    marks = [n for n, p in enumerate(points) if p.session_id in marked]
    return xs, ys, marks


def thin(xs: list[int], ys: list[float], buckets: int) -> tuple[list[int], list[float]]:
    """At most ``2 * buckets`` points that draw like all of them: the lowest and the highest
    point of each of ``buckets`` runs of consecutive x, in x order. A terminal plot has a few
    hundred dots across; plotext building 10,000 took 0.9 s, this keeps it in milliseconds."""
    if len(xs) <= 2 * buckets:
        return xs, ys
    out_x: list[int] = []
    out_y: list[float] = []
    size = len(xs) / buckets
    for b in range(buckets):
        start, stop = int(b * size), int((b + 1) * size)
        if start >= stop:
            continue
        chunk = ys[start:stop]
        low = min(range(len(chunk)), key=chunk.__getitem__)
        high = max(range(len(chunk)), key=chunk.__getitem__)
        for n in sorted({low, high}):
            out_x.append(xs[start + n])
            out_y.append(chunk[n])
    return out_x, out_y


class PlotScreen(ReportsWorkerErrors, Screen[None]):
    """A metric over time, across the sessions of the filter."""

    CSS_PATH = "plot.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = PALETTE_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back", tooltip="Back to the sessions"),
        Binding("m", "choose_metric", "Metric", tooltip="Plot another metric"),
    ]

    class Loaded(Message):
        def __init__(self, data: PlotData | None, note: str = "") -> None:
            super().__init__()
            self.data = data
            self.note = note

    def __init__(
        self,
        client: StoreClient,
        query: Query,
        metric: str | None,
        *,
        marked: list[str] | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.plot_query = query.sorted_by("started", True)
        self.metric = metric
        self.marked = list(marked or [])
        self.clock = clock or Clock()
        #: what is plotted, once loaded
        self.data: PlotData | None = None
        #: why nothing is plotted (no metrics at all...), else ''
        self.note = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading sessions…"), id="plot-title")
        yield PlotextPlot(id="plot")
        yield Static(id="plot-empty")
        yield Static(id="plot-marked")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plot-empty").display = False
        self._load(self.client, self.plot_query, self.metric)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plot")
    def _load(self, client: StoreClient, query: Query, metric: str | None) -> None:
        if metric is None:
            names = client.metric_names()
            if not names:
                self.post_message(self.Loaded(None, "No session in this store has metrics."))
                return
            metric = names[0]
        series = client.metric_series(query, metric, CAP + 1)
        capped = len(series) > CAP
        points = [Point(*row) for row in series[-CAP:]]
        read = client.count(query)
        self.post_message(self.Loaded(PlotData(metric, points, read, capped)))

    def on_plot_screen_loaded(self, message: Loaded) -> None:
        self.data, self.note = message.data, message.note
        if message.data is not None:
            self.metric = message.data.metric
        self._draw()

    def _x_labels(self, points: list[Point]) -> tuple[list[int], list[str]]:
        n = len(points)
        step = max(1, (n - 1) // (X_TICKS - 1)) if n > 1 else 1
        ticks = list(range(1, n + 1, step))[:X_TICKS]
        labels = []
        for tick in ticks:
            moment = parse_time(points[tick - 1].started_at)
            labels.append(absolute_time(moment, self.clock.tz)[5:16] if moment else "?")
        return ticks, labels

    def _draw(self) -> None:
        palette = palette_of(self)
        title = Text()
        plot = self.query_one(PlotextPlot)
        empty = self.query_one("#plot-empty", Static)
        data = self.data
        if data is None:
            title.append("Plot", "bold")
            self.query_one("#plot-title", Static).update(title)
            plot.display = False
            empty.display = True
            empty.update(Text(self.note or "Reading sessions…", palette["muted"]))
            return
        title.append("Metric ", palette["label"])
        title.append_text(literal(data.metric, "bold"))
        title.append(f"  {len(data.points):,} of {data.read:,} sessions have it", palette["muted"])
        if not self.plot_query.is_empty:
            title.append("  filter: ", palette["label"])
            title.append_text(literal(self.plot_query.text))
        title.append("  oldest → newest", palette["muted"])
        if data.capped:
            title.append(f"  only the newest {CAP:,} sessions of the filter", palette["warning"])
        self.query_one("#plot-title", Static).update(title)
        marked = set(self.marked)
        if not data.points:
            plot.display = False
            empty.display = True
            message = Text("No session ")
            message.append("in the filter " if not self.plot_query.is_empty else "")
            message.append("has the metric ")
            message.append_text(literal(data.metric, "bold"))
            message.append(". Press m to choose another.")
            empty.update(message)
            self.query_one("#plot-marked", Static).update(Text(""))
            return
        plot.display = True
        empty.display = False
        xs, ys, marks = series(data.points, marked)
        plt = plot.plt
        plt.clear_figure()
        if len(xs) <= LINE_UP_TO:
            plt.plot(xs, ys, marker="dot", color="cyan")
        else:  # dots, thinned: plotext draws lines between 600 points in 0.7 s, dots in 40 ms
            dots_x, dots_y = thin(xs, ys, max(100, 2 * plot.size.width))
            plt.scatter(dots_x, dots_y, marker="braille", color="cyan")
        if marks:
            plt.scatter([xs[n] for n in marks], [ys[n] for n in marks], marker="●", color="orange")
        ticks, labels = self._x_labels(data.points)
        plt.xticks(ticks, labels)
        plot.refresh()
        legend = Text()
        shown = [data.points[n] for n in marks]
        if shown:
            legend.append("● marked: ", palette["warning"])
            for n, point in enumerate(shown[:8]):
                if n:
                    legend.append("   ")
                legend.append_text(literal(point.session_id))
                legend.append(f" = {format_metric(point.value)}", "bold")
            if len(shown) > 8:
                legend.append(f"   and {len(shown) - 8} more")
        elif marked:
            legend.append("The marked sessions are not in this plot.", palette["muted"])
        else:
            legend.append("Mark sessions with space to highlight them here.", palette["muted"])
        self.query_one("#plot-marked", Static).update(legend)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.call_later(self._draw)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_choose_metric(self) -> None:
        chosen = [self.metric] if self.metric else []
        self.app.push_screen(
            MetricChooserScreen(self.client, chosen, multiple=False), self._use_metric
        )

    def _use_metric(self, names: list[str] | None) -> None:
        if names:
            self.metric = names[0]
            self.data = None
            self._draw()
            self._load(self.client, self.plot_query, self.metric)
