"""The operator's reconciliation page in real headless Chromium (issue 17): an operator
opens *Reconciliation* from the menu, opens the day, sees the break the day's WeChat Pay
statement holds, resolves it in words and sees it resolved.

The host and the WeChat Pay simulator run on loopback (:func:`host.network_kit.sim_and_host`,
SQLite: PostgreSQL is covered by the HTTP tests of the same routes); the merchant sells
through the host, and once at the simulator under a number the host never sent (the
break); the day is reconciled by the host's service, as the nightly job does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from host.kit import make_terminal, remember
from host.network_kit import Stack, sim_and_host, wechat_merchant
from host.portal.portal_kit import PASSWORD, add_user
from scanpay.host.domain.reconciliation import KIND_TEXTS, BreakKind
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.services.reconciliation_records import BreakInfo, list_breaks
from sim.kit import Merchant as SimMerchant
from sim.kit import v3_call

pytestmark = pytest.mark.browser

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 5, 4, 12, 0, tzinfo=BEIJING)


@dataclass
class Scene:
    stack: Stack
    day: date
    merchant_id: str
    found: BreakInfo
    email: str


def _sale_at_the_network(stack: Stack, wechat: SimMerchant, wallet_id: int) -> str:
    no = "X" + uuid.uuid4().hex[:20]
    status, body = v3_call(
        stack.sim.client(wechat),
        "POST",
        "/v3/pay/transactions/codepay",
        {
            "appid": wechat.appid,
            "mchid": wechat.mchid,
            "description": "sold elsewhere",
            "out_trade_no": no,
            "payer": {"auth_code": remember(stack.sim.code(wallet_id))},
            "amount": {"total": 777},
            "scene_info": {"device_id": "POS-9"},
        },
    )
    assert status == 200, body
    return no


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder: Path = tmp_path_factory.mktemp("reconciliation-browser")
    with sim_and_host(folder, "sqlite", START) as stack:
        merchant_id, wechat = wechat_merchant(stack.ctx, stack.sim)
        wallet_id = int(stack.sim.wallet(100_000)["wallet_id"])
        terminal = make_terminal(stack.host, merchant_id)
        sale = terminal.pay("N" + uuid.uuid4().hex[:20], 1_234, remember(stack.sim.code(wallet_id)))
        assert sale.json()["status"] == "SUCCESS", sale.text
        foreign = _sale_at_the_network(stack, wechat, wallet_id)
        day = START.date()
        [run] = reconcile(stack.ctx, day, "wechat_pay")
        assert (run.matched, run.open_breaks) == (1, 1)
        [found] = run.breaks
        assert (found.kind, found.trade_no) == (BreakKind.NETWORK_ONLY, foreign)
        yield Scene(stack, day, merchant_id, found, add_user(stack.host, "operator"))


@pytest.fixture
def page(browser: Any, scene: Scene) -> Iterator[Any]:
    """A desk browser in English, watched: nothing leaves the host, no script error."""
    base = scene.stack.host.url
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    foreign: list[str] = []
    errors: list[str] = []
    context.on(
        "request",
        lambda r: None if r.url.startswith((base, "data:", "blob:")) else foreign.append(r.url),
    )
    opened = context.new_page()
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert not foreign, f"requests that left the host: {foreign}"
    assert not errors, f"script errors: {errors}"


def test_an_operator_resolves_a_break_on_the_reconciliation_page(page: Any, scene: Scene) -> None:
    base = scene.stack.host.url
    page.goto(base + "/portal/login")
    page.fill("input[name=email]", scene.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#who")

    page.click("nav.main a:has-text('Reconciliation')")
    page.wait_for_selector("#runs")
    run = page.locator(f"#runs tr[data-channel='{scene.merchant_id}']")
    assert run.locator("td.open-breaks").inner_text().strip() == "1"
    run.locator(f"a:has-text('{scene.day.isoformat()}')").click()

    found = scene.found
    row = page.locator(f"tr[data-break='{found.id}']")
    row.wait_for()
    assert KIND_TEXTS[BreakKind.NETWORK_ONLY].en in row.inner_text()
    assert row.locator("td.network-amount").inner_text().strip() == "7.77 CNY"
    row.locator("input[name=resolution]").fill("refunded to the customer at the platform")
    row.locator("button[type=submit]").click()

    page.wait_for_selector("#notice")
    assert f"Break #{found.id} ({found.trade_no}) resolved" in page.inner_text("#notice")
    row = page.locator(f"tr[data-break='{found.id}']")
    assert "resolved" in (row.get_attribute("class") or "").split()
    assert (
        row.locator(".resolution-text").inner_text() == "refunded to the customer at the platform"
    )
    assert scene.email in row.inner_text() and row.locator("form").count() == 0
    [stored] = list_breaks(scene.stack.ctx, run_id=found.run_id)
    assert stored.resolution == "refunded to the customer at the platform"
    assert stored.resolved_by == f"operator:{scene.email}"
