"""A Kedro project's ``settings.py``, read statically: where its session store is.

Kedro projects name their store in ``src/<package>/settings.py``: ``SESSION_STORE_CLASS`` (a class,
e.g. kedro-viz's ``SQLiteStore``) and ``SESSION_STORE_ARGS = {"path": ...}``. The file is someone
else's code: it is parsed with ``ast`` and never imported or run. Literals and the usual path
shapes (``Path(__file__).parents[2] / "data"``, ``str(...)``, ``os.path.join``...) are evaluated;
anything else is skipped, and the store is then looked for in Kedro's usual places
(:mod:`~.locate`, which finds the file and imports this module only when there is one: ``ast``
is not on the ``sessionlens run`` path of other projects).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any


def read_session_store_settings(settings: Path) -> tuple[str | None, str] | None:
    """(SESSION_STORE_CLASS name, SESSION_STORE_ARGS["path"]) from a Kedro settings.py, parsed
    with ``ast`` and never executed; None when absent or not statically evaluable. A file built
    to be too deep for the parser (it recurses, or runs out of memory) or for the evaluator
    below is just not evaluable: it is someone else's project, never an internal error."""
    try:
        return _read_settings(settings)
    except (RecursionError, MemoryError):
        return None


def _read_settings(settings: Path) -> tuple[str | None, str] | None:
    try:
        tree = ast.parse(settings.read_text(encoding="utf-8"), filename=str(settings))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    env: dict[str, Any] = {"__file__": Path(settings).absolute()}
    class_name: str | None = None
    store_path: str | None = None
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id == "SESSION_STORE_CLASS":
                class_name = _dotted_name(value)
            elif target.id == "SESSION_STORE_ARGS":
                path = _store_args_path(value, env)
                store_path = None if path is None else str(path)
            else:
                evaluated = _static_value(value, env)
                if evaluated is not None:
                    env[target.id] = evaluated
                else:
                    env.pop(target.id, None)
    if store_path is None:
        return None
    return class_name, store_path


def _dotted_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _store_args_path(node: ast.AST, env: dict[str, Any]) -> str | Path | None:
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "path":
                result = _static_value(value, env)
                return result if isinstance(result, str | Path) else None
        return None
    if isinstance(node, ast.Call) and _dotted_name(node.func) == "dict":
        for keyword in node.keywords:
            if keyword.arg == "path":
                result = _static_value(keyword.value, env)
                return result if isinstance(result, str | Path) else None
    return None


_PATH_CALLS = {"Path", "PurePath", "PosixPath", "PurePosixPath"}


def _static_value(node: ast.AST, env: dict[str, Any]) -> Any:
    """Evaluate the few shapes settings files use for paths; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _static_value(node.value, env)
        return Path(inner).parent if isinstance(inner, str | Path) else None
    if isinstance(node, ast.Subscript):
        inner, index = _static_value(node.value, env), _static_value(node.slice, env)
        if isinstance(inner, _Parents) and isinstance(index, int):
            try:
                return inner.path.parents[index]
            except IndexError:
                return None
        return None
    if isinstance(node, ast.Attribute) and node.attr == "parents":
        inner = _static_value(node.value, env)
        return _Parents(Path(inner)) if isinstance(inner, str | Path) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = _static_value(node.left, env), _static_value(node.right, env)
        if isinstance(left, Path) and isinstance(right, str | Path):
            return left / right
        return None
    if isinstance(node, ast.Call):
        return _static_call(node, env)
    return None


def _static_call(node: ast.Call, env: dict[str, Any]) -> Any:
    if node.keywords:
        return None
    args = [_static_value(a, env) for a in node.args]
    if any(a is None for a in args):
        return None
    func = node.func
    name = _dotted_name(func)
    if isinstance(func, ast.Attribute) and name in ("resolve", "absolute") and not args:
        inner = _static_value(func.value, env)
        return Path(inner) if isinstance(inner, str | Path) else None
    owner = func.value if isinstance(func, ast.Attribute) else None
    owner_name = _dotted_name(owner) if owner is not None else None
    if name in _PATH_CALLS and owner_name in (None, "pathlib") and args:
        if all(isinstance(a, str | Path) for a in args):
            return Path(*args)
        return None
    if name == "str" and owner is None and len(args) == 1 and isinstance(args[0], str | Path):
        return str(args[0])
    if owner_name == "path" and all(isinstance(a, str | Path) for a in args):  # os.path.*
        if name == "join" and args:
            return os.path.join(*[str(a) for a in args])
        if name in ("dirname", "abspath", "realpath") and len(args) == 1:
            value = str(args[0])
            return os.path.dirname(value) if name == "dirname" else value
    return None


class _Parents:
    """``<path>.parents`` while evaluating: only indexing it means something."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path
