"""The filter language and sort order shared by the CLI, the app and every store backend.

``branch:main status:failed dirty:yes sha:54c4 param.scale:3 user:ana since:2026-11-01 words``.
A leading ``-`` negates a term. Free words match case-insensitively anywhere in the id, command,
branch, sha, user, status,
title and parameters (``scale=3``). Backends that can (SQLite) translate a ``Query`` to SQL;
the others use :meth:`Query.matches`, which is the reference semantics.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, NamedTuple

from sessionlens.errors import SessionLensError
from sessionlens.record import SessionSummary, param_text

#: Field terms and what they compare against (see ``Term`` for the comparison).
FIELDS = (
    "id",
    "status",
    "branch",
    "sha",
    "dirty",
    "user",
    "command",
    "title",
    "bookmark",
    "host",
    "exit",
    "since",
    "until",
    "rerun",
)

#: Sort keys: name -> SessionSummary attribute.
SORT_KEYS = {
    "started": "started_at",
    "id": "session_id",
    "status": "status",
    "duration": "duration_s",
    "branch": "branch",
    "sha": "commit_sha",
    "dirty": "dirty",
    "command": "command",
    "user": "username",
    "title": "title",
    "exit": "exit_code",
    "params": "params",
}

_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off"}


class QueryError(SessionLensError):
    """A filter or sort the user typed cannot be understood."""


class Term(NamedTuple):
    """One ``field:value`` term. ``field`` is a name of FIELDS or ``param.<name>``."""

    field: str
    value: str
    negate: bool = False

    @property
    def param_name(self) -> str | None:
        return self.field[len("param.") :] if self.field.startswith("param.") else None

    def as_bool(self) -> bool:
        low = self.value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise QueryError(f"{self.field}: expects yes or no, not {self.value!r}")


class Query(NamedTuple):
    """A parsed filter plus a sort order; the empty query lists everything newest first.

    NamedTuples, not dataclasses: every store imports this module, and ``dataclasses`` would
    cost ``sessionlens run`` about 10 ms. ``text`` (as typed) is not part of equality."""

    terms: tuple[Term, ...] = ()
    words: tuple[str, ...] = ()
    sort: str = "started"
    descending: bool = True
    text: str = ""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self[:4] == other[:4]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self[:4])

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.words

    def sorted_by(self, sort: str, descending: bool) -> Query:
        if sort not in SORT_KEYS:
            raise QueryError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)}")
        return Query(self.terms, self.words, sort, descending, self.text)

    # -- reference semantics -------------------------------------------------------------
    def matches(self, summary: SessionSummary, params: Mapping[str, Any] | None = None) -> bool:
        """Whether a session passes every term and word; ``params`` from :func:`params_of`."""
        for term in self.terms:
            if _term_matches(term, summary, params or {}) == term.negate:
                return False
        if self.words:
            hay = " ".join(
                str(v).lower()
                for v in (
                    summary.session_id,
                    summary.command,
                    summary.branch,
                    summary.commit_sha,
                    summary.username,
                    summary.status,
                    summary.title,
                    summary.params,
                )
                if v is not None
            )
            if not all(w.lower() in hay for w in self.words):
                return False
        return True

    def sort_key(self, summary: SessionSummary) -> tuple:
        """Key for ``sorted(..., key=q.sort_key, reverse=q.descending)``: sessions without a
        value sort last in both directions; ties are broken by session id (same direction)."""
        value = getattr(summary, SORT_KEYS[self.sort])
        if isinstance(value, str):
            value = value.lower()
        missing_last = (value is None) != self.descending
        return (missing_last, value if value is not None else 0, summary.session_id)


def parse_query(text: str, sort: str = "started", descending: bool = True) -> Query:
    """Parse what a user typed in the filter box or passed to ``--filter``."""
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unclosed quote while typing: treat the text literally
        tokens = text.split()
    terms: list[Term] = []
    words: list[str] = []
    for token in tokens:
        negate = token.startswith("-") and ":" in token
        body = token[1:] if negate else token
        name, sep, value = body.partition(":")
        name = name.lower()
        if sep and (name in FIELDS or name.startswith("param.")) and value:
            term = Term(name, value, negate)
            if name in ("dirty", "bookmark"):
                term.as_bool()  # validate early so the user sees the error as they type
            terms.append(term)
        else:
            words.append(token)
    return Query(tuple(terms), tuple(words), sort, descending, text).sorted_by(sort, descending)


def _term_matches(term: Term, s: SessionSummary, params: Mapping[str, Any]) -> bool:
    v = term.value.lower()
    name = term.param_name
    if name is not None:
        return name in params and param_text(params[name]).lower() == v
    f = term.field
    if f == "id":
        return s.session_id.lower().startswith(v)
    if f == "status":
        return s.status == v
    if f == "branch":
        return (s.branch or "").lower() == v
    if f == "sha":
        return (s.commit_sha or "").lower().startswith(v)
    if f == "dirty":
        return s.dirty is not None and s.dirty == term.as_bool()
    if f == "bookmark":
        return s.bookmark == term.as_bool()
    if f == "user":
        return (s.username or "").lower() == v
    if f == "host":
        return (s.hostname or "").lower() == v
    if f == "command":
        return v in (s.command or "").lower()
    if f == "title":
        return v in (s.title or "").lower()
    if f == "exit":
        return s.exit_code is not None and str(s.exit_code) == v
    if f == "rerun":
        return (s.rerun_of or "").lower().startswith(v)
    if f == "since":
        return (s.started_at or "") >= term.value
    if f == "until":
        # until:2026-11-01 includes that whole day: compare on the prefix of the same length
        return (s.started_at or "")[: len(term.value)] <= term.value
    raise QueryError(f"unknown filter field {term.field!r}")
