"""The public API's three name lists agree: the type checker's imports (under TYPE_CHECKING), the
lazy loader's name-to-module map and ``__all__``. They are written out three times because mypy
needs the imports and a literal ``__all__`` (a computed one would make every name private to it);
this test is what keeps them one list."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import labvault.api as api_pkg
from labvault import api

SOURCE = Path(api_pkg.__file__).read_text()


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(SOURCE)
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return {alias.asname or alias.name: stmt.module or ""
                    for stmt in node.body if isinstance(stmt, ast.ImportFrom) for alias in stmt.names}
    raise AssertionError("no `if TYPE_CHECKING:` block in labvault/api/__init__.py")


def test_the_three_lists_agree() -> None:
    typed = _type_checking_imports()
    lazy = dict(api_pkg._WHERE)
    public = api_pkg.__all__
    assert public == sorted(public), "__all__ is kept sorted"
    assert len(public) == len(set(public))
    assert set(public) == set(lazy), set(public) ^ set(lazy)
    missing_types = set(lazy) - set(typed)
    assert not missing_types, f"names without a TYPE_CHECKING import: {sorted(missing_types)}"
    wrong = {n: (typed[n], lazy[n]) for n in lazy if typed[n] != lazy[n]}
    # a name may be typed from where it is defined while the loader takes it from a re-exporting module
    for name, (typed_mod, lazy_mod) in wrong.items():
        assert getattr(importlib.import_module(lazy_mod), name) is getattr(importlib.import_module(typed_mod), name), name


def test_every_public_name_loads() -> None:
    for name in api_pkg.__all__:
        value = getattr(api, name)
        assert value is not None and not isinstance(value, type(api_pkg)), name
