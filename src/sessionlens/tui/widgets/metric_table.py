"""Compare's Metrics tab: one row per metric, a value column per session, and for each session
after the baseline its delta and verdict, coloured by the metric's direction (better green,
worse red). ``f`` flips the selected metric's direction; the screen remembers it.

Rows come from :func:`sessionlens.compare_results.metric_rows` (the CLI's ``diff`` says the
same). Every cell is a ``Text`` (a metric name from a store is shown, never parsed as markup).
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from sessionlens.compare_results import MetricRow
from sessionlens.results import format_metric
from sessionlens.tui.css import css_beside
from sessionlens.tui.text import literal

#: what a session without the metric shows
NONE = "\u2014"
#: palette colour of each verdict
VERDICT_COLOURS = {"better": "success", "worse": "error", "same": "muted", "missing": "muted"}


def format_delta(delta: float | None) -> str:
    """``+0.012``, ``-3``; '' when there is none."""
    return "" if delta is None else ("+" if delta >= 0 else "") + format_metric(delta)


class MetricTable(DataTable[Text]):
    """Metrics of the sessions compared, the first session the baseline."""

    DEFAULT_CSS = css_beside(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f",
            "flip_direction",
            "Flip better",
            tooltip="Flip whether lower or higher is better for the selected metric",
        ),
    ]

    class FlipRequested(Message):
        """Flip the direction of metric ``name`` (lower is better <-> higher is better)."""

        def __init__(self, table: MetricTable, name: str, lower_is_better: bool) -> None:
            super().__init__()
            self.table = table
            self.name = name
            self.lower_is_better = lower_is_better

        @property
        def control(self) -> MetricTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.metric_rows: list[MetricRow] = []

    def show(
        self,
        rows: list[MetricRow],
        labels: list[str],
        palette: dict[str, Style],
        overridden: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """Fill the table (again), keeping the cursor on the same row."""
        cursor = self.cursor_row
        self.metric_rows = rows
        self.clear(columns=True)
        self.add_column(Text("metric"), key="metric")
        self.add_column(Text("better"), key="direction")
        for n, label in enumerate(labels):
            self.add_column(Text(label, justify="right"), key=f"value-{n}")
            if n:
                self.add_column(Text(f"Δ {label}", justify="right"), key=f"delta-{n}")
                self.add_column(Text(f"{label} vs {labels[0]}"), key=f"verdict-{n}")
        for row in rows:
            arrow = "↓ lower" if row.lower_is_better else "↑ higher"
            overrides = row.name in overridden
            direction = Text(arrow, palette["accent" if overrides else "muted"])
            if overrides:
                direction.append(" (set)", palette["accent"])
            cells: list[Text] = [literal(row.name, "bold"), direction]
            for n, value in enumerate(row.values):
                cells.append(Text(format_metric(value) or NONE, justify="right"))
                if n:
                    verdict = row.verdicts[n]
                    style = palette[VERDICT_COLOURS.get(verdict, "muted")]
                    cells.append(Text(format_delta(row.deltas[n]), style, justify="right"))
                    cells.append(Text(verdict, style))
            self.add_row(*cells)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))

    @property
    def selected_row(self) -> MetricRow | None:
        if not self.metric_rows or not 0 <= self.cursor_row < len(self.metric_rows):
            return None
        return self.metric_rows[self.cursor_row]

    def action_flip_direction(self) -> None:
        row = self.selected_row
        if row is not None:
            self.post_message(self.FlipRequested(self, row.name, row.lower_is_better))
