"""The folder layout is the architecture: a pure core without I/O, adapters around it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import scanpay.terminal

PURE = ["sale", "refund", "order", "totals", "backoff", "texts", "labels", "errors"]
IO_MODULES = {
    "sqlite3",
    "httpx",
    "socket",
    "time",
    "os",
    "random",
    "secrets",
    "threading",
    "subprocess",
    "uvicorn",
    "fastapi",
    "escpos",
    "pathlib",
    "logging",
    "datetime.now",
}
PACKAGE = Path(scanpay.terminal.__file__).parent


def _modules() -> list[str]:
    names = [f"scanpay.terminal.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE)])]
    names += [
        f"scanpay.terminal.api.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE / "api")])
    ]
    return sorted(n for n in names if not n.endswith("__main__"))


@pytest.mark.parametrize("name", PURE)
def test_the_core_does_no_io(name: str) -> None:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
            imported |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Attribute) and node.attr in ("now", "time", "random"):
            assert not (isinstance(node.value, ast.Name) and node.value.id in ("time", "datetime"))
    assert not (imported & IO_MODULES), imported & IO_MODULES
    internal = {i for i in imported if i.startswith("scanpay.terminal.")}
    allowed = {f"scanpay.terminal.{p}" for p in PURE}
    assert {i.rsplit(".", 1)[0] if i.count(".") > 2 else i for i in internal} <= allowed


@pytest.mark.parametrize("name", _modules())
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), name
    assert all(hasattr(module, n) for n in module.__all__)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and getattr(v, "__module__", None) == name
        and (callable(v) or isinstance(v, type))
    }
    # A router module publishes its router; its handlers are reached through it.
    router = getattr(module, "router", None)
    handlers = {getattr(r, "endpoint", None) for r in router.routes} if router else set()
    public -= {n for n in public if getattr(module, n) in handlers}
    assert public <= set(module.__all__), public - set(module.__all__)


@pytest.mark.parametrize("name", _modules())
def test_public_api_has_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no docstring"
