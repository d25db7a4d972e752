"""A path box that completes from the filesystem as you type (tab or → accepts)."""

from __future__ import annotations

import os
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import Suggester

from sessionlens.textsafe import safe_text
from sessionlens.tui.widgets.safe_input import SafeInput

URI_PREFIXES = ("sqlite:///", "shelve:///")
MAX_ENTRIES = 2000


class PathSuggester(Suggester):
    """Suggests the first directory entry that starts with what was typed (``~`` expanded).

    URIs (``sqlite:///...``) complete on the path part. Directories get a trailing ``/`` so the
    next tab goes into them.
    """

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)


def complete_path(value: str) -> str | None:
    """The completed text for ``value``, or None when nothing on disk extends it."""
    prefix = next((p for p in URI_PREFIXES if value.startswith(p)), "")
    typed = value[len(prefix) :]
    if prefix:
        typed = "/" + typed if not typed.startswith("/") else typed
        prefix = prefix[:-1]  # keep sqlite:// and let the path supply the third slash
    if not typed:
        return None
    head, start = os.path.split(os.path.expanduser(typed))
    show_hidden = start.startswith(".")
    names: list[tuple[str, bool]] = []
    try:
        with os.scandir(head or ".") as entries:
            for i, entry in enumerate(entries):
                if i >= MAX_ENTRIES:
                    break
                if (
                    entry.name.startswith(start)
                    and (show_hidden or entry.name[0] != ".")
                    and safe_text(entry.name) is entry.name  # a control character is no offer
                ):
                    names.append((entry.name, entry.is_dir()))
    except OSError:
        return None
    if not names:
        return None
    name, is_dir = sorted(names)[0]
    completed = typed[: len(typed) - len(start)] + name + ("/" if is_dir else "")
    if completed == typed:
        return None
    return prefix + completed


class PathInput(SafeInput):
    """``Input`` with filesystem completion; tab accepts the suggestion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete", show=False, tooltip="Accept the completion"),
    ]

    def __init__(self, value: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(value, placeholder=placeholder, suggester=PathSuggester(), id=id)

    def action_complete(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.app.action_focus_next()
