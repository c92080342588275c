"""Whether parts of a screen are there for people to read and press, on whatever
window the page has (the till's 1024x600, a phone's 390x844): each one shown,
within the window's width, none drawn over another, and the page not wider than
its window (nothing to scroll sideways to)."""

from __future__ import annotations

from typing import Any

#: The two screens a page is checked on, as conftest's page fixtures: the till's
#: touch screen (1024x600) and a phone (390x844). A module parametrizes its own
#: fixture with these (a fixture imported from here would shadow the test's argument).
SCREENS = {"till": "cashier", "phone": "customer"}

#: Sub-pixel slack: layout rounds edges to fractions of a pixel.
SLACK = 0.5


def laid_out(page: Any, *selectors: str) -> dict[str, dict[str, float]]:
    """Check the element each of ``selectors`` matches (one each) as above, waiting
    as Playwright does for each to be shown; returns their boxes by selector."""
    # Imported here, as browser_support imports Playwright: only browser tests need it.
    from playwright.sync_api import expect

    # The window as set, not ``innerWidth``: a phone's browser widens its layout
    # viewport to fit content that is too wide, which would hide the very overflow.
    width = page.viewport_size["width"]
    boxes: dict[str, dict[str, float]] = {}
    for selector in selectors:
        target = page.locator(selector)
        expect(target).to_be_visible()
        box = target.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0, (selector, box)
        left, right = box["x"], box["x"] + box["width"]
        assert left >= -SLACK and right <= width + SLACK, (
            f"{selector} spans {left:.0f}-{right:.0f} px of a {width} px window"
        )
        boxes[selector] = box
    named = list(boxes.items())
    for i, (one, a) in enumerate(named):
        for other, b in named[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"] + SLACK
                or b["x"] + b["width"] <= a["x"] + SLACK
                or a["y"] + a["height"] <= b["y"] + SLACK
                or b["y"] + b["height"] <= a["y"] + SLACK
            )
            assert apart, f"{one} {a} overlaps {other} {b}"
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide} px wide in a {width} px window"
    return boxes
