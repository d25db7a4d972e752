"""The read commands: ``list``, ``show``, ``diff``, ``log``.

``--json`` output is built from plain data with the standard library only (``list --limit 50
--json`` on 100k sessions must finish in 0.3 s, process start included); Rich is imported by
:mod:`sessionlens.cli.render` for human output only. Stores are opened read-only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from sessionlens.cli.common import UsageError, open_read_store
from sessionlens.errors import SessionLensError, UnknownSessionError, UnreadableSessionError
from sessionlens.query import Query, Term, parse_query

if TYPE_CHECKING:
    from sessionlens.results import Results
    from sessionlens.stores.base import SessionStore

#: How often ``log --follow`` looks for new output.
FOLLOW_POLL_S = 0.25


class AmbiguousSessionError(SessionLensError):
    """A session id prefix matches more than one session."""


def list_query(text: str, sort: str, ascending: bool) -> Query:
    return parse_query(text, sort=sort, descending=not ascending)


def resolve_session_id(store: SessionStore, text: str) -> str:
    """The full id for ``text``: an exact id, else the one session whose id starts with it."""
    text = text.strip()
    if not text:
        raise UnknownSessionError(text, store.location)
    try:
        store.get_summary(text)
        return text
    except UnknownSessionError:
        pass
    # archived sessions too: ``show``, ``unarchive`` and ``delete`` name them by id
    query = Query(terms=(Term("id", text), Term("archived", "any")), sort="id", descending=False)
    matches = store.list_summaries(query, limit=6)
    if not matches:
        raise UnknownSessionError(text, store.location)
    if len(matches) > 1:
        shown = ", ".join(m.session_id for m in matches[:5])
        more = ", ..." if len(matches) > 5 else ""
        raise AmbiguousSessionError(
            f"session id prefix {text!r} matches several sessions ({shown}{more}); "
            "give more characters"
        )
    return matches[0].session_id


def _dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


# -- list -------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    from sessionlens.cli.columns import parse_columns, with_metrics

    if args.json and args.csv:
        raise UsageError("--json and --csv: choose one")
    columns = parse_columns(args.columns)
    query = list_query(args.filter, args.sort, args.asc)
    if args.all and not query.asks_archived:  # archived sessions too
        query = query._replace(terms=(*query.terms, Term("archived", "any")))
    if args.columns is None:
        named = [t.metric_name for t in query.terms] + [query.sort_metric]
        columns = with_metrics(columns, [m for m in named if m])
    store = open_read_store(args.store)
    try:
        if not query.is_default:
            index_first(store)
        limit = args.limit or None
        if args.json:
            summaries = store.list_summaries(query, limit=limit)
            if args.columns is None:  # every field; the parameters as an object
                from sessionlens.export import params_object

                _dump([{**s.to_dict(), "params": params_object(store, s)} for s in summaries])
            else:
                from sessionlens.export import json_row

                _dump([json_row(s, columns, store) for s in summaries])
            return 0
        if args.csv:
            from sessionlens.export import iter_matching, write_csv

            write_csv(sys.stdout, list(iter_matching(store, query, limit=limit)), columns)
            sys.stdout.flush()
            return 0
        return print_list(store, query, limit=limit, columns=columns)
    finally:
        store.close()


def index_first(store: SessionStore) -> None:
    """A filter or sort on a big store seen for the first time waits for its index (which later
    commands reuse): on a terminal, say so while it is built."""
    if not sys.stderr.isatty() or not store.needs_index():
        return

    def progress(done: int, total: int) -> None:
        shown = f"indexing {done:,} of {total:,} sessions (once: later commands reuse it)"
        sys.stderr.write(f"\r{shown}")
        sys.stderr.flush()

    store.build_index(progress)
    sys.stderr.write("\r\x1b[K")


def print_list(
    store: SessionStore,
    query: Query,
    *,
    limit: int | None,
    columns: tuple[str, ...] | None = None,
) -> int:
    from sessionlens.cli import render

    summaries = store.list_summaries(query, limit=limit)
    matching = store.count(query)
    total = matching if query.is_empty else store.count()
    render.print_session_table(
        summaries,
        matching=matching,
        total=total,
        store=store.describe(),
        query=query,
        columns=columns or render.DEFAULT_COLUMNS,
    )
    return 0


# -- show -------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace) -> int:
    from sessionlens.record import SessionSummary

    store = open_read_store(args.store)
    try:
        session_id = resolve_session_id(store, args.session)
        details = dict(store.user_details(session_id))
        record: dict[str, Any] | None
        try:
            record = store.get(session_id)
            summary = SessionSummary.from_record(
                record, details, heartbeat=store.last_heartbeat(session_id)
            )
        except UnreadableSessionError as exc:  # shown as listed: unreadable, and why
            record, summary = None, SessionSummary.unreadable(session_id, exc.problem, details)
        results = None if record is None else _results(store, session_id)
        if args.json:
            _dump(
                {
                    "record": record,
                    "summary": summary.to_dict(),
                    "user_details": details,
                    "results": None if results is None else results.to_dict(),
                }
            )
            return 0
        log_tail = _log_tail(store, session_id, max(0, args.log_lines))
        from sessionlens.cli import render

        render.print_session(
            record, summary, details, log_tail, store=store.describe(), results=results
        )
        return 0
    finally:
        store.close()


def _results(store: SessionStore, session_id: str) -> Results:
    """The session's results; what cannot be read is a problem in them, never an error that
    hides the record."""
    from sessionlens.results import NO_RESULTS

    try:
        return store.results(session_id)
    except SessionLensError as exc:
        return NO_RESULTS._replace(problems=(f"results cannot be read: {exc}",))


def _log_tail(store: SessionStore, session_id: str, lines: int) -> str | None:
    """The log's last lines; where the log cannot be read, why (in its place): a bad log
    never hides the record it belongs to."""
    if lines == 0 or not store.capabilities.logs:
        return None
    try:
        tail = store.log_tail(session_id, lines)
    except SessionLensError as exc:
        return f"(the log cannot be read: {exc})\n"
    return "\n".join(tail) + "\n" if tail else None


# -- diff -------------------------------------------------------------------------------------
def cmd_diff(args: argparse.Namespace) -> int:
    from sessionlens.cli.diff_results import metric_overrides, results_to_dict
    from sessionlens.compare import changed_files_between, compare
    from sessionlens.compare_results import metric_rows, node_rows

    overrides = metric_overrides(args.higher_is_better, args.lower_is_better)
    store = open_read_store(args.store)
    try:
        left_id = resolve_session_id(store, args.left)
        right_id = resolve_session_id(store, args.right)
        left, right = store.get(left_id), store.get(right_id)
        both = [_results(store, left_id), _results(store, right_id)]
    finally:
        store.close()
    comparison = compare(left, right)
    metrics, nodes = metric_rows(both, overrides), node_rows(both)
    files = changed_files_between(
        left, right, comparison.left_sha, comparison.right_sha, also=(os.getcwd(),)
    )
    if args.json:
        data = comparison.to_dict(all_rows=args.all)
        data.update(results_to_dict(metrics, nodes, both))
        data["changed_files"] = None if files is None else [f.to_dict() for f in files]
        _dump(data)
        return 0
    from sessionlens.cli import render

    render.print_comparison(comparison, files, show_all=args.all)
    render.print_result_rows(metrics, nodes, [p for r in both for p in r.problems])
    return 0


# -- log --------------------------------------------------------------------------------------
def cmd_log(args: argparse.Namespace) -> int:
    store = open_read_store(args.store)
    try:
        session_id = resolve_session_id(store, args.session)
        if not store.capabilities.logs:
            raise SessionLensError(f"{store.describe()} keeps no logs")
        if args.json:
            chunks = [
                {"stream": c.stream, "text": c.text}
                for c in store.iter_log(session_id)
                if args.stream in (None, c.stream)
            ]
            _dump(chunks)
            return 0
        position = _print_chunks(store, session_id, 0, args)
        while args.follow and store.get_summary(session_id).status == "running":
            time.sleep(FOLLOW_POLL_S)
            position = _print_chunks(store, session_id, position, args)
        if args.follow:
            _print_chunks(store, session_id, position, args)
        return 0
    finally:
        store.close()


def _print_chunks(
    store: SessionStore, session_id: str, start: int, args: argparse.Namespace
) -> int:
    """Print chunks from ``start`` on; returns the next chunk index."""
    from sessionlens.textsafe import safe_text

    position = start
    out = sys.stdout
    for chunk in store.iter_log(session_id, start):
        position += 1
        if args.stream not in (None, chunk.stream):
            continue
        out.write(chunk.text if args.raw else safe_text(chunk.text, keep_newlines=True))
    out.flush()
    return position
