"""sessionlens: record, browse, launch and compare the runs of a data or ML project.

Importing this package never imports Textual: the domain (sessions, stores, runner, compare)
is usable from scripts and from Kedro without the terminal app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionlens.errors import SessionError, SessionLensError, StoreError, UnknownSessionError

if TYPE_CHECKING:
    from sessionlens.metrics_log import log_metrics

__version__ = "0.1.0"

__all__ = [
    "SessionError",
    "SessionLensError",
    "StoreError",
    "UnknownSessionError",
    "__version__",
    "log_metrics",
]


def __getattr__(name: str) -> Any:
    """``log_metrics`` is imported when first used (``import sessionlens`` stays cheap)."""
    if name == "log_metrics":
        from sessionlens.metrics_log import log_metrics

        globals()[name] = log_metrics
        return log_metrics
    raise AttributeError(f"module 'sessionlens' has no attribute {name!r}")
