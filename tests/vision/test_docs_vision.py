"""The example in docs/vision.md runs."""

from __future__ import annotations

import doctest

from support import ROOT


def test_vision_doc_example_runs() -> None:
    result = doctest.testfile(
        str(ROOT / "docs" / "vision.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted >= 8
    assert result.failed == 0
