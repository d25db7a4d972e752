"""Binding ids for Textual's keymaps (``App.set_keymap``), so ``config.toml`` can rebind keys.

A screen's ``BINDINGS`` go through :func:`with_ids`: each binding without an id gets
``<prefix>.<action name>`` (``sessions.rerun``), so new bindings get one without anyone
remembering to add it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from textual.binding import Binding, BindingType


def with_ids(prefix: str, bindings: Iterable[BindingType]) -> list[BindingType]:
    """``bindings`` with ``id=prefix.action`` where a ``Binding`` has none."""
    out: list[BindingType] = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.id is None:
            action = binding.action.split("(", 1)[0]
            binding = replace(binding, id=f"{prefix}.{action}")
        out.append(binding)
    return out
