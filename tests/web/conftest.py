"""Fixtures of the web tests: one running stack per test module, one headless
Chromium per module, a fresh browser context per page (the cashier's till at
1024x600, the customer's phone at 390x844), each watched for requests that
leave loopback and for script errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import chromium
from web.world import World, running_world, watched_page


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def cashier(browser: Any, world: World) -> Iterator[Any]:
    """The cashier's touch screen (1024x600)."""
    with watched_page(
        browser, world, viewport={"width": 1024, "height": 600}, has_touch=True
    ) as page:
        yield page


@pytest.fixture
def customer(browser: Any, world: World) -> Iterator[Any]:
    """The customer's phone (390x844), a separate browser context."""
    with watched_page(
        browser, world, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    ) as page:
        yield page


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a test may leave screenshots for a human to look at after a failure."""
    return tmp_path
