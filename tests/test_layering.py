"""The domain never imports the UI: scripts and Kedro use sessionlens without Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = (
    "sessionlens",
    "sessionlens.record",
    "sessionlens.query",
    "sessionlens.session",
    "sessionlens.runner",
    "sessionlens.compare",
    "sessionlens.project",
    "sessionlens.gitinfo",
    "sessionlens.stores",
    "sessionlens.stores.memory",
    "sessionlens.stores.shelve_store",
    "sessionlens.stores.sqlite_store",
    "sessionlens.kedro",
    "sessionlens.textsafe",
)


def test_core_modules_import_no_ui_and_no_kedro() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'kedro'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
