"""``sessionlens.tui.ansi``: a child's output keeps its SGR colours, loses every other escape
sequence, and shows the controls a terminal would obey; colour state carries across lines.
(How the run pane draws it: ``test_tui_run.py``, ``test_terminal_safety.py``.)"""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.color import Color
from rich.style import Style

from sessionlens.tui.ansi import (
    BOLD,
    DIM,
    ITALIC,
    OVERLINE,
    RESET,
    REVERSE,
    STRIKE,
    UNDERLINE,
    UNDERLINE2,
    apply_sgr,
    parse_line,
    plain,
    state_after,
    style_of,
)

RED = Color.from_ansi(1)
GREEN = Color.from_ansi(2)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("plain", "plain"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
        ("\x1b[2K\x1b[1Aup", "up"),
        ("x\x9b31my", "x<U+009B>31my"),
        ("\x00\x01nul\x7f", "␀␁nul␡"),
        ("bell\x07 back\x08", "bell␇ back␈"),
        ("txt.\u202eexe \u2066i\u2069", "txt.<U+202E>exe <U+2066>i<U+2069>"),
        ("\x1b[31mred\u202e\x1b[0m", "red<U+202E>"),
        ("50%\r100%\r", "100%"),
        ("lone \x1b", "lone "),
    ],
)
def test_ansi_parser_keeps_text_drops_sequences_and_shows_controls(raw: str, text: str) -> None:
    assert plain(raw) == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("\x1b]0;window title\x07after", "after"),  # OSC to BEL
        ("\x1bP1$r0m\x1b\\dcs", "dcs"),  # DCS to ST
        ("\x1b_apc payload\x1b\\apc", "apc"),  # APC
        ("\x1b7saved\x1b8", "saved"),  # save / restore cursor
        ("\x1b(Bcharset", "charset"),  # a charset designation
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("\x1b[2J\x1b[Hclear", "clear"),
        ("tab\there", "tab\there"),  # tabs kept: the widget expands them
    ],
)
def test_every_other_sequence_is_dropped(raw: str, text: str) -> None:
    assert plain(raw) == text


def test_sgr_colours_and_attributes() -> None:
    assert apply_sgr(RESET, "31") == (RED, None, 0)
    assert apply_sgr(RESET, "91;42") == (Color.from_ansi(9), GREEN, 0)
    assert apply_sgr(RESET, "103") == (None, Color.from_ansi(11), 0)
    assert apply_sgr(RESET, "1;2;3;4;7;9;21;53") == (
        None,
        None,
        BOLD | DIM | ITALIC | UNDERLINE | REVERSE | STRIKE | UNDERLINE2 | OVERLINE,
    )
    state = apply_sgr(RESET, "1;2;4;21;31;41")
    assert apply_sgr(state, "22") == (RED, Color.from_ansi(1), UNDERLINE | UNDERLINE2)
    assert apply_sgr(state, "24;39;49") == (None, None, BOLD | DIM)
    assert apply_sgr(state, "0") == apply_sgr(state, "") == RESET  # ESC[m resets too


def test_extended_colours_both_separators_and_clamped() -> None:
    assert apply_sgr(RESET, "38;5;196") == (Color.from_ansi(196), None, 0)
    assert apply_sgr(RESET, "48:5:21") == (None, Color.from_ansi(21), 0)
    assert apply_sgr(RESET, "38;2;10;200;30") == (Color.from_rgb(10, 200, 30), None, 0)
    assert apply_sgr(RESET, "38;2;300;20;999") == (Color.from_rgb(255, 20, 255), None, 0)
    assert apply_sgr(RESET, "38;5;300")[0] == Color.from_ansi(300 & 0xFF)
    assert apply_sgr(RESET, "38;2;1;2") == RESET  # cut short: ignored with what follows
    assert apply_sgr(RESET, "38;5;196;1") == (Color.from_ansi(196), None, BOLD)


def test_unknown_or_malformed_codes_change_nothing() -> None:
    state = apply_sgr(RESET, "32;1")
    assert apply_sgr(state, "66;99;200") == state
    assert apply_sgr(state, "3x") == state
    assert plain("\x1b[3xmtext") == "mtext"  # the sequence ends at its final byte, x


def test_colour_state_is_carried_from_line_to_line() -> None:
    pieces, state = parse_line("plain \x1b[1;31mred bold")
    assert pieces == [("plain ", RESET), ("red bold", (RED, None, BOLD))]
    pieces, after = parse_line("still red\x1b[22m not bold\x1b[0m", state)
    assert pieces == [("still red", (RED, None, BOLD)), (" not bold", (RED, None, 0))]
    assert after == RESET
    assert parse_line("", state) == ([], state)
    assert parse_line("no escapes", state) == ([("no escapes", state)], state)


def test_a_carriage_return_keeps_the_last_text_and_the_colours_before_it() -> None:
    pieces, state = parse_line("\x1b[32m 10%\r 50%\r100%")
    assert pieces == [("100%", (GREEN, None, 0))]
    assert state == (GREEN, None, 0)


def test_private_sgr_like_sequences_are_not_colours() -> None:
    pieces, state = parse_line("\x1b[>4;2mkeys \x1b[?1mx \x1b[1 mspace")
    assert "".join(text for text, _ in pieces) == "keys x space"
    assert state == RESET and all(piece_state == RESET for _, piece_state in pieces)


def test_state_after_a_batch_without_building_text() -> None:
    batch = "".join(f"line {i} \x1b[3{i % 8}m coloured\n" for i in range(1000))
    state = RESET
    for line in batch.splitlines():
        state = parse_line(line, state)[1]
    assert state_after(batch) == state == (Color.from_ansi(999 % 8), None, 0)
    assert state_after("\x1b[1mbold\x1b[0m\x1b[31mred\n") == (RED, None, 0)  # after a reset
    assert state_after("\x1b[1mbold\x1b[m") == RESET
    assert state_after("no escapes", (RED, None, BOLD)) == (RED, None, BOLD)
    assert state_after("\x1b[4m", (RED, None, BOLD)) == (RED, None, BOLD | UNDERLINE)


def test_styles_of_states() -> None:
    assert style_of(RESET) is None
    assert style_of((RED, GREEN, BOLD | ITALIC)) == Style(
        color=RED, bgcolor=GREEN, bold=True, italic=True
    )
    assert style_of((None, None, REVERSE | STRIKE)) == Style(reverse=True, strike=True)
    assert style_of((RED, None, 0)) is style_of((RED, None, 0))  # cached


def test_the_parser_imports_no_textual() -> None:
    code = "import sys, sessionlens.tui.ansi\nprint('textual' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
