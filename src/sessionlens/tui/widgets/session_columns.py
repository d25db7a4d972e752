"""The session table's columns: one ``Column`` per field, each with the function that writes its
cells, and the layout arithmetic (widths, which column is at a point, text fitted to a width).

The table (``session_table.py``) asks the columns and paints what they say; a new field is one
formatter and one ``Column`` here. A formatter turns a summary into its cell's text and the name
of the ``session-table--<name>`` component style it is drawn in (None: the row's own style). It
neither pads nor cuts: ``fit`` does that, the same for every column. Formatters run for every
visible cell of every frame, so they stay small. Nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from rich.cells import cell_len, set_cell_size

from sessionlens.record import SessionSummary, format_duration
from sessionlens.results import format_metric
from sessionlens.timefmt import absolute_time, parse_time, relative_time
from sessionlens.tui.text import Clock
from sessionlens.tui.text import visible as make_visible

#: width bounds of each flexible column (command, params); 150 terminal columns fit both at 14
MIN_FLEX = 12
MAX_FLEX = 80
#: width bounds of a metric column (its name, cut with an ellipsis past the upper one)
METRIC_MIN, METRIC_MAX = 8, 14
#: metric columns go after this column (before the flexible command and params)
METRICS_AFTER = "dirty"


class CellContext(Protocol):
    """What a cell may depend on besides its session (the session table is one)."""

    #: session ids marked for compare
    marked: set[str]
    clock: Clock


#: a cell's text and the name of its component style (``session-table--<name>``), or None
Cell = tuple[str, str | None]
Formatter = Callable[[SessionSummary, CellContext], Cell]


@dataclass(frozen=True)
class Column:
    """One table column; ``sort`` is the query sort key it sorts by (None: not sortable)."""

    name: str
    label: str
    width: int  # 0: shares the width that is left with the other such columns
    sort: str | None
    cell: Formatter
    align: Literal["left", "right"] = "left"
    #: shown only for stores with kedro-viz user details (title, bookmark, notes)
    user_details: bool = False
    #: a narrow table drops the columns of the highest numbers first (see ``fit_columns``)
    priority: int = 50


# -- one formatter per column ---------------------------------------------------------------------
def mark_cell(s: SessionSummary, context: CellContext) -> Cell:
    """● marked for compare, else ★ bookmarked in kedro-viz."""
    return ("●" if s.session_id in context.marked else ("★" if s.bookmark else "")), "mark"


def started_cell(s: SessionSummary, context: CellContext) -> Cell:
    """``  3h ago 2026-11-25 09:44``: how long ago, then when, in the clock's time zone."""
    moment = parse_time(s.started_at)
    rel = relative_time(moment, context.clock.now())
    return f"{rel:>9} {absolute_time(moment, context.clock.tz)[:16]}", None


def id_cell(s: SessionSummary, context: CellContext) -> Cell:
    return s.session_id, None


def status_cell(s: SessionSummary, context: CellContext) -> Cell:
    """The status, in its own colour (``session-table--status-<status>``)."""
    return s.status, f"status-{s.status}"


def duration_cell(s: SessionSummary, context: CellContext) -> Cell:
    return format_duration(s.duration_s), None


def branch_cell(s: SessionSummary, context: CellContext) -> Cell:
    return s.branch or "", None


def sha_cell(s: SessionSummary, context: CellContext) -> Cell:
    return (s.commit_sha or "")[:7], "muted"


def dirty_cell(s: SessionSummary, context: CellContext) -> Cell:
    return ("dirty" if s.dirty else ""), "dirty"


def command_cell(s: SessionSummary, context: CellContext) -> Cell:
    """The command; for an unreadable record, why it cannot be read, in its place."""
    if s.problem is not None:
        return s.problem, "problem"
    return s.command or "", None


def params_cell(s: SessionSummary, context: CellContext) -> Cell:
    return s.params or "", None


def user_cell(s: SessionSummary, context: CellContext) -> Cell:
    return s.username or "", None


def title_cell(s: SessionSummary, context: CellContext) -> Cell:
    return s.title or "", None


COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 2, None, mark_cell, priority=0),
    Column("started", "Started", 26, "started", started_cell, priority=2),
    Column("id", "Session", 24, "id", id_cell, priority=5),
    Column("status", "Status", 11, "status", status_cell, priority=1),
    Column("duration", "Duration", 10, "duration", duration_cell, "right", priority=7),
    Column("branch", "Branch", 16, "branch", branch_cell, priority=3),
    Column("sha", "Sha", 7, "sha", sha_cell, priority=8),
    Column("dirty", "Dirty", 5, "dirty", dirty_cell, priority=9),
    Column("command", "Command", 0, "command", command_cell, priority=4),
    Column("params", "Params", 0, "params", params_cell, priority=10),
    Column("user", "User", 8, "user", user_cell, priority=11),
    Column("title", "Title", 16, "title", title_cell, user_details=True, priority=12),
)
#: metric columns come after the command (and the session id) when the table is narrow
METRIC_PRIORITY = 6
#: Columns ``s`` cycles through, in table order.
SORTABLE: tuple[str, ...] = tuple(c.sort for c in COLUMNS if c.sort)
_WITHOUT_USER_DETAILS = tuple(c for c in COLUMNS if not c.user_details)


def shown_columns(user_details: bool) -> tuple[Column, ...]:
    """The columns of a store with (or without) kedro-viz user details."""
    return COLUMNS if user_details else _WITHOUT_USER_DETAILS


@lru_cache(maxsize=256)
def metric_column(name: str) -> Column:
    """The column of metric ``name``: right-aligned, sorted by the store's ``metric.NAME``."""

    def cell(s: SessionSummary, context: CellContext) -> Cell:
        return format_metric((s.metrics or {}).get(name)), None

    # room for the name and the sort arrow after it
    width = max(METRIC_MIN, min(METRIC_MAX, cell_len(make_visible(name)) + 2))
    return Column(
        f"metric.{name}", name, width, f"metric.{name}", cell, "right", priority=METRIC_PRIORITY
    )


def with_metrics(columns: tuple[Column, ...], metrics: Sequence[str]) -> tuple[Column, ...]:
    """``columns`` with a column per metric in ``metrics`` after :data:`METRICS_AFTER`."""
    if not metrics:
        return columns
    at = next((i + 1 for i, c in enumerate(columns) if c.name == METRICS_AFTER), len(columns))
    return (*columns[:at], *(metric_column(name) for name in metrics), *columns[at:])


# -- layout -----------------------------------------------------------------------------------
def column_widths(columns: tuple[Column, ...], available: int) -> list[int]:
    """Fixed columns as declared; the flexible ones (command, params) share what is left of
    ``available`` cells (a one-cell gap after each column), each between MIN_FLEX and
    MAX_FLEX, the first taking any odd cell."""
    fixed = sum(c.width for c in columns) + len(columns)
    flexible = sum(1 for c in columns if not c.width) or 1
    share, extra = divmod(max(0, available - fixed), flexible)
    widths = []
    for column in columns:
        if column.width:
            widths.append(column.width)
        else:
            widths.append(max(MIN_FLEX, min(MAX_FLEX, share + extra)))
            extra = 0
    return widths


def fit_columns(columns: tuple[Column, ...], available: int) -> tuple[Column, ...]:
    """The columns that fit ``available`` cells without squeezing: the least important (highest
    ``priority``; the later of equals) go first, until the fixed widths, the gaps and each
    flexible column at ``MIN_FLEX`` fit. Table order is kept; at least the first column stays."""
    kept = list(columns)

    def needed() -> int:
        return sum(c.width or MIN_FLEX for c in kept) + len(kept)

    while len(kept) > 1 and needed() > available:
        drop = max(range(len(kept)), key=lambda i: (kept[i].priority, i))
        del kept[drop]
    return tuple(kept)


def column_at(columns: tuple[Column, ...], widths: list[int], x: int) -> Column | None:
    """The column under cell ``x`` of a row (its gap included), or None past the last."""
    left = 0
    for column, width in zip(columns, widths, strict=True):
        if left <= x < left + width + 1:
            return column
        left += width + 1
    return None


def fit(text: str, width: int, align: str = "left") -> str:
    """``text`` made visible (controls shown, tabs expanded) and exactly ``width`` cells wide:
    padded, or cut with an ellipsis."""
    text = make_visible(text)
    if cell_len(text) > width:
        return set_cell_size(text[: width * 2], width - 1) + "\u2026"
    pad = " " * (width - cell_len(text))
    return pad + text if align == "right" else text + pad
