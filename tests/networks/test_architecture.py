"""The port and the leg are pure: no I/O, no clock, nothing of the host (adapters do that)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import scanpay.networks

PURE = ["errors", "port", "leg_messages", "leg", "results"]
IO_MODULES = {
    "sqlite3",
    "httpx",
    "requests",
    "socket",
    "ssl",
    "time",
    "os",
    "random",
    "secrets",
    "threading",
    "subprocess",
    "pathlib",
    "logging",
    "wechatpayv3",
}
# What the pure modules may use of scanpay: shared vocabulary, never the host.
ALLOWED = (
    "scanpay.errors",
    "scanpay.i18n",
    "scanpay.money",
    "scanpay.codes.mask",
    "scanpay.protocol.result_codes",
    "scanpay.networks.",
)
PACKAGE = Path(scanpay.networks.__file__).parent


@pytest.mark.parametrize("name", PURE)
def test_the_port_and_the_leg_do_no_io(name: str) -> None:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in ("now", "time", "today"):
            # No reading of the clock: time is passed in.
            assert not (isinstance(node.value, ast.Name) and node.value.id in ("time", "datetime"))
    assert not {i.split(".")[0] for i in imported} & IO_MODULES
    ours = {i for i in imported if i.startswith("scanpay")}
    assert all(i.startswith(ALLOWED) for i in ours), ours


@pytest.mark.parametrize("name", ["scanpay.networks", *(f"scanpay.networks.{p}" for p in PURE)])
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    assert all(hasattr(module, n) for n in module.__all__)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and getattr(v, "__module__", None) == name
        and (callable(v) or isinstance(v, type))
    }
    assert public <= set(module.__all__), public - set(module.__all__)
    if name == "scanpay.networks":
        exported = {n for p in PURE for n in importlib.import_module(f"{name}.{p}").__all__}
        assert set(module.__all__) == exported
