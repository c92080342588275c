"""The operator's reconciliation page in real headless Chromium (issue 17): an operator
opens *Reconciliation* from the menu, opens the day, sees the break the day's WeChat Pay
statement holds, resolves it in words and sees it resolved.

The host and the WeChat Pay simulator run on loopback (:func:`host.network_kit.sim_and_host`,
SQLite: PostgreSQL is covered by the HTTP tests of the same routes); the merchant sells
through the host, and once at the simulator under a number the host never sent (the
break); the day is reconciled by the host's service, as the nightly job does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from host.network_kit import BEIJING, Shop, Stack, sim_and_host
from host.portal.portal_kit import PASSWORD, add_user
from scanpay.host.domain.reconciliation import KIND_TEXTS, BreakKind
from scanpay.host.domain.reconciliation_detail import DETAIL_TEXTS, DetailCode
from scanpay.host.services.reconciliation import reconcile
from scanpay.host.services.reconciliation_records import BreakInfo, list_breaks

pytestmark = pytest.mark.browser

START = datetime(2026, 5, 4, 12, 0, tzinfo=BEIJING)


@dataclass
class Scene:
    stack: Stack
    day: date
    merchant_id: str
    found: BreakInfo
    email: str


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder: Path = tmp_path_factory.mktemp("reconciliation-browser")
    with sim_and_host(folder, "sqlite", START) as stack:
        shop = Shop.open(stack, balance=100_000)
        shop.pay()
        foreign = shop.pay_at_the_network()
        day = START.date()
        [run] = reconcile(stack.ctx, day, "wechat_pay")
        assert (run.matched, run.open_breaks) == (1, 1)
        [found] = run.breaks
        assert (found.kind, found.trade_no) == (BreakKind.NETWORK_ONLY, foreign)
        yield Scene(stack, day, shop.merchant_id, found, add_user(stack.host, "operator"))


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
    detail = row.locator("td.detail").inner_text().strip()
    assert detail == DETAIL_TEXTS[DetailCode.NO_SUCH_PAYMENT].en
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
