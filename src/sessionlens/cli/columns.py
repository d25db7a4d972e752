"""The columns ``sessionlens list`` can show (``--columns id,status,metric.accuracy``).

Names are checked here, with the standard library only, so a bad ``--columns`` is a one-line
error before the store is opened (and ``--json`` never imports Rich to find out). How a column
is drawn is :mod:`sessionlens.cli.render`'s business.
"""

from __future__ import annotations

from sessionlens.cli.common import UsageError

#: as ``query.METRIC_PREFIX`` (not imported: building the parser must not import the query module)
METRIC_PREFIX = "metric."

#: column -> what it shows (for the help text and the error)
COLUMNS = {
    "started": "start time (local)",
    "id": "session id",
    "status": "status",
    "duration": "run time",
    "branch": "git branch",
    "sha": "short commit sha",
    "dirty": "* when the tree had uncommitted changes",
    "command": "command line (or why the record cannot be read)",
    "params": "run parameters",
    "user": "user name",
    "host": "host name",
    "exit": "exit code",
    "title": "kedro-viz title",
    "metrics": "every metric, on one line",
}
#: what ``list`` shows without ``--columns``
DEFAULT_COLUMNS = (
    "started",
    "id",
    "status",
    "duration",
    "branch",
    "sha",
    "dirty",
    "command",
    "params",
    "user",
)


def columns_help() -> str:
    return (
        "comma-separated columns to show: "
        + ", ".join(COLUMNS)
        + ", metric.NAME (one metric); default: "
        + ",".join(DEFAULT_COLUMNS)
    )


def parse_columns(text: str | None) -> tuple[str, ...]:
    """The columns ``text`` names, in its order; UsageError naming an unknown one."""
    if text is None:
        return DEFAULT_COLUMNS
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise UsageError("--columns: name at least one column, e.g. id,status,metric.accuracy")
    chosen = []
    for name in names:
        if name.lower().startswith(METRIC_PREFIX):
            metric = name[len(METRIC_PREFIX) :]
            if not metric:
                raise UsageError("--columns: name the metric, e.g. metric.accuracy")
            chosen.append(METRIC_PREFIX + metric)
        elif name.lower() in COLUMNS:
            chosen.append(name.lower())
        else:
            raise UsageError(
                f"--columns: unknown column {name!r}; choose from {', '.join(COLUMNS)} "
                "or metric.NAME"
            )
    return tuple(chosen)


def with_metrics(columns: tuple[str, ...], metrics: list[str]) -> tuple[str, ...]:
    """``columns`` and a ``metric.NAME`` column for each of ``metrics`` not shown yet (the
    metrics a filter or sort names, so the table shows what it was chosen by)."""
    extra = [METRIC_PREFIX + m for m in metrics if m and METRIC_PREFIX + m not in columns]
    return columns + tuple(dict.fromkeys(extra))
