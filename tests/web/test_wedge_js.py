"""The cashier screen's pure JavaScript modules, run in real Chromium: the
scanner-gun (keyboard wedge) parser and the amount keypad.

The modules are loaded from the agent as the page loads them; each case is a
list of (key, milliseconds) pairs fed to ``WedgeParser.push``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from web.world import World, press_keys_at, wait_until

pytestmark = pytest.mark.browser

CODE = "880000000018863886"


def fast(text: str, start: float = 1000.0, gap: float = 8.0) -> list[tuple[str, float]]:
    return [(ch, start + i * gap) for i, ch in enumerate(text)]


def then_enter(keys: list[tuple[str, float]], gap: float = 8.0) -> list[tuple[str, float]]:
    return [*keys, ("Enter", keys[-1][1] + gap)]


@pytest.fixture(scope="module")
def page(browser: Any, world: World) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(world.agent + "/")
    page.wait_for_selector("[data-screen=login]")
    page.evaluate(
        """async () => {
            window.wedge = await import("/ui/js/wedge.js");
            window.keypad = await import("/ui/js/keypad.js");
        }"""
    )
    yield page
    context.close()


def feed(page: Any, keys: list[tuple[str, float]], **options: Any) -> dict[str, Any]:
    """Push the keys through one parser; the scans it reports and which keys it took."""
    return dict(
        page.evaluate(
            """([keys, options]) => {
                const parser = new window.wedge.WedgeParser(options);
                const scans = [], consumed = [];
                for (const [key, time] of keys) {
                    const out = parser.push(key, time);
                    if (out.scan !== null) scans.push(out.scan);
                    consumed.push(out.consume);
                }
                return {scans, consumed};
            }""",
            [keys, options],
        )
    )


def test_a_fast_burst_ending_in_enter_is_a_scan(page: Any) -> None:
    out = feed(page, then_enter(fast(CODE)))
    assert out["scans"] == [CODE]
    # The first key cannot be told from typing; the rest and the Enter are the scanner's.
    assert out["consumed"] == [False] + [True] * len(CODE)


def test_typing_by_hand_is_not_a_scan(page: Any) -> None:
    assert feed(page, then_enter(fast(CODE, gap=150), gap=150))["scans"] == []


def test_a_short_burst_is_not_a_code(page: Any) -> None:
    assert feed(page, then_enter(fast("12345")))["scans"] == []
    assert feed(page, then_enter(fast("12345")), minLength=4)["scans"] == ["12345"]


def test_enter_alone_or_late_does_nothing(page: Any) -> None:
    assert feed(page, [("Enter", 10.0)])["scans"] == []
    # Later than a stall the gun may make (maxStall, 1 s): the burst was dropped.
    late = [*fast(CODE), ("Enter", 1000.0 + 8 * len(CODE) + 1500)]
    assert feed(page, late)["scans"] == []


def stall(keys: list[tuple[str, float]], at: int, ms: float) -> list[tuple[str, float]]:
    """The same keys with the ones from index ``at`` on held back by ``ms``."""
    return [(key, time + (ms if i >= at else 0)) for i, (key, time) in enumerate(keys)]


def test_a_stall_inside_a_burst_does_not_split_it(page: Any) -> None:
    """A busy till holds a gun's keys back for a moment, then delivers the rest fast:
    still one scan, the whole code (the old parser read only what came after)."""
    long_code = CODE * 5  # 90 characters, like an EMV code
    keys = then_enter(fast(long_code))
    out = feed(page, stall(keys, 53, 300))
    assert out["scans"] == [long_code]
    assert out["consumed"] == [False] + [True] * len(long_code)
    # Right before the Enter, and twice in one burst, with fast keys between.
    assert feed(page, stall(keys, len(long_code), 300))["scans"] == [long_code]
    twice = stall(stall(keys, 20, 250), 70, 600)
    assert feed(page, twice)["scans"] == [long_code]
    # Early in the burst, once it has begun as only a gun can (three fast keys).
    assert feed(page, stall(keys, 3, 400))["scans"] == [long_code]


def test_a_burst_that_stops_without_its_enter_is_dropped(page: Any) -> None:
    """A burst that stops for long (more than a second) or slows to typing speed never
    got its Enter: it is dropped, and the next scan is read on its own."""
    cut = fast(CODE[:10], start=0)
    assert feed(page, then_enter(cut + fast(CODE, start=1200)))["scans"] == [CODE]
    # Two slow keys in a row after a burst are a person, not the gun catching up.
    person = [*fast(CODE, start=0), ("1", 500.0), ("2", 900.0), ("Enter", 1300.0)]
    out = feed(page, person)
    assert out["scans"] == []
    # The first one could still have been the gun's and is held back; from the second
    # on, the person's keys reach the page.
    assert out["consumed"][-3:] == [True, False, False]
    # A person's Escape right after a stalled burst is not swallowed either.
    assert feed(page, [*fast(CODE, start=0), ("Escape", 400.0)])["consumed"][-1] is False


def test_a_stray_key_or_a_slow_start_does_not_join_the_next_scan(page: Any) -> None:
    """A key pressed just before a scan, or two typed by hand, are not part of it:
    only a burst that began at a gun's speed may stall."""
    stray = [("7", 0.0), *fast(CODE, start=300)]
    assert feed(page, then_enter(stray))["scans"] == [CODE]
    pair = [("4", 0.0), ("2", 60.0), *fast(CODE, start=400)]
    assert feed(page, then_enter(pair))["scans"] == [CODE]
    # A person typing in spurts (two quick keys, a pause, two more...) is no scanner.
    spurts = [(ch, 1000.0 + (i // 2) * 300 + (i % 2) * 60) for i, ch in enumerate(CODE)]
    assert feed(page, then_enter(spurts))["scans"] == []


def test_control_characters_are_stripped(page: Any) -> None:
    keys = fast("\u0002" + CODE[:6] + "\u001d" + CODE[6:] + "\u0003")
    assert feed(page, then_enter(keys))["scans"] == [CODE]
    # Named keys inside the burst (a scanner's prefix/suffix) are dropped too.
    named = [("F13", 990.0), *fast(CODE), ("Unidentified", 1000 + 8 * len(CODE))]
    assert feed(page, then_enter(named))["scans"] == [CODE]


def test_shift_for_capitals_does_not_break_the_burst(page: Any) -> None:
    keys: list[tuple[str, float]] = []
    t = 1000.0
    for ch in "AB12-cd34":
        if ch.isupper():
            keys.append(("Shift", t))
            t += 4
        keys.append((ch, t))
        t += 8
    assert feed(page, then_enter(keys))["scans"] == ["AB12-cd34"]


def test_a_pause_starts_a_new_burst(page: Any) -> None:
    keys = fast("999", start=0) + fast(CODE, start=2000)
    assert feed(page, then_enter(keys))["scans"] == [CODE]


def test_overlong_input_is_dropped(page: Any) -> None:
    assert feed(page, then_enter(fast("1" * 40)), maxLength=32)["scans"] == []


def test_tab_can_end_a_scan_when_configured(page: Any) -> None:
    keys = [*fast(CODE), ("Tab", 1000 + 8 * len(CODE))]
    assert feed(page, keys)["scans"] == []
    assert feed(page, keys, terminators=["Enter", "Tab"])["scans"] == [CODE]


def test_clean_scan_and_text_fields(page: Any) -> None:
    assert page.evaluate("window.wedge.cleanScan('\\u0002 8800\\u0000 \\u009f')") == "8800"
    verdicts = page.evaluate(
        """() => {
            const make = (tag, type) => {
                const el = document.createElement(tag);
                if (type) el.type = type;
                return el;
            };
            const editable = document.createElement("div");
            editable.contentEditable = "true";
            document.body.appendChild(editable);
            const cases = {
                password: make("input", "password"), text: make("input", "text"),
                number: make("input", "number"), search: make("input", "search"),
                textarea: make("textarea"), select: make("select"), editable,
                button: make("button"), checkbox: make("input", "checkbox"),
                submit: make("input", "submit"), div: make("div"), body: document.body,
            };
            const out = {};
            for (const [name, el] of Object.entries(cases)) {
                out[name] = window.wedge.isTextEntry(el);
            }
            editable.remove();
            return out;
        }"""
    )
    assert verdicts == {
        "password": True, "text": True, "number": True, "search": True, "textarea": True,
        "select": True, "editable": True,
        "button": False, "checkbox": False, "submit": False, "div": False, "body": False,
    }  # fmt: skip


def test_the_listener_never_takes_keys_from_a_pin_field(page: Any) -> None:
    """Real keystrokes: typed fast into a PIN field they stay there; on the page they scan."""
    page.evaluate(
        """() => {
            window.scans = [];
            const pin = document.createElement("input");
            pin.type = "password";
            pin.id = "test-pin";
            document.body.appendChild(pin);
            window.stopWedge = window.wedge.attachWedge(document, {
                onScan: (text) => window.scans.push(text),
            });
        }"""
    )
    page.focus("#test-pin")
    page.keyboard.type("12345678", delay=3)
    page.keyboard.press("Enter")
    assert page.input_value("#test-pin") == "12345678"
    assert page.evaluate("window.scans") == []

    page.evaluate("document.activeElement.blur()")
    press_keys_at(page, [(key, i * 3.0) for i, key in enumerate([*CODE, "Enter"])])
    assert wait_until(page, "window.scans.length") == 1
    assert page.evaluate("window.scans") == [CODE]
    page.evaluate("window.stopWedge(); document.getElementById('test-pin').remove()")


def test_the_listener_reads_a_stalled_burst_whole(page: Any) -> None:
    """Real key events through the page's listener, stamped as a gun stalled by a busy
    till would send them: 300 ms held back in the middle, then right before Enter."""
    page.evaluate(
        """() => {
            window.scans = [];
            window.stopWedge = window.wedge.attachWedge(document, {
                onScan: (text) => window.scans.push(text),
            });
        }"""
    )
    page.evaluate("document.activeElement && document.activeElement.blur()")
    long_code = CODE * 5
    keys = stall(stall(then_enter(fast(long_code, start=0, gap=4), gap=4), 45, 300), 90, 300)
    press_keys_at(page, keys)
    assert wait_until(page, "window.scans.length") == 1
    assert page.evaluate("window.scans") == [long_code]
    page.evaluate("window.stopWedge()")


@pytest.mark.parametrize(
    ("keys", "exponent", "shown"),
    [
        ("1234", 2, "1234"),
        ("12.345", 2, "12.34"),
        ("0012", 2, "12"),
        (".5", 2, "0.5"),
        ("1..2", 2, "1.2"),
        ("5.", 0, "5"),
        ("12345678901", 2, "1234567890"),
    ],
)
def test_amount_keypad(page: Any, keys: str, exponent: int, shown: str) -> None:
    typed = page.evaluate(
        """([keys, e]) => [...keys].reduce((t, k) => window.keypad.typeAmount(t, k, e), "")""",
        [keys, exponent],
    )
    assert typed == shown
    assert page.evaluate("window.keypad.typeAmount('12.3', 'back', 2)") == "12."
    assert page.evaluate("window.keypad.typeAmount('12.3', 'clear', 2)") == ""
    assert page.evaluate("window.keypad.typeAmount('1', '00', 2)") == "100"
    assert page.evaluate("window.keypad.typeAmount('1.2', '00', 2)") == "1.20"
