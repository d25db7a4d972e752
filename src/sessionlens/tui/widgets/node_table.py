"""Compare's Nodes tab: one row per pipeline node, each session's duration, the deltas against
the baseline and the statuses; a node slower than in the baseline is highlighted.

Rows come from :func:`sessionlens.compare_results.node_rows`. Every cell is a ``Text``.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from sessionlens.compare_results import NodeRow
from sessionlens.record import format_duration
from sessionlens.tui.css import css_beside
from sessionlens.tui.palette import STATUS_COLOURS
from sessionlens.tui.text import literal

#: palette colour of each timing verdict
TIMING_COLOURS = {"slower": "error", "faster": "success", "same": "muted", "missing": "muted"}


def seconds(value: float | None) -> str:
    """A node's duration: ``0.41s``, ``12.3s``, ``4m05s``; a dash when it has none."""
    return "\u2014" if value is None else format_duration(value)


def signed_seconds(delta: float) -> str:
    return ("+" if delta >= 0 else "") + format_duration(delta)


class NodeTable(DataTable[Text]):
    """Node timings of the sessions compared, the first session the baseline."""

    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.node_rows: list[NodeRow] = []

    def show(self, rows: list[NodeRow], labels: list[str], palette: dict[str, Style]) -> None:
        cursor = self.cursor_row
        self.node_rows = rows
        self.clear(columns=True)
        self.add_column(Text("node"), key="node")
        for n, label in enumerate(labels):
            self.add_column(Text(label, justify="right"), key=f"duration-{n}")
            if n:
                self.add_column(Text(f"Δ {label}", justify="right"), key=f"delta-{n}")
        self.add_column(Text("status"), key="status")
        for row in rows:
            slower = "slower" in row.verdicts
            name_style = palette["error"] + Style(bold=True) if slower else Style(bold=True)
            cells: list[Text] = [literal(("▲ " if slower else "  ") + row.name, name_style)]
            for n, duration in enumerate(row.durations):
                verdict = row.verdicts[n]
                style = palette["error"] if verdict == "slower" else Style()
                cells.append(Text(seconds(duration), style, justify="right"))
                if n:
                    base = row.durations[0]
                    missing = duration is None or base is None
                    delta = "" if missing else signed_seconds(duration - base)
                    colour = palette[TIMING_COLOURS.get(verdict, "muted")]
                    cells.append(Text(delta, colour, justify="right"))
            cells.append(self._statuses(row, labels, palette))
            self.add_row(*cells)
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))

    @staticmethod
    def _statuses(row: NodeRow, labels: list[str], palette: dict[str, Style]) -> Text:
        """One status when every session agrees, else each session's (``A success B failed``)."""

        def coloured(status: str) -> Text:
            return literal(status or "not run", palette[STATUS_COLOURS.get(status, "muted")])

        if len(set(row.statuses)) == 1:
            return coloured(row.statuses[0])
        text = Text()
        for label, status in zip(labels, row.statuses, strict=True):
            if text:
                text.append(" ")
            text.append(f"{label}:", palette["label"])
            text.append_text(coloured(status))
        return text
