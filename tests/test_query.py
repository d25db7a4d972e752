"""``sessionlens.query``: the filter language and sort order, as the reference semantics every
store is held to (each backend against this: ``test_store_contract.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sessionlens.query import (
    FIELDS,
    SORT_KEYS,
    Query,
    QueryError,
    Term,
    filter_help,
    parse_query,
)
from sessionlens.record import SessionSummary, params_of


def record(**changes: Any) -> dict[str, Any]:
    """A sessionlens run as the runner records it."""
    base: dict[str, Any] = {
        "session_id": "2026-11-24T14.47.00.000Z",
        "username": "Ana",
        "git": {"commit_sha": "54c4f0d", "branch": "feature/Offset-20", "dirty": True},
        "run": {
            "status": "failed",
            "started_at": "2026-11-24T14:47:00.000Z",
            "duration_s": 12.5,
            "exit_code": 1,
            "hostname": "WS-2",
            "rerun_of": "2026-11-20T09.00.00.000Z",
            "command": ["kedro", "run", "--pipeline", "Train"],
        },
        "cli": {
            "params": {
                "params": {
                    "scale": 3,
                    "lr": 0.1,
                    "flag": True,
                    "name": "Zoë",
                    "cfg": {"b": [1, 2], "a": None},
                }
            }
        },
    }
    base.update(changes)
    return base


SESSION = record()
SUMMARY = SessionSummary.from_record(SESSION, {"title": "Baseline run"}, check_pid=False)
PARAMS = params_of(SESSION)


def matches(text: str, summary: SessionSummary = SUMMARY, params: Any = PARAMS) -> bool:
    return parse_query(text, now=NOW, tz=NOW.tzinfo).matches(summary, params)


# -- parsing ------------------------------------------------------------------------------------
#: the moment relative dates count from; dates without a zone are read in its zone (UTC+1)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def at(text: str) -> float:
    """Epoch seconds of an ISO time."""
    return datetime.fromisoformat(text).timestamp()


def test_terms_words_and_negation() -> None:
    query = parse_query("branch:main -status:failed train -verbose param.scale:3 Dirty:yes")
    assert query.terms == (
        Term("branch", "main"),
        Term("status", "failed", negate=True),
        Term("param.scale", "3"),
        Term("dirty", "yes"),  # field names are case-insensitive
    )
    assert query.words == ("train", "-verbose")  # a minus without a colon is part of the word
    assert query.text == "branch:main -status:failed train -verbose param.scale:3 Dirty:yes"
    assert query.sort == "started" and query.descending
    assert not query.is_empty and parse_query("  ").is_empty


def test_operators() -> None:
    query = parse_query("branch:=main exit!=0 duration>=5m param.lr<0.1 exit=2 param.n>-1")
    assert [(t.field, t.op, t.value, t.bound) for t in query.terms] == [
        ("branch", ":=", "main", None),
        ("exit", "!=", "0", 0),
        ("duration", ">=", "5m", 300.0),
        ("param.lr", "<", "0.1", 0.1),
        ("exit", "=", "2", 2),
        ("param.n", ">", "-1", -1.0),
    ]
    assert parse_query("Param.Upper:x").terms[0].field == "param.Upper"  # names as written


def test_what_is_a_word_and_what_a_term() -> None:
    """A term's name looks like a name; times, URLs, ``k=v`` and quoted text are words."""
    query = parse_query("12:30 http://host:8080 scale=3 name=alice \"error:\" 'a b:c' 0.1>x")
    assert query.terms == ()
    words = ("12:30", "http://host:8080", "scale=3", "name=alice", "error:", "a b:c", "0.1>x")
    assert query.words == words


def test_quotes_group_words_and_values() -> None:
    query = parse_query('command:\'two words\' "a b" c title:"it\'s"')
    assert query.terms == (Term("command", "two words"), Term("title", "it's"))
    assert query.words == ("a b", "c")


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("stauts:failed", ["unknown filter field 'stauts'", "did you mean status?"]),
        ("brnch:main", ["did you mean branch?"]),
        ("params.lr:3", ["did you mean param.lr?"]),
        ("colour:red", ["unknown filter field 'colour'", "fields: id, branch"]),
        ("-nope:3", ["unknown filter field 'nope'"]),
        ("status:bogus", ["status:bogus: not a status", "statuses: running, success"]),
        ("status:fial", ["did you mean failed?"]),
        ("exit:abc", ["exit expects a whole number, not 'abc'"]),
        ("exit:1.5", ["whole number"]),
        ("duration>soon", ["duration>soon", "5m"]),
        ("dirty:maybe", ["dirty: expects yes or no, not 'maybe'"]),
        ("-bookmark:2", ["bookmark"]),
        ("since:2026-13-45", ["since:2026-13-45: not a date"]),
        ("until:2026-02-30", ["not a date"]),
        ("since:yesterdays", ["not a date"]),
        ("since:7y", ["not a date"]),
        ('"unterminated', ['unbalanced "']),
        ("command:'two words", ["unbalanced '"]),
        ("param.scale:", ["param.scale: needs a value"]),
        ("branch:", ["branch: needs a value"]),
        ("branch:''", ["branch: needs a value"]),
        ("param.:x", ["name the parameter"]),
        ("param.lr>=abc", ["param.lr>=abc", "compares numbers", "'abc' is not one"]),
        ("branch>3", ["> compares numbers", "use branch:3"]),
        ("status!=failed", ["use status:failed or -status:failed"]),
    ],
)
def test_what_cannot_be_read_is_an_error_of_one_line(text: str, needles: list[str]) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_yes_no_values() -> None:
    for value in ("yes", "Y", "true", "1", "on", "no", "n", "FALSE", "0", "off"):
        parse_query(f"dirty:{value} bookmark:{value}")


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        # a date or time without a zone is local (the zone of NOW here); until takes in the
        # whole unit it names
        ("since:2026-11-01", at("2026-11-01T00:00+01:00")),
        ("until:2026-11-01", at("2026-11-02T00:00+01:00")),
        ("since:2026-11", at("2026-11-01T00:00+01:00")),
        ("until:2026-11", at("2026-12-01T00:00+01:00")),
        ("until:2026-12", at("2027-01-01T00:00+01:00")),
        ("until:2026", at("2027-01-01T00:00+01:00")),
        ("since:2026-11-01T09", at("2026-11-01T09:00+01:00")),
        ("until:2026-11-01T09", at("2026-11-01T10:00+01:00")),
        ("until:2026-11-01T09:30", at("2026-11-01T09:31+01:00")),
        ("since:2026-11-01 09:30:15", None),  # a space splits the words: quote it
        ("until:'2026-11-01 09:30:15'", at("2026-11-01T09:30:16+01:00")),
        ("until:2026-11-01T09:30:15.5", at("2026-11-01T09:30:15.500001+01:00")),
        ("since:2026-11-01T09:30Z", at("2026-11-01T09:30+00:00")),
        ("since:2026-11-01t09:30-05:00", at("2026-11-01T09:30-05:00")),
        ("since:2026-11-01T09:30+0530", at("2026-11-01T09:30+05:30")),
        # relative to NOW
        ("since:7d", at("2026-11-18T12:00+01:00")),
        ("since:2h", at("2026-11-25T10:00+01:00")),
        ("since:30m", at("2026-11-25T11:30+01:00")),
        ("since:45s", at("2026-11-25T11:59:15+01:00")),
        ("until:2w", at("2026-11-11T12:00+01:00")),
        ("since:today", at("2026-11-25T00:00+01:00")),
        ("until:today", at("2026-11-26T00:00+01:00")),
        ("since:Yesterday", at("2026-11-24T00:00+01:00")),
        ("until:yesterday", at("2026-11-25T00:00+01:00")),
    ],
)
def test_dates_are_read_once_in_local_time(text: str, bound: float | None) -> None:
    query = parse_query(text, now=NOW, tz=NOW.tzinfo)
    if bound is None:
        assert query.words == ("09:30:15",)
        return
    assert [t.bound for t in query.terms] == [bound]


def test_today_is_the_local_day() -> None:
    """Just after midnight in UTC+1 it is still the day before in UTC: today is the local one."""
    late = datetime(2026, 11, 25, 23, 30, tzinfo=timezone.utc)
    query = parse_query("since:today", now=late, tz=timezone(timedelta(hours=1)))
    assert query.terms[0].bound == at("2026-11-26T00:00+01:00")


def test_local_time_by_default_follows_the_zone_of_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_query("since:2026-07-01").terms[0].bound == at("2026-07-01T00:00-04:00")
        assert parse_query("since:2026-12-01").terms[0].bound == at("2026-12-01T00:00-05:00")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_param_terms_name_their_parameter() -> None:
    assert Term("param.model.depth", "4").param_name == "model.depth"
    assert Term("branch", "main").param_name is None


def test_sort_keys() -> None:
    assert parse_query("x", sort="duration", descending=False).sort == "duration"
    query = parse_query("branch:main").sorted_by("params", False)
    assert (query.sort, query.descending, query.terms) == (
        "params",
        False,
        (Term("branch", "main"),),
    )
    with pytest.raises(QueryError, match="cannot sort by 'size'; choose one of started, id"):
        parse_query("", sort="size")
    assert set(SORT_KEYS.values()) <= set(SessionSummary._fields)


def test_the_typed_text_does_not_make_queries_different() -> None:
    assert parse_query("a  b") == parse_query("a b")
    assert parse_query("a b") != parse_query("b a")
    assert parse_query("a", descending=False) != parse_query("a")


def test_help_is_made_from_the_definitions() -> None:
    text = filter_help()
    for name in (*FIELDS, "param.NAME", "metric.NAME", *SORT_KEYS, ":=", ">="):
        assert name in text
    assert all(len(line) <= 96 for line in text.splitlines())


# -- matching -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id:2026-11-24t14", True),  # a prefix, any case
        ("id:14.47", False),
        ("id:*14.47*", True),  # a glob
        ("id:=2026-11-24T14.47.00.000z", True),  # exact, any case
        ("id:=2026-11-24T14", False),
        ("status:FAILED", True),
        ("branch:feature", True),  # a prefix
        ("branch:FEATURE/offset-20", True),
        ("branch:offset", False),
        ("branch:*offset*", True),
        ("branch:feat*/*-20", True),
        ("branch:feat*/x*", False),
        ("branch:=feature", False),
        ("branch:=feature/offset-20", True),
        ("sha:54C4", True),
        ("sha:4c4", False),
        ("dirty:yes", True),
        ("dirty:no", False),
        ("bookmark:no", True),
        ("user:ana", True),
        ("user:an", True),
        ("user:=an", False),
        ("host:ws-2", True),
        ("host:ws", True),
        ("command:kedro", True),  # a prefix now, no longer a substring
        ("command:pipeline", False),
        ("command:*pipeline*", True),
        ("command:'kedro run --pipeline train'", True),
        ("title:base", True),
        ("title:line", False),
        ("title:*line*", True),
        ("exit:1", True),
        ("exit:0", False),
        ("exit=1", True),
        ("exit!=0", True),
        ("exit>0", True),
        ("exit>=2", False),
        ("exit<2", True),
        ("exit<=0", False),
        ("duration:12.5", True),
        ("duration>12", True),
        ("duration>12.5", False),
        ("duration<1m", True),
        ("duration>=0.2m", True),
        ("rerun:2026-11-20", True),
        ("rerun:2026-11-21", False),
        # started 2026-11-24 14:47 UTC = 15:47 in UTC+1
        ("since:2026-11-24", True),
        ("since:2026-11-24T15:47", True),
        ("since:2026-11-24T15:48", False),
        ("since:2026-11-24T14:47Z", True),
        ("until:2026-11-24", True),  # that whole day
        ("until:2026-11-24T15:46", False),
        ("until:2026-11-24T15:47", True),  # that whole minute
        ("until:2026-11-23", False),
        ("since:2026-11-01 until:2026-11-30", True),
        ("since:1d", True),  # NOW is 2026-11-25 12:00 +01:00
        ("since:20h", False),
        ("until:20h", True),
        ("since:yesterday", True),
        ("since:today", False),
        ("until:yesterday", True),
        ("since:yesterday until:yesterday", True),
        # parameters: numbers as numbers, text in any case, * a glob
        ("param.scale:3", True),
        ("param.scale:3.0", True),
        ("param.scale:=3.0", False),  # := compares the text
        ("param.scale=3", True),
        ("param.scale!=3", False),
        ("param.scale>2.5", True),
        ("param.lr:0.10", True),
        ("param.lr>=0.1", True),
        ("param.lr<0.1", False),
        ("param.flag:TRUE", True),
        ("param.flag>0", False),  # true is not a number: no comparison matches it
        ("param.flag!=1", False),
        ("param.name:zoë", True),
        ("param.name:ZOË", True),
        ("param.name:zo", False),  # equality, not a prefix
        ("param.name:zo*", True),
        ("param.name>1", False),
        ('param.cfg:\'{"a": null, "b": [1, 2]}\'', True),
        ("param.cfg:*null*", True),
        ("param.missing:3", False),
        ("-param.missing:3", True),
        ("-param.scale>5", True),
        ("-status:failed", False),
        ("-branch:main", True),
        ("branch:feature/offset-20 -exit:0 scale=3", True),
    ],
)
def test_each_field(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_text_matches_in_any_case_and_globs_take_only_star() -> None:
    odd = SessionSummary("x", "success", branch="Fix/a?b[1]*Ünï", username="İlkay")
    assert matches("branch:fix/a?b[1]", odd, {})  # ? and [ are plain characters
    assert matches("branch:*?B[1]**ü*", odd, {})
    assert not matches("branch:fix/a?c*", odd, {})
    assert matches("branch:*ÜNÏ", odd, {}) and matches("branch:=FIX/A?B[1]*üNï", odd, {})
    assert matches("user:İl", odd, {}) and not matches("user:il", odd, {})  # İ is i + dot


def test_free_words_must_all_be_found_in_some_field() -> None:
    assert matches("TRAIN")  # the command, any case
    assert matches("baseline 54c4 ana ws") is False  # the host is not searched
    assert matches("baseline 54c4 ana failed offset")
    assert matches("scale=3 name=zoë")  # the parameters' line
    assert matches("train nothing-like-this") is False
    assert matches("2026-11-24t14")  # the id
    assert matches("'\"two words\"'") is False


def test_values_that_are_missing_match_no_term_and_every_negated_one() -> None:
    kedro = SessionSummary.from_record({"session_id": "legacy", "git": {"commit_sha": "abc"}})
    assert kedro.status == "completed" and kedro.dirty is None
    terms = ["dirty:yes", "exit:1", "exit!=1", "duration>0", "duration<1", "branch:x"]
    terms += ["branch:*", "user:x", "host:x", "rerun:x", "command:*", "title:*", "since:2000"]
    terms += ["until:2100"]
    for term in terms:
        assert not matches(term, kedro, {}), term
        assert matches(f"-{term}", kedro, {}), term
    assert not matches("dirty:no", kedro, {})  # unknown is neither
    assert matches("", kedro, None)


def test_every_field_has_a_meaning() -> None:
    for name in FIELDS:
        value = {"dirty": "yes", "bookmark": "no", "status": "failed"}.get(name, "1")
        value = "2026-11-01" if name in ("since", "until") else value
        Query((Term(name, value),)).matches(SUMMARY, PARAMS)  # no QueryError
    with pytest.raises(QueryError, match="unknown filter field 'colour'"):
        Term("colour", "red")


# -- sorting ------------------------------------------------------------------------------------
def _row(session_id: str, duration: float | None, branch: str | None = None) -> SessionSummary:
    return SessionSummary(session_id, "success", duration_s=duration, branch=branch)


@pytest.mark.parametrize("descending", [True, False])
def test_missing_values_sort_last_both_ways_and_ties_by_id(descending: bool) -> None:
    rows = [_row("b", 2.0), _row("a", None), _row("c", 2.0), _row("d", 1.0), _row("e", None)]
    query = parse_query("", sort="duration", descending=descending)
    got = [r.session_id for r in sorted(rows, key=query.sort_key, reverse=descending)]
    if descending:
        assert got == ["c", "b", "d", "e", "a"]
    else:
        assert got == ["d", "b", "c", "a", "e"]


def test_text_sorts_ignoring_case() -> None:
    rows = [_row("1", 0, "beta"), _row("2", 0, "Alpha"), _row("3", 0, "alpha"), _row("4", 0)]
    query = parse_query("", sort="branch", descending=False)
    got = [r.branch for r in sorted(rows, key=query.sort_key)]
    assert got == ["Alpha", "alpha", "beta", None]
