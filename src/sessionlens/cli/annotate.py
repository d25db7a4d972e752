"""``sessionlens annotate ID``: set a session's title, notes or bookmark.

The store is opened read-write for this command only (every read command opens read-only);
in an SQLite store the values land in kedro-viz's ``user_run_details``, so kedro-viz shows
them too. Text is stored as typed.
"""

from __future__ import annotations

import argparse
import json
import sys

from sessionlens.cli.common import EXIT_OK, UsageError, default_store_spec, error


def cmd_annotate(args: argparse.Namespace) -> int:
    from sessionlens.cli.read import resolve_session_id
    from sessionlens.stores import open_store

    if args.title is None and args.notes is None and args.bookmark is None:
        raise UsageError("nothing to change: give --title, --notes, --bookmark or --no-bookmark")
    store = open_store(args.store or default_store_spec(), read_only=False, tracking=False)
    try:
        if store.notice:
            error(f"note: {store.notice}")
        if not store.capabilities.user_details:
            raise UsageError(f"{store.describe()} keeps no title, notes or bookmark")
        session_id = resolve_session_id(store, args.session)
        store.set_user_details(
            session_id, title=args.title, notes=args.notes, bookmark=args.bookmark
        )
        details = dict(store.user_details(session_id))
    finally:
        store.close()
    if args.json:
        sys.stdout.write(json.dumps({"session_id": session_id, **details}) + "\n")
    else:
        from sessionlens.textsafe import safe_text

        changed = [
            name
            for name, value in (("title", args.title), ("notes", args.notes))
            if value is not None
        ]
        if args.bookmark is not None:
            changed.append("bookmark" if args.bookmark else "no bookmark")
        sys.stdout.write(safe_text(f"{session_id}: {', '.join(changed)} saved") + "\n")
    sys.stdout.flush()
    return EXIT_OK
