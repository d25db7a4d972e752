"""sessionlens: record, browse, launch and compare the runs of a data or ML project.

Importing this package never imports Textual: the domain (sessions, stores, runner, compare)
is usable from scripts and from Kedro without the terminal app.
"""

from __future__ import annotations

from sessionlens.errors import SessionError, SessionLensError, StoreError, UnknownSessionError

__version__ = "0.1.0"

__all__ = [
    "SessionError",
    "SessionLensError",
    "StoreError",
    "UnknownSessionError",
    "__version__",
]
