"""Payment schemes recognised from merchant account information.

Templates 26-51 name their network with a globally unique identifier (GUI,
sub-ID 00): an AID, a reverse domain name, or (Bakong) an account ID. This
table says which scheme each GUI belongs to and which sub-ID holds the payee
key. Unknown identifiers are kept as they are, with no scheme.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "MANDATORY_EXEMPT",
    "PRIMITIVE_NETWORKS",
    "SCANPAY_GUI",
    "SCHEME_RULES",
    "SchemeRule",
    "SchemeSpec",
    "identify",
]

# The host's own payee template: sub-ID 01 is the merchant's payee account.
SCANPAY_GUI = "org.scanpay"


@dataclass(frozen=True, slots=True)
class SchemeSpec:
    """What a GUI means: the ``scheme`` and the payee key's sub-ID and kind."""

    scheme: str
    payee_keys: Mapping[str, str] = field(default_factory=dict)
    variant: str = ""


_EXACT: dict[str, SchemeSpec] = {
    "br.gov.bcb.pix": SchemeSpec("pix", {"01": "pix_key", "25": "pix_url"}),
    "a000000677010111": SchemeSpec(
        "promptpay",
        {"01": "mobile", "02": "national_id", "03": "ewallet_id", "04": "bank_account"},
        "credit_transfer",
    ),
    "a000000677010112": SchemeSpec("promptpay", {"01": "biller_id"}, "bill_payment"),
    "a000000677010113": SchemeSpec(
        "promptpay", {"01": "mobile", "02": "national_id", "03": "ewallet_id"}, "cross_border"
    ),
    "a000000677010114": SchemeSpec("promptpay", {"01": "biller_id"}, "cross_border_bill"),
    "sg.paynow": SchemeSpec("paynow", {"02": "proxy"}),
    "sg.sgqr": SchemeSpec("sgqr", {"01": "sgqr_id"}),
    "sg.com.nets": SchemeSpec("nets", {"01": "nets_id"}),
    "id.co.qris.www": SchemeSpec("qris", {"02": "nmid"}),
    "a000000727": SchemeSpec("vietqr", {"01": "bank_account"}),
    "a0000006150001": SchemeSpec("duitnow", {"02": "merchant_id"}),
    "ph.ppmi.p2m": SchemeSpec("qrph", {"03": "merchant_id"}),
    "com.p2pqrpay": SchemeSpec("qrph", {"03": "account"}),
    "com.qq.weixin.pay": SchemeSpec("wechat_pay", {"01": "merchant_id"}),
    "com.grab": SchemeSpec("grabpay", {"01": "merchant_id"}),
    "sg.com.dash.www": SchemeSpec("dash", {"01": "merchant_id"}),
    "sg.com.ezlink": SchemeSpec("ezlink", {"01": "merchant_id"}),
    "com.alipay": SchemeSpec("alipay", {"01": "merchant_id"}),
    SCANPAY_GUI: SchemeSpec("scanpay", {"01": "payee_account"}),
}

_PREFIX: tuple[tuple[str, SchemeSpec], ...] = (
    ("a000000333", SchemeSpec("unionpay", {"01": "merchant_id"})),
    ("a000000615", SchemeSpec("duitnow", {"02": "merchant_id"})),
)

# QRIS issuers use reverse domains ("COM.GO-JEK.WWW") and an 18-digit
# national merchant PAN starting 9360 in sub-ID 01.
_QRIS_ISSUER = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+\.www")
_BAKONG_ID = re.compile(r"[^@\s]{1,32}@[a-z0-9]{1,16}")

# Root IDs 02-25 are primitive merchant account information of card networks.
PRIMITIVE_NETWORKS: dict[str, str] = {
    **{i: "visa" for i in ("02", "03")},
    **{i: "mastercard" for i in ("04", "05")},
    **{i: "emvco" for i in ("06", "07", "08")},
    **{i: "discover" for i in ("09", "10")},
    **{i: "amex" for i in ("11", "12")},
    **{i: "jcb" for i in ("13", "14")},
    **{i: "unionpay" for i in ("15", "16")},
    **{f"{i:02d}": "emvco" for i in range(17, 26)},
}


def identify(gui: str, sub_objects: Mapping[str, str], template_id: str) -> SchemeSpec | None:
    """The scheme a merchant account template belongs to, or ``None``."""
    key = gui.lower()
    if key in _EXACT:
        return _EXACT[key]
    for prefix, spec in _PREFIX:
        if key.startswith(prefix):
            return spec
    if _QRIS_ISSUER.fullmatch(key) and sub_objects.get("01", "").startswith("9360"):
        return SchemeSpec("qris", {"01": "merchant_pan"}, "issuer")
    if template_id in ("29", "30") and _BAKONG_ID.fullmatch(key):
        return SchemeSpec("khqr", {"00": "bakong_account"})
    return None


# Schemes whose codes legitimately omit root objects that EMVCo calls mandatory
# (research-emvqr.md §6.2): PromptPay and VietQR person-to-person codes carry
# no MCC, name or city; some QRIS codes carry no MCC.
MANDATORY_EXEMPT: dict[str, frozenset[str]] = {
    "promptpay": frozenset({"52", "59", "60"}),
    "vietqr": frozenset({"52", "59", "60"}),
    "qris": frozenset({"52"}),
}


@dataclass(frozen=True, slots=True)
class SchemeRule:
    """A scheme-only restriction: root object ``id`` must be one of ``allowed``."""

    id: str
    allowed: frozenset[str]


SCHEME_RULES: dict[str, tuple[SchemeRule, ...]] = {
    "pix": (SchemeRule("53", frozenset({"986"})), SchemeRule("58", frozenset({"BR"}))),
    "promptpay": (SchemeRule("53", frozenset({"764"})), SchemeRule("58", frozenset({"TH"}))),
    "vietqr": (SchemeRule("53", frozenset({"704"})), SchemeRule("58", frozenset({"VN"}))),
    "khqr": (SchemeRule("53", frozenset({"116", "840"})), SchemeRule("58", frozenset({"KH"}))),
    "qris": (SchemeRule("53", frozenset({"360"})), SchemeRule("58", frozenset({"ID"}))),
    "duitnow": (SchemeRule("53", frozenset({"458"})), SchemeRule("58", frozenset({"MY"}))),
}
