"""Records as JSON on their way into and out of a store, the same for every backend.

Saving needs a session id (a record without one cannot be stored) and JSON text (paths, tuples
of pickles and datetimes become plain data, as ``to_jsonable`` says); reading hands back plain,
deep-copied data, so a caller that changes a record changes nothing in the store. Whether a
saved record is *readable* is decided when it is read (:mod:`~.readable`), as for records other
writers saved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sessionlens.errors import StoreError, one_line
from sessionlens.record import Record, to_jsonable
from sessionlens.stores.readable import RecordProblem


def require_session_id(record: Mapping[str, Any], location: str) -> str:
    """The record's ``session_id`` as str; a record without one cannot be stored."""
    session_id = record.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise StoreError(f"{location}: cannot save a record without a session_id string")
    try:
        session_id.encode("utf-8")
    except UnicodeEncodeError:
        raise StoreError(f"{location}: cannot save session id {session_id!r}: not text") from None
    return session_id


def json_to_save(record: Mapping[str, Any], location: str) -> tuple[str, str]:
    """(session id, JSON text) of a record about to be saved; a one-line ``StoreError`` when it
    has no id or no JSON. Whether it is *readable* is decided when it is read, as for records
    other writers saved."""
    session_id = require_session_id(record, location)
    try:
        return session_id, record_json(record)
    except RecordProblem as exc:
        raise StoreError(f"{location}: cannot save session {session_id}: {exc}") from None


def plain_record(record: Mapping[str, Any]) -> Record:
    """A deep, JSON-shaped copy: what every backend hands back from ``get``."""
    return json.loads(record_json(record))


def record_json(record: Mapping[str, Any]) -> str:
    """The record as JSON text; C-speed for plain data, ``to_jsonable`` for paths, tuples of
    pickles, datetimes and the like. A record that has no JSON (it contains itself, nests past
    Python's recursion limit, holds an integer of thousands of digits) is a ``RecordProblem``."""
    try:
        return json.dumps(record, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(to_jsonable(record))
    except RecursionError:
        raise RecordProblem("the record nests too deep to be written as JSON") from None
    except ValueError as exc:  # a circular reference, an integer too long to print
        raise RecordProblem(f"the record cannot be written as JSON ({one_line(exc)})") from None
