"""The README's examples run, and public surfaces are what ``__all__`` says."""

from __future__ import annotations

import doctest
import importlib

import pytest

from support import ROOT


def test_readme_examples_run() -> None:
    result = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted >= 5
    assert result.failed == 0


@pytest.mark.parametrize(
    "module",
    [
        "scanpay.codes",
        "scanpay.codes.mask",
        "scanpay.host.domain.pin",
        "scanpay.host.domain.hash_budget",
    ],
)
def test_module_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    "module", ["scanpay.codes", "scanpay.money", "scanpay.i18n", "scanpay.errors"]
)
def test_all_lists_exactly_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    public = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module).startswith(module)
        and not isinstance(value, type(importlib))
    }
    assert public <= set(mod.__all__)
    assert all(hasattr(mod, name) for name in mod.__all__)
