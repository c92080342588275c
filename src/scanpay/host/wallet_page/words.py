"""What the wallet page tells a customer when the host refuses or declines (pure).

The host's own refusals speak to developers and cashiers: "malformed request:
account: String should match pattern '^[0-9]+$'", "CRC missing or wrong: the
payload must end with 6304...", "The customer did not confirm in time". The
wallet page's routes answer with these words instead, written for the person
holding the phone, in both languages, each naming the field it is about so the
page can show it next to that field.

>>> field_refusal("account").en
'The wallet account is digits only (up to 16)'
>>> confirm_text("55", "USER_PAYING", 1, None).en
'Wrong PIN: 1 try left'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scanpay.i18n import Text

__all__ = [
    "FIELD_TEXTS",
    "GENERIC",
    "LOGIN_ELSEWHERE",
    "confirm_text",
    "field_of",
    "field_refusal",
    "host_refusal",
    "validation_text",
]

#: Per request field: what was wrong with it, for a person.
FIELD_TEXTS: dict[str, Text] = {
    "account": Text(
        "钱包账号只含数字（最多 16 位）", "The wallet account is digits only (up to 16)"
    ),
    "pin": Text("支付密码是 6 位数字", "The PIN is 6 digits"),
    "payment_id": Text(
        "找不到这笔待确认的付款，请刷新页面", "This payment cannot be found; reload the page"
    ),
    "payload": Text(
        "这不是可以在这里付款的商户收款码", "This is not a merchant QR code that can be paid here"
    ),
    "file": Text("请选择一张图片", "Choose a picture"),
}
#: A field left empty (or missing from the request).
_MISSING: dict[str, Text] = {
    "account": Text("请输入钱包账号", "Enter your wallet account"),
    "pin": Text("请输入 6 位支付密码", "Enter your 6-digit PIN"),
    "payload": Text("请扫描或粘贴商户收款码", "Scan or paste the merchant's QR code"),
    "file": Text("请选择一张图片", "Choose a picture"),
}
#: Anything the page itself sent wrong: nothing the person typed is to blame.
GENERIC = Text(
    "页面出了点问题，请刷新后重试", "Something went wrong on this page; reload it and try again"
)

#: A login that did not come from the wallet's own page (another site's page or link, an
#: old tab behind a different address): the person can open the page itself and retry.
LOGIN_ELSEWHERE = Text(
    "请在钱包页面上登录：直接打开钱包页面，刷新后再试",
    "Log in on the wallet page itself: open it directly, reload it and try again",
)

_NO_ORDER = Text(
    "找不到这笔订单，请商户重新出示收款码",
    "This order cannot be found; ask the shop to show its code again",
)
_NOT_WAITING = Text(
    "这笔付款已不再等待确认，未扣款",
    "This payment is no longer waiting for your PIN; nothing was taken",
)
_SHOP_CLOSED = Text(
    "该商户暂时不能收款，未扣款", "This shop cannot take payments now; nothing was taken"
)


def field_of(location: Sequence[Any]) -> str | None:
    """The request field a validation error's ``loc`` names (``("body", "pin")`` -> pin)."""
    parts = [str(p) for p in location if p not in ("body", "query", "path")]
    return parts[0] if parts else None


def field_refusal(field: str | None, *, missing: bool = False) -> Text:
    """What to tell a person whose ``field`` was refused (``missing``: left empty)."""
    if field is None:
        return GENERIC
    if missing and field in _MISSING:
        return _MISSING[field]
    return FIELD_TEXTS.get(field, GENERIC)


def validation_text(errors: Sequence[Mapping[str, Any]]) -> tuple[Text, str | None]:
    """The first of pydantic's validation ``errors`` as the page's words and its field."""
    first = errors[0] if errors else {}
    field = field_of(first.get("loc", ()))
    kind = str(first.get("type", ""))
    empty = first.get("input") in ("", None)
    missing = kind == "missing" or (kind == "string_too_short" and empty)
    return field_refusal(field, missing=missing), field


def host_refusal(code: str, field: str | None, text: Text) -> Text:
    """The page's words for a refusal a wallet route met in the host's services."""
    if code == "30" and field == "payload":
        return FIELD_TEXTS["payload"]
    if code == "25" and field == "payload":
        return _NO_ORDER
    if code == "25":
        return _NOT_WAITING
    if code == "58":
        return _SHOP_CLOSED
    return text


def _tries(left: int) -> Text:
    if left == 1:
        return Text("支付密码错误，还可以再试 1 次", "Wrong PIN: 1 try left")
    return Text(f"支付密码错误，还可以再试 {left} 次", f"Wrong PIN: {left} tries left")


def confirm_text(code: str, status: str, tries_left: int | None, host_text: Text | None) -> Text:
    """The page's words for the answer to a PIN confirmation (``status``: the payment's)."""
    if code == "00":
        return Text("已付款", "Paid")
    if code == "55" and tries_left is not None:
        return _tries(tries_left)
    if code == "12" and status == "REVERSED":
        return Text(
            "收银员已取消这笔付款，未扣款", "The cashier cancelled this payment; nothing was taken"
        )
    if code == "12":
        return Text(
            "已超时：这笔付款没有完成，未扣款",
            "Too late: this payment timed out; nothing was taken",
        )
    if code == "51":
        return Text("余额不足，未扣款", "Not enough balance; nothing was taken")
    if code == "58":
        return _SHOP_CLOSED
    return host_text or GENERIC
