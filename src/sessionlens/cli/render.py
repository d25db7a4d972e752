"""Human output of the read commands, with Rich.

Every value from a store goes into a ``rich.text.Text`` after
:func:`sessionlens.textsafe.safe_text` (never into a markup string), so ``[bold red]x[/]`` prints
as those characters and escape codes, C1 and bidi controls cannot drive the terminal. Only
imported for human output: ``--json`` never pays for Rich.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sessionlens.cli.columns import DEFAULT_COLUMNS
from sessionlens.compare import MISSING, ChangedFile, Comparison, duration_change, flatten
from sessionlens.compare_results import MetricRow, NodeRow
from sessionlens.query import METRIC_PREFIX, Query
from sessionlens.record import KEY_ORDER, SessionSummary, format_duration, params_of
from sessionlens.results import METRICS_KEY, NODES_KEY, TRACKING_KEY, Results, format_metric
from sessionlens.textsafe import safe_text
from sessionlens.timefmt import local_time

#: record keys whose content ``show`` prints in the results sections (not under "Other fields")
RESULT_KEYS = (METRICS_KEY, NODES_KEY, TRACKING_KEY)

STATUS_STYLE = {
    "running": "bold cyan",
    "success": "green",
    "completed": "green",
    "failed": "bold red",
    "interrupted": "yellow",
    "lost": "magenta",
    "unreadable": "bold magenta",
}


def console() -> Console:
    """A console for stdout; wide when not a terminal so piped tables are not cut at 80."""
    if sys.stdout.isatty():
        return Console(highlight=False, emoji=False)
    width = int(os.environ.get("COLUMNS", "0") or 0) or 200
    return Console(highlight=False, emoji=False, width=width, no_color=True)


def lit(value: Any, style: str = "", *, keep_newlines: bool = False) -> Text:
    """A store value as literal text ('' for None)."""
    if value is None:
        return Text("", style=style)
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return Text(safe_text(value, keep_newlines=keep_newlines), style=style)


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


# -- list ---------------------------------------------------------------------------------------
#: column -> Rich column options (``metric.NAME`` columns: right-aligned numbers)
_COLUMN_STYLE: dict[str, dict[str, Any]] = {
    "started": {"no_wrap": True},
    "id": {"no_wrap": True},
    "status": {"no_wrap": True},
    "duration": {"justify": "right", "no_wrap": True},
    "branch": {"overflow": "ellipsis", "max_width": 28},
    "sha": {"no_wrap": True},
    "dirty": {"no_wrap": True},
    "command": {"overflow": "ellipsis", "max_width": 60, "no_wrap": True},
    # wrappable, so a narrow terminal takes its width from params first; each cell is
    # one line (no_wrap on the text) cut with an ellipsis
    "params": {"overflow": "ellipsis", "max_width": 60},
    "user": {"no_wrap": True},
    "host": {"no_wrap": True},
    "exit": {"justify": "right", "no_wrap": True},
    "title": {"overflow": "ellipsis", "max_width": 40},
    "metrics": {"overflow": "ellipsis", "max_width": 60},
}


def _cell_of(column: str, s: SessionSummary) -> Text:
    """The cell of ``column`` for session ``s`` (names checked by ``columns.parse_columns``)."""
    if column.startswith(METRIC_PREFIX):
        return Text(format_metric((s.metrics or {}).get(column[len(METRIC_PREFIX) :])))
    if column == "started":
        return lit(local_time(s.started_at))
    if column == "status":
        return status_text(s.status)
    if column == "duration":
        return Text(format_duration(s.duration_s))
    if column == "dirty":
        return Text("*" if s.dirty else "", style="yellow")
    if column == "command":
        return lit(s.command) if s.problem is None else lit(s.problem, "magenta")
    if column == "params":
        return _one_line(lit(s.params))
    if column == "metrics":
        shown = " ".join(f"{k}={format_metric(v)}" for k, v in (s.metrics or {}).items())
        return _one_line(lit(shown or None))
    attribute = {
        "id": "session_id",
        "branch": "branch",
        "sha": "commit_sha",
        "user": "username",
        "host": "hostname",
        "exit": "exit_code",
        "title": "title",
    }[column]
    return lit(getattr(s, attribute))


def print_session_table(
    summaries: Sequence[SessionSummary],
    *,
    matching: int,
    total: int,
    store: str,
    query: Query,
    columns: Sequence[str] = DEFAULT_COLUMNS,
) -> None:
    """The sessions, then ``N of TOTAL sessions in STORE``: ``matching`` the query, ``total`` in
    the store (and how many are shown when ``--limit`` cut the list)."""
    out = console()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name in columns:
        style = _COLUMN_STYLE.get(name, {"justify": "right", "no_wrap": True})
        table.add_column(Text(safe_text(name)), **style)
    for s in summaries:
        table.add_row(*(_cell_of(name, s) for name in columns))
    out.print(table)
    where = Text(f"{matching:,} of {total:,} sessions in ")
    where.append(lit(store))
    if not query.is_empty:
        where.append(" matching ")
        where.append(lit(query.text))
    if len(summaries) < matching:
        where.append(f" (the first {len(summaries):,} shown; --limit 0 shows all)")
    out.print(where, style="dim")


def _one_line(text: Text) -> Text:
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


# -- show ---------------------------------------------------------------------------------------
def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def _section(out: Console, title: str, grid: Table) -> None:
    if grid.row_count:
        out.print(Text(title, style="bold underline"))
        out.print(grid)
        out.print()


def print_session(
    record: Mapping[str, Any] | None,
    summary: SessionSummary,
    details: Mapping[str, Any],
    log_tail: str | None,
    *,
    store: str,
    results: Results | None = None,
) -> None:
    """One session; ``record`` None: it is unreadable, and ``summary.problem`` says why.
    ``results``: its metrics, tracking data, plots and node timings (``store.results``)."""
    out = console()
    head = Text("Session ", style="bold")
    head.append(lit(summary.session_id, "bold"))
    head.append("  ")
    head.append(status_text(summary.status))
    out.print(head)
    out.print(lit(store, "dim"))
    out.print()
    if record is None:
        _print_unreadable(out, summary, details, log_tail)
        return

    run = record.get("run") if isinstance(record.get("run"), Mapping) else {}
    grid = _grid()
    for label, value in (
        ("started", local_time(summary.started_at)),
        ("finished", local_time(summary.finished_at)),
        ("duration", format_duration(summary.duration_s)),
        ("exit code", summary.exit_code),
        ("signal", run.get("signal")),
        ("command", summary.command),
        ("project", record.get("project_path")),
        ("package", record.get("package_name")),
        ("user", record.get("username")),
        ("host", summary.hostname),
        ("pid", run.get("pid")),
        ("env", record.get("env")),
        ("re-run of", summary.rerun_of),
        ("callable", run.get("callable")),
    ):
        if value not in (None, ""):
            grid.add_row(label, lit(value))
    for key, value in run.items():
        if key not in {
            "status",
            "started_at",
            "finished_at",
            "duration_s",
            "exit_code",
            "signal",
            "command",
            "hostname",
            "pid",
            "rerun_of",
            "callable",
        }:
            grid.add_row(lit(f"run.{key}"), lit(value))
    _section(out, "Run", grid)

    git = record.get("git")
    grid = _grid()
    if isinstance(git, Mapping):
        if "branch" in git:
            grid.add_row("branch", lit(git.get("branch")))
        grid.add_row("commit", lit(git.get("commit_sha_full") or git.get("commit_sha")))
        if "dirty" in git:
            grid.add_row("dirty", Text("yes", "yellow") if git.get("dirty") else Text("no"))
        for key, value in git.items():
            if key not in ("branch", "commit_sha", "commit_sha_full", "dirty"):
                grid.add_row(lit(key), lit(value))
    _section(out, "Git", grid)

    params = params_of(record)
    grid = _grid()
    for key, value in params.items():
        grid.add_row(lit(key), lit(value))
    _section(out, "Parameters", grid)

    cli = record.get("cli")
    grid = _grid()
    if isinstance(cli, Mapping):
        for key in ("command_path", "command_name", "args"):
            if cli.get(key) not in (None, "", []):
                grid.add_row(key, lit(cli.get(key)))
        cli_params = cli.get("params")
        if isinstance(cli_params, Mapping):
            for key, value in cli_params.items():
                if key != "params" and value not in (None, "", [], {}, False):
                    grid.add_row(lit(f"params.{key}"), lit(value))
    _section(out, "CLI", grid)

    if results is not None:
        _print_results(out, results)

    _print_details(out, details)

    exc = record.get("exception")
    if isinstance(exc, Mapping):
        out.print(Text("Exception", style="bold underline"))
        line = lit(exc.get("type"), "bold red")
        line.append(": ")
        line.append(lit(exc.get("value"), keep_newlines=True))
        out.print(line)
        tb = exc.get("traceback")
        if isinstance(tb, list | tuple) and tb:
            out.print(lit("".join(str(t) for t in tb).rstrip("\n"), "dim", keep_newlines=True))
        out.print()

    env = record.get("environment")
    grid = _grid()
    if isinstance(env, Mapping):
        for key, value in env.items():
            grid.add_row(lit(key), lit(value))
    _section(out, "Environment", grid)

    grid = _grid()
    for key, value in record.items():
        shown_as_results = results is not None and key in RESULT_KEYS
        if key not in KEY_ORDER and not shown_as_results:  # the keys shown in sections above
            grid.add_row(lit(key), lit(value))
    _section(out, "Other fields", grid)

    _print_log_tail(out, log_tail)


def _print_results(out: Console, results: Results) -> None:
    """Metrics, tracking data (nested JSON as dotted fields), plots, node timings, and what
    could not be read; every name and value from the store through ``lit``."""
    grid = _grid()
    for name, value in results.metrics.items():
        grid.add_row(lit(name), Text(format_metric(value)))
    _section(out, "Metrics", grid)

    grid = _grid()
    for key, value in flatten(results.data).items():
        grid.add_row(
            lit(key),
            lit(
                json.dumps(value, ensure_ascii=False, default=str)
                if not isinstance(value, str)
                else value
            ),
        )
    _section(out, "Tracking data", grid)

    grid = _grid()
    for name, path in results.plots.items():
        grid.add_row(lit(name), lit(path))
    _section(out, "Plots", grid)

    if results.nodes:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("node", overflow="fold")
        table.add_column("status", no_wrap=True)
        table.add_column("duration", justify="right", no_wrap=True)
        table.add_column("error", overflow="fold")
        for node in results.nodes:
            table.add_row(
                lit(node.name),
                status_text(node.status),
                Text(format_duration(node.duration_s)),
                lit(node.error, "red"),
            )
        out.print(Text("Nodes", style="bold underline"))
        out.print(table)
        out.print()

    if results.problems:
        out.print(Text("Results that could not be read", style="bold underline"))
        for problem in results.problems:
            out.print(lit(problem, "magenta"))
        out.print()


def _print_unreadable(
    out: Console, summary: SessionSummary, details: Mapping[str, Any], log_tail: str | None
) -> None:
    """What is known of a session whose record cannot be read: why, and what lies beside it."""
    grid = _grid()
    grid.add_row("problem", lit(summary.problem, "magenta"))
    if summary.started_at:
        grid.add_row("started", local_time(summary.started_at) + " (from its id)")
    _section(out, "Unreadable record", grid)
    _print_details(out, details)
    _print_log_tail(out, log_tail)


def _print_details(out: Console, details: Mapping[str, Any]) -> None:
    grid = _grid()
    for key in ("title", "bookmark", "notes"):
        value = details.get(key)
        if value not in (None, "", False):
            grid.add_row(key, lit(value, keep_newlines=True))
    _section(out, "User details", grid)


def _print_log_tail(out: Console, log_tail: str | None) -> None:
    if log_tail:
        out.print(Text("Log (last lines)", style="bold underline"))
        out.print(lit(log_tail.rstrip("\n"), keep_newlines=True))


# -- diff ---------------------------------------------------------------------------------------
def _cell(value: Any) -> Text:
    if value is MISSING:
        return Text("(absent)", style="dim italic")
    if isinstance(value, list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return lit(value)


def print_comparison(
    comparison: Comparison, files: list[ChangedFile] | None, *, show_all: bool
) -> None:
    out = console()
    head = Text("A ", style="bold")
    head.append(lit(comparison.left_id))
    head.append("   B ", style="bold")
    head.append(lit(comparison.right_id))
    out.print(head)

    rows = comparison.rows if show_all else comparison.differing
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("field", no_wrap=True, style="bold")
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    for row in rows:
        if row.key in ("exception.traceback",):
            continue
        style = "" if row.differs or not show_all else "dim"
        key = Text(("≠ " if row.differs and show_all else "") + safe_text(row.key), style=style)
        table.add_row(key, _cell(row.left), _cell(row.right), style=style)
    if rows:
        out.print(table)
    else:
        out.print(Text("No differing fields.", style="dim"))

    changed = comparison.changed_params
    if changed:
        out.print(Text("Parameters", style="bold underline"))
        for p in changed:
            line = Text(f"{p.change:>8}  ", style="yellow" if p.change == "changed" else "")
            line.append(lit(p.name, "bold"))
            line.append(": ")
            line.append(_cell(p.left))
            line.append(" -> ")
            line.append(_cell(p.right))
            out.print(line)
    change = duration_change(comparison.left_duration_s, comparison.right_duration_s)
    if change is not None:
        left, right = (
            format_duration(comparison.left_duration_s),
            format_duration(comparison.right_duration_s),
        )
        out.print(Text(f"Duration: {left} -> {right} ({change})"))
    if files is not None and comparison.left_sha != comparison.right_sha:
        title = Text("Files changed between ", style="bold underline")
        title.append(lit((comparison.left_sha or "")[:7]))
        title.append(" and ")
        title.append(lit((comparison.right_sha or "")[:7]))
        out.print(title)
        if not files:
            out.print(Text("(none)", style="dim"))
        for f in files:
            stat = "bin" if f.insertions is None else f"+{f.insertions} -{f.deletions}"
            line = Text(f"{stat:>12}  ")
            if f.old_path:
                line.append(lit(f.old_path))
                line.append(" => ")
            line.append(lit(f.path))
            out.print(line)


# -- diff: results ------------------------------------------------------------------------------
VERDICT_STYLE = {"better": "green", "worse": "red", "slower": "red", "faster": "green"}


def _signed(delta: float | None) -> str:
    return "" if delta is None else f"{delta:+.6g}"


def print_result_rows(
    metrics: Sequence[MetricRow], nodes: Sequence[NodeRow], problems: Sequence[str]
) -> None:
    """Metrics A against B (delta, better/worse by the metric's direction) and node timings
    (which got slower); nothing when neither session has any."""
    out = console()
    if metrics:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, title_justify="left")
        table.add_column("metric", overflow="fold", style="bold")
        for name in ("A", "B", "delta"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("", no_wrap=True)
        for row in metrics:
            verdict = row.verdicts[1]
            table.add_row(
                lit(row.name),
                Text(format_metric(row.values[0])),
                Text(format_metric(row.values[1])),
                Text(_signed(row.deltas[1])),
                Text(verdict, style=VERDICT_STYLE.get(verdict, "dim")),
            )
        out.print(Text("Metrics", style="bold underline"))
        out.print(table)
    if nodes:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("node", overflow="fold", style="bold")
        table.add_column("A", justify="right", no_wrap=True)
        table.add_column("B", justify="right", no_wrap=True)
        table.add_column("status A", no_wrap=True)
        table.add_column("status B", no_wrap=True)
        table.add_column("", no_wrap=True)
        for row in nodes:
            verdict = row.verdicts[1]
            table.add_row(
                lit(row.name),
                Text(format_duration(row.durations[0])),
                Text(format_duration(row.durations[1])),
                status_text(row.statuses[0]),
                status_text(row.statuses[1]),
                Text(verdict, style=VERDICT_STYLE.get(verdict, "dim")),
            )
        out.print(Text("Nodes", style="bold underline"))
        out.print(table)
    for problem in dict.fromkeys(problems):
        out.print(lit(problem, "magenta"))
