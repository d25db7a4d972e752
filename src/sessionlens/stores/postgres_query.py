"""A ``sessionlens.query.Query`` as SQL over the PostgreSQL store's tables (``postgres_schema``).

``Query.matches`` and ``Query.sort_key`` are the reference, as for SQLite (``sqlite_query``,
whose plan this follows): a ``WHERE`` clause per term and free word over the lower-cased
columns Python derived, the status as shown (``running`` with a dead pid here is
``interrupted``, a stale heartbeat ``lost``: decided in Python for the few running rows and
bound as two id arrays), missing values last in both directions, and a page read as parts
(values, then missing ones) so each part walks an index; a page past the middle is read from
the other end. Text columns are ``COLLATE "C"``: code-point order, as Python sorts. Queries
read the session row as ``i`` and the details row as ``d``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from sessionlens.record import STATUSES, UNREADABLE, SessionSummary, derive_status
from sessionlens.stores.postgres_schema import (
    DETAILS,
    HEARTBEATS,
    INDEXED_CHARS,
    LONG_TEXT_SORTS,
    METRICS,
    PARAMS,
    SESSIONS,
)
from sessionlens.stores.sqlite_query import from_the_end, prefix_sql

if TYPE_CHECKING:
    from sessionlens.query import Query, Term

#: a filter drives the query (not the sort index) when count() found at most this many
DRIVE_BELOW = 500

_SORT_SQL = {
    "started": "i.started_l",
    "id": "i.id_l",
    "status": "{status}",
    "duration": "i.duration_s",
    "branch": "i.branch_l",
    "sha": "i.sha_l",
    "dirty": "i.dirty",
    "command": f"left(i.command_l, {INDEXED_CHARS})",
    "user": "i.user_l",
    "title": "d.title_l",
    "exit": "i.exit_code",
    "params": f"left(i.params_l, {INDEXED_CHARS})",
}
_TEXT_COLUMNS = {
    "id": "i.id_l",
    "branch": "i.branch_l",
    "sha": "i.sha_l",
    "user": "i.user_l",
    "host": "i.host_l",
    "command": "i.command_l",
    "rerun": "i.rerun_l",
    "title": "d.title_l",
}
_SQL_OP = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}

#: the summary row's columns, in the order :func:`summary_from_row` reads them
_COLUMNS = (
    "i.session_id, {status}, i.started_at, i.finished_at, i.duration_s, i.exit_code, i.branch, "
    "i.sha, i.dirty, i.command, i.username, i.package_name, i.hostname, i.rerun_of, i.params, "
    "i.problem, d.title, d.bookmark, d.notes, coalesce(d.archived, false), "
    f"ARRAY(SELECT m.name FROM {METRICS} AS m WHERE m.session_id = i.session_id ORDER BY m.name), "
    f"ARRAY(SELECT m.value FROM {METRICS} AS m WHERE m.session_id = i.session_id ORDER BY m.name)"
)
FROM = f"{SESSIONS} AS i LEFT JOIN {DETAILS} AS d ON d.session_id = i.session_id"

Bind = Callable[[Any], str]


class Plan(NamedTuple):
    """A query's WHERE text and its bound values."""

    where: str
    params: dict[str, Any]


def status_sql(conn: Any, params: dict[str, Any]) -> str:
    """The status as shown, as SQL (see the module docstring); fills ``params``."""
    rows = conn.execute(
        f"SELECT i.session_id, i.pid, i.hostname, h.at FROM {SESSIONS} AS i "
        f"LEFT JOIN {HEARTBEATS} AS h ON h.session_id = i.session_id WHERE i.status = 'running'"
    ).fetchall()
    now = time.time()
    shown: dict[str, list[str]] = {"interrupted": [], "lost": []}
    for sid, pid, host, at in rows:
        status = derive_status(
            {"run": {"status": "running", "pid": pid, "hostname": host}}, heartbeat=at, now=now
        )
        if status in shown:
            shown[status].append(sid)
    cases = []
    for key, status in (("dead", "interrupted"), ("lost", "lost")):
        if shown[status]:
            params[key] = shown[status]
            cases.append(
                f"WHEN i.status = 'running' AND i.session_id = ANY(%({key})s) THEN '{status}'"
            )
    return f"(CASE {' '.join(cases)} ELSE i.status END)" if cases else "i.status"


def count_key(query: Query, params: dict[str, Any]) -> tuple:
    """What a count depends on besides the data."""
    dead, lost = params.get("dead"), params.get("lost")
    return (query.terms, query.words, tuple(dead or ()), tuple(lost or ()))


def count_rows(
    conn: Any, query: Query, status: str, params: dict[str, Any], at_most: int | None = None
) -> int:
    """How many sessions match ``query`` (counting stops at ``at_most``)."""
    alone = _one_child_term(query, params)
    if alone is not None:
        sql = alone if at_most is None else f"{alone} LIMIT {int(at_most)}"
        return conn.execute(f"SELECT count(*) FROM ({sql}) AS c", params).fetchone()[0]
    where = where_sql(query, status, params, conn)
    # without the details join when no term reads it: PostgreSQL removes an unused LEFT JOIN but
    # still plans for its key, which rules out an index-only scan (a count 50x slower at 1M)
    source = FROM if "d." in where else f"{SESSIONS} AS i"
    sql = f"SELECT 1 FROM {source} WHERE {where}"
    if at_most is not None:
        sql += f" LIMIT {int(at_most)}"
    return conn.execute(f"SELECT count(*) FROM ({sql}) AS c", params).fetchone()[0]


def _one_child_term(query: Query, params: dict[str, Any]) -> str | None:
    """A query of one ``param.X``/``metric.X`` term alone, as a walk of that table's value index:
    each session has at most one row per name (the key) and every row a session (the foreign
    key), so its rows are its matches, counted without visiting a session."""
    if query.words or len(query.terms) != 1 or query.terms[0].negate:
        return None
    (term,) = query.terms
    if term.param_name is None and term.metric_name is None:
        return None
    counter = itertools.count(len(params))

    def bind(value: Any) -> str:
        name = f"p{next(counter)}"
        params[name] = value
        return f"%({name})s"

    if term.param_name is not None:
        rows = _param_rows(term, term.param_name, bind)
    else:
        rows = _metric_rows(term, term.metric_name or "", bind)
    return rows or f"SELECT 1 FROM {SESSIONS} WHERE false"


def page_rows(
    conn: Any,
    query: Query,
    status: str,
    params: dict[str, Any],
    *,
    offset: int,
    limit: int | None,
    known: int | None,
) -> list[tuple]:
    """One page of summary rows in ``query``'s order, missing values last (``known``: the
    number of matches if counted, which lets a page past the middle be read backwards)."""
    where = where_sql(query, status, params, conn)
    metric = query.sort_metric
    source = with_metric = without_metric = FROM
    if metric is not None:
        params["sort_metric"] = metric
        on = f"{METRICS} AS sm ON sm.session_id = i.session_id AND sm.name = %(sort_metric)s"
        with_metric, without_metric = f"{source} JOIN {on}", f"{source} LEFT JOIN {on}"
        column = "sm.value"
    else:
        column = _SORT_SQL[query.sort].format(status=status)
    desc = query.descending
    # (extra WHERE, [(ORDER BY term, descending)]): each part read to its end in turn
    if metric is not None:
        parts = [
            ("", [(column, desc), ("sm.session_id", desc)]),
            (f" AND {column} IS NULL", [("i.session_id", desc)]),
        ]
    elif query.sort == "status":  # an expression, never NULL
        parts = [("", [(column, desc), ("i.session_id", desc)])]
    else:  # values in the sort index's order, then the missing ones
        order = [(column, desc), ("i.session_id", desc)]
        if query.sort in LONG_TEXT_SORTS:  # the indexed prefix, then the whole text
            order.insert(1, (f"i.{LONG_TEXT_SORTS[query.sort]}", desc))
        parts = [
            (f" AND {column} IS NOT NULL", order),
            (f" AND {column} IS NULL", [("i.session_id", desc)]),
        ]
    window = from_the_end(offset, limit, known)
    if window is not None:
        offset, limit = window
        parts = [(extra, [(t, not d) for t, d in terms]) for extra, terms in reversed(parts)]
    columns = _COLUMNS.format(status=status)

    def page(extra: str, order: str, n: int | None, skip: int, part_source: str) -> list[tuple]:
        sql = f"SELECT {columns} FROM {part_source} WHERE {where}{extra} ORDER BY {order}"
        if n is not None:
            sql += f" LIMIT {int(n)}"
        if skip:
            sql += f" OFFSET {int(skip)}"
        return conn.execute(sql, params).fetchall()

    rows: list[tuple] = []
    skip = offset
    for n, (extra, terms) in enumerate(parts):
        order = ", ".join(f"{t} DESC" if d else t for t, d in terms)
        part_source = without_metric if extra.endswith("IS NULL") else with_metric
        rest = None if limit is None else limit - len(rows)
        if rest == 0:
            break
        got = page(extra, order, rest, skip, part_source)
        if not got and not rows and skip and n < len(parts) - 1:  # the part ends before skip
            inside = conn.execute(
                f"SELECT count(*) FROM {part_source} WHERE {where}{extra}", params
            ).fetchone()[0]
            skip = max(0, skip - inside)
            continue
        rows += got
        skip = 0
    return rows if window is None else rows[::-1]


def series_rows(
    conn: Any, query: Query, status: str, params: dict[str, Any], metric: str, limit: int | None
) -> list[tuple[str, str | None, float]]:
    """(session id, started_at, value) of ``metric``, newest ``limit`` matches, oldest first."""
    where = where_sql(query, status, params, conn)
    params["series_metric"] = metric
    sql = (
        f"SELECT i.session_id, i.started_at, sm.value FROM {FROM} JOIN {METRICS} AS sm "
        f"ON sm.session_id = i.session_id AND sm.name = %(series_metric)s WHERE {where} "
        "ORDER BY i.started_l DESC NULLS LAST, i.session_id DESC"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [tuple(r) for r in conn.execute(sql, params).fetchall()][::-1]


def summary_sql(status: str) -> str:
    """The summary row of one session (``%(sid)s``)."""
    return f"SELECT {_COLUMNS.format(status=status)} FROM {FROM} WHERE i.session_id = %(sid)s"


def where_sql(query: Query, status: str, params: dict[str, Any], conn: Any = None) -> str:
    """SQL ``WHERE`` text for ``query`` (reference: ``Query.matches``); fills ``params``.
    ``conn``: where to look up the titles a free word matches (see :func:`_word_sql`)."""
    counter = itertools.count(len(params))

    def bind(value: Any) -> str:
        name = f"p{next(counter)}"
        params[name] = value
        return f"%({name})s"

    clauses = []
    for term in query.terms:
        sql = _term_sql(term, status, bind)
        clauses.append(f"NOT coalesce(({sql}), false)" if term.negate else f"({sql})")
    for word in query.words:
        clauses.append(_word_sql(word.lower(), status, bind, conn))
    if not query.asks_archived:
        clauses.append("NOT coalesce(d.archived, false)")
    return " AND ".join(clauses) or "true"


#: titles a free word may match by id (``session_id = ANY``); past this, a subquery
_TITLE_IDS = 1000


def _word_sql(word: str, status: str, bind: Bind, conn: Any = None) -> str:
    """A free word: a substring of id, command, branch, sha, user, status, title and params
    joined by spaces (a word without spaces is tested on each part).

    A word without spaces is a ``LIKE`` on the ``hay`` and parameter columns, which their
    trigram indexes answer where the server has ``pg_trgm`` (schema 5): a word in no session
    is told in milliseconds instead of a scan of every row. For those indexes to be used
    together, every part must test ``sessionlens_sessions`` itself: the titles the word
    matches are looked up first (``conn``; titles are few) and tested by id; a word that is
    part of a status name (``fail``) keeps the scan, as those match most sessions anyway."""
    if any(c.isspace() for c in word):
        hay = (
            f"i.hay || ' ' || {status} || coalesce(' ' || d.title_l, '') || "
            "coalesce(' ' || i.params_l, '')"
        )
        return f"strpos({hay}, {bind(word)}) > 0"
    literal = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = bind(f"%{literal}%")
    parts = [f"i.hay LIKE {pattern}", f"i.params_l LIKE {pattern}"]
    statuses = [s for s in STATUSES if word in s]
    if statuses:
        parts.append(f"{status} = ANY({bind(statuses)})")
    titles = _titles_matching(conn, word) if conn is not None and not statuses else None
    if titles is None:
        parts.append(f"strpos(coalesce(d.title_l, ''), {bind(word)}) > 0")
    elif titles:
        parts.append(f"i.session_id = ANY({bind(titles)})")
    return f"({' OR '.join(parts)})"


def _titles_matching(conn: Any, word: str) -> list[str] | None:
    """Ids of the sessions whose title holds ``word``; None when there are too many to list."""
    rows = conn.execute(
        f"SELECT session_id FROM {DETAILS} WHERE strpos(title_l, %s) > 0 LIMIT %s",
        (word, _TITLE_IDS + 1),
    ).fetchall()
    return None if len(rows) > _TITLE_IDS else [r[0] for r in rows]


def _term_sql(term: Term, status: str, bind: Bind) -> str:
    """One term as SQL; NULL stands for no match."""
    name = term.param_name
    if name is not None:
        return _param_sql(term, name, bind)
    metric = term.metric_name
    if metric is not None:
        rows = _metric_rows(term, metric, bind)
        return f"i.session_id IN ({rows})" if rows else "false"
    f = term.field
    if f in _TEXT_COLUMNS:
        return _text_sql(_TEXT_COLUMNS[f], term, bind)
    if f == "status":
        return f"{status} = {bind(term.value.lower())}"
    if f == "dirty":
        return f"i.dirty = {bind(int(term.as_bool()))}"
    if f == "bookmark":
        return f"coalesce(d.bookmark, false) = {bind(term.as_bool())}"
    if f == "archived":
        return "true" if term.is_any else f"coalesce(d.archived, false) = {bind(term.as_bool())}"
    if f in ("exit", "duration"):
        if term.bound is None:
            return "false"
        column = "i.exit_code" if f == "exit" else "i.duration_s"
        return f"{column} {_SQL_OP.get(term.op, '=')} {bind(term.bound)}"
    if f in ("since", "until"):
        if term.bound is None:
            return "false"
        return f"i.started_ts {'>=' if f == 'since' else '<'} {bind(term.bound)}"
    from sessionlens.query import QueryError

    raise QueryError(f"unknown filter field {term.field!r}")


def _text_sql(column: str, term: Term, bind: Bind) -> str:
    """Exact (``:=``), a glob (``LIKE``), or a prefix as a range the column's index walks (for
    the command, whose index holds a prefix of the text, the range is on that prefix)."""
    v = term.value.lower()
    indexed = f"left({column}, {INDEXED_CHARS})" if column == "i.command_l" else column
    if term.op == ":=":
        if indexed == column:
            return f"{column} = {bind(v)}"
        return _prefix_equal(indexed, column, v, bind)
    head = v.split("*", 1)[0] if term.is_glob else v
    ranged = prefix_sql(indexed if len(head) <= INDEXED_CHARS else column, head, bind)
    if not term.is_glob:
        return ranged
    match = f"{column} LIKE {bind(like_pattern(v))}"
    return f"{ranged} AND {match}" if head else match


def _prefix_equal(indexed: str, column: str, value: str, bind: Bind) -> str:
    """``column = value`` for a text whose index holds its first ``INDEXED_CHARS`` characters
    (``indexed``): a value shorter than that equals the text exactly when the prefix does, so
    the index alone answers (index-only: a ``param.X:v`` probe reads no table row); a longer
    one is compared whole as well."""
    test = f"{indexed} = {bind(value[:INDEXED_CHARS])}"
    if len(value) < INDEXED_CHARS:
        return test
    return f"{test} AND {column} = {bind(value)}"


def like_pattern(value: str) -> str:
    """A value whose only wildcard is ``*`` as a ``LIKE`` pattern (``%``, ``_``, ``\\``
    literal)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _metric_rows(term: Term, metric: str, bind: Bind) -> str | None:
    """The ids of the sessions whose ``metric`` passes ``term``; None: no session does."""
    if term.bound is None:
        return None
    return (
        f"SELECT m.session_id FROM {METRICS} AS m WHERE m.name = {bind(metric)} "
        f"AND m.value {_SQL_OP.get(term.op, '=')} {bind(term.bound)}"
    )


def _param_sql(term: Term, name: str, bind: Bind) -> str:
    rows = _param_rows(term, name, bind)
    return f"EXISTS ({rows} AND p.session_id = i.session_id)" if rows else "false"


def _param_rows(term: Term, name: str, bind: Bind) -> str | None:
    """The parameter rows named ``name`` that pass ``term``; None: no session's do."""
    v = term.value.lower()
    equal = _prefix_equal(f"left(p.value, {INDEXED_CHARS})", "p.value", v, bind)
    if term.op == ":=":
        test = equal
    elif term.is_glob:
        test = f"p.value LIKE {bind(like_pattern(v))}"
    elif term.op == ":":
        test = equal
        if term.bound is not None:
            test = f"({test} OR p.num = {bind(term.bound)})"
    elif term.bound is None:
        return None
    else:
        test = f"p.num {_SQL_OP[term.op]} {bind(term.bound)}"
    return f"SELECT 1 FROM {PARAMS} AS p WHERE p.name = {bind(name)} AND {test}"


def summary_from_row(row: tuple) -> SessionSummary:
    """A summary row (see ``_COLUMNS``) as its ``SessionSummary``."""
    (sid, status, started, finished, duration, exit_code, branch, sha, dirty, command, user,
     package, host, rerun, params, problem, title, bookmark, notes, archived, names,
     vals) = row  # fmt: skip
    if status not in STATUSES:
        status, problem = UNREADABLE, f"its index row says status {status!r}"
    return SessionSummary(
        session_id=sid,
        status=status,
        started_at=started,
        finished_at=finished,
        duration_s=duration,
        exit_code=None if exit_code is None else int(exit_code),
        branch=branch,
        commit_sha=sha,
        dirty=None if dirty is None else bool(dirty),
        command=command,
        username=user,
        package_name=package,
        hostname=host,
        rerun_of=rerun,
        title=title,
        bookmark=bool(bookmark),
        notes=notes,
        params=params,
        problem=problem,
        metrics=dict(zip(names, vals, strict=True)) or None,
        archived=bool(archived),
    )
