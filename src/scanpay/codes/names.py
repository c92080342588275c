"""What people call a payment network or wallet, in zh-CN and en. Pure.

The codes, the host and the terminal name networks with identifiers
(``wechat_pay``, ``unionpay_quickpass``, ``promptpay``); a screen, a receipt or
a portal page shows :func:`network_name` of the identifier instead, so the
cashier's confirm screen, the day close, the receipts and the portal call a
network the same thing. ``order`` is not a network: it is the terminal's mark on
a show-to-pay sale (the customer scanned the shop's QR and paid from their
wallet), named for what happened.
"""

from __future__ import annotations

from scanpay.i18n import Text

__all__ = ["NETWORK_NAMES", "SHOW_TO_PAY", "UNKNOWN_NETWORK", "masked_number", "network_name"]

#: The terminal's ``wallet`` of a sale paid by scanning the shop's QR (show-to-pay).
SHOW_TO_PAY = "order"

#: Every identifier the codes, the wallet rules and the host use, named for people.
NETWORK_NAMES: dict[str, Text] = {
    # the host's own wallet, as its wallet page calls itself
    "scanpay": Text("scanpay 钱包", "scanpay wallet"),
    SHOW_TO_PAY: Text("收款码（顾客扫码付款）", "Show-to-pay QR"),
    # wallet payment codes (scanpay.codes.wallet)
    "wechat_pay": Text("微信支付", "WeChat Pay"),
    "alipay": Text("支付宝", "Alipay"),
    "alipay_facepay": Text("支付宝刷脸付", "Alipay face pay"),
    "unionpay_quickpass": Text("云闪付", "UnionPay QuickPass"),
    # card networks (EMV consumer-presented codes, merchant account IDs 02-25)
    "unionpay": Text("银联", "UnionPay"),
    "visa": Text("Visa", "Visa"),
    "mastercard": Text("万事达卡", "Mastercard"),
    "amex": Text("美国运通", "American Express"),
    "jcb": Text("JCB", "JCB"),
    "discover": Text("Discover", "Discover"),
    "emvco": Text("EMV 银行卡", "EMV card"),
    "emv": Text("EMV 收款码", "EMV QR code"),
    # merchant-presented schemes (scanpay.codes.schemes)
    "pix": Text("Pix（巴西）", "Pix (Brazil)"),
    "promptpay": Text("PromptPay（泰国）", "PromptPay (Thailand)"),
    "paynow": Text("PayNow（新加坡）", "PayNow (Singapore)"),
    "sgqr": Text("SGQR（新加坡）", "SGQR (Singapore)"),
    "nets": Text("NETS（新加坡）", "NETS (Singapore)"),
    "qris": Text("QRIS（印度尼西亚）", "QRIS (Indonesia)"),
    "vietqr": Text("VietQR（越南）", "VietQR (Vietnam)"),
    "duitnow": Text("DuitNow（马来西亚）", "DuitNow (Malaysia)"),
    "qrph": Text("QR Ph（菲律宾）", "QR Ph (Philippines)"),
    "khqr": Text("KHQR（柬埔寨）", "KHQR (Cambodia)"),
    "grabpay": Text("GrabPay", "GrabPay"),
    "dash": Text("Singtel Dash", "Singtel Dash"),
    "ezlink": Text("EZ-Link", "EZ-Link"),
}

#: A network no table here knows (a rule added in a configuration, say).
UNKNOWN_NETWORK = Text("其他钱包", "Other wallet")


def network_name(identifier: str | None) -> Text:
    """The name people know ``identifier``'s network or wallet by, in both languages.

    An identifier no table knows is "another wallet", never the identifier itself.
    """
    if not identifier:
        return UNKNOWN_NETWORK
    return NETWORK_NAMES.get(identifier.strip().lower(), UNKNOWN_NETWORK)


def masked_number(kind: str | None, masked: str) -> str:
    """A masked code (:func:`scanpay.codes.mask`) without the network's identifier in front.

    ``scanpay 880000********1234`` → ``880000********1234``; ``cpm A000000333010101
    621234******3456`` → ``621234******3456``; a merchant's code keeps its merchant,
    city, amount and masked payee. The network goes beside it, by :func:`network_name`.
    """
    if kind == "emv_mpm":
        _, _, rest = masked.partition(" / ")
        return rest or masked
    return masked.rsplit(" ", 1)[-1]
