"""Theme-aware colours for Rich text built in Python (detail panel, compare, help).

Rich ``Text`` needs concrete styles; taking them from component classes styled with theme
variables (``$text-success``...) in ``app.tcss`` keeps both light and dark themes readable.
Widgets list ``PALETTE_CLASSES`` in their ``COMPONENT_CLASSES`` and rebuild on theme change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style

if TYPE_CHECKING:
    from textual.widget import Widget

PALETTE = (
    "success",
    "error",
    "warning",
    "accent",
    "primary",
    "muted",
    "label",
    "changed",
    "lost",
    "unreadable",
)
PALETTE_CLASSES = {f"palette--{name}" for name in PALETTE}

#: palette colour of each session status
STATUS_COLOURS = {
    "success": "success",
    "completed": "success",
    "failed": "error",
    "interrupted": "warning",
    "running": "primary",
    "lost": "lost",
    "unreadable": "unreadable",
}


def foreground(style: Style) -> Style:
    """``style`` without its background: a colour and attributes to lay over any row.

    Full component styles blend transparent theme colours correctly but carry the widget's
    background, which would hide a highlighted row behind them."""
    return Style(
        color=style.color,
        bold=style.bold,
        dim=style.dim,
        italic=style.italic,
        underline=style.underline,
        reverse=style.reverse,
        strike=style.strike,
    )


def palette_of(widget: Widget) -> dict[str, Style]:
    """The palette's styles as resolved for ``widget`` under the current theme."""
    styles = {name: widget.get_component_rich_style(f"palette--{name}") for name in PALETTE}
    return {
        name: style if name == "changed" else foreground(style) for name, style in styles.items()
    }


def status_style(palette: dict[str, Style], status: str) -> Style:
    return palette.get(STATUS_COLOURS.get(status, "muted"), Style())
