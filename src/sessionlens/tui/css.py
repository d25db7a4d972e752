"""Styles live in ``.tcss`` files next to the module that uses them (shipped in the wheel)."""

from __future__ import annotations

from pathlib import Path


def css_beside(module_file: str) -> str:
    """The text of ``<module>.tcss``: a widget's ``DEFAULT_CSS`` kept out of the Python code."""
    return Path(module_file).with_suffix(".tcss").read_text(encoding="utf-8")
