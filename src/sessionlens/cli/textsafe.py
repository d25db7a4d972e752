"""Show text from stores literally: control characters become visible escapes.

A store holds whatever a run printed or a user typed, e.g. ``[bold red]x[/]`` or ANSI escape
codes. Human output must show those as the characters they are, never let them drive the
terminal (colour it, move the cursor, set the title, write the clipboard). Rich markup is
neutralised by printing ``rich.text.Text`` objects; this module handles control characters.
Standard library only.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (0x9b is a one-byte CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_NO_NEWLINES = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return _NAMED.get(char) or f"\\x{ord(char):02x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes; tabs kept, newlines
    kept when ``keep_newlines`` (else shown as ``\\n``)."""
    pattern = _CONTROL if keep_newlines else _CONTROL_NO_NEWLINES
    return pattern.sub(_escape, text)
