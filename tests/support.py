"""Shared test helpers: where the shared data lives, and skip-or-fail rules.

A test that needs something outside the repository (``../shared`` data, the
PostgreSQL server, Chromium) skips with a clear reason on a developer's
machine that lacks it, but fails in CI (``CI=true``), where it must run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = (ROOT.parent / "shared").resolve()
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(ok: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) unless ``ok``."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)  # outside CI only: in CI it failed above


def shared_path(*parts: str) -> Path:
    """A path under ``../shared``; skips (or fails in CI) when it is missing."""
    path = SHARED.joinpath(*parts)
    require(path.exists(), f"needs ../shared/{'/'.join(parts)} (absent in a fresh clone)")
    return path
