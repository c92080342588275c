"""The cashier screen's language belongs to each browser: a new browser starts in its
own language (any Chinese → 中文, anything else → English), and the language picked
with the switch stays in that browser - never in the terminal agent, so it does not
become the next browser's.

The world here is the test world without the operator's pin (``language`` unset in
the terminal's settings): what a shop gets when nobody fixed a language. The pin
itself is tested in ``test_browser_layout.py``, whose world pins English.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from web.world import TERMINAL_SETTINGS, PageWatch, World, running_world

pytestmark = pytest.mark.browser

UNPINNED = {k: v for k, v in TERMINAL_SETTINGS.items() if k != "language"}
WHO = {"en": "Who is working?", "zh-CN": "请选择操作员"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The test world, its terminal without a pinned language."""
    with running_world(tmp_path_factory.mktemp("stack"), terminal_settings=UNPINNED) as running:
        yield running


def _open(browser: Any, world: World, locale: str) -> tuple[Any, Any, PageWatch]:
    """A fresh browser (its own storage) with ``locale``, on the login screen."""
    context = browser.new_context(
        locale=locale, viewport={"width": 1024, "height": 600}, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    watch = PageWatch(page, (world.agent + "/",))
    page.goto(world.agent + "/#/login")
    page.wait_for_selector("[data-screen=login] h1")
    return context, page, watch


def _shown(page: Any) -> tuple[str, str]:
    return page.inner_text("[data-screen=login] h1"), page.evaluate("document.documentElement.lang")


def test_the_terminal_pins_no_language(world: World) -> None:
    config = httpx.get(world.agent + "/api/terminal", trust_env=False).json()["config"]
    assert config["language"] is None


@pytest.mark.parametrize(
    ("locale", "lang"),
    [("en-US", "en"), ("zh-CN", "zh-CN"), ("zh-TW", "zh-CN"), ("fr-FR", "en")],
)
def test_a_new_browser_starts_in_its_own_language(
    browser: Any, world: World, locale: str, lang: str
) -> None:
    context, page, watch = _open(browser, world, locale)
    try:
        assert _shown(page) == (WHO[lang], lang)
    finally:
        context.close()
    watch.check()


def test_a_choice_stays_in_the_browser_that_made_it(browser: Any, world: World) -> None:
    first, page, watch = _open(browser, world, "en-US")
    try:
        assert _shown(page) == (WHO["en"], "en")
        page.click("#lang-switch")
        assert _shown(page) == (WHO["zh-CN"], "zh-CN")
        page.reload()
        page.wait_for_selector("[data-screen=login] h1")
        assert _shown(page) == (WHO["zh-CN"], "zh-CN")  # this browser remembers

        # Another browser, opened after the choice: still its own language, both ways.
        second, other, other_watch = _open(browser, world, "en-US")
        try:
            assert _shown(other) == (WHO["en"], "en")
        finally:
            second.close()
        other_watch.check()
        third, chinese, chinese_watch = _open(browser, world, "zh-CN")
        try:
            chinese.click("#lang-switch")  # a Chinese browser that prefers English
            assert _shown(chinese) == (WHO["en"], "en")
        finally:
            third.close()
        chinese_watch.check()
        page.reload()
        page.wait_for_selector("[data-screen=login] h1")
        assert _shown(page) == (WHO["zh-CN"], "zh-CN")  # the other browser's choice is its own
    finally:
        first.close()
    watch.check()
    config = httpx.get(world.agent + "/api/terminal", trust_env=False).json()["config"]
    assert config["language"] is None  # nothing of the choice reached the terminal
