"""The portal in real headless Chromium, against the real host on a loopback port.

A business applies, an operator approves it, its owner logs in and sees the
activation codes, a terminal activates with one and pays; an owner filters and
pages through transactions, opens one, exports the CSV (checked against the
database) and refunds; a read-only user cannot; another merchant's id answers
404; an operator approves a merchant in review and it can then take a signed
payment. The browser's USCC check agrees with the server's on generated codes.
"""

from __future__ import annotations

import csv
import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from browser_support import chromium
from host.kit import RunningHost, SignedClient, activate, make_world, remember
from host.portal.portal_kit import PASSWORD, add_user
from scanpay.host.db.models import Payment, Refund
from scanpay.host.domain.uscc import USCC_ALPHABET, check_character, is_valid_uscc, normalize_uscc
from scanpay.host.services import merchants, terminals, wallets

pytestmark = [
    pytest.mark.browser,
    # The browser is the point here, not the database: SQLite (PostgreSQL is covered
    # by the HTTP tests of the same routes).
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser: Any, host: RunningHost) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(20_000)
    errors: list[str] = []
    foreign: list[str] = []

    def on_request(request: Any) -> None:
        if not request.url.startswith((host.url, "data:", "blob:")):
            foreign.append(request.url)

    ctx.on("request", on_request)
    ctx.on("weberror", lambda e: errors.append(str(e.error)))
    yield ctx
    ctx.close()
    assert not foreign, f"requests that left the host: {foreign}"
    assert not errors, f"script errors: {errors}"


def _login(page: Any, host: RunningHost, email: str) -> None:
    page.goto(host.url + "/portal/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#who")


def _pay(host: RunningHost, client: SignedClient, number: str, amount: int) -> dict[str, Any]:
    opened = wallets.open_account(
        host.ctx, name="Sun", currency="CNY", balance=100_000, pin="123456"
    )
    remember(opened.secret_hex)
    host.clock.advance(host.ctx.settings.code_format.step_seconds)
    digits = remember(wallets.issue_code(host.ctx, opened.info.account).digits)
    answer = client.pay(number, amount, digits)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_the_browsers_uscc_check_agrees_with_the_server(context: Any, host: RunningHost) -> None:
    rng = random.Random(32100)
    cases: list[str] = ["91350100M000100Y43", "91350100M000100Y42", "", "9135", "a" * 18]
    for _ in range(600):
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(17))
        good = body + check_character(body)
        cases += [
            good,
            good.lower(),
            f"  {good} ",
            body + rng.choice(USCC_ALPHABET),
            good[:-1],
            good + "0",
            good[:5] + rng.choice("IOSVZ") + good[6:],
        ]
    page = context.new_page()
    page.goto(host.url + "/portal/apply")
    answers = page.evaluate(
        "cases => cases.map(c => scanpayUscc.isValid(scanpayUscc.normalize(c)))", cases
    )
    expected = [is_valid_uscc(normalize_uscc(c)) for c in cases]
    assert answers == expected
    assert sum(expected) > 1000 and len(expected) - sum(expected) > 1000
    bodies = ["".join(rng.choice(USCC_ALPHABET) for _ in range(17)) for _ in range(300)]
    checks = page.evaluate("bodies => bodies.map(b => scanpayUscc.checkCharacter(b))", bodies)
    assert checks == [check_character(b) for b in bodies]
    # and as it is typed
    page.fill("#license", "91350100M000100Y42")
    assert page.text_content("#license-check") == "wrong check character: it should be 3"
    page.fill("#license", "91350100M000100Y43")
    assert page.text_content("#license-check") == "check character is right"
    page.fill("#license", "9135")
    assert page.text_content("#license-check") == "14 more characters"


def test_apply_approve_owner_sees_codes_terminal_activates(
    browser: Any, context: Any, host: RunningHost
) -> None:
    email = f"browser-{uuid.uuid4().hex[:8]}@biz.example"
    applicant = context.new_page()
    applicant.goto(host.url + "/portal/apply")
    fields = {
        "company_name": "杭州湖畔茶馆有限公司",
        "shop_name": "Lakeside Tea",
        "license": "91330100MA2H3K4L5X"[:17],
        "legal_representative": "陈六",
        "phone": "0571 8888 1234",
        "email": email,
        "city": "Hangzhou",
        "address": "Beishan Road 9",
        "monthly_volume": "80000",
        "terminal_count": "2",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    fields["license"] += check_character(fields["license"])
    for name, value in fields.items():
        applicant.fill(f"#apply-form [name={name}]", value)
    applicant.select_option("#apply-form select[name=mcc]", "5812")
    assert applicant.text_content("#license-check") == "check character is right"
    applicant.click("#apply-submit")
    applicant.wait_for_url("**/portal/application")
    reference = applicant.text_content("#reference").strip()
    assert re.fullmatch(r"AP-[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    assert applicant.text_content("#application-status").strip() == "submitted"
    # the operator, in another browser
    operator_ctx = browser.new_context(locale="en-US")
    operator = operator_ctx.new_page()
    _login(operator, host, add_user(host, "operator"))
    operator.goto(host.url + "/portal/operator/applications")
    operator.click(f"a:has-text('{reference}')")
    assert "check passed" in operator.text_content("#licence-check")
    operator.click("#approve")
    operator.wait_for_selector("#notice")
    notice = operator.text_content("#notice")
    assert notice.startswith("Approved: merchant M")
    merchant_id = re.search(r"merchant (M\d+)", notice).group(1)  # type: ignore[union-attr]
    operator_ctx.close()
    # the owner logs in again and sees the codes
    applicant.click("#logout")
    applicant.wait_for_url("**/portal/login?bye=1")
    _login(applicant, host, email)
    applicant.wait_for_url("**/portal/today")
    assert merchant_id in applicant.text_content("#who")
    codes = applicant.locator("#activation-codes code.code").all_text_contents()
    assert len(codes) == 2 and all(
        re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", c) for c in codes
    )
    applicant.goto(host.url + "/portal/terminals")
    assert applicant.locator("#activation-codes code.code").all_text_contents() == codes
    # a terminal activates with one over real HTTP and takes a signed payment
    answer = activate(host.url, remember(codes[0]))
    assert answer.status_code == 200, answer.text
    client = SignedClient(
        host.url, answer.json()["terminal_id"], remember(answer.json()["key"]), host.clock
    )
    assert _pay(host, client, "TEA-0001", 3800)["status"] == "SUCCESS"
    applicant.goto(host.url + "/portal/transactions")
    row = applicant.locator("#transactions tbody tr").first
    assert "TEA-0001" in row.text_content() and "38.00" in row.text_content()
    applicant.goto(host.url + "/portal/terminals")
    states = applicant.locator("#activation-codes tbody tr td:nth-child(4)").all_text_contents()
    assert sorted(states) == ["activated", "waiting"]


def test_owner_filters_pages_exports_and_refunds_read_only_cannot(
    browser: Any, context: Any, host: RunningHost, tmp_path: Path
) -> None:
    world = make_world(host, balance=1_000_000)
    for i in range(25):
        world.pay(f"BR-{i:02d}", 500 + (i * 7) % 25 * 100)
    other = make_world(host)
    foreign = other.pay("OTHER-1", 999)
    owner_email = add_user(host, "owner", world.merchant_id)
    page = context.new_page()
    _login(page, host, owner_email)
    page.click("nav.main a:has-text('Transactions')")
    page.fill("#filters [name=amount_min]", "6.00")
    page.select_option("#filters select[name=sort]", "amount")
    page.select_option("#filters select[name=dir]", "asc")
    page.select_option("#page-size", "20")
    page.click("#apply-filters")
    page.wait_for_url(re.compile(r".*amount_min=6.00.*"))
    with host.ctx.db.read() as session:
        expected = session.execute(
            select(Payment.public_id, Payment.out_trade_no, Payment.amount)
            .where(Payment.merchant_id == int(world.merchant_id[1:]), Payment.amount >= 600)
            .order_by(Payment.amount, Payment.id)
        ).all()
    assert len(expected) > 20
    first = page.locator("#transactions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.payment)"
    )
    assert first == [pid for pid, _, _ in expected[:20]]
    page.click("#next-page")
    page.wait_for_selector("#prev-page")
    second = page.locator("#transactions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.payment)"
    )
    assert second == [pid for pid, _, _ in expected[20:]]
    assert page.locator("#next-page").count() == 0
    page.click("#prev-page")
    page.wait_for_selector("#next-page")
    assert (
        page.locator("#transactions tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.payment)"
        )
        == first
    )
    # the CSV of the filtered set, against the database
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["payment_id"], r["out_trade_no"]) for r in rows] == [(p, n) for p, n, _ in expected]
    assert [int(r["amount"].replace(".", "")) for r in rows] == [a for _, _, a in expected]
    # a detail, and a refund as the owner
    pid, number, _ = expected[0]
    page.click(f"a.trade:has-text('{number}')")
    page.wait_for_selector("#payment-facts")
    assert "*" in page.text_content("#detail-payer")
    assert "payment" in page.text_content("#history")
    page.fill("#refund-form [name=amount]", "2,00")  # a decimal comma: refused, not 200.00
    page.fill("#refund-form [name=reason]", "cold tea")
    page.click("#refund-submit")
    assert page.wait_for_selector("#error-amount").text_content() == (
        "In an amount a comma groups thousands (as in 1,000.00): did you mean 2.00?"
    )
    assert page.input_value("#refund-form [name=amount]") == "2,00"
    page.fill("#refund-form [name=amount]", "2.00")
    page.click("#refund-submit")
    # the confirm step names the amount and its currency; nothing is refunded before it
    assert "Refund 2.00 CNY?" in page.wait_for_selector("#refund-confirm-text").text_content()
    page.click("#refund-confirm-submit")
    page.wait_for_selector("#notice")
    assert page.text_content("#notice").strip() == "Refunded: 2.00 CNY"
    assert "cold tea" not in page.text_content("#notice")
    assert "2.00 CNY" in page.text_content("#detail-refunded")
    with host.ctx.db.read() as session:
        refund = session.scalar(
            select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.public_id == pid)
        )
    assert refund is not None and (refund.amount, refund.status, refund.reason) == (
        200,
        "SUCCESS",
        "cold tea",
    )
    # a read-only user sees the payment, but cannot refund it (not even by posting the form)
    reader_ctx = browser.new_context(locale="en-US")
    reader = reader_ctx.new_page()
    _login(reader, host, add_user(host, "read_only", world.merchant_id))
    reader.goto(f"{host.url}/portal/transactions/{pid}")
    assert reader.locator("#refund-form").count() == 0
    assert "Only the owner can refund" in reader.text_content("#refund-not-allowed")
    csrf = reader.locator("input[name=csrf]").first.get_attribute("value")
    refused = reader_ctx.request.post(
        f"{host.url}/portal/transactions/{pid}/refund",
        form={"csrf": csrf, "amount": "1.00"},
        headers={"Accept-Language": "en"},
    )
    assert refused.status == 403 and "Your role does not allow this" in refused.text()
    reader.goto(host.url + "/portal/transactions")
    assert reader.locator("#export-csv").count() == 0
    reader_ctx.close()
    with host.ctx.db.read() as session:
        refunds = session.scalars(
            select(Refund.amount)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.public_id == pid)
        ).all()
    assert refunds == [200]  # the owner's, and nothing from the read-only user
    # another merchant's payment answers 404, whoever asks
    answer = page.goto(f"{host.url}/portal/transactions/{foreign['payment_id']}")
    assert answer.status == 404 and "No such page or record" in page.text_content("#error-message")
    assert "OTHER-1" not in page.content()


def test_operator_approves_a_merchant_which_then_transacts(context: Any, host: RunningHost) -> None:
    info = merchants.add_merchant(
        host.ctx, name="Noodle Bar", city="Wuhan", mcc="5814", license="91350100M000100Y43"
    )
    issued = terminals.add_terminal(host.ctx, info.merchant_id)
    assert activate(host.url, remember(issued.activation_code)).status_code == 403
    page = context.new_page()
    _login(page, host, add_user(host, "operator"))
    page.goto(host.url + "/portal/operator/merchants?status=in_review")
    row = page.locator(f"tr[data-merchant='{info.merchant_id}']")
    assert "in review" in row.text_content() and "check passed" in row.text_content()
    row.locator("button.approve-merchant").click()
    page.wait_for_selector("#notice")
    assert page.text_content("#notice").strip() == f"Merchant {info.merchant_id}: approved"
    assert "approved" in page.locator(f"tr[data-merchant='{info.merchant_id}']").text_content()
    answer = activate(host.url, issued.activation_code)
    assert answer.status_code == 200
    client = SignedClient(
        host.url, answer.json()["terminal_id"], remember(answer.json()["key"]), host.clock
    )
    paid = _pay(host, client, "NOODLE-1", 1800)
    assert paid["status"] == "SUCCESS" and paid["code"] == "00"
    page.goto(host.url + "/portal/operator/audit")
    assert "Audit chain OK" in page.text_content("#audit-result")
    assert (
        httpx.get(host.url + "/portal/static/uscc.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
