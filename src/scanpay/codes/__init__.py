"""Payment codes: read, check and write what a POS scanner sees.

- EMV merchant-presented QR (``000201...``): :func:`parse_mpm`, :func:`build_mpm`;
- EMV consumer-presented QR (``hQVDUFY...``): :func:`parse_cpm`, :func:`build_cpm`;
- wallet payment codes (付款码 digits): :func:`parse_wallet_code`;
- :func:`parse_payment_code` tells them apart; :func:`mask` says what may be shown.

>>> from scanpay.codes import parse_payment_code
>>> code = parse_payment_code(
...     "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469")
>>> code.kind, code.scheme, code.amount, code.currency_alpha
('emv_mpm', 'promptpay', 422, 'THB')
>>> [w.code for w in code.warnings]
['missing_field', 'missing_field', 'missing_field']

The package is pure: no I/O, no clock. Every error is a :class:`CodeError`.
"""

from scanpay.codes.cpm import (
    ApplicationSpec,
    ConsumerPresentedCode,
    CpmApplication,
    build_cpm,
    parse_cpm,
)
from scanpay.codes.crc import crc16, mpm_crc
from scanpay.codes.errors import CATALOG, CodeError, Problem
from scanpay.codes.mpm import (
    AccountTemplate,
    AdditionalData,
    MerchantAccount,
    MerchantLanguage,
    MerchantPresentedCode,
    build_mpm,
    parse_mpm,
)
from scanpay.codes.payment_code import PaymentCode, mask, parse_payment_code
from scanpay.codes.schemes import SCANPAY_GUI, SchemeRule
from scanpay.codes.wallet import (
    DEFAULT_WALLET_RULES,
    WalletCode,
    WalletRule,
    WalletRules,
    parse_wallet_code,
)

__all__ = [
    "CATALOG",
    "DEFAULT_WALLET_RULES",
    "SCANPAY_GUI",
    "AccountTemplate",
    "AdditionalData",
    "ApplicationSpec",
    "CodeError",
    "ConsumerPresentedCode",
    "CpmApplication",
    "MerchantAccount",
    "MerchantLanguage",
    "MerchantPresentedCode",
    "PaymentCode",
    "Problem",
    "SchemeRule",
    "WalletCode",
    "WalletRule",
    "WalletRules",
    "build_cpm",
    "build_mpm",
    "crc16",
    "mask",
    "mpm_crc",
    "parse_cpm",
    "parse_mpm",
    "parse_payment_code",
    "parse_wallet_code",
]
