"""Swap two directories in one step, so a reader finds the old session folder or the new one.

A shelve session is a folder of several files (``dbm.dumb`` writes three). Replacing it with
two renames (old aside, new in place) leaves a moment with no folder at all. Linux's
``renameat2(RENAME_EXCHANGE)`` swaps two paths atomically; where the kernel, the C library or the
filesystem lacks it, :func:`exchange` says so and the caller falls back to the two renames.
"""

from __future__ import annotations

import errno
import os
import sys
from functools import cache
from typing import Any

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: errnos meaning "this system cannot exchange here", as opposed to a real failure
_UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


@cache
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: a shelve update is the one path that needs it

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # glibc < 2.28, or another C library without it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Swap ``first`` and ``second`` (both must exist) atomically. False when this system
    cannot (nothing changed); ``OSError`` for any other failure."""
    function = _renameat2()
    if function is None:
        return False
    import ctypes

    a, b = os.fsencode(first), os.fsencode(second)
    if function(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), os.fsdecode(second))
