"""sessionlens: record, browse, launch and compare the runs of a data or ML project.

``from sessionlens import Session, open_store, log_metrics`` is the Python API. Each name is
imported when first used, so ``import sessionlens`` stays cheap (a run's child may import it
only to log metrics) and never imports Textual: the domain (sessions, stores, runner, compare)
is usable from scripts and from Kedro without the terminal app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessionlens._version import __version__
from sessionlens.errors import SessionError, SessionLensError, StoreError, UnknownSessionError

if TYPE_CHECKING:
    from sessionlens.metrics_log import log_metrics
    from sessionlens.session import Session
    from sessionlens.stores import open_store

#: lazily exported name -> the module that defines it
_LAZY = {
    "Session": "sessionlens.session",
    "log_metrics": "sessionlens.metrics_log",
    "open_store": "sessionlens.stores",
}

__all__ = [
    "Session",
    "SessionError",
    "SessionLensError",
    "StoreError",
    "UnknownSessionError",
    "__version__",
    "log_metrics",
    "open_store",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sessionlens' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
