"""The transactions list, its detail, refunds from the portal, the exports, the Today page
and the fixture generator, against the database they describe (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from host.kit import RunningHost, World, make_world
from host.portal.portal_kit import PortalClient, add_user, logged_in
from scanpay.host.db.models import Payment, Refund
from scanpay.host.portal import fixtures
from scanpay.host.services import audit, ledger, refunds
from scanpay.protocol.models import RefundRequest

_ROW = re.compile(r'<tr data-payment="(P[0-9A-F]+)">')
_NEXT = re.compile(r'id="next-page" href="([^"]+)"')
_PREV = re.compile(r'id="prev-page" href="([^"]+)"')


@dataclass
class Till:
    world: World
    owner: PortalClient
    numbers: list[str]


@pytest.fixture(scope="module")
def till(host: RunningHost) -> Iterator[Till]:
    world = make_world(host, balance=2_000_000)
    numbers = []
    for i in range(26):
        # amounts out of order, so sorting by amount differs from sorting by time
        world.pay(f"L-{i:03d}", 100 + (i * 37) % 26 * 100)
        numbers.append(f"L-{i:03d}")
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    yield Till(world, owner, numbers)
    owner.close()
    assert ledger.check(host.ctx).ok and audit.verify(host.ctx).ok


def _walk(client: PortalClient, path: str) -> list[list[str]]:
    pages = []
    while True:
        html = client.get(path).text
        pages.append(_ROW.findall(html))
        found = _NEXT.search(html)
        if found is None:
            return pages
        path = found.group(1).replace("&amp;", "&")


def _db_ids(host: RunningHost, merchant_id: str, *order: object) -> list[str]:
    with host.ctx.db.read() as session:
        return list(
            session.scalars(
                select(Payment.public_id)
                .where(Payment.merchant_id == int(merchant_id[1:]))
                .order_by(*order)  # type: ignore[arg-type]
            )
        )


def test_pages_walk_the_whole_set_in_order_both_ways(till: Till, host: RunningHost) -> None:
    newest = _db_ids(host, till.world.merchant_id, Payment.created_at.desc(), Payment.id.desc())
    pages = _walk(till.owner, "/portal/transactions?size=20")
    assert [len(p) for p in pages] == [20, 6]
    assert [pid for page in pages for pid in page] == newest
    by_amount = _db_ids(host, till.world.merchant_id, Payment.amount, Payment.id)
    pages = _walk(till.owner, "/portal/transactions?sort=amount&dir=asc&size=20")
    assert [pid for page in pages for pid in page] == by_amount
    # back from the second page to the first
    first = till.owner.get("/portal/transactions?size=20").text
    second = till.owner.get(_NEXT.search(first).group(1).replace("&amp;", "&")).text  # type: ignore[union-attr]
    back = till.owner.get(_PREV.search(second).group(1).replace("&amp;", "&")).text  # type: ignore[union-attr]
    assert _ROW.findall(back) == _ROW.findall(first)
    assert 'id="prev-page"' not in first and 'id="next-page"' in back


def test_filters_narrow_the_list(till: Till) -> None:
    owner = till.owner
    one = owner.get("/portal/transactions?trade_no=L-007").text
    assert _ROW.findall(one) and "L-007" in one and "L-008" not in one
    cheap = owner.get("/portal/transactions?amount_min=1&amount_max=3&size=100").text
    amounts = [
        Decimal(a.replace(",", "")) for a in re.findall(r'class="num amount">([\d,.]+)<', cheap)
    ]
    assert amounts and all(Decimal("1") <= a <= Decimal("3") for a in amounts)
    none = owner.get("/portal/transactions?status=REVERSED").text
    assert "No transactions match" in none
    terminal = till.world.terminal.terminal_id
    mine = owner.get(f"/portal/transactions?terminal={terminal}&wallet=scanpay&size=100").text
    assert len(_ROW.findall(mine)) == 26
    bad = owner.get("/portal/transactions?amount_min=abc&from=2026-99-01").text
    assert (
        'id="error-amount_min"' in bad and 'id="error-from"' in bad and len(_ROW.findall(bad)) > 0
    )
    # the filter survives into the pager's links and the export links
    assert "amount_min=1.00" in cheap and "export.csv?amount_min=1.00" in cheap


def test_detail_refund_as_owner_and_history(till: Till, host: RunningHost) -> None:
    owner = till.owner
    listing = owner.get("/portal/transactions?trade_no=L-003").text
    payment_id = _ROW.findall(listing)[0]
    detail = owner.get(f"/portal/transactions/{payment_id}").text
    key = re.search(r'name="refund_key" value="([0-9a-f]+)"', detail).group(1)  # type: ignore[union-attr]
    with host.ctx.db.read() as session:
        row = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert row is not None
        amount, payer = row.amount, row.payer
    assert payer is not None and payer in detail and "*" in payer  # masked, as stored
    token = owner.csrf(f"/portal/transactions/{payment_id}")
    form = {"amount": "1.50", "reason": "broken cup", "refund_key": key}
    asked = owner.post(f"/portal/transactions/{payment_id}/refund", form, csrf=token)
    assert asked.status_code == 200 and "Refund 1.50 CNY?" in asked.text  # the confirm step
    form["confirmed"] = "150"
    done = owner.post(f"/portal/transactions/{payment_id}/refund", form, csrf=token)
    assert done.status_code == 200 and "Refunded: 1.50 CNY" in done.text
    again = owner.post(f"/portal/transactions/{payment_id}/refund", form, csrf=token)
    assert again.status_code == 200  # the same form twice (a double click) is one refund
    too_much = owner.post(
        f"/portal/transactions/{payment_id}/refund",
        {"amount": "99999", "confirmed": "9999900"},
        csrf=token,
    )
    assert too_much.status_code == 400 and "exceed" in too_much.text
    with host.ctx.db.read() as session:
        refunds = session.scalars(
            select(Refund).where(Refund.payment_id == row.id, Refund.status == "SUCCESS")
        ).all()
        paid = session.get(Payment, row.id)
    assert len(refunds) == 1 and refunds[0].amount == 150 and refunds[0].reason == "broken cup"
    assert refunds[0].requested_by == f"portal:{owner.email}"
    assert paid is not None and (paid.status, paid.refunded_amount) == ("PARTIALLY_REFUNDED", 150)
    page = owner.get(f"/portal/transactions/{payment_id}").text
    history = page[page.index('id="history"') :]
    assert "paid → partly refunded" in history
    assert (
        f"merchant portal {owner.email}" in history
        and f"terminal {till.world.terminal.terminal_id}" in history
    )
    receipt = owner.get(f"/portal/transactions/{payment_id}/receipt").text
    assert f"{amount // 100}.{amount % 100:02d} CNY" in receipt and "-1.50" in receipt
    refund_page = owner.get(f"/portal/refunds/{refunds[0].public_id}").text
    assert "broken cup" in refund_page and "merchant portal" in refund_page


def _refund_state(host: RunningHost, payment_id: str) -> tuple[list[int], int]:
    """The payment's refunds (amounts) and its refunded total, as the database has them."""
    with host.ctx.db.read() as session:
        paid = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert paid is not None
        amounts = session.scalars(
            select(Refund.amount).where(Refund.payment_id == paid.id).order_by(Refund.id)
        ).all()
        return list(amounts), paid.refunded_amount


_ERROR = re.compile(r'<span class="error" id="error-amount" role="alert">([^<]*)</span>')


@pytest.mark.parametrize(
    ("typed", "language", "message"),
    [
        # a bare 500 before (pydantic's ValidationError escaped the route)
        ("99999999999", "en", "The amount exceeds what is left to refund (at most {left})"),
        ("99999999999", "zh-CN", "退款金额超过可退金额（最多 {left}）"),
        # 100.00 refunded before (the comma was stripped)
        (
            "1,00",
            "en",
            "In an amount a comma groups thousands (as in 1,000.00): did you mean 1.00?",
        ),
        ("1,00", "zh-CN", "金额中的逗号用于分隔千位（如 1,000.00）；您要输入的是 1.00 吗？"),
        ("abc", "en", "“a” cannot be in an amount: type digits, as in 12.34"),
        ("-1", "en", "An amount cannot be negative"),
        ("-1", "zh-CN", "金额不能为负数"),
        ("0", "en", "The amount must be more than 0"),
        ("", "en", "Enter an amount"),
        ("1.2.3", "en", "An amount has only one decimal point (as in 12.34)"),
        ("1.234", "zh-CN", "CNY 金额最多 2 位小数（如 12.34）"),
    ],
)
def test_any_refund_amount_typed_is_a_form_error_in_the_page_language(
    till: Till, host: RunningHost, typed: str, language: str, message: str
) -> None:
    owner = till.owner
    listing = owner.get("/portal/transactions?trade_no=L-017").text
    payment_id = _ROW.findall(listing)[0]
    before = _refund_state(host, payment_id)
    with host.ctx.db.read() as session:
        paid = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert paid is not None
        left = f"{(paid.amount - paid.refunded_amount) / 100:,.2f} CNY"
    token = owner.csrf(f"/portal/transactions/{payment_id}")
    for confirmed in (None, "100"):  # the first step, and a forged second step
        form = {"amount": typed, "reason": "typo"}
        if confirmed is not None:
            form["confirmed"] = confirmed
        answer = owner.post(
            f"/portal/transactions/{payment_id}/refund",
            form,
            csrf=token,
            headers={"Accept-Language": language},
        )
        assert answer.status_code == 400, answer.text[:300]
        found = _ERROR.search(answer.text)
        assert found is not None and html.unescape(found.group(1)) == message.format(left=left)
        # the form comes back with what was typed, and no confirm step
        assert f'name="amount" inputmode="decimal" required maxlength="64" value="{typed}"' in (
            answer.text
        )
        assert 'id="refund-confirm"' not in answer.text
    assert _refund_state(host, payment_id) == before


def test_a_portal_refund_is_confirmed_with_its_amount_and_currency(
    till: Till, host: RunningHost
) -> None:
    owner = till.owner
    listing = owner.get("/portal/transactions?trade_no=L-019").text
    payment_id = _ROW.findall(listing)[0]
    path = f"/portal/transactions/{payment_id}/refund"
    before = _refund_state(host, payment_id)
    token = owner.csrf(f"/portal/transactions/{payment_id}")
    key = "0123456789abcdef"
    asked = owner.post(path, {"amount": " 1.00 ", "refund_key": key}, csrf=token)
    assert asked.status_code == 200
    assert 'id="refund-confirm-text"' in asked.text and "Refund 1.00 CNY?" in asked.text
    assert 'name="confirmed" value="100"' in asked.text and 'id="refund-form"' not in asked.text
    assert _refund_state(host, payment_id) == before  # asking changes nothing
    # a confirmation for another amount than the one typed asks again, with the typed one
    again = owner.post(path, {"amount": "2.00", "confirmed": "100", "refund_key": key}, csrf=token)
    assert again.status_code == 200 and "Refund 2.00 CNY?" in again.text
    assert _refund_state(host, payment_id) == before
    chinese = owner.post(
        path, {"amount": "1.00", "refund_key": key}, csrf=token, headers={"Accept-Language": "zh"}
    )
    assert "确认退款 1.00 CNY？" in chinese.text
    done = owner.post(path, {"amount": " 1.00 ", "confirmed": "100", "refund_key": key}, csrf=token)
    assert done.status_code == 200 and "Refunded: 1.00 CNY" in done.text
    amounts, total = _refund_state(host, payment_id)
    assert amounts == [*before[0], 100] and total == before[1] + 100


def test_the_history_says_states_who_and_facts_in_words(till: Till, host: RunningHost) -> None:
    """Issue 14: no ``SUCCESS → PARTIALLY_REFUNDED``, ``portal:…`` or ``amount=`` on the page."""
    payment_id = _ROW.findall(till.owner.get("/portal/transactions?trade_no=L-011").text)[0]
    with host.ctx.db.read() as session:
        row = session.scalar(select(Payment).where(Payment.public_id == payment_id))
        assert row is not None
        merchant_pk, out_trade_no = row.merchant_id, row.out_trade_no
    refunds.create_refund(
        host.ctx,
        RefundRequest(
            out_refund_no="L-011-R1", out_trade_no=out_trade_no, amount=100, reason="wrong size"
        ),
        merchant_pk=merchant_pk,
        actor=audit.Actor("portal", "words@shop.example"),
    )
    terminal = till.world.terminal.terminal_id
    shown = {}
    for lang in ("zh-CN", "en"):
        page = till.owner.get(
            f"/portal/transactions/{payment_id}", headers={"Accept-Language": lang}
        ).text
        shown[lang] = page[page.index('id="history"') :]
        for raw in ("SUCCESS", "PARTIALLY_REFUNDED", "portal:", "terminal:", "=", "out_refund_no"):
            assert raw not in shown[lang].replace('="', ""), (lang, raw)
    zh, en = shown["zh-CN"], shown["en"]
    assert "支付成功 → 部分退款" in zh and "paid → partly refunded" in en
    assert "商户服务平台 words@shop.example" in zh and f"终端 {terminal}" in zh
    assert "merchant portal words@shop.example" in en and f"terminal {terminal}" in en
    assert "退款单号</span> L-011-R1" in zh and "refund number</span> L-011-R1" in en
    assert "金额</span> 1.00" in zh and "amount</span> 1.00" in en


def test_csv_and_xlsx_exports_are_the_filtered_set(till: Till, host: RunningHost) -> None:
    owner = till.owner
    answer = owner.get("/portal/transactions/export.csv?amount_min=5&sort=amount&dir=asc")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    with host.ctx.db.read() as session:
        expected = session.execute(
            select(Payment.public_id, Payment.out_trade_no, Payment.amount, Payment.status)
            .where(Payment.merchant_id == int(till.world.merchant_id[1:]), Payment.amount >= 500)
            .order_by(Payment.amount, Payment.id)
        ).all()
    assert [(r["payment_id"], r["out_trade_no"], r["status"]) for r in rows] == [
        (pid, no, status) for pid, no, _, status in expected
    ]
    assert [Decimal(r["amount"]) * 100 for r in rows] == [amount for _, _, amount, _ in expected]
    assert all(r["currency"] == "CNY" and r["created_at"].endswith("+08:00") for r in rows)
    xlsx = owner.get("/portal/transactions/export.xlsx?amount_min=5&sort=amount&dir=asc")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    sheet = book["transactions"]
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "Payment id" and len(cells) == len(rows) + 1
    assert [c[0] for c in cells[1:]] == [r["payment_id"] for r in rows]
    assert [round(c[7] * 100) for c in cells[1:]] == [amount for _, _, amount, _ in expected]


def test_today_adds_up(till: Till, host: RunningHost) -> None:
    page = till.owner.get("/portal/today").text
    with host.ctx.db.read() as session:
        count, total = session.execute(
            select(func.count(), func.sum(Payment.amount)).where(
                Payment.merchant_id == int(till.world.merchant_id[1:]),
                Payment.status.in_(("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")),
            )
        ).one()
    shown = re.search(r'id="t-payments-count">([\d,]+)<', page).group(1)  # type: ignore[union-attr]
    assert int(shown.replace(",", "")) == count
    amount = re.search(r'id="t-payments-sum">([\d,.]+)<', page).group(1)  # type: ignore[union-attr]
    assert Decimal(amount.replace(",", "")) * 100 == total
    assert (
        page.count("<svg") >= 2
        and 'class="bar"' in page
        and "<script" not in page.split("</head>")[1]
    )


def test_selftest_reports_show_on_the_terminals_page(till: Till) -> None:
    report = {
        "status": "warn",
        "pending_reversals": 2,
        "in_doubt": 1,
        "checks": {"camera": "ok", "reversals": "warn"},
        "pending": ["L-900", "L-901"],
    }
    answer = till.world.terminal.request("POST", "/v1/terminals/self/report", report)
    assert answer.status_code == 204
    bad = till.world.terminal.request("POST", "/v1/terminals/self/report", {"status": "great"})
    assert bad.status_code == 400
    page = till.owner.get("/portal/terminals").text
    row = page[page.index(f'data-terminal="{till.world.terminal.terminal_id}"') :]
    assert "L-900, L-901" in row and "reversals: warning" in row
    assert re.search(r'class="num pending-reversals">2', row)


def test_fixtures_keep_the_books_and_page_through(host: RunningHost) -> None:
    report = fixtures.generate(
        host.ctx, transactions=700, days=10, terminal_count=2, wallet_count=2, settle_days=2
    )
    assert report.payments == 700 and sum(report.by_status.values()) == 700
    assert ledger.check(host.ctx).ok
    assert audit.verify(host.ctx).ok
    owner = logged_in(host, add_user(host, "accountant", report.merchant_id))
    pages = _walk(owner, "/portal/transactions?size=100")
    seen = [pid for page in pages for pid in page]
    assert len(seen) == len(set(seen)) == 700
    exported = owner.get("/portal/transactions/export.csv").content.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(exported)))) == 700
    settlements = owner.get("/portal/settlements").text
    assert settlements.count('/file">CSV</a>') == report.settled_days
    assert "differences" in settlements  # one of yesterday's two batches is a payment short
    owner.close()
