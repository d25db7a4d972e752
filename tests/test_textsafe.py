"""``sessionlens.textsafe``: what a terminal would obey is shown, never emitted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sessionlens.textsafe import safe_chars, safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;PWN\x07", "␛]0;PWN␇"),  # OSC: set the window title
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),  # CSI: clear the screen
        ("\x00\x08\x0b\x0c\x0d\x1f\x7f", "␀␈␋␌␍␟␡"),
        ("\x9b31m", "<U+009B>31m"),  # a one-character CSI on 8-bit terminals
        ("\x80\x85\x9f", "<U+0080><U+0085><U+009F>"),
        ("txt.\u202eexe", "txt.<U+202E>exe"),  # right-to-left override
        ("".join(map(chr, range(0x202A, 0x202F))), "<U+202A><U+202B><U+202C><U+202D><U+202E>"),
        ("".join(map(chr, range(0x2066, 0x206A))), "<U+2066><U+2067><U+2068><U+2069>"),
        ("a\u200eb\u200fc\u061cd", "a<U+200E>b<U+200F>c<U+061C>d"),  # the invisible marks
        ("\udc9b", "<U+DC9B>"),  # a lone surrogate: an undecodable byte, or a JSON escape
        ("a\tb", "a\tb"),  # tabs stay tabs
        ("a\nb", "a␊b"),
        ("[bold red]x[/]", "[bold red]x[/]"),  # markup is the printer's business (rich Text)
        *((t, t) for t in ("Zoë ünïcode 日本", "\u200d \u202f \u2065 \u206a")),  # neighbours
    ],
)
def test_safe_text_shows_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_newlines_are_kept_on_request_only() -> None:
    assert safe_text("a\nb\r\n", keep_newlines=True) == "a\nb␍\n"
    assert safe_text("a\nb\r\n") == "a␊b␍␊"


def test_every_unsafe_character_is_replaced() -> None:
    unsafe = {
        *range(0x00, 0x09),
        *range(0x0A, 0x20),
        *range(0x7F, 0xA0),
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        *range(0xD800, 0xE000),
    }
    everything = "".join(map(chr, unsafe))
    for keep in (False, True):
        shown = safe_text(everything, keep_newlines=keep)
        left = {c for c in shown if ord(c) in unsafe}
        assert left == ({"\n"} if keep else set())
        shown.replace("\n", "").encode("utf-8")  # no lone surrogate is left to fail here
    # and nothing else is touched: every character of the BMP, one at a time
    changed = {code for code in range(0x10000) if safe_text(chr(code)) != chr(code)}
    assert changed == unsafe


def test_clean_text_is_returned_as_is() -> None:
    text = "2026-11-24 08:00:00 INFO node_1: step 12 of session 3 Zoë\t[b]\n"
    assert safe_text(text, keep_newlines=True) is text


def test_safe_chars_keeps_positions() -> None:
    raw = "a\x1b]0;t\x07\u202eb\x9bc\udc9b\td"
    shown = safe_chars(raw)
    assert len(shown) == len(raw)
    assert shown == "a␛]0;t␇\ufffdb\ufffdc\ufffd\td"
    assert safe_chars("plain") == "plain"


def test_a_log_flood_is_fast() -> None:
    """It runs over every line of ``log`` and the log viewer: a million lines, most clean, some
    coloured: 200k clean and 100k coloured lines take about 0.25 s here (a fresh process; the
    bound leaves room for a loaded machine)."""
    code = """
import time
from sessionlens.textsafe import safe_text
line = "2026-11-24 08:00:00 INFO node_1: step 12 of session 3 Zoë\\n"
clean = line * 200_000
coloured = ("\\x1b[31m" + line) * 100_000
start = time.perf_counter()
safe_text(clean, keep_newlines=True)
safe_text(coloured, keep_newlines=True)
print(time.perf_counter() - start)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 2.0, out.stdout
