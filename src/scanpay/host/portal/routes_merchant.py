"""The merchant's pages: today, transactions (list, exports, detail, receipt, refund),
orders, refunds, settlements (and their files), terminals (and key rotation).

Every route takes the merchant from the session (:class:`~.deps.MerchantViewer`)
and every lookup is scoped to it: another merchant's id answers 404, like an
id that does not exist. Routes are plain functions: FastAPI runs them in its
thread pool, where the database calls belong.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from scanpay.host.errors import HostError
from scanpay.host.portal import exports, onboarding, overview, records, transactions
from scanpay.host.portal.accounts import user_actor
from scanpay.host.portal.charts import ChartPoint, combo_chart
from scanpay.host.portal.deps import (
    NOT_FOUND,
    CheckedForm,
    MerchantViewer,
    PortalRefusal,
    Viewer,
    require,
)
from scanpay.host.portal.filters import PAGE_SIZES, STATUSES, decode_cursor, parse_filters
from scanpay.host.portal.pages import page
from scanpay.host.portal.render import group_digits
from scanpay.host.portal.roles import Permission
from scanpay.host.portal.texts import translate
from scanpay.host.services import orders, refunds, settlement, terminals
from scanpay.money import MoneyError, format_amount, read_amount
from scanpay.protocol.models import RefundRequest

__all__ = ["router"]

router = APIRouter(prefix="/portal", include_in_schema=False)

#: Wallets a merchant can filter by (the host's issuer and the ones it names in declines).
WALLETS = ("scanpay", "wechat_pay", "alipay", "unionpay_quickpass")
Cursor = Annotated[str | None, Query(max_length=200)]


def _money(v: Viewer, minor: int) -> str:
    assert v.user is not None
    return group_digits(format_amount(minor, v.user.currency))


@router.get("/today")
def today(v: MerchantViewer) -> Response:
    o = overview.overview(v.ctx, v.merchant_pk)
    t = v.lang
    assert v.user is not None

    def point(label: str, count: int, amount: int) -> ChartPoint:
        title = translate("chart.point", t, label=label, amount=_money(v, amount), count=count)
        return ChartPoint(label, amount, count, title)

    def axis(minor: int) -> str:
        text = _money(v, minor)
        return text.split(".")[0] if minor % 100 == 0 else text

    hours = [point(f"{h:02d}", tally.count, tally.amount) for h, tally in o.hours]
    days = [point(d.strftime("%m-%d"), tally.count, tally.amount) for d, tally in o.days]
    names = {"bar_name": translate("chart.amount", t), "line_name": translate("chart.count", t)}
    codes = [
        c
        for c in onboarding.activation_codes(v.ctx, v.merchant_pk)
        if c.state == "pending" and v.user.role == "owner"
    ]
    return page(
        v,
        "today.html",
        section="today",
        o=o,
        days=overview.DAYS,
        currency=v.user.currency,
        pending_codes=codes,
        hours_chart=combo_chart(
            hours,
            title=translate("chart.hours_title", t),
            bar_label=axis,
            label_every=2,
            css_class="chart hours",
            **names,
        ),
        days_chart=combo_chart(
            days,
            title=translate("chart.days_title", t),
            bar_label=axis,
            label_every=3,
            css_class="chart days",
            **names,
        ),
    )


@router.get("/transactions")
def transaction_list(v: MerchantViewer, request: Request, cursor: Cursor = None) -> Response:
    assert v.user is not None
    f, problems = parse_filters(request.query_params, currency=v.user.currency, language=v.lang)
    page_ = transactions.transactions_page(v.ctx, v.merchant_pk, f, decode_cursor(cursor or ""))
    return page(
        v,
        "transactions.html",
        # A filter that cannot be used is the asker's mistake (400), shown beside its field
        # with the list it left out; never a 500.
        http_status=400 if problems else 200,
        section="transactions",
        f=f,
        params=f.to_params(v.user.currency),
        errors={k: text.get(v.lang) for k, text in problems.items()},
        page=page_,
        statuses=STATUSES,
        page_sizes=PAGE_SIZES,
        terminals=records.terminal_ids(v.ctx, v.merchant_pk),
        wallets=WALLETS,
        can_export=v.can(Permission.EXPORT),
    )


def _download_name(v: Viewer, kind: str) -> str:
    assert v.user is not None
    stamp = v.ctx.now().astimezone(v.ctx.settings.zone).strftime("%Y%m%d-%H%M%S")
    return f"transactions-{v.user.merchant_id}-{stamp}.{kind}"


@router.get("/transactions/export.csv")
def export_csv(v: MerchantViewer, request: Request) -> Response:
    """The filtered set as CSV, streamed (rows leave as the database hands them over)."""
    require(v, Permission.EXPORT)
    assert v.user is not None
    f, _ = parse_filters(request.query_params, currency=v.user.currency, language=v.lang)
    name = _download_name(v, "csv")
    return StreamingResponse(
        exports.csv_stream(v.ctx, v.merchant_pk, f),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/transactions/export.xlsx")
def export_xlsx(v: MerchantViewer, request: Request) -> Response:
    """The filtered set as XLSX: written in constant memory to a temporary file, streamed."""
    require(v, Permission.EXPORT)
    assert v.user is not None
    f, _ = parse_filters(request.query_params, currency=v.user.currency, language=v.lang)
    path = exports.write_xlsx(v.ctx, v.merchant_pk, f, v.lang)
    name = _download_name(v, "xlsx")
    return StreamingResponse(
        exports.file_chunks(path),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(path.stat().st_size),
            "Cache-Control": "no-store",
        },
    )


def _detail(v: Viewer, payment_id: str) -> transactions.PaymentDetail:
    found = transactions.payment_detail(v.ctx, v.merchant_pk, payment_id)
    if found is None:
        raise PortalRefusal(404, NOT_FOUND)
    return found


def _detail_page(
    v: Viewer,
    payment_id: str,
    *,
    notice: str = "",
    kind: str = "ok",
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    confirm: dict[str, str] | None = None,
) -> Response:
    """The payment's page. ``errors`` (by field) and ``typed`` (what was typed) refill the
    refund form; ``confirm`` replaces it with the confirm step of a checked refund."""
    return page(
        v,
        "transaction.html",
        http_status=status,
        section="transactions",
        d=_detail(v, payment_id),
        can_refund=v.can(Permission.REFUND),
        refund_key=(typed or {}).get("refund_key") or secrets.token_hex(8),
        notice=notice,
        notice_kind=kind,
        errors=errors or {},
        typed=typed or {},
        confirm=confirm,
    )


@router.get("/transactions/{payment_id}")
def transaction(v: MerchantViewer, payment_id: str) -> Response:
    return _detail_page(v, payment_id)


@router.get("/transactions/{payment_id}/receipt")
def receipt(v: MerchantViewer, payment_id: str) -> Response:
    assert v.user is not None
    return page(
        v,
        "receipt.html",
        d=_detail(v, payment_id),
        merchant_name=v.user.merchant_name,
        merchant_id=v.user.merchant_id,
        now=v.ctx.now(),
    )


@router.post("/transactions/{payment_id}/refund")
def refund(v: MerchantViewer, form: CheckedForm, payment_id: str) -> Response:
    """Refund all or part of a payment (owner only): the host's own refund service, with
    the owner as the actor in the audit trail.

    Two steps: the amount as typed is read in the page's language and checked against
    what is left to refund (any refusal is a form error, 400, nothing changed); the page
    then asks "Refund 1.00 CNY?", and only the answer to that (``confirmed``, the amount
    shown) refunds."""
    require(v, Permission.REFUND)
    assert v.user is not None
    d = _detail(v, payment_id)
    typed = {
        # Read whole (the form's size is bounded): a cut could change what it says.
        "amount": str(form.get("amount", "")),
        "reason": " ".join(str(form.get("reason", "")).split())[:128],
        # The form's own key: the same form sent twice (a double click) is one refund.
        "refund_key": str(form.get("refund_key", "")),
    }
    if not re.fullmatch(r"[0-9a-f]{16}", typed["refund_key"]):
        typed["refund_key"] = secrets.token_hex(8)
    currency = d.row.currency
    try:
        amount = read_amount(typed["amount"], currency, locale=v.lang, maximum=max(d.refundable, 0))
    except MoneyError as exc:
        message = exc.text.get(v.lang)
        if exc.code == "amount_too_large":
            left = f"{group_digits(format_amount(d.refundable, currency))} {currency}"
            message = translate("refund.too_much", v.lang, left=left)
        return _detail_page(v, payment_id, errors={"amount": message}, typed=typed, status=400)
    shown = f"{group_digits(format_amount(amount, currency))} {currency}"
    if str(form.get("confirmed", "")) != str(amount):
        # Not confirmed yet, or confirmed for another amount: ask (again) with this one.
        confirm = {**typed, "shown": shown, "minor": str(amount)}
        return _detail_page(v, payment_id, typed=typed, confirm=confirm)
    request = RefundRequest(
        out_refund_no=f"PR{typed['refund_key'].upper()}",
        out_trade_no=d.row.out_trade_no,
        amount=amount,
        reason=typed["reason"] or None,
        approved_by=v.user.user_id,
    )
    try:
        done = refunds.create_refund(
            v.ctx, request, merchant_pk=v.merchant_pk, actor=user_actor(v.user)
        )
    except HostError as exc:
        message = translate("refund.failed", v.lang, message=exc.text.get(v.lang))
        return _detail_page(v, payment_id, notice=message, kind="error", status=400)
    body = done.refund
    shown = f"{_money(v, body.amount)} {body.currency}"
    if body.status == "SUCCESS":
        return _detail_page(v, payment_id, notice=translate("refund.done", v.lang, amount=shown))
    if body.status == "PROCESSING":
        notice = translate("refund.processing", v.lang, amount=shown)
        return _detail_page(v, payment_id, notice=notice)
    message = translate(
        "refund.failed", v.lang, message=body.message.en if v.lang == "en" else body.message.zh_cn
    )
    return _detail_page(v, payment_id, notice=message, kind="error", status=409)


@router.get("/orders")
def order_list(
    v: MerchantViewer,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Cursor = None,
) -> Response:
    rows, next_cursor = records.orders_page(v.ctx, v.merchant_pk, status=status, cursor=cursor)
    return page(
        v, "orders.html", section="orders", rows=rows, next_cursor=next_cursor,
        chosen=status if status in records.ORDER_STATUSES else None,
        statuses=records.ORDER_STATUSES,
    )  # fmt: skip


def _order(v: Viewer, order_id: str) -> records.OrderRow:
    found = records.order_detail(v.ctx, v.merchant_pk, order_id)
    if found is None:
        raise PortalRefusal(404, NOT_FOUND)
    return found


@router.get("/orders/{order_id}")
def order(v: MerchantViewer, order_id: str) -> Response:
    return page(v, "order.html", section="orders", o=_order(v, order_id))


@router.get("/orders/{order_id}/qr.svg")
def order_qr(v: MerchantViewer, order_id: str) -> Response:
    svg = orders.render_qr(_order(v, order_id).payload, "svg")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/refunds")
def refund_list(v: MerchantViewer, cursor: Cursor = None) -> Response:
    rows, next_cursor = records.refunds_page(v.ctx, v.merchant_pk, cursor=cursor)
    return page(v, "refunds.html", section="refunds", rows=rows, next_cursor=next_cursor)


@router.get("/refunds/{refund_id}")
def refund_page(v: MerchantViewer, refund_id: str) -> Response:
    found = records.refund_detail(v.ctx, v.merchant_pk, refund_id)
    if found is None:
        raise PortalRefusal(404, NOT_FOUND)
    return page(v, "refund.html", section="refunds", r=found)


@router.get("/settlements")
def settlement_list(v: MerchantViewer) -> Response:
    return page(
        v,
        "settlements.html",
        section="settlements",
        rows=records.settlements(v.ctx, v.merchant_pk),
        batches=records.batches(v.ctx, v.merchant_pk),
        can_export=v.can(Permission.EXPORT),
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.min
    except ValueError:
        return date.min


@router.get("/settlements/{business_date}")
def settlement_page(v: MerchantViewer, business_date: str) -> Response:
    day = _day(business_date)
    found = records.settlement_detail(v.ctx, v.merchant_pk, day) if day != date.min else None
    if found is None:
        raise PortalRefusal(404, NOT_FOUND)
    return page(
        v,
        "settlement.html",
        section="settlements",
        view=found,
        s=found.settlement,
        batches=records.batches(v.ctx, v.merchant_pk, day=day),
        can_export=v.can(Permission.EXPORT),
    )


@router.get("/settlements/{business_date}/file")
def settlement_file(v: MerchantViewer, business_date: str) -> Response:
    """The settlement file (CSV) of a settled day: the date is parsed, never used as a path."""
    require(v, Permission.EXPORT)
    assert v.user is not None
    day = _day(business_date)
    if day == date.min:
        raise PortalRefusal(404, NOT_FOUND)
    try:
        text = settlement.settlement_csv(v.ctx, v.merchant_pk, day)
    except HostError:
        raise PortalRefusal(404, NOT_FOUND) from None
    name = quote(f"settlement-{v.user.merchant_id}-{day.isoformat()}.csv")
    return Response(
        text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/terminals")
def terminal_list(v: MerchantViewer) -> Response:
    return _terminals_page(v)


def _terminals_page(v: Viewer, issued: terminals.IssuedCode | None = None) -> Response:
    assert v.user is not None
    codes = onboarding.activation_codes(v.ctx, v.merchant_pk) if v.user.role == "owner" else []
    return page(
        v,
        "terminals.html",
        section="terminals",
        rows=records.terminal_views(v.ctx, v.merchant_pk),
        codes=codes,
        issued=issued,
        can_manage=v.can(Permission.MANAGE_TERMINALS),
    )


@router.post("/terminals/{terminal_id}/rotate")
def rotate(v: MerchantViewer, form: CheckedForm, terminal_id: str) -> Response:
    """Start a key rotation (owner only): a one-time code, shown once on the answer page."""
    require(v, Permission.MANAGE_TERMINALS)
    assert v.user is not None
    if not records.terminal_views(v.ctx, v.merchant_pk, terminal_id):
        raise PortalRefusal(404, NOT_FOUND)
    try:
        issued = terminals.rotate_key(v.ctx, terminal_id, actor=user_actor(v.user))
    except HostError as exc:
        raise PortalRefusal(409, exc.text) from None
    return _terminals_page(v, issued)
