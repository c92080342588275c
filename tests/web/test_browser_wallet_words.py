"""The wallet page's words, money signs and times on the customer's phone (390x844,
real headless Chromium), in both languages (issue 14 items 10, 11, 13, 18):

- a refused login says what is wrong with which field, written for a person, never
  the API's developer message; the API itself answers so too;
- the history shows money that left with a minus, money that came back with a plus,
  and a payment that took nothing without a sign, struck through, in words;
- times are the merchant's business time (the portal's), on a phone whose clock runs
  in another zone, with the zone named;
- the header holds no stray "null".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from scanpay.host.portal.rows import local_time
from web.world import SUPERVISOR, World, wait_until, wallet_login, watched_page

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
#: Words the API's validation used to leak onto the page.
DEVELOPER = ("malformed", "pattern", "String should", "请求格式错误", "HTTP ")


@pytest.fixture
def utc_phone(browser: Any, world: World) -> Iterator[Any]:
    """The customer's phone with its clock in UTC, named explicitly (the merchant's
    business day runs in Asia/Shanghai, 8 hours ahead)."""
    with watched_page(browser, world, timezone_id="UTC", **PHONE) as page:
        yield page


@pytest.fixture
def till(world: World) -> Iterator[httpx.Client]:
    """The till's API, with the supervisor logged in (refunds need one)."""
    client = httpx.Client(base_url=world.agent, timeout=30, trust_env=False)
    login = client.post("/api/session", json={"operator_id": SUPERVISOR[0], "pin": SUPERVISOR[1]})
    assert login.is_success, login.text
    yield client
    client.close()


def sell(till: httpx.Client, code: str, amount_text: str) -> dict[str, Any]:
    no = till.post("/api/sales", json={"amount_text": amount_text}).json()["out_trade_no"]
    assert till.post(f"/api/sales/{no}/scan", json={"text": code}).is_success
    done: dict[str, Any] = till.post(f"/api/sales/{no}/confirm", params={"wait": 10}).json()
    return done


def switch_to_chinese(page: Any) -> None:
    page.click("#lang-switch")
    page.wait_for_selector("html[lang=zh-CN]")


# ------------------------------------------------------------------ item 18


def test_the_login_header_holds_no_null(customer: Any, world: World) -> None:
    customer.goto(world.wallet_url)
    customer.wait_for_selector("#login-form")
    assert customer.inner_text("#bar").split() == ["scanpay", "wallet", "中文"]
    assert "null" not in customer.inner_text("#bar")
    switch_to_chinese(customer)
    assert customer.inner_text("#bar").split() == ["scanpay", "钱包", "English"]
    assert "null" not in customer.inner_text("#bar")


# ------------------------------------------------------------------ item 10


def _log_in(page: Any, account: str, pin: str) -> Any:
    """Submit the login form; the error of the form drawn for this answer."""
    page.evaluate("document.getElementById('login-form').dataset.old = '1'")
    page.fill("#account", account)
    page.fill("#pin", pin)
    page.click("#login-submit")
    return page.wait_for_selector("#login-form:not([data-old]) #login-error")


def test_a_refused_login_says_what_is_wrong_in_both_languages(customer: Any, world: World) -> None:
    alice, _ = world.account("Alice")
    customer.goto(world.wallet_url)
    customer.wait_for_selector("#login-form")
    cases = [
        # (account, PIN, field, English, Chinese)
        (
            "abc",
            "123456",
            "account",
            "The wallet account is digits only (up to 16)",
            "钱包账号只含数字（最多 16 位）",
        ),
        ("", "123456", "account", "Enter your wallet account", "请输入钱包账号"),
        (alice, "12", "pin", "The PIN is 6 digits", "支付密码是 6 位数字"),
        (alice, "", "pin", "Enter your 6-digit PIN", "请输入 6 位支付密码"),
        (alice, "000000", "pin", "Wrong account or PIN", "账户或支付密码错误"),
    ]
    for account, pin, field, english, chinese in cases:
        error = _log_in(customer, account, pin)
        assert error.inner_text() == english, (account, pin)
        assert error.get_attribute("data-field") == field
        # Shown with the field it is about, which is marked.
        assert customer.get_attribute(f"#{field}", "aria-invalid") == "true"
        switch_to_chinese(customer)
        assert customer.inner_text("#login-error") == chinese
        customer.click("#lang-switch")  # back to English for the next case
        customer.wait_for_selector("html[lang=en]")
    text = customer.inner_text("#main")
    assert not any(word in text for word in DEVELOPER), text
    # Typed in Chinese from the start, too.
    switch_to_chinese(customer)
    assert _log_in(customer, "12a4", "123456").inner_text() == "钱包账号只含数字（最多 16 位）"


def test_the_wallet_api_refuses_in_the_pages_words(world: World) -> None:
    """What the page shows comes from the host as well: a malformed login or payload
    names its field, in words for a person, in both languages."""
    alice, pin = world.account("Alice")
    with httpx.Client(base_url=world.host, timeout=30, trust_env=False) as client:
        bad = client.post("/wallet/v1/session", json={"account": "abc", "pin": "123456"})
        assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (400, "30", "account")
        assert bad.json()["message"] == {
            "zh-CN": "钱包账号只含数字（最多 16 位）",
            "en": "The wallet account is digits only (up to 16)",
        }
        long_pin = client.post("/wallet/v1/session", json={"account": alice, "pin": "1" * 13})
        assert long_pin.json()["field"] == "pin"
        assert long_pin.json()["message"]["en"] == "The PIN is 6 digits"
        missing = client.post("/wallet/v1/session", json={"pin": "123456"})
        assert missing.json()["message"]["en"] == "Enter your wallet account"
        login = client.post("/wallet/v1/session", json={"account": alice, "pin": pin})
        headers = {"X-Wallet-CSRF": login.json()["csrf"]}
        garbage = client.post("/wallet/v1/me/preview", json={"payload": "hello"}, headers=headers)
        assert (garbage.status_code, garbage.json()["field"]) == (400, "payload")
        assert garbage.json()["message"] == {
            "zh-CN": "这不是可以在这里付款的商户收款码",
            "en": "This is not a merchant QR code that can be paid here",
        }
        empty = client.post("/wallet/v1/me/preview", json={"payload": ""}, headers=headers)
        assert empty.json()["message"]["en"] == "Scan or paste the merchant's QR code"
        nothing = client.post(
            "/wallet/v1/me/confirm", json={"pin": pin, "payment_id": "P0"}, headers=headers
        )
        assert nothing.status_code == 404
        assert nothing.json()["message"]["en"] == (
            "This payment is no longer waiting for your PIN; nothing was taken"
        )
        for answer in (bad, long_pin, missing, garbage, empty, nothing):
            words = " ".join(answer.json()["message"].values())
            assert not any(word in words for word in DEVELOPER), words


# ------------------------------------------------------------------ item 11


def test_history_shows_which_way_the_money_went(
    customer: Any, world: World, till: httpx.Client
) -> None:
    account = world.open_wallet(balance=1000)  # 10.00
    paid = sell(till, world.code(account), "6.00")
    assert paid["state"] == "APPROVED", paid
    refund = till.post(
        f"/api/sales/{paid['out_trade_no']}/refunds", json={"amount": 200, "reason": "cup"}
    )
    assert refund.is_success, refund.text
    end = time.monotonic() + 120
    while [r.status for r in world.refunds(paid["out_trade_no"])] != ["SUCCESS"]:
        assert time.monotonic() < end, world.refunds(paid["out_trade_no"])
        time.sleep(0.1)
    declined = sell(till, world.code(account), "50.00")  # 6.00 left: too little
    assert (declined["state"], declined["result"]["code"]) == ("DECLINED", "51")

    wallet_login(customer, world, account, "246810")
    customer.click("#tab-history")
    customer.wait_for_selector("#history li")
    no_money = customer.locator("#history li[data-outcome=declined]")
    spent = customer.locator("#history li[data-outcome=partly_refunded]")
    # Nothing left the account: no minus, struck through, and said in words.
    assert no_money.locator(".amt").inner_text() == "CNY 50.00"
    assert no_money.locator(".amt s").count() == 1
    assert no_money.locator("[data-role=outcome]").inner_text() == "Declined, not charged"
    # Money that left shows with a minus; what came back with a plus.
    assert spent.locator(".amt.out").inner_text() == "-CNY 6.00"
    assert spent.locator(".amt.in").inner_text() == "+CNY 2.00 refunded to you"
    assert spent.locator("[data-role=outcome]").inner_text() == "Paid, partly refunded"
    assert "-CNY 50.00" not in customer.inner_text("#history")
    struck = no_money.locator(".amt s").evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in struck

    switch_to_chinese(customer)
    customer.wait_for_selector("#history li")
    assert no_money.locator("[data-role=outcome]").inner_text() == "未成功，未扣款"
    assert no_money.locator(".amt").inner_text() == "CNY 50.00"
    assert spent.locator(".amt.in").inner_text() == "已退回 +CNY 2.00"
    assert spent.locator("[data-role=outcome]").inner_text() == "已付款，部分退回"
    assert world.balance(account) == 1000 - 600 + 200


# ------------------------------------------------------------------ item 13


def test_wallet_times_are_the_merchants_business_time(
    utc_phone: Any, world: World, till: httpx.Client
) -> None:
    zone = world.ctx.settings.zone
    assert str(zone) == "Asia/Shanghai"
    account = world.open_wallet(balance=1000)
    sold = sell(till, world.code(account), "1.00")
    assert sold["state"] == "APPROVED", sold
    row = world.payment(sold["out_trade_no"])
    assert row is not None and row.paid_at is not None
    # The host's business-time rendering (the portal's rule), to the minute.
    business = datetime.fromisoformat(local_time(row.paid_at, zone))
    expected = f"{business:%m-%d %H:%M} GMT+8"
    in_utc = f"{row.paid_at.astimezone(UTC):%m-%d %H:%M}"
    assert in_utc != expected[:11]  # what the phone's own clock would have shown

    wallet_login(utc_phone, world, account, "246810")
    assert utc_phone.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
    utc_phone.click("#tab-history")
    shown = utc_phone.wait_for_selector(
        f"#history li[data-payment={row.public_id}] time.when"
    ).inner_text()
    assert shown == expected, (shown, in_utc)
    switch_to_chinese(utc_phone)
    wait_until(utc_phone, "document.documentElement.lang === 'zh-CN'")
    again = utc_phone.inner_text(f"#history li[data-payment={row.public_id}] time.when")
    assert again == expected
