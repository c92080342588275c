"""The wallet page's pure parts: the Code 128 encoder (read back by zxing-cpp)
and the signed session tokens."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from scanpay.host.wallet_page import code128
from scanpay.host.wallet_page.session import IDLE_SECONDS, MAX_SECONDS, SessionCodec


def read(text: str) -> tuple[str, str]:
    row = np.array([0 if m == "1" else 255 for m in code128.modules(text)], np.uint8)
    image = np.repeat(np.repeat(row[np.newaxis, :], 50, axis=0), 2, axis=1)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
    assert found, f"{text!r} does not read"
    return str(found[0].text), str(found[0].format)


@pytest.mark.parametrize(
    "text", ["880000000018863886", "0", "12", "123", "1234567", "A1234567B", "Hello, World ~!"]
)
def test_code128_reads_back(text: str) -> None:
    assert read(text) == (text, "Code 128")


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=30))
def test_any_printable_ascii_reads_back(text: str) -> None:
    assert read(text)[0] == text


def test_digits_use_code_set_c() -> None:
    values = code128.encode("880000000018863886")
    assert values[0] == 105 and values[1:-1] == [88, 0, 0, 0, 0, 18, 86, 38, 86]
    # Start C + 9 pairs + check + stop: 11 modules each, 13 for the stop, quiet zones.
    assert len(code128.modules("880000000018863886")) == 11 * 11 + 13 + 2 * code128.QUIET


def test_code128_refuses_what_it_cannot_carry() -> None:
    for bad in ("", "café", "tab\there"):
        with pytest.raises(code128.Code128Error):
            code128.encode(bad)


def test_the_svg_is_a_standalone_document() -> None:
    svg = code128.svg("12345678", label=True)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "12345678</text>" in svg
    assert "<text" not in code128.svg("12345678")
    assert "&lt;" in code128.svg("<x>", label=True)


KEY = bytes(range(32))


def test_sessions_are_signed_and_expire() -> None:
    codec = SessionCodec(KEY)
    token, session = codec.issue("0000000018", 0, 1_000)
    assert codec.read(token, 1_000 + IDLE_SECONDS - 1) == session
    assert codec.read(token, 1_000 + IDLE_SECONDS) is None
    tampered = token.replace("0000000018", "0000000026")
    assert codec.read(tampered, 1_001) is None
    assert SessionCodec(bytes(32)).read(token, 1_001) is None  # another host key
    for junk in (None, "", "a.b", "x" * 300, token + "x"):
        assert codec.read(junk, 1_001) is None
    # The session generation is signed too: a cookie cannot claim a newer one.
    assert session.epoch == 0
    later, _ = codec.issue("0000000018", 7, 1_000)
    assert codec.read(later, 1_001).epoch == 7  # type: ignore[union-attr]
    assert codec.read(later.replace(".7.", ".8."), 1_001) is None


def test_renewal_keeps_the_csrf_token_but_not_past_the_maximum() -> None:
    codec = SessionCodec(KEY)
    token, session = codec.issue("0000000018", 0, 0)
    now = 0
    while now < MAX_SECONDS + IDLE_SECONDS:
        now += IDLE_SECONDS - 10
        current = codec.read(token, now)
        if current is None:
            break
        assert codec.csrf(current) == codec.csrf(session)
        token, _ = codec.renew(current, now)
    assert now >= MAX_SECONDS
    assert codec.read(token, MAX_SECONDS) is None


def test_csrf_tokens_are_per_session() -> None:
    codec = SessionCodec(KEY)
    _, one = codec.issue("0000000018", 0, 0)
    _, two = codec.issue("0000000018", 0, 0)
    assert codec.csrf(one) != codec.csrf(two)
    assert codec.csrf_ok(one, codec.csrf(one))
    assert not codec.csrf_ok(one, codec.csrf(two)) and not codec.csrf_ok(one, None)
