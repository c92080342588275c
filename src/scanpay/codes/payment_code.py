"""One entry point for whatever a scanner read: :func:`parse_payment_code`."""

from __future__ import annotations

import re

from scanpay.codes.cpm import CPM_PREFIX, ConsumerPresentedCode, parse_cpm
from scanpay.codes.errors import CodeError
from scanpay.codes.mask import mask_text
from scanpay.codes.mpm import MerchantPresentedCode, parse_mpm
from scanpay.codes.wallet import WalletCode, WalletRules, parse_wallet_code

__all__ = ["PaymentCode", "mask", "parse_payment_code"]

PaymentCode = MerchantPresentedCode | ConsumerPresentedCode | WalletCode

# A wallet code is a short run of digits (or an Alipay face-pay token).
_WALLET_LIKE = re.compile(r"[0-9]{10,32}|fp[0-9A-Za-z]{20,40}")


def parse_payment_code(text: str, *, wallet_rules: WalletRules | None = None) -> PaymentCode:
    """Decide which kind of payment code ``text`` is, and parse it.

    - ``000201...`` (any payload format indicator): EMV merchant-presented;
    - ``hQVDUFY...``: EMV consumer-presented (base64 BER-TLV);
    - digits: a wallet payment code, told apart by ``wallet_rules``.

    Raises :class:`CodeError` with code ``not_a_payment_code`` for anything
    else (a URL, a contact card...), or the kind's own error when the text
    is one of these kinds but broken. Nothing else escapes, whatever the input.
    """
    if not isinstance(text, str) or not text:
        raise CodeError.single("not_a_payment_code", detail="empty")
    if text.startswith("0002"):
        return parse_mpm(text)
    if text.startswith(CPM_PREFIX):
        return parse_cpm(text)
    if _WALLET_LIKE.fullmatch(text):
        return parse_wallet_code(text, wallet_rules)
    raise CodeError.single("not_a_payment_code", offset=0, detail=mask_text(text[:64]))


def mask(code: PaymentCode | str) -> str:
    """What of a code may be shown or logged: at most its first 6 and last 4 characters."""
    if isinstance(code, str):
        return mask_text(code)
    return code.mask()
