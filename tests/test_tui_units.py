"""The app's plain helpers, without a running app: literal text, times, the log index and search,
path completion, the store client. (The session table's page cache: ``test_page_cache.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionlens.query import parse_query
from sessionlens.tui.client import StoreClient
from sessionlens.tui.logtext import LogText, Match
from sessionlens.tui.text import literal, visible
from sessionlens.tui.widgets.compare_table import value_text
from sessionlens.tui.widgets.path_input import complete_path
from tui_support import fill, make_backend, make_log, sid


# -- literal text -------------------------------------------------------------------------------
def test_markup_stays_text_and_control_characters_become_visible() -> None:
    text = literal("[bold red]x[/] \x1b[31mred\x1b[0m\tend\x07\x7f\x9b")
    assert text.plain == "[bold red]x[/] ␛[31mred␛[0m end␇␡<U+009B>"  # tab to column 28
    assert not text.spans  # no style came from the value
    assert visible("a\nb") == "a␊b"
    assert visible("a\nb", keep_newlines=True) == "a\nb"
    assert visible("exe.\u202etxt\u2066") == "exe.<U+202E>txt<U+2066>"  # bidi controls too
    assert literal(None).plain == ""


def test_compare_values_as_one_line() -> None:
    from sessionlens.compare import MISSING

    assert value_text("x") == "x"
    assert value_text(3) == "3" and value_text(True) == "true" and value_text(None) == "null"
    assert value_text({"b": 1, "a": [1, "z"]}) == '{"a": [1, "z"], "b": 1}'
    assert value_text(MISSING) == "(absent)"


# -- the log index ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("one", ["one"]),
        ("one\n", ["one"]),
        ("one\r\ntwo\nthree", ["one", "two", "three"]),
        ("\n\n", ["", ""]),
    ],
)
def test_log_lines(text: str, lines: list[str]) -> None:
    log = LogText(text)
    assert [log.line(i) for i in range(len(log))] == lines
    assert log.longest == max((len(line) for line in lines), default=0)


def test_log_search_forward_backward_wrapping_and_smart_case() -> None:
    log = LogText("alpha\nBeta alpha\ngamma\nALPHA\n")
    assert log.search("alpha") == Match(0, 0, 5)  # from the top
    assert log.search("alpha", 0, 0) == Match(1, 5, 5)  # after a hit
    assert log.search("alpha", 1, 5) == Match(3, 0, 5)  # lower case ignores case
    assert log.search("alpha", 3, 0) == Match(0, 0, 5)  # wraps
    assert log.search("ALPHA") == Match(3, 0, 5)  # upper case: exact
    assert log.search_backward("alpha", 3, 0) == Match(1, 5, 5)
    assert log.search_backward("alpha", 0, 0) == Match(3, 0, 5)  # wraps to the bottom
    assert log.search("delta") is None and log.search_backward("delta", 2) is None
    assert log.search("a.p") is None  # text, not a regular expression


def test_log_search_backward_across_windows() -> None:
    from sessionlens.tui import logtext

    filler = "x" * 1000 + "\n"
    text = "needle\n" + filler * 3000 + "need" + "le\n" + filler * 2000
    log = LogText(text)
    assert len(text) > 2 * logtext._BACKWARD_CHUNK
    assert log.search_backward("needle", len(log) - 1) == Match(3001, 0, 6)
    assert log.search_backward("needle", 3001) == Match(0, 0, 6)
    assert log.search("needle", 0, 0) == Match(3001, 0, 6)


def test_big_log_is_indexed_not_split() -> None:
    text = make_log(1, lines=200_000)
    log = LogText(text)
    assert len(log) == 200_000
    assert log.line(199_999).endswith("step 199999 of session 1")
    assert log.offsets.itemsize == 8 and len(log.offsets) == 200_000


# -- path completion ----------------------------------------------------------------------------
def test_path_completion(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".viz").mkdir()
    (tmp_path / "project" / "pyproject.toml").write_text("")
    (tmp_path / "store.db").write_text("")
    assert complete_path(f"{tmp_path}/pro") == f"{tmp_path}/project/"
    assert complete_path(f"{tmp_path}/st") == f"{tmp_path}/store.db"
    assert complete_path(f"{tmp_path}/project/py") == f"{tmp_path}/project/pyproject.toml"
    assert complete_path(f"{tmp_path}/project/.v") == f"{tmp_path}/project/.viz/"
    assert complete_path(f"{tmp_path}/project/") == f"{tmp_path}/project/pyproject.toml"
    assert complete_path(f"sqlite://{tmp_path}/st") == f"sqlite://{tmp_path}/store.db"
    assert complete_path(f"{tmp_path}/nothing") is None
    assert complete_path(f"{tmp_path}/store.db") is None  # already complete
    assert complete_path("") is None


# -- the store client ---------------------------------------------------------------------------
def test_store_client_log_tail_keeps_only_the_end(tmp_path: Path) -> None:
    backend = make_backend("sqlite", tmp_path)
    fill(backend, 3)
    for n in range(200):
        backend.writer.append_log(sid(1), f"chunk {n}\n")
    client = StoreClient(backend.open())
    assert client.log_tail(sid(1), 3) == ["chunk 197", "chunk 198", "chunk 199"]
    assert client.log_tail(sid(1), 5, max_chars=40)[-1] == "chunk 199"
    assert client.log_tail(sid(2), 5) == []
    assert client.count(parse_query("status:failed")) == 1  # session 2 (see tui_support)
    assert [s.session_id for s in client.list_summaries(parse_query(""), 0, 2)] == [
        sid(2),
        sid(1),
    ]
    client.close()
    backend.writer.close()


def test_log_search_ranks_a_hit_among_all() -> None:
    """ "hit 2 of 3": counted once per needle, in the search's case rule."""
    text = LogText("Error one\nfine\nerror two\nERROR three\n")
    second = text.search("error", 0, 0)
    assert second is not None and text.rank("error", second) == (2, 3)
    exact = text.search("ERROR", 0)
    assert exact is not None and text.rank("ERROR", exact) == (1, 1)
