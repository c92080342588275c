"""Names people read for what the terminal records (pure): the state of a
show-to-pay order and how a shown-QR sale is marked (wallets and networks are
named by :func:`scanpay.codes.names.network_name`, a day-close difference by
:func:`scanpay.protocol.differences.describe_difference`).

The journal speaks in identifiers (``CLOSED``, ``SHOWN``); the cashier's screen
and the Z-report show these words instead, in zh-CN and en.
"""

from __future__ import annotations

from scanpay.i18n import Text
from scanpay.terminal.order import OrderState

__all__ = ["ORDER_STATE_LABELS", "SHOWN_QR_LABEL"]

SHOWN_QR_LABEL = Text("出示收款码", "Shown QR")
"""How a show-to-pay sale is marked in lists (the customer scanned the till's QR)."""

ORDER_STATE_LABELS: dict[OrderState, Text] = {
    OrderState.CREATING: Text("正在生成收款码", "Creating the QR"),
    OrderState.SHOWN: Text("等待顾客扫码", "Waiting for the customer"),
    OrderState.CLOSING: Text("正在关闭", "Closing"),
    OrderState.PAID: Text("已收款", "Paid"),
    OrderState.EXPIRED: Text("已过期", "Expired"),
    OrderState.CLOSED: Text("已取消", "Cancelled"),
    OrderState.FAILED: Text("未能生成", "Not created"),
}
