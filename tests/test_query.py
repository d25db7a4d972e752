"""``sessionlens.query``: the filter language and sort order, as the reference semantics every
store is held to (each backend against this: ``test_store_contract.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from sessionlens.query import FIELDS, SORT_KEYS, Query, QueryError, Term, parse_query
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
    return parse_query(text).matches(summary, params)


# -- parsing ------------------------------------------------------------------------------------
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


def test_what_is_not_a_known_field_is_a_word() -> None:
    query = parse_query("nope:3 branch: http://host:8080 param.:x")
    assert query.terms == (Term("param.", "x"),)
    assert query.words == ("nope:3", "branch:", "http://host:8080")


def test_quotes_group_words_and_an_unclosed_one_is_taken_literally() -> None:
    query = parse_query("command:'two words' \"a b\" c")
    assert query.terms == (Term("command", "two words"),)
    assert query.words == ("a b", "c")
    typing = parse_query("command:'two wor")  # while the user is still typing
    assert typing.terms == (Term("command", "'two"),) and typing.words == ("wor",)


def test_param_terms_name_their_parameter() -> None:
    assert Term("param.model.depth", "4").param_name == "model.depth"
    assert Term("branch", "main").param_name is None


def test_yes_no_fields_are_checked_as_they_are_typed() -> None:
    for value in ("yes", "Y", "true", "1", "on", "no", "n", "FALSE", "0", "off"):
        parse_query(f"dirty:{value} bookmark:{value}")
    with pytest.raises(QueryError, match="dirty: expects yes or no, not 'maybe'"):
        parse_query("dirty:maybe")
    with pytest.raises(QueryError, match="bookmark"):
        parse_query("-bookmark:2")


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


# -- matching -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id:2026-11-24t14", True),  # a prefix, any case
        ("id:14.47", False),
        ("status:FAILED", True),
        ("status:fail", False),  # the whole status
        ("branch:feature/offset-20", True),  # the whole branch, any case
        ("branch:feature", False),
        ("sha:54C4", True),  # a prefix
        ("sha:4c4", False),
        ("dirty:yes", True),
        ("dirty:no", False),
        ("bookmark:no", True),
        ("user:ana", True),
        ("user:an", False),
        ("host:ws-2", True),
        ("command:pipeline train", True),  # a substring: 'pipeline' is a term, 'train' a word
        ("command:'run --pipeline'", True),
        ("title:line", True),
        ("exit:1", True),
        ("exit:0", False),
        ("rerun:2026-11-20", True),
        ("rerun:2026-11-21", False),
        ("since:2026-11-24", True),
        ("since:2026-11-24T15", False),
        ("until:2026-11-24", True),  # that whole day
        ("until:2026-11-24T14:46", False),
        ("until:2026-11-23", False),
        ("since:2026-11-01 until:2026-11-30", True),
        ("param.scale:3", True),
        ("param.scale:3.0", False),  # the text of the value, not the number
        ("param.lr:0.1", True),
        ("param.flag:TRUE", True),
        ("param.name:zoë", True),
        ('param.cfg:\'{"a": null, "b": [1, 2]}\'', True),
        ("param.missing:3", False),
        ("-param.missing:3", True),
        ("-status:failed", False),
        ("-branch:main", True),
        ("branch:feature/offset-20 -exit:0 scale=3", True),
    ],
)
def test_each_field(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_free_words_must_all_be_found_in_some_field() -> None:
    assert matches("TRAIN")  # the command, any case
    assert matches("baseline 54c4 ana ws") is False  # the host is not searched
    assert matches("baseline 54c4 ana failed offset")
    assert matches("scale=3 name=zoë")  # the parameters' line
    assert matches("train nothing-like-this") is False
    assert matches("2026-11-24t14")  # the id


def test_values_that_are_missing_match_no_term_and_every_negated_one() -> None:
    kedro = SessionSummary.from_record({"session_id": "legacy", "git": {"commit_sha": "abc"}})
    assert kedro.status == "completed" and kedro.dirty is None
    for term in ("dirty", "exit", "branch", "user", "host", "rerun", "command", "title"):
        value = "yes" if term == "dirty" else "x"
        assert not matches(f"{term}:{value}", kedro, {}), term
        assert matches(f"-{term}:{value}", kedro, {}), term
    assert not matches("dirty:no", kedro, {})  # unknown is neither
    assert not matches("since:2000", kedro, {}) and matches("until:2000", kedro, {})
    assert matches("", kedro, None)


def test_every_field_has_a_meaning() -> None:
    for name in FIELDS:
        value = "yes" if name in ("dirty", "bookmark") else "x"
        Query((Term(name, value),)).matches(SUMMARY, PARAMS)  # no QueryError
    with pytest.raises(QueryError, match="unknown filter field 'colour'"):
        Query((Term("colour", "red"),)).matches(SUMMARY, PARAMS)


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
