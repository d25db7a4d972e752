"""The one sanitizer for text from stores: what a terminal would obey is shown, never emitted.

A store holds whatever a run printed or someone typed, in other people's projects. Written raw
to a terminal, ``ESC ]0;PWN BEL`` sets the window title, ``ESC [2J`` clears the screen, a C1
``U+009B`` is a one-character CSI on some terminals, and U+202E (right-to-left override) makes
``exe.txt`` read as ``txt.exe``. Every human-readable output path, the CLI's stdout and stderr and
every screen and notification of the app, passes store text through :func:`safe_text`; ``log
--raw`` is the one documented exception.

- C0 controls become the Unicode control pictures (ESC -> ``␛``, BEL -> ``␇``, LF -> ``␊``), DEL
  becomes ``␡``; tabs stay tabs, newlines stay newlines when asked for.
- C1 controls (U+0080-U+009F), the bidi embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), the invisible bidi marks (U+200E, U+200F, U+061C: they reorder neighbouring
  text as well) and lone surrogates (undecodable bytes, or ``\\udc9b`` in a JSON blob, which a
  ``surrogateescape`` stream would write back as the raw byte) become ``<U+202E>``-style text.

Rich markup (``[bold]x[/]``) is not this module's business: callers print ``rich.text.Text``
objects, which show brackets as brackets. Standard library only; no Rich, no Textual.
"""

from __future__ import annotations

import re

#: what a terminal obeys instead of showing (tab, which it does show, is left out below)
_C0 = range(0x00, 0x20)
_C1 = range(0x80, 0xA0)
_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_SURROGATES = range(0xD800, 0xE000)

#: the same characters as a regex class, newline apart (tests check the two agree); the fast
#: path is one C-level scan that finds whether anything needs escaping at all
_CLASS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\n{_CLASS}]")
_UNSAFE_KEEP_NEWLINES = re.compile(f"[{_CLASS}]")


def _named(code: int) -> str:
    return f"<U+{code:04X}>"


#: what each unsafe character is shown as (tab, the one C0 control kept, is not in it)
_SHOWN: dict[str, str] = {chr(code): chr(0x2400 + code) for code in _C0 if code != 0x09}
_SHOWN["\x7f"] = "\u2421"
_SHOWN.update({chr(code): _named(code) for code in (*_C1, *_BIDI, *_SURROGATES)})
#: one character for one character (edit fields, where cursor positions must not move)
_SAME_LENGTH = {char: (shown if len(shown) == 1 else "\ufffd") for char, shown in _SHOWN.items()}


def _shown(match: re.Match[str]) -> str:
    return _SHOWN[match.group()]


def _same_length(match: re.Match[str]) -> str:
    return _SAME_LENGTH[match.group()]


def safe_text(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character, C1 control, bidi control and lone surrogate shown
    visibly (``␛``, ``<U+202E>``); tabs kept, newlines kept when ``keep_newlines`` (else ``␊``).

    Text that needs nothing (nearly every log line) costs one regex scan and is returned as is.
    """
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    if pattern.search(text) is None:
        return text
    # a substitution per match, not ``str.translate`` with a dict: 6x faster on a log flood
    # where every line holds a colour code (one dict lookup per hit, not per character)
    return pattern.sub(_shown, text)


def safe_chars(text: str) -> str:
    """Like :func:`safe_text`, one character for each: C0 controls as control pictures, the
    others as U+FFFD. For a text box, whose cursor and selection are offsets into the text."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_same_length, text)
