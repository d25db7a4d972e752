"""``sessionlens run`` as a real process: what reaches the terminal, and what is reported."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from sessionlens.stores import open_store
from sessiontools import GIT_ENV, make_repo

PY = sys.executable

#: writes the bytes of out.bin to stdout and err.bin to stderr in uneven pieces
EMIT = """
import os, sys
out, err = open("out.bin", "rb").read(), open("err.bin", "rb").read()
i = j = 0
while i < len(out) or j < len(err):
    step = 1 + (i * 7919) % 70_000
    os.write(1, out[i : i + step]); i += step
    os.write(2, err[j : j + 999]); j += 999
"""


def test_the_terminal_copy_is_the_childs_bytes_unchanged(tmp_path: Path) -> None:
    """2 MB of random bytes (mostly invalid UTF-8) through ``sessionlens run > f``: ``f`` holds
    exactly those bytes (it held 3.6 MB of replacement characters); the log decodes them."""
    rng = random.Random(8)
    out = rng.randbytes(2_000_000)
    err = rng.randbytes(50_000) + "é ✓\n".encode()
    root = make_repo(tmp_path / "p", {"emit.py": EMIT})
    (root / "out.bin").write_bytes(out)
    (root / "err.bin").write_bytes(err)
    with open(tmp_path / "f", "wb") as f, open(tmp_path / "e", "wb") as e:
        proc = subprocess.run(
            [PY, "-m", "sessionlens", "run", "-q", "--store", "s.db", "--", PY, "emit.py"],
            cwd=root,
            env={**os.environ, **GIT_ENV},
            stdout=f,
            stderr=e,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, (tmp_path / "e").read_bytes()[-500:]
    assert (tmp_path / "f").read_bytes() == out
    assert (tmp_path / "e").read_bytes() == err
    with open_store(str(root / "s.db")) as store:
        (summary,) = store.list_summaries()
        chunks = list(store.iter_log(summary.session_id))
    assert "".join(c.text for c in chunks if c.stream == "stdout") == out.decode("utf-8", "replace")
    assert "".join(c.text for c in chunks if c.stream == "stderr") == err.decode("utf-8", "replace")
