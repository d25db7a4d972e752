"""``sessionlens.tui.widgets.session_columns``: what each column of the session table shows, and
the layout arithmetic, without an app (how a whole screen looks: ``test_tui_snapshots.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from rich.cells import cell_len

from sessionlens.query import SORT_KEYS
from sessionlens.record import SessionSummary
from sessionlens.tui.text import Clock
from sessionlens.tui.widgets.session_columns import (
    COLUMNS,
    MAX_FLEX,
    MIN_FLEX,
    SORTABLE,
    column_at,
    column_widths,
    fit,
    shown_columns,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
BY_NAME = {column.name: column for column in COLUMNS}


@dataclass
class Context:
    marked: set[str] = field(default_factory=set)
    clock: Clock = field(default_factory=lambda: Clock(NOW, timezone.utc))


def record(**changes: object) -> dict:
    base: dict = {
        "session_id": "2026-11-25T09.00.00.000Z",
        "username": "ana",
        "git": {"commit_sha": "54c4f0d9", "branch": "feature/offset-20", "dirty": True},
        "run": {
            "status": "failed",
            "started_at": "2026-11-25T09:00:00.000Z",
            "duration_s": 245.0,
            "command": ["kedro", "run", "--params", "scale:3"],
        },
        "cli": {"params": {"params": {"scale": 3, "seed": 42}}},
    }
    base.update(changes)
    return base


def cells(summary: SessionSummary, context: Context | None = None) -> dict[str, tuple]:
    context = context or Context()
    return {column.name: column.cell(summary, context) for column in COLUMNS}


def test_each_column_formats_its_field() -> None:
    summary = SessionSummary.from_record(record(), {"title": "baseline"}, check_pid=False)
    assert cells(summary) == {
        "mark": ("", "mark"),
        "started": ("   3h ago 2026-11-25 09:00", None),
        "id": ("2026-11-25T09.00.00.000Z", None),
        "status": ("failed", "status-failed"),
        "duration": ("4m05s", None),
        "branch": ("feature/offset-20", None),
        "sha": ("54c4f0d", "muted"),
        "dirty": ("dirty", "dirty"),
        "command": ("kedro run --params scale:3", None),
        "params": ("scale=3 seed=42", None),
        "user": ("ana", None),
        "title": ("baseline", None),
    }


def test_missing_values_are_empty_cells() -> None:
    summary = SessionSummary(session_id="legacy", status="completed")
    shown = cells(summary)
    assert shown["started"] == ("          ", None)  # no time: blank, still aligned
    assert shown["status"] == ("completed", "status-completed")
    for name in ("mark", "duration", "branch", "sha", "dirty", "command", "params", "user"):
        assert shown[name][0] == "", name


def test_a_mark_for_compare_wins_over_a_bookmark() -> None:
    summary = SessionSummary.from_record(record(), {"bookmark": True}, check_pid=False)
    assert cells(summary)["mark"] == ("★", "mark")
    assert cells(summary, Context(marked={summary.session_id}))["mark"] == ("●", "mark")
    assert cells(summary, Context(marked={"another"}))["mark"] == ("★", "mark")


def test_an_unreadable_record_says_why_in_the_command_column() -> None:
    summary = SessionSummary.unreadable("2026-11-25T09.00.00.000Z", "git: expected a mapping")
    shown = cells(summary)
    assert shown["command"] == ("git: expected a mapping", "problem")
    assert shown["status"] == ("unreadable", "status-unreadable")
    assert shown["started"][0] == "   3h ago 2026-11-25 09:00"  # from the id


def test_the_title_column_is_only_for_stores_with_user_details() -> None:
    assert shown_columns(True) == COLUMNS
    assert [c.name for c in shown_columns(False)] == [c.name for c in COLUMNS if c.name != "title"]
    # ``s`` cycles through them in table order; every sort key is one the store knows
    in_order = "started id status duration branch sha dirty command params user title"
    assert list(SORTABLE) == in_order.split()
    assert set(SORTABLE) <= set(SORT_KEYS)


def test_flexible_columns_share_what_the_fixed_ones_leave() -> None:
    columns = shown_columns(False)
    fixed = sum(c.width for c in columns) + len(columns)  # a gap after every column
    at = {c.name: i for i, c in enumerate(columns)}

    def flex(available: int) -> tuple[int, int]:
        widths = column_widths(columns, available)
        assert [w for c, w in zip(columns, widths, strict=True) if c.width] == [
            c.width for c in columns if c.width
        ]
        return widths[at["command"]], widths[at["params"]]

    assert flex(fixed + 30) == (15, 15)
    assert flex(fixed + 31) == (16, 15)  # the first takes the odd cell
    assert flex(fixed) == (MIN_FLEX, MIN_FLEX)
    assert flex(0) == (MIN_FLEX, MIN_FLEX)
    assert flex(fixed + 1000) == (MAX_FLEX, MAX_FLEX)
    assert len(column_widths(COLUMNS, 200)) == len(COLUMNS)


def test_column_at_a_cell_includes_the_gap_after_it() -> None:
    columns = shown_columns(False)
    widths = column_widths(columns, 150)
    assert column_at(columns, widths, 0).name == "mark"
    assert column_at(columns, widths, 2).name == "mark"  # its gap
    assert column_at(columns, widths, 3).name == "started"
    assert column_at(columns, widths, 3 + 26).name == "started"
    assert column_at(columns, widths, 3 + 27).name == "id"
    assert column_at(columns, widths, sum(widths) + len(widths) - 1).name == "user"
    assert column_at(columns, widths, sum(widths) + len(widths)) is None


def test_fit_pads_cuts_and_shows_controls() -> None:
    assert fit("abc", 6) == "abc   "
    assert fit("abc", 6, "right") == "   abc"
    assert fit("abcdefgh", 5) == "abcd…"
    assert fit("abc", 3) == "abc"
    assert fit("日本語のブランチ", 7) == "日本語…"  # wide characters: cells, not characters
    assert cell_len(fit("日本語のブランチ", 8)) == 8
    assert fit("a\tb", 8) == "a   b   "
    assert fit("x\x1b[31m", 10) == "x␛[31m    "  # an escape is shown, never sent
