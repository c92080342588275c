"""The merchant portal's tables fit the page: the refunds list and a transaction's
page (its refunds and its history) never make the page wider than the window, on a
1280x800 desk screen and on a 390x844 phone, in English and Chinese; the history's
Event (事件) column reads on one line; the history says states in words. The
operator's channel pages (every channel and network account, one merchant's
channels with every form open) fit too.

The demo merchant of the test world gets a generated history (``scanpay host
fixtures``: payments, refunds, their audit records) to fill the tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from scanpay.host.db.models import Payment
from scanpay.host.portal import fixtures
from scanpay.host.services import audit, channels, network_accounts, refunds
from scanpay.protocol.models import RefundRequest
from scanpay.stack import DEMO_PORTAL_USERS
from web.world import World, line_heights

pytestmark = pytest.mark.browser

OWNER = next(u for u in DEMO_PORTAL_USERS if u.role == "owner")
OPERATOR = next(u for u in DEMO_PORTAL_USERS if u.role == "operator")
SCREENS = {"desk": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
EVENT = {"en-US": "Event", "zh-CN": "事件"}


@pytest.fixture(scope="module")
def refunded(world: World) -> str:
    """The demo merchant with a history; the id of a partly refunded payment."""
    assert world.stack.demo is not None
    fixtures.generate(
        world.ctx,
        transactions=150,
        merchant_id=world.stack.demo.merchant_id,
        days=3,
        terminal_count=2,
        settle_days=1,
    )
    with world.ctx.db.read() as session:
        found = session.execute(
            select(Payment.public_id, Payment.out_trade_no, Payment.merchant_id)
            .where(Payment.status == "PARTIALLY_REFUNDED")
            .limit(1)
        ).first()
    assert found is not None
    # And a refund as the owner makes it in the portal: its number, its long reason.
    refunds.create_refund(
        world.ctx,
        RefundRequest(
            out_refund_no="PR" + "9F3A6C0E7B1D2845",
            out_trade_no=found.out_trade_no,
            amount=1,
            reason="the cup arrived cracked and the replacement was out of stock: part goes back",
            approved_by="owner",
        ),
        merchant_pk=found.merchant_id,
        actor=audit.Actor("portal", OWNER.email),
    )
    return str(found.public_id)


@pytest.fixture(params=[(s, lang) for s in SCREENS for lang in EVENT], ids=lambda p: "-".join(p))
def owner(request: pytest.FixtureRequest, browser: Any, world: World) -> Iterator[Any]:
    """The merchant's owner, logged in to the portal on one screen in one language."""
    screen, locale = request.param
    context = browser.new_context(locale=locale, viewport=SCREENS[screen])
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(world.host + "/portal/login")
    page.fill("input[name=email]", OWNER.email)
    page.fill("input[name=password]", OWNER.password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#who")
    page.locale = locale  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def _fits(page: Any) -> tuple[int, int]:
    # The window as set: an emulated phone widens innerWidth to fit wide content.
    wide: int = page.evaluate("document.documentElement.scrollWidth")
    return wide, page.viewport_size["width"]


def test_the_refunds_list_fits_the_page(owner: Any, world: World, refunded: str) -> None:
    owner.goto(world.host + "/portal/refunds")
    assert owner.locator("#refunds tbody tr[data-refund]").count() >= 5
    wide, window = _fits(owner)
    assert wide <= window, f"the refunds page is {wide} px wide in a {window} px window"


def test_a_transaction_page_fits_and_its_events_read_on_one_line(
    owner: Any, world: World, refunded: str
) -> None:
    owner.goto(f"{world.host}/portal/transactions/{refunded}")
    assert owner.locator("#history tbody tr").count() >= 2
    assert owner.locator("#payment-refunds tbody tr").count() >= 1
    wide, window = _fits(owner)
    assert wide <= window, f"the transaction page is {wide} px wide in a {window} px window"

    headers = owner.eval_on_selector_all(
        "#history thead th", "(ths) => ths.map((th) => th.textContent.trim())"
    )
    column = headers.index(EVENT[owner.locale]) + 1
    cells = line_heights(
        owner, f"#history thead th:nth-child({column}), #history tbody td:nth-child({column})"
    )
    assert len(cells) >= 3
    for text, height, line in cells:
        assert line > 0, text
        assert height < 1.5 * line, f"{text!r} takes {height:.0f} px, one line is {line:.0f} px"


@pytest.fixture(scope="module")
def channelled(world: World) -> str:
    """The demo merchant with a WeChat Pay channel, and a network account: ids and
    secrets of their real lengths (a PEM's fingerprint is as long as a key's)."""
    assert world.stack.demo is not None
    merchant = world.stack.demo.merchant_id
    keys = {
        "api_v3_key": secrets.token_hex(16),
        "cert_serial": secrets.token_hex(20).upper(),
        "private_key": "-----BEGIN PRIVATE KEY-----\n" + secrets.token_hex(600) + "\n-----END",
    }
    network_accounts.add_account(
        world.ctx,
        network="wechat_pay",
        label="sp-main-" + secrets.token_hex(12),
        app_id="wx8888888888888888",
        mch_id="1900000109",
        secrets=keys,
    )
    if not channels.list_channels(world.ctx, merchant):
        channels.add_channel(
            world.ctx,
            merchant,
            network="wechat_pay",
            mode="direct",
            app_id="wx5555555555555555",
            mch_id="1230000109",
            secrets=keys,
        )
    return str(merchant)


@pytest.fixture(params=[(s, lang) for s in SCREENS for lang in EVENT], ids=lambda p: "-".join(p))
def operator(request: pytest.FixtureRequest, browser: Any, world: World) -> Iterator[Any]:
    """The acquirer's operator, logged in to the portal on one screen in one language."""
    screen, locale = request.param
    context = browser.new_context(locale=locale, viewport=SCREENS[screen])
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(world.host + "/portal/login")
    page.fill("input[name=email]", OPERATOR.email)
    page.fill("input[name=password]", OPERATOR.password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#who")
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def test_the_channel_pages_fit_with_every_form_open(
    operator: Any, world: World, channelled: str
) -> None:
    for path in ("/portal/operator/channels", f"/portal/operator/merchants/{channelled}/channels"):
        operator.goto(world.host + path)
        assert operator.locator("ul.secrets li[data-secret]").count() >= 3, path
        opened = operator.evaluate(
            "() => { const all = document.querySelectorAll('details');"
            " all.forEach((d) => { d.open = true; }); return all.length; }"
        )
        assert opened >= 1, path
        wide, window = _fits(operator)
        assert wide <= window, f"{path} is {wide} px wide in a {window} px window"
