"""The filter language and sort order shared by the CLI, the app and every store backend.

``branch:main status:failed dirty:yes sha:54c4 param.lr>=0.1 duration>5m since:7d words``.

A term is ``field:value`` (or ``field OP value`` for numbers), ``-`` in front negates it; any
other word is a free word, found case-insensitively anywhere in the id, command, branch, sha,
user, status, title and parameters (``scale=3``). A word is read as a term only when what comes
before the ``:`` (or operator) looks like a name (letters, digits not first, ``_``, ``.``), so
``12:30`` stays a word, and so does a URL (``http://...``); a word with a colon that must stay a
word is quoted (``"error:"``). A term that cannot be read is a :class:`QueryError`, never a
silent "nothing matches". Backends that can (SQLite) translate a ``Query`` to SQL; the others use
:meth:`Query.matches`, which is the reference semantics.

Values are parsed once, when the query is (``since:7d`` is 7 days before the parse), so every
backend compares against the same number or instant (:attr:`Term.bound`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, NamedTuple

from sessionlens.errors import SessionLensError
from sessionlens.record import STATUSES, SessionSummary, as_number, param_text, started_epoch

#: Text fields: matched by case-insensitive prefix, ``*`` a glob, ``:=`` the exact value.
TEXT_FIELDS = {
    "id": "session id",
    "branch": "git branch",
    "sha": "commit sha",
    "user": "user name",
    "host": "host name",
    "command": "command line",
    "title": "kedro-viz title",
    "rerun": "id of the session re-run",
}
#: Number fields: ``:`` or ``=`` equal, or compared with an operator.
NUMBER_FIELDS = {
    "exit": "exit code (a whole number)",
    "duration": "seconds; 90, 1.5, 30s, 5m, 2h, 1d",
}
#: Every field and what it holds, for help texts; ``param.NAME`` is documented apart.
FIELD_HELP = {
    **TEXT_FIELDS,
    "status": "one of " + ", ".join(STATUSES),
    "dirty": "yes or no: uncommitted changes",
    "bookmark": "yes or no: bookmarked in kedro-viz",
    "archived": "yes, no or any: archived sessions are hidden unless a term asks for them",
    **NUMBER_FIELDS,
    "since": "started at or after: 2026-11-01, 2026-11-01T09:30, 7d, 2h, 30m, today, yesterday",
    "until": "started before the end of: a date (that whole day), a time, 7d, today, yesterday",
}
#: Field names (besides ``param.NAME``).
FIELDS = tuple(FIELD_HELP)
PARAM_PREFIX = "param."
#: ``metric.NAME``: a number the run recorded (``results.metrics_of``, Kedro tracking files)
METRIC_PREFIX = "metric."

#: Comparison operators, for number fields and parameters (``:`` is the default match).
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")
#: How a term compares, for help texts.
OPERATOR_HELP = {
    ":": "text: starts with (any case), * is a wildcard; number: equals; date: since/until",
    ":=": "text: exactly this value (any case)",
    "= !=": "number (exit, duration, param.NAME, metric.NAME) equal / not equal",
    "> >= < <=": "number (exit, duration, param.NAME, metric.NAME) greater / less",
    "-": "in front of a term: sessions it does not match",
}

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
#: ``archived:any``: archived sessions and the others (``list --all``)
_ANY = {"any", "all", "*"}


class _Lazy:
    """A regex compiled when first used: importing this module (``list --json``) stays cheap."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags
        self.compiled: re.Pattern[str] | None = None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        if self.compiled is None:
            self.compiled = re.compile(self.pattern, self.flags)
        return self.compiled.fullmatch(text)


#: ``-name:value`` / ``name>=value``: the name looks like an identifier, ``param.`` + any name
_TERM = _Lazy(
    r"(?P<neg>-?)(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[^\s:<>=!]*)?)"
    r"(?P<op>:=|:|>=|<=|!=|>|<|=)(?P<value>.*)",
    re.DOTALL,
)
_INTEGER = _Lazy(r"[+-]?\d{1,18}")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = _Lazy(r"(?P<n>\d+(?:\.\d*)?|\.\d+)(?P<unit>[smhd]?)")
_AGO = _Lazy(r"(?P<n>\d{1,6})(?P<unit>[smhdw])")
_DATE = _Lazy(
    r"(?P<y>\d{4})(?:-(?P<mo>\d\d)(?:-(?P<d>\d\d)(?:[t ](?P<h>\d\d)(?::(?P<mi>\d\d)"
    r"(?::(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?)?)?(?P<tz>z|[+-]\d\d:?\d\d)?)?)?)?"
)


class QueryError(SessionLensError):
    """A filter or sort the user typed cannot be understood."""


class _TermFields(NamedTuple):
    field: str
    value: str
    negate: bool = False
    op: str = ":"
    bound: float | None = None


class Term(_TermFields):
    """One term: ``field`` is a name of FIELDS or ``param.<name>``; ``op`` is ``:``, ``:=`` or
    one of COMPARISONS; ``bound`` the number or instant (epoch seconds) a number, date or numeric
    parameter term compares against, computed once when the term is made (a NamedTuple, as
    ``Query``: the run path writes index rows with this module)."""

    __slots__ = ()

    def __new__(
        cls,
        field: str,
        value: str,
        negate: bool = False,
        op: str = ":",
        bound: float | None = None,
    ) -> Term:
        if bound is None:  # made directly, not by parse_query: check and compute now
            bound = _check_term(field, op, value, datetime.now(timezone.utc), None)
        return super().__new__(cls, field, value, negate, op, bound)

    @property
    def param_name(self) -> str | None:
        return self.field[len(PARAM_PREFIX) :] if self.field.startswith(PARAM_PREFIX) else None

    @property
    def metric_name(self) -> str | None:
        return metric_of(self.field)

    @property
    def is_glob(self) -> bool:
        """A text value with ``*``, matched as a whole against the pattern."""
        return self.op == ":" and "*" in self.value and self.bound is None

    def as_bool(self) -> bool:
        return _yes_no(self.field, self.value)

    @property
    def is_any(self) -> bool:
        """``archived:any``: matches every session (archived or not)."""
        return self.field == "archived" and self.value.lower() in _ANY


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

    @property
    def is_default(self) -> bool:
        """Every session, newest first: what a store can list before it has an index."""
        return self.is_empty and self.sort == "started" and self.descending

    @property
    def sort_metric(self) -> str | None:
        """The metric the sessions are sorted by (``sort`` is ``metric.NAME``), else None."""
        return metric_of(self.sort)

    def sorted_by(self, sort: str, descending: bool) -> Query:
        if sort[: len(METRIC_PREFIX)].lower() == METRIC_PREFIX:
            sort = METRIC_PREFIX + sort[len(METRIC_PREFIX) :]
            if sort == METRIC_PREFIX:
                raise QueryError("name the metric to sort by, e.g. metric.accuracy")
        elif sort not in SORT_KEYS:
            raise QueryError(
                f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)} or metric.NAME"
            )
        return Query(self.terms, self.words, sort, descending, self.text)

    # -- reference semantics -------------------------------------------------------------
    @property
    def asks_archived(self) -> bool:
        """Whether a term names ``archived``; without one, archived sessions are hidden."""
        return any(term.field == "archived" for term in self.terms)

    def matches(self, summary: SessionSummary, params: Mapping[str, Any] | None = None) -> bool:
        """Whether a session passes every term and word; ``params`` from :func:`params_of`.
        An archived session matches only a query with an ``archived`` term."""
        if summary.archived and not self.asks_archived:
            return False
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
        metric = self.sort_metric
        if metric is not None:
            value = (summary.metrics or {}).get(metric)
        else:
            value = getattr(summary, SORT_KEYS[self.sort])
        if isinstance(value, str):
            value = value.lower()
        missing_last = (value is None) != self.descending
        return (missing_last, value if value is not None else 0, summary.session_id)


# -- parsing ------------------------------------------------------------------------------------
def parse_query(
    text: str,
    sort: str = "started",
    descending: bool = True,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> Query:
    """Parse what a user typed in the filter box or passed to ``--filter``; QueryError (one
    line) for a term it cannot read. ``now``: the moment relative dates count from (default:
    now); ``tz``: the zone dates without one are read in, the one the table shows times in
    (None: local time)."""
    moment = datetime.now(timezone.utc) if now is None else now.astimezone(timezone.utc)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes from a command line that are not UTF-8
        raise QueryError("the filter holds bytes that are not UTF-8 text") from None
    terms: list[Term] = []
    words: list[str] = []
    for token, lead in _tokens(text):
        term = _read_term(token, lead, moment, tz)
        if term is not None:
            terms.append(term)
        elif token:
            words.append(token)
    return Query(tuple(terms), tuple(words), sort, descending, text).sorted_by(sort, descending)


def _tokens(text: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens, quotes removed, each with the length of its part before
    the first quote (a name and operator must stand there); an unclosed quote is an error."""
    tokens: list[tuple[str, int]] = []
    chars: list[str] = []
    lead: int | None = None
    quote: str | None = None
    started = False
    for ch in text:
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                chars.append(ch)
        elif ch in "\"'":
            quote, started = ch, True
            lead = len(chars) if lead is None else lead
        elif ch.isspace():
            if started:
                tokens.append(("".join(chars), len(chars) if lead is None else lead))
            chars, lead, started = [], None, False
        else:
            chars.append(ch)
            started = True
    if quote is not None:
        raise QueryError(f"unbalanced {quote} in the filter: close it, or quote with the other one")
    if started:
        tokens.append(("".join(chars), len(chars) if lead is None else lead))
    return tokens


def _read_term(token: str, lead: int, now: datetime, zone: tzinfo | None) -> Term | None:
    """The term ``token`` stands for, None for a free word."""
    m = _TERM.fullmatch(token)
    if m is None or m.end("op") > lead:
        return None
    name, op, value = m.group("name"), m.group("op"), m.group("value")
    field_name = _field_name(name)
    if op == "=" and not _is_number_field(field_name):
        return None  # ``scale=3``: a word, found in the parameters' line
    if op == ":" and value.startswith("//"):
        return None  # a URL, ``http://host``
    if field_name not in FIELD_HELP and not field_name.startswith((PARAM_PREFIX, METRIC_PREFIX)):
        raise QueryError(_unknown_field(name))
    bound = _check_term(field_name, op, value, now, zone)
    return Term(field_name, value, bool(m.group("neg")), op, bound)


def _field_name(name: str) -> str:
    """Field names are case-insensitive; a parameter's or metric's name is as written."""
    for prefix in (PARAM_PREFIX, METRIC_PREFIX):
        if name[: len(prefix)].lower() == prefix:
            return prefix + name[len(prefix) :]
    return name.lower()


def metric_of(field: str) -> str | None:
    """The metric a field or sort key names (``metric.NAME``), else None."""
    return field[len(METRIC_PREFIX) :] if field.startswith(METRIC_PREFIX) else None


def _is_number_field(name: str) -> bool:
    return name in NUMBER_FIELDS or name.startswith((PARAM_PREFIX, METRIC_PREFIX))


def _unknown_field(name: str) -> str:
    import difflib

    head = name.split(".")[0].lower()
    prefix = difflib.get_close_matches(head, ["param", "metric"], n=1, cutoff=0.6)
    if "." in name and prefix:
        hint = f"did you mean {prefix[0]}.{name.split('.', 1)[1]}?"
    else:
        known = [*FIELDS, "param.NAME", "metric.NAME"]
        close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
        fields = ", ".join(FIELDS)
        listed = f"fields: {fields}, param.NAME, metric.NAME"
        hint = f"did you mean {close[0]}?" if close else listed
    return f"unknown filter field {name!r} ({hint}; quote a word with a colon to search it)"


def _check_term(name: str, op: str, value: str, now: datetime, zone: tzinfo | None) -> float | None:
    """Check a term and return its bound (None for text, status and yes/no terms)."""
    shown = f"{name}{op}"
    if not value:
        raise QueryError(f"{shown} needs a value (e.g. {_example(name)})")
    param = name[len(PARAM_PREFIX) :] if name.startswith(PARAM_PREFIX) else None
    if param == "":
        raise QueryError(f"{shown}{value}: name the parameter, e.g. param.lr:0.1")
    metric = metric_of(name)
    if metric == "":
        raise QueryError(f"{shown}{value}: name the metric, e.g. metric.accuracy>=0.9")
    if op in COMPARISONS and not _is_number_field(name):
        raise QueryError(
            f"{shown}{value}: {op} compares numbers (exit, duration, param.NAME, metric.NAME); "
            f"use {name}:{value}" + (f" or -{name}:{value}" if op == "!=" else "")
        )
    if param is not None:
        return _param_bound(shown, op, value)
    if metric is not None:
        number = as_number(value)
        if number is None:
            raise QueryError(f"{shown}{value}: a metric compares with a number, not {value!r}")
        return number
    if name in TEXT_FIELDS:
        return None
    if name == "status":
        _check_status(value)
        return None
    if name in ("dirty", "bookmark"):
        _yes_no(name, value)
        return None
    if name == "archived":
        if value.lower() not in _ANY:
            _yes_no(name, value)
        return None
    if name == "exit":
        if not _INTEGER.fullmatch(value):
            raise QueryError(f"{shown}{value}: exit expects a whole number, not {value!r}")
        return int(value)
    if name == "duration":
        return _seconds(shown, value)
    if name in ("since", "until"):
        return _instant(name, value, now, zone)
    raise QueryError(_unknown_field(name))


def _example(name: str) -> str:
    if name.startswith(PARAM_PREFIX):
        return f"{name}:3"
    if name.startswith(METRIC_PREFIX):
        return f"{name}>=0.9"
    return {
        "status": "status:failed",
        "dirty": "dirty:yes",
        "bookmark": "bookmark:yes",
        "archived": "archived:yes",
        "exit": "exit:0 or exit!=0",
        "duration": "duration>5m",
        "since": "since:7d",
        "until": "until:2026-11-30",
    }.get(name, f"{name}:main" if name == "branch" else f"{name}:abc")


def _param_bound(shown: str, op: str, value: str) -> float | None:
    """A parameter term's number: required by a comparison, optional for ``:``."""
    if op == ":=" or (op == ":" and "*" in value):
        return None
    number = as_number(value)
    if number is None and op != ":":
        raise QueryError(f"{shown}{value}: {op} compares numbers, and {value!r} is not one")
    return number


def _check_status(value: str) -> None:
    if value.lower() in STATUSES:
        return
    import difflib

    close = difflib.get_close_matches(value.lower(), STATUSES, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}?; " if close else ""
    raise QueryError(f"status:{value}: not a status ({hint}statuses: {', '.join(STATUSES)})")


def _yes_no(name: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise QueryError(f"{name}: expects yes or no, not {value!r}")


def _seconds(shown: str, value: str) -> float:
    m = _DURATION.fullmatch(value.lower())
    if m is None:
        raise QueryError(
            f"{shown}{value}: expects seconds or a duration like 90, 1.5, 30s, 5m, 2h, 1d"
        )
    return float(m.group("n")) * _UNITS[m.group("unit") or "s"]


# -- dates --------------------------------------------------------------------------------------
def _instant(name: str, value: str, now: datetime, zone: tzinfo | None) -> float:
    """Epoch seconds a ``since`` term starts at (inclusive) or an ``until`` term ends at
    (exclusive: ``until:2026-11-30`` takes in that whole day, ``until:...T09:30`` that minute).
    Dates without a zone are in ``zone`` (None: local time)."""
    try:
        return _read_instant(name, value, now, zone)
    except (ValueError, OverflowError, OSError):  # out of the range of dates or of the clock
        raise QueryError(f"{name}:{value}: not a date this computer can count from") from None


def _read_instant(name: str, value: str, now: datetime, zone: tzinfo | None) -> float:
    low = value.lower()
    until = name == "until"
    if low in ("today", "yesterday"):
        day = now.astimezone(zone).date() - timedelta(days=1 if low == "yesterday" else 0)
        return _midnight(day + timedelta(days=1) if until else day, zone).timestamp()
    ago = _AGO.fullmatch(low)
    if ago is not None:
        span = timedelta(seconds=int(ago.group("n")) * _UNITS[ago.group("unit")])
        return (now - span).timestamp()
    return _iso_instant(name, value, low, until, zone)


def _iso_instant(name: str, value: str, low: str, until: bool, zone: tzinfo | None) -> float:
    m = _DATE.fullmatch(low)
    problem = f"{name}:{value}: not a date (2026-11-01, 2026-11-01T09:30, 7d, 2h, 30m, today)"
    if m is None:
        raise QueryError(problem)
    parts = {k: int(v) for k, v in m.groupdict().items() if v is not None and k not in ("f", "tz")}
    try:
        start = datetime(
            parts["y"],
            parts.get("mo", 1),
            parts.get("d", 1),
            parts.get("h", 0),
            parts.get("mi", 0),
            parts.get("s", 0),
            int((m.group("f") or "0").ljust(6, "0")),
        )
        end = _end_of(start, m) if until else start
    except (ValueError, OverflowError):
        raise QueryError(problem) from None
    explicit = _zone(m.group("tz"))
    if explicit is not None:
        return end.replace(tzinfo=explicit).timestamp()
    return _localize(end, zone).timestamp()


def _end_of(start: datetime, m: re.Match[str]) -> datetime:
    """The first moment after the unit the date names (year, month, day, hour, ...)."""
    if m.group("f") is not None:
        return start + timedelta(microseconds=1)
    for unit, step in (("s", "seconds"), ("mi", "minutes"), ("h", "hours"), ("d", "days")):
        if m.group(unit) is not None:
            return start + timedelta(**{step: 1})
    if m.group("mo") is not None:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text == "z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    return _localize(datetime(day.year, day.month, day.day), zone)


def _localize(naive: datetime, zone: tzinfo | None) -> datetime:
    """A wall-clock time in ``zone``; None: the local zone, its DST rules included."""
    return naive.astimezone() if zone is None else naive.replace(tzinfo=zone)


# -- matching (the reference) -------------------------------------------------------------------
def _term_matches(term: Term, s: SessionSummary, params: Mapping[str, Any]) -> bool:
    name = term.param_name
    if name is not None:
        return name in params and _param_matches(term, param_text(params[name]))
    metric = term.metric_name
    if metric is not None:
        value = (s.metrics or {}).get(metric)
        return value is not None and compare(value, term.op, term.bound)
    f = term.field
    if f in TEXT_FIELDS:
        return _text_matches(term, _TEXT_OF[f](s))
    if f == "status":
        return s.status == term.value.lower()
    if f == "dirty":
        return s.dirty is not None and s.dirty == term.as_bool()
    if f == "bookmark":
        return s.bookmark == term.as_bool()
    if f == "archived":
        return term.value.lower() in _ANY or s.archived == term.as_bool()
    if f == "exit":
        return s.exit_code is not None and compare(s.exit_code, term.op, term.bound)
    if f == "duration":
        return s.duration_s is not None and compare(s.duration_s, term.op, term.bound)
    started = started_epoch(s.started_at)
    if started is None or term.bound is None:
        return False
    return started >= term.bound if f == "since" else started < term.bound


_TEXT_OF = {
    "id": lambda s: s.session_id,
    "branch": lambda s: s.branch,
    "sha": lambda s: s.commit_sha,
    "user": lambda s: s.username,
    "host": lambda s: s.hostname,
    "command": lambda s: s.command,
    "title": lambda s: s.title,
    "rerun": lambda s: s.rerun_of,
}


def _text_matches(term: Term, text: str | None) -> bool:
    if text is None:
        return False
    have, want = text.lower(), term.value.lower()
    if term.op == ":=":
        return have == want
    if term.is_glob:
        return glob_regex(want).fullmatch(have) is not None
    return have.startswith(want)


def _param_matches(term: Term, text: str) -> bool:
    """``:`` equals (numbers as numbers, text in any case), ``:=`` the exact text, a glob the
    text; an operator compares numbers and never matches a value that is not one."""
    have, want = text.lower(), term.value.lower()
    if term.op == ":=":
        return have == want
    if term.is_glob:
        return glob_regex(want).fullmatch(have) is not None
    number = as_number(text)
    if term.op == ":":
        return have == want or (number is not None and number == term.bound)
    return number is not None and compare(number, term.op, term.bound)


def compare(value: float, op: str, bound: float | None) -> bool:
    """``value OP bound``; ``:`` and ``:=`` are equality."""
    if bound is None:
        return False
    if op in (":", ":=", "="):
        return value == bound
    return {
        "!=": value != bound,
        ">": value > bound,
        ">=": value >= bound,
        "<": value < bound,
        "<=": value <= bound,
    }[op]


@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob whose only wildcard is ``*`` (any text, newlines too) as a regex."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


# -- help ---------------------------------------------------------------------------------------
def filter_help() -> str:
    """The filter language for ``--help``, made from the definitions above."""
    width = max(len(n) for n in (*FIELDS, "metric.NAME"))
    lines = ["filter fields (field:value; -field:value negates):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in FIELD_HELP.items()]
    lines.append(
        f"  {'param.NAME':<{width}}  a run parameter (name as written): numbers equal as numbers,"
    )
    lines.append(f"  {'':<{width}}  text in any case, * a wildcard; operators compare numbers")
    lines.append(f"  {'metric.NAME':<{width}}  a number the run recorded (log_metrics, Kedro")
    lines.append(f"  {'':<{width}}  tracking datasets): metric.accuracy>=0.9, metric.loss<0.2")
    lines.append("operators:")
    lines += [f"  {op:<{width}}  {text}" for op, text in OPERATOR_HELP.items()]
    lines.append("other words are searched for anywhere (id, command, branch, sha, user, status,")
    lines.append('title, parameters such as scale=3); quote values with spaces: title:"a b".')
    lines.append(f"sort keys: {' '.join(SORT_KEYS)}")
    lines.append("           metric.NAME (sessions without the metric last)")
    lines.append("examples: 'status:failed branch:feat*'  'command:*train* duration>5m'")
    lines.append("          'param.lr>=0.01 since:7d'  '-exit:0 until:yesterday user:=ana'")
    lines.append("          'metric.accuracy>=0.9 status:success'")
    return "\n".join(lines)
