"""A text box that shows control characters instead of sending them to the terminal.

Textual's ``Input`` draws its value as it is: a command from a foreign project's pyproject.toml or
a pasted log line holding ``ESC ]0;...`` would reach the terminal. The value itself is kept
exactly (it is what runs or is searched); only what is drawn changes, one character for one
character (:func:`sessionlens.textsafe.safe_chars`), so the cursor and the selection stay where
they are.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input

from sessionlens.textsafe import safe_chars


class SafeInput(Input):
    """``Input``, drawn safely."""

    @property
    def _value(self) -> Text:
        value = self.value
        shown = safe_chars(value)
        if self.password or shown is value:
            return super()._value
        text = Text(shown, no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text
