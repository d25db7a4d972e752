"""A ``sessionlens.query.Query`` as SQL over the SQLite store's index (see ``sqlite_index``).

``Query.matches`` and ``Query.sort_key`` are the reference; this module gives the same answers
from the index rows: a ``WHERE`` clause per term and free word, the status as shown (a
``running`` session whose process died is ``interrupted``, one whose heartbeat went stale is
``lost``), ``ORDER BY`` with missing values
last in both directions, and the plan for reading one page (walk the sort index and filter,
unless few sessions match). Queries read the index row as ``i`` and kedro-viz's
``user_run_details`` as ``d``.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.record import STATUSES, UNREADABLE, SessionSummary, derive_status

if TYPE_CHECKING:  # a run writes index rows and reads none: no filter language on its path
    from sessionlens.query import Query, Term

#: page_rows lets a filter drive the query when count() found at most this many sessions
DRIVE_BELOW = 500

#: Sort key -> SQL over the index row ``i`` and details row ``d``; ``{status}`` is filled in.
_SORT_SQL = {
    "started": "i.started_l",
    "id": "i.id_l",
    "status": "{status}",
    "duration": "i.duration_s",
    "branch": "i.branch_l",
    "sha": "i.sha_l",
    "dirty": "i.dirty",
    "command": "i.command_l",
    "user": "i.user_l",
    "title": "{title}",
    "exit": "i.exit_code",
    "params": "i.params_l",
}

#: What a listing selects, in the order :func:`summary_from_row` reads it.
_SUMMARY_COLUMNS = (
    "i.session_id, {status}, i.started_at, i.finished_at, i.duration_s, i.exit_code, i.branch, "
    "i.sha, i.dirty, i.command, i.username, i.package_name, i.hostname, i.rerun_of, i.params, "
    "i.problem, {details}, (SELECT json_group_object(m.name, m.value) FROM {metrics} AS m "
    "WHERE m.session_id = i.session_id), {archived}"
)

#: kedro-viz's title lower-cased; passed as bytes, since SQLite hands a function's text argument
#: to Python strictly decoded and a title that is not UTF-8 would fail the whole statement
TITLE_L = "sl_lower(CAST(d.title AS BLOB))"

Bind = Callable[[Any], str]


class IndexTables(NamedTuple):
    """Where a read finds the index: the table (or view) of index rows, the parameter rows
    beside it, and whether kedro-viz's ``user_run_details`` has rows to join (without any,
    titles and bookmarks are all missing and the join is left out)."""

    index: str
    params: str
    details_rows: bool
    #: the heartbeat table (``session_id``, ``at``), None where the file has none
    heartbeats: str | None = None
    #: the metric rows (``session_id``, ``name``, ``value``)
    metrics: str = "main.sessionlens_metrics"
    #: the archived sessions' ids (``session_id``), None where the file has no such table
    archived: str | None = None


def add_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the translated queries call: ``sl_lower`` lower-cases like Python
    (SQLite's ``lower`` folds ASCII only). Text that other writers stored and that is not UTF-8
    is read with U+FFFD for the bad bytes (``lenient_text``) instead of failing a whole read."""
    conn.create_function("sl_lower", 1, _sql_lower, deterministic=True)
    conn.text_factory = lenient_text


def lenient_text(data: bytes) -> str:
    """A text value as Python reads it: UTF-8, a bad byte shown as U+FFFD."""
    return str(data, "utf-8", "replace")


def _sql_lower(value: Any) -> Any:
    if isinstance(value, bytes):
        value = lenient_text(value)
    return value.lower() if isinstance(value, str) else value


def status_sql(conn: sqlite3.Connection, tables: IndexTables, params: dict[str, Any]) -> str:
    """Status as shown: a ``running`` session whose process died here is ``interrupted``, one
    whose heartbeat went stale is ``lost``. Decided in Python by ``derive_status`` (the
    reference) for the few ``running`` rows, found through the status index; the answer is
    bound as two id lists, so filter, sort and count all see the status a listing shows."""
    beat = "NULL"
    if tables.heartbeats is not None:  # a value that is not a number (edited by hand): none
        beat = (
            f"(SELECT CASE WHEN typeof(h.at) IN ('integer', 'real') THEN h.at END "
            f"FROM {tables.heartbeats} AS h WHERE h.session_id = i.session_id)"
        )
    rows = conn.execute(
        f"SELECT i.session_id, i.pid, i.hostname, {beat} FROM {tables.index} AS i "
        "WHERE i.status = 'running'"
    ).fetchall()
    now = time.time()
    shown: dict[str, list[str]] = {"interrupted": [], "lost": []}
    for sid, pid, host, at in rows:
        run = {"status": "running", "pid": pid, "hostname": host}
        status = derive_status({"run": run}, heartbeat=at, now=now)
        if status in shown:
            shown[status].append(sid)
    cases = []
    for key, status in (("dead", "interrupted"), ("lost", "lost")):
        if shown[status]:
            params[key] = json.dumps(shown[status])
            cases.append(
                f"WHEN i.status = 'running' AND i.session_id IN "
                f"(SELECT value FROM json_each(:{key})) THEN '{status}'"
            )
    if not cases:
        return "i.status"
    return f"(CASE {' '.join(cases)} ELSE i.status END)"


def count_key(query: Query, params: dict[str, Any]) -> tuple:
    """What a count depends on besides the data: the filter and which sessions died or were
    lost."""
    return (query.terms, query.words, params.get("dead"), params.get("lost"))


def count_rows(
    conn: sqlite3.Connection,
    tables: IndexTables,
    query: Query,
    status: str,
    params: dict[str, Any],
    at_most: int | None = None,
) -> int:
    """How many sessions match ``query`` (counting stops at ``at_most``)."""
    where, needs_details = where_sql(tables, query, status, params)
    sql = f"SELECT 1 FROM {from_sql(tables, needs_details)} WHERE {where}"
    if at_most is not None:
        sql += f" LIMIT {int(at_most)}"
    return conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]


def page_rows(
    conn: sqlite3.Connection,
    tables: IndexTables,
    query: Query,
    status: str,
    params: dict[str, Any],
    *,
    offset: int,
    limit: int | None,
    known: int | None,
) -> list[tuple]:
    """One page of summary rows in ``query``'s order, missing values last. ``known``: the
    number of matches if counted already, which decides who drives the query, and lets a
    page past the middle be read from the end backwards (``end`` on a million sessions skips
    50 rows, not 999,950)."""
    # walk the sort index and filter, unless count() said few sessions match: then
    # let the filter's own index find them and sort those
    drive = (known is not None and known <= DRIVE_BELOW) or any(
        t.field == "sha" and not t.negate for t in query.terms
    )
    where, _ = where_sql(tables, query, status, params, drive=drive)
    metric = query.sort_metric
    source = from_sql(tables, True)
    with_metric = without_metric = source
    if metric is not None:
        # walk the metric's (name, value, session_id) index, joining each session to it (an
        # inner join ordered by the index's own columns: with a LEFT JOIN, or ordered by
        # i.session_id, SQLite sorts every session first); sessions without the metric are the
        # second part (the NULLs of a LEFT JOIN), read by id
        params["sort_metric"] = metric
        column = "sm.value"
        on = f"{tables.metrics} AS sm ON sm.session_id = i.session_id AND sm.name = :sort_metric"
        with_metric = f"{source} JOIN {on}"
        without_metric = f"{source} LEFT JOIN {on}"
    else:
        column = _SORT_SQL[query.sort].format(status=status, title=TITLE_L)
    if query.sort == "title" and not tables.details_rows:
        column = "NULL"
    columns = columns_sql(tables, status)

    def page(extra: str, order: str, n: int | None, skip: int, source: str) -> list[tuple]:
        sql = (
            f"SELECT {columns} FROM {source} WHERE {where}{extra} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
        bound = {**params, "limit": -1 if n is None else n, "offset": skip}
        return conn.execute(sql, bound).fetchall()

    # the order as parts (their extra WHERE, ORDER BY and direction), each read to its end in
    # turn; the FROM of the part is ``with_metric`` unless its extra WHERE names the NULLs
    if metric is not None:  # the metric's index in either direction, then the sessions without
        parts = [
            ("", [column, "sm.session_id"], query.descending),
            (f" AND {column} IS NULL", ["i.session_id"], query.descending),
        ]
    elif query.descending:  # SQLite sorts NULL first: descending puts it last
        parts = [("", [column, "i.session_id"], True)]
    elif query.sort in ("status", "title"):  # expressions: no index to walk anyway
        parts = [("", [f"({column}) IS NULL", column, "i.session_id"], False)]
    else:  # ascending on an indexed column: values in index order, then the NULLs
        parts = [
            (f" AND {column} IS NOT NULL", [column, "i.session_id"], False),
            (f" AND {column} IS NULL", ["i.session_id"], False),
        ]
    window = from_the_end(offset, limit, known)
    if window is not None:  # the same rows, read from the other end
        offset, limit = window
        parts = [(extra, terms, not desc) for extra, terms, desc in reversed(parts)]
    rows: list[tuple] = []
    skip = offset
    for n, (extra, terms, desc) in enumerate(parts):
        order = ", ".join(f"{t} DESC" if desc else t for t in terms)
        part_source = without_metric if extra.endswith("IS NULL") else with_metric
        rest = None if limit is None else limit - len(rows)
        if rest == 0:
            break
        if not rows and skip and n < len(parts) - 1:  # may this part end before ``skip``?
            got = page(extra, order, rest, skip, part_source)
            if not got:
                inside = conn.execute(
                    f"SELECT count(*) FROM {part_source} WHERE {where}{extra}", params
                ).fetchone()[0]
                skip = max(0, skip - inside)
                continue
            rows += got
            skip = 0
            continue
        rows += page(extra, order, rest, skip, part_source)
        skip = 0
    return rows if window is None else rows[::-1]


def series_rows(
    conn: sqlite3.Connection,
    tables: IndexTables,
    query: Query,
    status: str,
    params: dict[str, Any],
    metric: str,
    limit: int | None = None,
) -> list[tuple[str, str | None, float]]:
    """(session id, started_at, value) of ``metric`` for the newest ``limit`` sessions
    ``query`` matches that have it, oldest first: a plot's data without building summaries
    (a metric term reads its ids from one range of the metric's index)."""
    where, _ = where_sql(tables, query, status, params)
    params["series_metric"] = metric
    params["series_limit"] = -1 if limit is None else limit
    sql = (
        f"SELECT i.session_id, i.started_at, sm.value FROM {from_sql(tables, True)} "
        f"JOIN {tables.metrics} AS sm ON sm.session_id = i.session_id "
        f"AND sm.name = :series_metric WHERE {where} "
        "ORDER BY i.started_l DESC, i.session_id DESC LIMIT :series_limit"
    )
    return conn.execute(sql, params).fetchall()[::-1]


def from_the_end(offset: int, limit: int | None, known: int | None) -> tuple[int, int] | None:
    """Rows ``offset`` to ``offset + limit`` of ``known`` as (offset, limit) in the reversed
    order, when they lie past the middle (reading them backwards skips fewer rows); else None."""
    if known is None or limit is None or offset <= known // 2:
        return None
    n = max(0, min(limit, known - offset))
    return max(0, known - offset - n), n


def summary_row(conn: sqlite3.Connection, tables: IndexTables, session_id: str) -> tuple | None:
    """The summary row of one session, or None."""
    params: dict[str, Any] = {"sid": session_id}
    status = status_sql(conn, tables, params)
    return conn.execute(
        f"SELECT {columns_sql(tables, status)} FROM {from_sql(tables, True)} "
        "WHERE i.session_id = :sid",
        params,
    ).fetchone()


def where_sql(
    tables: IndexTables,
    query: Query,
    status: str,
    params: dict[str, Any],
    *,
    drive: bool = True,
) -> tuple[str, bool]:
    """SQL ``WHERE`` text for ``query`` (reference: ``Query.matches``) and whether it needs
    the details join. ``drive=False`` hides the terms from the planner so a page is read by
    walking the sort index (best unless few sessions match)."""
    clauses: list[str] = []
    needs_details = False
    counter = itertools.count()

    def bind(value: Any) -> str:
        name = f"p{next(counter)}"
        params[name] = value
        return f":{name}"

    for term in query.terms:
        sql, details = _term_sql(tables, term, status, bind)
        needs_details |= details
        # NULL (a missing value) must count as "no match" before NOT, never as unknown;
        # a bare positive term lets the planner drive the query with its index
        if term.negate:
            clauses.append(f"NOT coalesce(({sql}), 0)")
        else:
            clauses.append(f"({sql})" if drive else f"coalesce(({sql}), 0)")
    for word in query.words:
        clause, details = _word_sql(tables, word.lower(), status, bind)
        needs_details |= details
        clauses.append(clause)
    if tables.archived is not None and not query.asks_archived:
        clauses.append(f"{_archived_sql(tables)} = 0")
    return (" AND ".join(clauses) or "1"), needs_details


def _word_sql(tables: IndexTables, word: str, status: str, bind: Bind) -> tuple[str, bool]:
    """A free word is a substring of id, command, branch, sha, user, status, title and params
    joined by spaces. A word without spaces cannot span two of them, so it is tested on each
    part (the stored ``hay`` first); a word with spaces is tested on the joined text."""
    title = TITLE_L if tables.details_rows else "NULL"
    if any(c.isspace() for c in word):
        hay = (
            f"i.hay || ' ' || {status} || "
            f"(CASE WHEN {title} IS NULL THEN '' ELSE ' ' || {title} END) || "
            "(CASE WHEN i.params_l IS NULL THEN '' ELSE ' ' || i.params_l END)"
        )
        return f"instr({hay}, {bind(word)}) > 0", tables.details_rows
    parts = [
        f"instr(i.hay, {bind(word)}) > 0",
        f"instr(coalesce(i.params_l, ''), {bind(word)}) > 0",
    ]
    statuses = [s for s in STATUSES if word in s]
    if statuses:
        parts.append(f"{status} IN ({', '.join(bind(s) for s in statuses)})")
    if tables.details_rows:
        parts.append(f"instr(coalesce({title}, ''), {bind(word)}) > 0")
    return f"({' OR '.join(parts)})", tables.details_rows


def _term_sql(tables: IndexTables, term: Term, status: str, bind: Bind) -> tuple[str, bool]:
    """One term as SQL and whether it needs the details join; NULL stands for no match."""
    name = term.param_name
    if name is not None:
        return _param_sql(tables, term, name, bind), False
    metric = term.metric_name
    if metric is not None:
        # a list of the matching ids, from one range of the (name, value) index: it drives a
        # plot's series or a short page (a correlated EXISTS walked every session instead)
        return (
            f"i.session_id IN (SELECT m.session_id FROM {tables.metrics} AS m "
            f"WHERE m.name = {bind(metric)} AND m.value {_SQL_OP.get(term.op, '=')} "
            f"{bind(term.bound)})"
        ), False
    f = term.field
    if f == "title":
        if not tables.details_rows:
            return "0", False  # no titles at all
        return _text_sql(TITLE_L, term, bind), True
    if f in _TEXT_COLUMNS:
        return _text_sql(_TEXT_COLUMNS[f], term, bind), False
    if f == "status":
        return f"{status} = {bind(term.value.lower())}", False
    if f == "dirty":
        return f"i.dirty = {bind(int(term.as_bool()))}", False
    if f == "bookmark":
        if not tables.details_rows:
            return f"0 = {bind(int(term.as_bool()))}", False
        return f"(coalesce(d.bookmark, 0) != 0) = {bind(int(term.as_bool()))}", True
    if f == "archived":
        if term.is_any:
            return "1", False
        return f"{_archived_sql(tables)} = {bind(int(term.as_bool()))}", False
    if f in ("exit", "duration"):  # only a value of the column's type is one (summary_from_row)
        column, types = ("i.exit_code", "'integer'") if f == "exit" else _DURATION
        op = _SQL_OP.get(term.op, "=")
        return f"typeof({column}) IN ({types}) AND {column} {op} {bind(term.bound)}", False
    if f == "since":
        return f"i.started_ts >= {bind(term.bound)}", False
    if f == "until":
        return f"i.started_ts < {bind(term.bound)}", False
    from sessionlens.query import QueryError

    raise QueryError(f"unknown filter field {term.field!r}")


#: text field -> its lower-cased column in the index row
_TEXT_COLUMNS = {
    "id": "i.id_l",
    "branch": "i.branch_l",
    "sha": "i.sha_l",
    "user": "i.user_l",
    "host": "i.host_l",
    "command": "i.command_l",
    "rerun": "i.rerun_l",
}
_DURATION = ("i.duration_s", "'integer', 'real'")
#: a term's comparison as SQL (``:`` and ``:=`` on numbers are equality)
_SQL_OP = {"=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _text_sql(column: str, term: Term, bind: Bind) -> str:
    """A text field: exact (``:=``), a glob, or a prefix; the prefix as a range an index can
    walk (the columns are lower-cased by Python, so any case is the same text here)."""
    v = term.value.lower()
    if term.op == ":=":
        return f"{column} = {bind(v)}"
    if not term.is_glob:
        return prefix_sql(column, v, bind)
    head = v.split("*", 1)[0]
    match = f"{column} GLOB {bind(glob_pattern(v))}"
    return f"{prefix_sql(column, head, bind)} AND {match}" if head else match


def prefix_sql(column: str, prefix: str, bind: Bind) -> str:
    """``column`` starts with ``prefix``, as ``column >= prefix AND column < next``, ``next``
    the least text after every text that starts with ``prefix`` (SQLite compares text as UTF-8
    bytes, which orders as code points do)."""
    after = _successor(prefix)
    if after is None:
        return f"{column} >= {bind(prefix)}"
    return f"{column} >= {bind(prefix)} AND {column} < {bind(after)}"


def _successor(prefix: str) -> str | None:
    """The least text greater than every text starting with ``prefix``; None when none is
    (only U+10FFFF). Surrogates cannot be stored as UTF-8, so the one after U+D7FF is U+E000."""
    head = prefix.rstrip("\U0010ffff")
    if not head:
        return None
    code = ord(head[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    return head[:-1] + chr(code)


def glob_pattern(value: str) -> str:
    """A value whose wildcard is ``*`` as an SQLite GLOB pattern: ``?``, ``[`` and ``]`` are
    literal, written as one-character sets."""
    return "".join(f"[{c}]" if c in "?[]" else c for c in value)


def _param_sql(tables: IndexTables, term: Term, name: str, bind: Bind) -> str:
    """A parameter term as one primary-key lookup per session (a correlated ``EXISTS``, which
    stops at the first page where ``IN (SELECT ...)`` would list every match first)."""
    v = term.value.lower()
    if term.op == ":=":
        test = f"p.value = {bind(v)}"
    elif term.is_glob:
        test = f"p.value GLOB {bind(glob_pattern(v))}"
    elif term.op == ":":  # numbers as numbers, any text as text
        test = f"p.value = {bind(v)}"
        if term.bound is not None:
            test = f"({test} OR p.num = {bind(term.bound)})"
    else:
        test = f"p.num {_SQL_OP[term.op]} {bind(term.bound)}"
    return (
        f"EXISTS (SELECT 1 FROM {tables.params} AS p WHERE p.session_id = i.session_id "
        f"AND p.name = {bind(name)} AND {test})"
    )


def from_sql(tables: IndexTables, with_details: bool) -> str:
    """``FROM`` the index, joined to kedro-viz's details only when there are any."""
    if with_details and tables.details_rows:
        return (
            f"{tables.index} AS i LEFT JOIN main.user_run_details AS d ON d.run_id = i.session_id"
        )
    return f"{tables.index} AS i"


def _archived_sql(tables: IndexTables) -> str:
    """1 when the session ``i`` is archived, else 0 (a primary-key lookup)."""
    if tables.archived is None:
        return "0"
    return f"EXISTS (SELECT 1 FROM {tables.archived} AS a WHERE a.session_id = i.session_id)"


def columns_sql(tables: IndexTables, status: str) -> str:
    """The ``SELECT`` list of a summary row."""
    details = "d.title, d.bookmark, d.notes" if tables.details_rows else "NULL, NULL, NULL"
    return _SUMMARY_COLUMNS.format(
        status=status, details=details, metrics=tables.metrics, archived=_archived_sql(tables)
    )


def summary_from_row(row: tuple) -> SessionSummary:
    """A summary row (see :func:`columns_sql`) as the ``SessionSummary`` it stands for.

    sessionlens writes every column with its type; a row edited by hand may hold anything
    (SQLite keeps any value in any column), so each value is taken only in its own type: the
    table, sorting and JSON output must not fail on one row."""
    (sid, status, started, finished, duration, exit_code, branch, sha, dirty, command, user,
     package, host, rerun, params, problem, title, bookmark, notes, metrics,
     archived) = row  # fmt: skip
    status = _text(status)
    if status not in STATUSES:
        status, problem = UNREADABLE, f"its index row says status {status!r}"
    return SessionSummary(
        session_id=_text(sid) or "",
        status=status,
        started_at=_text(started),
        finished_at=_text(finished),
        duration_s=_number(duration),
        exit_code=exit_code if type(exit_code) is int else None,
        branch=_text(branch),
        commit_sha=_text(sha),
        dirty=bool(dirty) if type(dirty) in (int, float) else None,
        command=_text(command),
        username=_text(user),
        package_name=_text(package),
        hostname=_text(host),
        rerun_of=_text(rerun),
        title=_text(title),
        bookmark=bool(bookmark),
        notes=_text(notes),
        params=_text(params),
        problem=_text(problem),
        metrics=_metrics(metrics),
        archived=bool(archived),
    )


def details_of(conn: sqlite3.Connection, session_id: str) -> dict[str, Any]:
    """kedro-viz's title, bookmark and notes of one session, each read as a listing row reads
    it (:func:`summary_from_row`); empty when it has none."""
    row = conn.execute(
        "SELECT title, bookmark, notes FROM main.user_run_details WHERE run_id = ?", (session_id,)
    ).fetchone()
    if row is None:
        return {}
    return {"title": _text(row[0]), "bookmark": bool(row[1]), "notes": _text(row[2])}


def details_of_many(conn: sqlite3.Connection, session_ids: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`details_of` of many sessions in one query: those that have a row."""
    rows = conn.execute(
        "SELECT run_id, title, bookmark, notes FROM main.user_run_details "
        "WHERE run_id IN (SELECT value FROM json_each(?))",
        (json.dumps(session_ids),),
    )
    return {
        run_id: {"title": _text(title), "bookmark": bool(bookmark), "notes": _text(notes)}
        for run_id, title, bookmark, notes in rows
    }


def _text(value: Any) -> str | None:
    """A text column's value as text (a BLOB decoded leniently, a number as written)."""
    if value is None or isinstance(value, str):
        return value
    return lenient_text(value) if isinstance(value, bytes) else str(value)


def _metrics(value: Any) -> dict[str, float] | None:
    """The metrics JSON object a summary row holds, its numbers only; None for none."""
    if not isinstance(value, str) or value == "{}":
        return None
    from sessionlens.results import metric_values

    try:
        found = json.loads(value)
    except ValueError:
        return None
    return (metric_values(found) or None) if isinstance(found, dict) else None


def _number(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None
