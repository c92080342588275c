"""What the cashier's screen says about a sale, in zh-CN and en (pure).

The screen (issue 7) stays thin: for every sale the agent's JSON carries the
screen to show (an id, a tone, a title, a message, what to do next), the
buttons that make sense now and the deadline of any countdown. Result screens
take their words from the protocol's result-code table, so the host and the
terminal never describe one code two ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scanpay.i18n import Text
from scanpay.protocol.result_codes import RESULT_CODES, result_code
from scanpay.terminal.sale import ReversalReason, Sale, SaleState

__all__ = [
    "ACTIONS",
    "STATE_LABELS",
    "TIMED_OUT",
    "Screen",
    "Tone",
    "customer_timed_out",
    "screen_for",
    "state_label",
    "texts_catalog",
]

Tone = Literal["info", "progress", "success", "warning", "error"]

STATE_LABELS: dict[SaleState, Text] = {
    SaleState.NEW: Text("新交易", "New sale"),
    SaleState.CODE_READ: Text("待确认", "Check and confirm"),
    SaleState.CONFIRMED: Text("已确认", "Confirmed"),
    SaleState.SUBMITTED: Text("处理中", "Processing"),
    SaleState.USER_PAYING: Text("等待顾客确认", "Waiting for the customer"),
    SaleState.UNKNOWN: Text("结果未知，查询中", "Outcome unknown, querying"),
    SaleState.APPROVED: Text("支付成功", "Approved"),
    SaleState.DECLINED: Text("支付失败", "Declined"),
    SaleState.REVERSING: Text("正在撤销", "Reversing"),
    SaleState.REVERSED: Text("已撤销", "Reversed"),
    SaleState.CANCELLED: Text("已取消", "Cancelled"),
    SaleState.PARTIALLY_REFUNDED: Text("部分退款", "Partly refunded"),
    SaleState.REFUNDED: Text("已退款", "Refunded"),
}

#: A sale that ended because the customer did not confirm with the PIN in time.
TIMED_OUT = Text("已超时", "Timed out")


def customer_timed_out(sale: Sale) -> bool:
    """Whether ``sale`` ended (or is being reversed) because the customer's time to
    confirm ran out: the host declined it at its deadline, or the terminal gave up."""
    if sale.state == SaleState.DECLINED:
        return sale.customer_timed_out
    return (
        sale.state in (SaleState.REVERSING, SaleState.CANCELLED)
        and sale.reversal_reason == ReversalReason.CUSTOMER_TIMEOUT
    )


def state_label(sale: Sale) -> Text:
    """The sale's state in words ("Timed out" rather than "Declined" or "Cancelled"
    when the customer did not confirm in time)."""
    if sale.state != SaleState.REVERSING and customer_timed_out(sale):
        return TIMED_OUT
    return STATE_LABELS[sale.state]


ACTIONS: dict[str, Text] = {
    "scan": Text("扫码", "Scan"),
    "confirm": Text("确认收款", "Confirm"),
    "cancel": Text("取消", "Cancel"),
    "rescan": Text("重新扫码", "Rescan"),
    "new_sale": Text("新交易", "New sale"),
    "reprint": Text("补打小票", "Reprint"),
    "refund": Text("退款", "Refund"),
}


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen of the cashier's UI."""

    id: str
    tone: Tone
    title: Text
    message: Text
    action: Text
    """What the cashier does next."""
    actions: tuple[str, ...]
    """Buttons that make sense now (keys of :data:`ACTIONS`)."""
    countdown_to: float | None = None
    """Unix time the screen counts down to (USER_PAYING, UNKNOWN)."""
    code: str | None = None
    """The host's result code behind the screen, when there is one."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tone": self.tone,
            "title": self.title.as_dict(),
            "message": self.message.as_dict(),
            "action": self.action.as_dict(),
            "actions": list(self.actions),
            "countdown_to": self.countdown_to,
            "code": self.code,
        }


_WAIT = Text("请稍候", "Please wait")
_TIMED_OUT_REVERSING = Text(
    "顾客未在时限内确认；正在向主机撤销，顾客不会被扣款",
    "The customer did not confirm in time; reversing with the host, nothing will be charged",
)


def screen_for(sale: Sale) -> Screen:
    """The screen that fits ``sale`` now."""
    state = sale.state
    title = STATE_LABELS[state]
    if state == SaleState.NEW:
        return Screen(
            "scan",
            "info",
            title,
            Text("请扫描顾客的付款码", "Scan the customer's payment code"),
            Text("对准付款码，或用扫码枪扫描", "Aim at the code, or use the scanner gun"),
            ("scan", "cancel"),
        )
    if state == SaleState.CODE_READ:
        return Screen(
            "confirm",
            "info",
            title,
            Text("请核对金额和付款码", "Check the amount and the payment code"),
            Text("无误后按确认收款", "Press Confirm when both are right"),
            ("confirm", "rescan", "cancel"),
        )
    if state in (SaleState.CONFIRMED, SaleState.SUBMITTED):
        return Screen(
            "sending",
            "progress",
            title,
            Text("正在提交支付", "Sending the payment"),
            _WAIT,
            ("cancel",) if state == SaleState.SUBMITTED else (),
            sale.deadline_at,
        )
    if state == SaleState.USER_PAYING:
        rc = RESULT_CODES["09"]
        return Screen(
            "waiting_customer",
            "progress",
            title,
            rc.message,
            rc.action,
            ("cancel",),
            sale.customer_deadline_at,
            rc.code,
        )
    if state == SaleState.UNKNOWN:
        rc = RESULT_CODES["91"]
        return Screen(
            "querying", "warning", title, rc.message, rc.action, ("cancel",), sale.deadline_at, "91"
        )
    if state == SaleState.REVERSING:
        return Screen(
            "reversing",
            "warning",
            title,
            _TIMED_OUT_REVERSING
            if customer_timed_out(sale)
            else Text(
                "正在向主机撤销这笔交易，顾客不会被扣款",
                "Reversing the payment with the host; the customer will not be charged",
            ),
            Text(
                "可以开始新交易；撤销会自动完成",
                "You may start a new sale; the reversal completes by itself",
            ),
            ("new_sale", "reprint"),
        )
    if state in (SaleState.APPROVED, SaleState.PARTIALLY_REFUNDED, SaleState.REFUNDED):
        rc = RESULT_CODES["00"]
        message = rc.message if state == SaleState.APPROVED else title
        return Screen(
            "approved" if state == SaleState.APPROVED else "refunded",
            "success",
            title,
            message,
            rc.action if state == SaleState.APPROVED else Text("无需操作", "Nothing to do"),
            ("new_sale", "reprint", "refund") if sale.refundable else ("new_sale", "reprint"),
            None,
            sale.result.code if sale.result else "00",
        )
    if customer_timed_out(sale):
        return Screen(
            "timed_out",
            "warning",
            TIMED_OUT,
            Text(
                "顾客未在时限内确认，未扣款",
                "The customer did not confirm in time; nothing was charged",
            ),
            Text(
                "可以开始新交易，或请顾客重新付款",
                "Start a new sale, or ask the customer to pay again",
            ),
            ("new_sale", "reprint"),
            None,
            sale.result.code if sale.result else None,
        )
    if state == SaleState.DECLINED:
        code = sale.result.code if sale.result else "96"
        rc = result_code(code)
        return Screen(
            "declined",
            "error",
            title,
            rc.message,
            rc.action,
            ("new_sale", "reprint"),
            None,
            code,
        )
    if state == SaleState.REVERSED:
        return Screen(
            "reversed",
            "warning",
            title,
            Text(
                "结果未能确认，交易已撤销，顾客未被扣款",
                "The outcome could not be confirmed; the sale was reversed and nothing was charged",
            ),
            Text("请重新开始一笔新交易", "Start a new sale"),
            ("new_sale", "reprint"),
            None,
            sale.result.code if sale.result else None,
        )
    # CANCELLED
    if sale.result is not None and sale.result.status is None and sale.reversal_reason is None:
        # Never sent (the host's certificate was refused): the terminal's own reason.
        return Screen(
            "not_sent",
            "error",
            title,
            sale.result.message
            or Text("交易未发送到主机，顾客未被扣款", "The sale never reached the host"),
            Text(
                "顾客未被扣款；请联系技术支持检查主机证书",
                "Nothing was charged; have the host's certificate checked",
            ),
            ("new_sale",),
            None,
            sale.result.code,
        )
    after_send = sale.submitted_at is not None
    return Screen(
        "cancelled",
        "info",
        title,
        Text("交易已取消，顾客未被扣款", "The sale was cancelled; nothing was charged")
        if after_send
        else Text("交易已取消", "The sale was cancelled"),
        Text("可以开始新交易", "You may start a new sale"),
        ("new_sale", "reprint") if after_send else ("new_sale",),
    )


def texts_catalog() -> dict[str, Any]:
    """Every label the screen needs, both languages: states, buttons, result codes."""
    return {
        "states": {state.value: text.as_dict() for state, text in STATE_LABELS.items()},
        "actions": {key: text.as_dict() for key, text in ACTIONS.items()},
        "result_codes": {
            rc.code: {
                "name": rc.name,
                "class": rc.klass,
                "message": rc.message.as_dict(),
                "action": rc.action.as_dict(),
            }
            for rc in RESULT_CODES.values()
        },
    }
