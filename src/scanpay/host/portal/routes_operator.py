"""The acquirer operator's pages: applications to review (approve or reject), merchants
(approve, suspend, fee rate), risk limits, and the audit chain's verification.

Only operators get here (:class:`~.deps.OperatorViewer`); a merchant's user gets
404, as if the pages did not exist. Every change goes through the host's own
services with the operator as the actor, so it is in the audit trail.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from scanpay.host.domain.risk import RULES, Scope
from scanpay.host.errors import HostError
from scanpay.host.portal import onboarding, records
from scanpay.host.portal.accounts import user_actor
from scanpay.host.portal.deps import NOT_FOUND, CheckedForm, OperatorViewer, PortalRefusal, Viewer
from scanpay.host.portal.pages import page, redirect
from scanpay.host.portal.texts import text_of, translate
from scanpay.host.services import audit, merchants, risk
from scanpay.money import MoneyError, read_amount

__all__ = ["router"]

router = APIRouter(prefix="/portal/operator", include_in_schema=False)
Status = Annotated[str | None, Query(max_length=16)]
#: Rules whose value is an amount, in the limit's own currency.
_AMOUNT_RULES = frozenset(rule for rule, spec in RULES.items() if spec.priced)


@router.get("")
@router.get("/")
def operator_home(v: OperatorViewer) -> Response:
    return redirect("/portal/operator/applications")


@router.get("/applications")
def applications(v: OperatorViewer, status: Status = None) -> Response:
    chosen = status if status in ("submitted", "approved", "rejected") else None
    rows = onboarding.list_applications(v.ctx, chosen)
    return page(v, "op_applications.html", section="applications", rows=rows, chosen=chosen)


def _review(
    v: Viewer, reference: str, *, notice: str = "", kind: str = "ok", status: int = 200
) -> Response:
    try:
        found = onboarding.review(v.ctx, reference)
    except HostError:
        raise PortalRefusal(404, NOT_FOUND) from None
    return page(
        v,
        "op_application.html",
        http_status=status,
        section="applications",
        r=found,
        a=found.application,
        notice=notice,
        notice_kind=kind,
    )


@router.get("/applications/{reference}")
def application(v: OperatorViewer, reference: str) -> Response:
    return _review(v, reference)


@router.post("/applications/{reference}/approve")
def approve(v: OperatorViewer, form: CheckedForm, reference: str) -> Response:
    assert v.user is not None
    fee_rate = str(form.get("fee_rate", "0.0038")).strip()[:12] or "0.0038"
    try:
        done = onboarding.approve(v.ctx, reference, fee_rate=fee_rate, actor=user_actor(v.user))
    except HostError as exc:
        if exc.code == "25":
            raise PortalRefusal(404, exc.text) from None
        message = translate("review.refused", v.lang, message=exc.text.get(v.lang))
        return _review(v, reference, notice=message, kind="error", status=409)
    listed = records.terminal_views(v.ctx, int((done.merchant_id or "M0")[1:]))
    message = translate(
        "review.approved",
        v.lang,
        merchant=done.merchant_id,
        terminals=", ".join(x.terminal_id for x in listed),
    )
    return _review(v, reference, notice=message)


@router.post("/applications/{reference}/reject")
def reject(v: OperatorViewer, form: CheckedForm, reference: str) -> Response:
    assert v.user is not None
    reason = str(form.get("reason", ""))[:512]
    try:
        onboarding.reject(v.ctx, reference, reason, actor=user_actor(v.user))
    except HostError as exc:
        if exc.code == "25":
            raise PortalRefusal(404, exc.text) from None
        message = translate("review.refused", v.lang, message=exc.text.get(v.lang))
        return _review(v, reference, notice=message, kind="error", status=409)
    return _review(v, reference, notice=translate("review.rejected", v.lang))


def _merchants(
    v: Viewer, status: str | None, notice: str = "", kind: str = "ok", code: int = 200
) -> Response:
    chosen = status if status in ("in_review", "approved", "suspended") else None
    return page(
        v,
        "op_merchants.html",
        http_status=code,
        section="merchants",
        rows=records.merchants_overview(v.ctx, chosen),
        chosen=chosen,
        notice=notice,
        notice_kind=kind,
    )


@router.get("/merchants")
def merchant_list(v: OperatorViewer, status: Status = None) -> Response:
    return _merchants(v, status)


@router.post("/merchants/{merchant_id}/status")
def merchant_status(v: OperatorViewer, form: CheckedForm, merchant_id: str) -> Response:
    assert v.user is not None
    action = str(form.get("action", ""))
    if action not in ("approve", "suspend"):
        raise PortalRefusal(400, NOT_FOUND)
    try:
        info = merchants.set_status(v.ctx, merchant_id, action, actor=user_actor(v.user))
    except HostError as exc:
        if exc.code == "25":
            raise PortalRefusal(404, exc.text) from None
        message = translate("review.refused", v.lang, message=exc.text.get(v.lang))
        return _merchants(v, None, message, "error", 409)
    status = translate("mstatus." + str(info.status), v.lang)
    return _merchants(
        v, None, translate("merchants.done", v.lang, merchant=info.merchant_id, status=status)
    )


@router.post("/merchants/{merchant_id}/fee")
def merchant_fee(v: OperatorViewer, form: CheckedForm, merchant_id: str) -> Response:
    assert v.user is not None
    rate = str(form.get("fee_rate", "")).strip()[:12]
    try:
        info = merchants.set_fee_rate(v.ctx, merchant_id, rate, actor=user_actor(v.user))
    except HostError as exc:
        if exc.code == "25":
            raise PortalRefusal(404, exc.text) from None
        message = translate("review.refused", v.lang, message=exc.text.get(v.lang))
        return _merchants(v, None, message, "error", 400)
    message = translate("merchants.fee_done", v.lang, merchant=info.merchant_id, rate=info.fee_rate)
    return _merchants(v, None, message)


def _limits(v: Viewer, notice: str = "", kind: str = "ok", code: int = 200) -> Response:
    rows = []
    for info in risk.list_limits(v.ctx):
        item = info.to_dict()  # "shown": an amount in its currency ("2000.000 KWD")
        item["updated_at"] = info.updated_at
        rows.append(item)
    return page(
        v,
        "op_limits.html",
        http_status=code,
        section="limits",
        rows=rows,
        notice=notice,
        notice_kind=kind,
        rules=[r.value for r in RULES],
        scopes=[s.value for s in Scope],
    )


@router.get("/limits")
def limits(v: OperatorViewer) -> Response:
    return _limits(v)


@router.post("/limits")
def set_limit(v: OperatorViewer, form: CheckedForm) -> Response:
    assert v.user is not None
    rule = str(form.get("rule", ""))[:32]
    scope = str(form.get("scope", "default"))[:16]
    key = str(form.get("key", "")).strip()[:32]
    # Read whole (the form's size is bounded): a cut could change what the amount says.
    text = str(form.get("value", "")).strip()
    window_text = str(form.get("window", "")).strip()[:7]
    action = str(form.get("action", "decline"))[:8]
    # Empty: the merchant's, terminal's or wallet's own currency (required for the others).
    currency = str(form.get("currency", "")).strip().upper()[:8] or None
    try:
        if rule in {r.value for r in _AMOUNT_RULES}:
            # The amount is typed in the limit's currency (KWD has 3 decimals, JPY none).
            currency = risk.limit_currency(v.ctx, rule, scope, key, currency)
            value = read_amount(text, currency, locale=v.lang, allow_zero=True, field="value")
        elif text.isascii() and text.isdigit() and len(text) <= 18:
            value = int(text)
        else:
            raise MoneyError("bad_amount", text_of("refund.bad_amount"), field="value")
        window = int(window_text) if window_text.isdigit() else None
        risk.set_limit(
            v.ctx,
            user_actor(v.user),
            rule,
            value,
            scope=scope,
            key=key,
            action=action,
            window_seconds=window,
            currency=currency,
        )
    except (HostError, MoneyError) as exc:
        message = translate("review.refused", v.lang, message=exc.text.get(v.lang))
        return _limits(v, message, "error", 400)
    return _limits(v, translate("limits.done", v.lang, rule=rule, scope=scope, key=key))


@router.get("/audit")
def audit_page(v: OperatorViewer) -> Response:
    """The audit chain, verified now (the whole chain, in one snapshot)."""
    started = time.perf_counter()
    report = audit.verify(v.ctx)
    ms = round((time.perf_counter() - started) * 1000)
    recent = audit.history(v.ctx, limit=30)
    return page(
        v, "op_audit.html", section="audit", report=report, ms=ms, at=v.ctx.now(), recent=recent
    )
