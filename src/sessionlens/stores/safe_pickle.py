"""Unpickling that cannot run code: Kedro's shelve stores hold pickles from other people's projects.

A pickle names callables (``module.name``) that the loader calls while reading; a malicious one
names ``os.system``. ``SafeUnpickler.find_class`` resolves only plain data types and ``pathlib``
paths, and refuses everything else before anything is called. Paths become *pure* paths (no I/O,
and a ``WindowsPath`` pickled on Windows loads on Linux too); ``to_jsonable`` turns them into str.
"""

from __future__ import annotations

import datetime
import decimal
import io
import pickle
from collections import OrderedDict
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from sessionlens.errors import StoreError
from sessionlens.stores._common import one_line

_PATH_CLASSES: dict[str, type] = {
    "PosixPath": PurePosixPath,
    "PurePosixPath": PurePosixPath,
    "WindowsPath": PureWindowsPath,
    "PureWindowsPath": PureWindowsPath,
    # pickled by an abstract reference on some Pythons; the pure POSIX flavour is the safe reading
    "Path": PurePosixPath,
    "PurePath": PurePosixPath,
}

#: (module, name) -> the object the loader may call. Everything here builds plain values only.
ALLOWED: dict[tuple[str, str], Any] = {
    **{("pathlib", n): c for n, c in _PATH_CLASSES.items()},
    **{("pathlib._local", n): c for n, c in _PATH_CLASSES.items()},  # Python 3.13+
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("decimal", "Decimal"): decimal.Decimal,
}


class SafeUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the names in :data:`ALLOWED`."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise StoreError(
                f"{self.source}: refused to unpickle {module}.{name} "
                "(only plain data and paths are read from shelve stores; nothing was run)"
            ) from None


def safe_loads(data: bytes, source: str) -> Any:
    """Load one pickle with :class:`SafeUnpickler`; any failure is a one-line ``StoreError``."""
    try:
        return SafeUnpickler(io.BytesIO(data), source).load()
    except StoreError:
        raise
    except Exception as exc:  # truncated or garbage bytes: pickle raises many kinds
        raise StoreError(
            one_line(f"{source}: unreadable pickle ({type(exc).__name__}: {exc})")
        ) from None
