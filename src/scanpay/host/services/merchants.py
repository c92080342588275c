"""Merchants: onboarding (licence check), review, suspension, listing, and the one rule
of a merchant's standing that every step moving money asks (:func:`require_standing`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import Merchant, parse_public_id
from scanpay.host.domain.ledger import AccountKind, Book
from scanpay.host.domain.parties import (
    MerchantStatus,
    fee_rate_ppm,
    format_fee_rate,
    merchant_status_after,
)
from scanpay.host.domain.uscc import is_valid_uscc, normalize_uscc
from scanpay.host.errors import HostError
from scanpay.host.services import audit, ledger
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.money import MoneyError, get_currency

__all__ = [
    "MerchantInfo",
    "MoneyStep",
    "add_merchant",
    "get_merchant",
    "list_merchants",
    "may_take",
    "require_standing",
    "set_fee_rate",
    "set_status",
]

_MCC = re.compile(r"[0-9]{4}")


@dataclass(frozen=True, slots=True)
class MerchantInfo:
    """A merchant as the operator sees it."""

    merchant_id: str
    name: str
    city: str
    mcc: str
    license: str
    fee_rate: str
    currency: str
    payee: str
    status: MerchantStatus
    created_at: datetime

    @classmethod
    def of(cls, row: Merchant) -> MerchantInfo:
        return cls(
            row.public_id,
            row.name,
            row.city,
            row.mcc,
            row.license,
            format_fee_rate(row.fee_rate_ppm),
            row.currency,
            row.payee or row.public_id,
            MerchantStatus(row.status),
            row.created_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "name": self.name,
            "city": self.city,
            "mcc": self.mcc,
            "license": self.license,
            "fee_rate": self.fee_rate,
            "currency": self.currency,
            "payee": self.payee,
            "status": str(self.status),
            "created_at": self.created_at.isoformat(),
        }


class MoneyStep(StrEnum):
    """A step that moves a merchant's money (or opens a way for money to reach it)."""

    PAYMENT = "payment"  # the terminal takes a payment (scans the customer's code)
    ORDER = "order"  # the terminal opens an order QR for the customer to pay
    ORDER_PAYMENT = "order_payment"  # the customer's wallet pays an open order
    PIN_CONFIRMATION = "pin_confirmation"  # the customer's PIN completes a payment
    MERCHANT_REFUND = "merchant_refund"  # the merchant refunds (terminal or portal)
    ACQUIRER_REFUND = "acquirer_refund"  # the acquirer's operator refunds a customer
    REVERSAL = "reversal"  # the terminal undoes a sale (an unknown outcome, a cancel)


#: What a merchant that is not approved (in review, or suspended) may still do: money
#: that goes back to a customer on the acquirer's decision, and the terminal's reversal,
#: which is how a sale in doubt is settled (store-and-forward until acknowledged: refusing
#: it would leave a customer charged for a sale the terminal abandoned). Everything that
#: pays the merchant, and a refund on the merchant's own decision, waits for approval:
#: a refund may take the clearing account below zero (money the merchant then owes the
#: acquirer), which a suspended merchant must not be able to run up on its own.
_WITHOUT_STANDING = frozenset({MoneyStep.ACQUIRER_REFUND, MoneyStep.REVERSAL})


def may_take(status: MerchantStatus | str, step: MoneyStep) -> bool:
    """Whether a merchant of ``status`` may take ``step`` (pure; see :func:`require_standing`)."""
    return status == MerchantStatus.APPROVED or step in _WITHOUT_STANDING


def require_standing(status: MerchantStatus | str, step: MoneyStep) -> None:
    """Refuse ``step`` with 58 (403) unless a merchant of ``status`` may take it.

    The one rule of a merchant's standing, asked at every step that moves money, in
    the step's own transaction before it changes anything: a refusal raises, the
    transaction rolls back, and nothing is stored (an open order stays open, a
    payment waiting for its PIN keeps waiting until its deadline, the customer's
    code is not used up). A merchant reinstated in time is paid as if nothing happened.
    """
    if not may_take(status, step):
        raise HostError(
            "58", Text("商户未通过审核或已暂停", "the merchant is not approved or is suspended")
        )


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


@contextmanager
def _writing(ctx: HostContext, session: Session | None) -> Iterator[Session]:
    """The caller's write transaction when given (several steps, one commit), else a new one."""
    if session is not None:
        yield session
        return
    with ctx.db.write() as own:
        yield own


def add_merchant(
    ctx: HostContext,
    *,
    name: str,
    city: str,
    mcc: str,
    license: str,
    fee_rate: str = "0.0038",
    currency: str = "CNY",
    payee: str | None = None,
    actor: audit.Actor = audit.LOCAL,
    session: Session | None = None,
) -> MerchantInfo:
    """Create a merchant in review, with its clearing accounts (real and training).

    ``session``: inside the caller's write transaction (the portal's approval of
    an application creates the merchant, approves it and adds its terminals at once).
    """
    name, city, licence = name.strip(), city.strip(), normalize_uscc(license)
    # EMV merchant-presented codes carry at most 25 characters of name and 15 of city.
    if not 1 <= len(name) <= 25:
        raise _bad("name", "商户名称须为 1-25 个字符", "the merchant name is 1-25 characters")
    if not 1 <= len(city) <= 15:
        raise _bad("city", "城市须为 1-15 个字符", "the city is 1-15 characters")
    if not _MCC.fullmatch(mcc):
        raise _bad("mcc", "商户类别码须为 4 位数字", "the MCC is 4 digits")
    if not is_valid_uscc(licence):
        raise _bad(
            "license",
            "营业执照号不是有效的统一社会信用代码（GB 32100 校验位错误）",
            "the licence is not a valid unified social credit code (GB 32100 check failed)",
        )
    try:
        ppm = fee_rate_ppm(fee_rate)
    except ValueError:
        raise _bad(
            "fee_rate", "费率须在 0 到 0.1 之间", "the fee rate is 0-0.1 (0.0038 = 0.38 %)"
        ) from None
    try:
        cur = get_currency(currency).alpha
    except MoneyError as exc:
        raise HostError("13", exc.text, field="currency") from None
    if payee is not None and not re.fullmatch(r"[A-Za-z0-9_\-.]{1,64}", payee):
        raise _bad("payee", "收款账户格式错误", "the payee account is 1-64 letters or digits")
    now = ctx.now()
    try:
        with _writing(ctx, session) as session:
            row = Merchant(
                name=name,
                city=city,
                mcc=mcc,
                license=licence,
                fee_rate_ppm=ppm,
                currency=cur,
                payee=payee,
                status=MerchantStatus.IN_REVIEW,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            if payee is None:
                row.payee = row.public_id
            for book in Book:
                ledger.ensure_account(
                    session,
                    ledger.clearing_code(row.public_id, book),
                    AccountKind.MERCHANT_CLEARING,
                    book,
                    cur,
                    now,
                )
            info = MerchantInfo.of(row)
            audit.record(
                session,
                now,
                actor,
                "merchant.add",
                ("merchant", info.merchant_id),
                merchant=info.merchant_id,
                name=info.name,
                city=info.city,
                mcc=info.mcc,
                license=info.license,
                fee_rate=info.fee_rate,
                currency=info.currency,
                payee=info.payee,
                status=str(info.status),
            )
            return info
    except IntegrityError:
        raise _bad(
            "payee", "收款账户已被其他商户登记", "that payee belongs to another merchant"
        ) from None


def _load(session: Any, merchant_id: str) -> Merchant:
    pk = parse_public_id(merchant_id, "M")
    row = session.get(Merchant, pk) if pk is not None else None
    if row is None:
        raise HostError("25", Text("找不到该商户", "no such merchant"), field="merchant")
    assert isinstance(row, Merchant)
    return row


def get_merchant(ctx: HostContext, merchant_id: str) -> MerchantInfo:
    with ctx.db.read() as session:
        return MerchantInfo.of(_load(session, merchant_id))


def set_status(
    ctx: HostContext,
    merchant_id: str,
    action: str,
    *,
    actor: audit.Actor = audit.LOCAL,
    session: Session | None = None,
) -> MerchantInfo:
    """``approve`` (after review, or to reinstate) or ``suspend`` a merchant
    (``session``: inside the caller's write transaction)."""
    with _writing(ctx, session) as session:
        row = _load(session, merchant_id)
        before = row.status
        try:
            row.status = merchant_status_after(action, MerchantStatus(row.status))
        except ValueError as exc:
            raise HostError("30", Text("不允许的商户状态变更", str(exc))) from None
        row.updated_at = ctx.now()
        audit.record(
            session,
            row.updated_at,
            actor,
            f"merchant.{action}",
            ("merchant", row.public_id),
            merchant=row.public_id,
            before=before,
            status=row.status,
        )
        return MerchantInfo.of(row)


def set_fee_rate(
    ctx: HostContext, merchant_id: str, fee_rate: str, *, actor: audit.Actor = audit.LOCAL
) -> MerchantInfo:
    """Change a merchant's fee rate (``0.0038`` = 0.38 %); it applies to days settled after."""
    try:
        ppm = fee_rate_ppm(fee_rate)
    except ValueError:
        raise _bad(
            "fee_rate", "费率须在 0 到 0.1 之间", "the fee rate is 0-0.1 (0.0038 = 0.38 %)"
        ) from None
    with ctx.db.write() as session:
        row = _load(session, merchant_id)
        before = format_fee_rate(row.fee_rate_ppm)
        row.fee_rate_ppm, row.updated_at = ppm, ctx.now()
        audit.record(
            session,
            row.updated_at,
            actor,
            "merchant.fee_rate",
            ("merchant", row.public_id),
            merchant=row.public_id,
            before=before,
            fee_rate=format_fee_rate(ppm),
        )
        return MerchantInfo.of(row)


def list_merchants(ctx: HostContext) -> list[MerchantInfo]:
    with ctx.db.read() as session:
        return [MerchantInfo.of(m) for m in session.scalars(select(Merchant).order_by(Merchant.id))]
