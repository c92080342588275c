"""The sticker check: whom does a merchant-presented QR code pay?

A terminal that scans a merchant's QR code (a sticker on the counter) asks the
host before anyone pays it: does it pay *this* merchant, another merchant of
this host, or a payee the host does not know? A sticker pasted over the
merchant's own by a fraudster (QR sticker swapping) shows up as one of the
last two. The host knows its own payee template (``org.scanpay``, sub-ID 01);
any other scheme's payee is unknown to it. Every check is audited.
"""

from __future__ import annotations

from sqlalchemy import select

from scanpay.codes import CodeError, MerchantPresentedCode, parse_payment_code
from scanpay.host.db.models import Merchant
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.protocol.models import CodeVerifyResponse, Message

__all__ = ["verify_sticker"]

_TEXTS = {
    "this_merchant": Text("收款码属于本商户", "This code pays this merchant"),
    "other_merchant": Text(
        "警告：收款码属于其他商户，可能被调包", "Warning: this code pays another merchant"
    ),
    "unknown_payee": Text(
        "警告：收款账户未知，可能被调包", "Warning: this code pays a payee the host does not know"
    ),
}


def verify_sticker(ctx: HostContext, auth: TerminalIdentity, payload: str) -> CodeVerifyResponse:
    """The verdict on a merchant-presented payload for the terminal's merchant."""
    try:
        code = parse_payment_code(payload, wallet_rules=ctx.wallet_rules)
    except CodeError as exc:
        raise HostError("30", exc.text, field="payload") from None
    if not isinstance(code, MerchantPresentedCode):
        raise HostError(
            "30",
            Text("这不是商户收款码", "not a merchant-presented code (EMV MPM)"),
            field="payload",
        )
    ours = next((a for a in code.merchant_accounts if a.scheme == "scanpay" and a.payee), None)
    first = next((a for a in code.merchant_accounts if a.payee), None)
    verdict = "unknown_payee"
    name: str | None = None
    payee = ours.payee if ours is not None else (first.payee if first is not None else None)
    scheme = "scanpay" if ours is not None else (first.scheme if first is not None else None)
    with ctx.db.write() as session:
        if ours is not None:
            merchant = session.scalar(select(Merchant).where(Merchant.payee == ours.payee))
            if merchant is not None:
                name = merchant.name
                verdict = "this_merchant" if merchant.id == auth.merchant_pk else "other_merchant"
        audit.record(
            session,
            ctx.now(),
            audit.Actor.terminal(auth.terminal_id),
            "sticker.verify",
            ("terminal", auth.terminal_id),
            merchant=auth.merchant_id,
            verdict=verdict,
            payee=payee,
            scheme=scheme,
            name_on_code=code.merchant_name,
        )
    return CodeVerifyResponse(
        verdict=verdict,  # type: ignore[arg-type]
        merchant_name=name,
        payee=payee,
        scheme=scheme,
        message=Message.model_validate(_TEXTS[verdict].as_dict()),
    )
