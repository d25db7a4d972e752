"""A small, fast ANSI parser for live output: SGR colours kept, nothing else obeyed.

A child's output may hold colours (``ESC[31m``), but also cursor moves, screen clears, OSC titles,
bells, backspaces and bidi overrides, which must never reach the app's own terminal.
``parse_line`` turns one line into ``(text, style)`` pieces: SGR sequences become Rich styles,
every other escape sequence is dropped, and what is left that a terminal would obey (C0 and C1
controls, bidi controls) is shown by :func:`sessionlens.textsafe.safe_text` (``␇``,
``<U+202E>``). A carriage return shows what a terminal would: the text after the last one
(progress bars).

The colour state is carried from line to line as an ``SgrState`` (a hashable tuple), so a line
can be parsed on its own, lazily, when it becomes visible: ``state_after`` finds the state at
the end of a line or of a whole dropped batch without building any text. Nothing here imports
Textual.
"""

from __future__ import annotations

import re

from rich.color import Color
from rich.style import Style

from sessionlens.textsafe import safe_text

#: (foreground, background, attribute bits); ``RESET`` is the terminal's default look
SgrState = tuple[Color | None, Color | None, int]
RESET: SgrState = (None, None, 0)

BOLD, DIM, ITALIC, UNDERLINE, BLINK, REVERSE, CONCEAL, STRIKE, UNDERLINE2, OVERLINE = (
    1 << n for n in range(10)
)
_SET = {
    1: BOLD,
    2: DIM,
    3: ITALIC,
    4: UNDERLINE,
    5: BLINK,
    6: BLINK,
    7: REVERSE,
    8: CONCEAL,
    9: STRIKE,
    21: UNDERLINE2,
    53: OVERLINE,
}
_CLEAR = {
    22: BOLD | DIM,
    23: ITALIC,
    24: UNDERLINE | UNDERLINE2,
    25: BLINK,
    27: REVERSE,
    28: CONCEAL,
    29: STRIKE,
    55: OVERLINE,
}

#: every 7-bit escape sequence; group 1-3: a CSI's parameters, intermediates and final byte
#: (SGR is final ``m`` with no intermediates). Lone controls are left to ``safe_text``.
_TOKEN = re.compile(
    r"\x1b\[([0-?]*)([ -/]*)([@-~])"  # CSI (cursor moves, clears, SGR, ...)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, hyperlinks), to BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[ -/]*[0-~]?"  # other escape sequences, or a lone ESC
)
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_RESETS = ("\x1b[0m", "\x1b[m")

_styles: dict[SgrState, Style | None] = {RESET: None}


def style_of(state: SgrState) -> Style | None:
    """The Rich style of a state (None for the default look); cached, states are few."""
    style = _styles.get(state)
    if style is None and state not in _styles:
        fg, bg, bits = state
        style = Style(
            color=fg,
            bgcolor=bg,
            bold=True if bits & BOLD else None,
            dim=True if bits & DIM else None,
            italic=True if bits & ITALIC else None,
            underline=True if bits & UNDERLINE else None,
            blink=True if bits & BLINK else None,
            reverse=True if bits & REVERSE else None,
            conceal=True if bits & CONCEAL else None,
            strike=True if bits & STRIKE else None,
            underline2=True if bits & UNDERLINE2 else None,
            overline=True if bits & OVERLINE else None,
        )
        if len(_styles) < 4096:  # a child printing every rgb colour must not grow this forever
            _styles[state] = style
    return style


def _extended_colour(codes: list[int], i: int) -> tuple[Color | None, int]:
    """``38;5;n`` or ``38;2;r;g;b`` starting at ``codes[i]`` (the 5 or 2); returns the colour
    and the index after it."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        return Color.from_ansi(codes[i + 1] & 0xFF), i + 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = (min(max(c, 0), 255) for c in codes[i + 1 : i + 4])
        return Color.from_rgb(r, g, b), i + 4
    return None, len(codes)


def apply_sgr(state: SgrState, params: str) -> SgrState:
    """The state after ``ESC[<params>m``; unknown codes are ignored, as terminals do."""
    fg, bg, bits = state
    try:
        codes = [int(p) if p else 0 for p in params.replace(":", ";").split(";")]
    except ValueError:
        return state
    i = 0
    while i < len(codes):
        code = codes[i]
        i += 1
        if code == 0:
            fg, bg, bits = RESET
        elif 30 <= code <= 37:
            fg = Color.from_ansi(code - 30)
        elif 90 <= code <= 97:
            fg = Color.from_ansi(code - 90 + 8)
        elif 40 <= code <= 47:
            bg = Color.from_ansi(code - 40)
        elif 100 <= code <= 107:
            bg = Color.from_ansi(code - 100 + 8)
        elif code == 39:
            fg = None
        elif code == 49:
            bg = None
        elif code in (38, 48):
            colour, i = _extended_colour(codes, i)
            if colour is not None:
                if code == 38:
                    fg = colour
                else:
                    bg = colour
        elif code in _SET:
            bits |= _SET[code]
        elif code in _CLEAR:
            bits &= ~_CLEAR[code]
    return (fg, bg, bits)


def state_after(text: str, state: SgrState = RESET) -> SgrState:
    """The SGR state at the end of ``text`` (any length, many lines), starting from ``state``."""
    if "\x1b" not in text:
        return state
    start = max(text.rfind(reset) for reset in _RESETS)
    if start >= 0:  # nothing before the last full reset matters
        state, text = RESET, text[start:]
    for match in _SGR.finditer(text):
        state = apply_sgr(state, match.group(1))
    return state


Piece = tuple[str, SgrState]


def parse_line(raw: str, state: SgrState = RESET) -> tuple[list[Piece], SgrState]:
    """One line (no ``\\n``) as printable pieces with their SGR state, and the state after it.

    Tabs are kept (the widget expands them); escape sequences are gone; other controls are
    shown (``␇``, ``<U+009B>``, ``<U+202E>``).
    """
    if "\x1b" not in raw and "\r" not in raw:
        raw = safe_text(raw)
        return ([(raw, state)] if raw else []), state
    raw = raw.rstrip("\r")
    if "\r" in raw:  # a terminal shows what the last carriage return left
        head, _, raw = raw.rpartition("\r")
        state = state_after(head, state)
    pieces: list[Piece] = []
    pos = 0
    for match in _TOKEN.finditer(raw):
        if match.start() > pos:
            pieces.append((safe_text(raw[pos : match.start()]), state))
        if match.group(3) == "m" and not match.group(2):
            params = match.group(1)
            if not params or params[0] not in "<=>?":
                state = apply_sgr(state, params)
        pos = match.end()
    if pos < len(raw):
        pieces.append((safe_text(raw[pos:]), state))
    return pieces, state


def plain(raw: str) -> str:
    """A line's printable text only (tests, search)."""
    return "".join(text for text, _ in parse_line(raw)[0])
