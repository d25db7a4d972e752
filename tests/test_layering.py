"""The package's layers, checked on every module: the domain never imports the UI, no two
modules import each other (at module level or inside a function), widgets import no screens,
and the app and the CLI reach stores only through the interface and the registry.

The import graph is read from the source with ``ast`` (every ``import`` statement, in functions
too; ``if TYPE_CHECKING:`` blocks are not imports), so a circle hidden in a function counts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "sessionlens"
#: Where Textual may be imported; Rich too, and in the CLI's human output.
UI = ("sessionlens.tui",)
RICH_OK = (*UI, "sessionlens.cli")
#: The modules of ``sessionlens.stores`` that the app and the CLI may import: the interface,
#: the registry that picks a backend, and where a spec is detected.
STORE_DOORS = {"sessionlens.stores", "sessionlens.stores.base", "sessionlens.stores.locate"}
STORE_DOORS |= {"sessionlens.stores.registry"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs, wherever it stands (not under ``TYPE_CHECKING``)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str) -> set[str]:
    """The modules ``name`` imports: sessionlens modules by their full name, others by their
    top-level package (``textual``, ``rich``...)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: from the module's own package
                package = name.split(".")
                if MODULES[name].name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            # ``from package import submodule`` imports the submodule
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        for target in targets:
            if target.startswith("sessionlens"):
                while target not in MODULES and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    found.add(target)
            else:
                found.add(target.split(".")[0])
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_sees_imports_inside_functions_and_not_type_checking_ones() -> None:
    """The reader itself: ``launch`` imports the runner inside ``launch()`` and only for types
    at module level."""
    assert "sessionlens.runner" in GRAPH["sessionlens.launch"]
    tree = ast.parse(MODULES["sessionlens.launch"].read_text(encoding="utf-8"))
    blocks = [n for n in ast.walk(tree) if isinstance(n, ast.If) and _is_type_checking(n)]
    assert blocks, "launch.py has a TYPE_CHECKING block to test this against"


def test_no_two_modules_import_each_other() -> None:
    """No cycle of any length in the graph of sessionlens modules."""
    internal = {n: {m for m in deps if m in MODULES} for n, deps in GRAPH.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(internal[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(internal):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_only_the_app_imports_textual_and_only_the_app_and_cli_import_rich() -> None:
    textual = sorted(n for n, deps in GRAPH.items() if "textual" in deps and not _within(n, UI))
    rich = sorted(n for n, deps in GRAPH.items() if "rich" in deps and not _within(n, RICH_OK))
    assert (textual, rich) == ([], [])


def test_widgets_import_no_screens() -> None:
    offenders = {
        name: sorted(d for d in deps if d.startswith("sessionlens.tui.screens"))
        for name, deps in GRAPH.items()
        if name.startswith("sessionlens.tui.widgets")
    }
    assert {n: d for n, d in offenders.items() if d} == {}


def test_the_app_and_the_cli_reach_stores_through_the_interface_and_the_registry() -> None:
    offenders = {
        name: sorted(d for d in deps if d.startswith("sessionlens.stores") and d not in STORE_DOORS)
        for name, deps in GRAPH.items()
        if _within(name, ("sessionlens.tui", "sessionlens.cli"))
    }
    assert {n: d for n, d in offenders.items() if d} == {}


def test_importing_every_domain_module_imports_no_ui_and_no_kedro() -> None:
    """The same, for real: every module outside ``tui`` and ``cli`` imported in a fresh
    interpreter leaves Textual, Rich and Kedro out of ``sys.modules``."""
    domain = sorted(n for n in MODULES if not _within(n, RICH_OK) and not n.endswith("__main__"))
    code = (
        "import importlib, sys\n"
        f"for name in {domain!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'kedro'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
