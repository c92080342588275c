"""Outcomes a test chooses, the same faults the WeChat simulator offers.

Chosen on one request with the header ``Alipay-Sim-Outcome: NAME`` (``Alipay-Sim-Seconds``
and, for DECLINE, ``Alipay-Sim-Sub-Code``), or attached to a payment code when it is
issued (``POST /sim/wallets/{id}/codes {outcome, seconds, sub_code}``) for a client that
sends no test headers: it fires on the first pay with that code (and on the later
steps of that trade it shapes). The WeChat simulator's names are accepted as aliases,
so one chaos run can drive both simulators alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from scanpay.i18n import Text
from scanpay.sim.common.delivery import (
    CHARGED_NO_REPLY_TEXT,
    SLOW_TEXT,
    WRONG_SIGNATURE_TEXT,
)
from scanpay.sim.common.outcomes import default_delay, parse
from scanpay.sim.common.outcomes import from_headers as from_headers_named

__all__ = [
    "DECLINES",
    "DESCRIPTIONS",
    "HEADER",
    "SECONDS_HEADER",
    "SUB_CODE_HEADER",
    "Chosen",
    "Outcome",
    "choose",
    "from_headers",
]

HEADER = "Alipay-Sim-Outcome"
SECONDS_HEADER = "Alipay-Sim-Seconds"
SUB_CODE_HEADER = "Alipay-Sim-Sub-Code"


class Outcome(StrEnum):
    SYSTEM_ERROR = "SYSTEM_ERROR"
    ACQ_SYSTEM_ERROR = "ACQ_SYSTEM_ERROR"
    CHARGED_THEN_UNKNOWN = "CHARGED_THEN_UNKNOWN"
    WAIT_PASSWORD_SUCCESS = "WAIT_PASSWORD_SUCCESS"
    WAIT_PASSWORD_FAIL = "WAIT_PASSWORD_FAIL"
    WAIT_PASSWORD_NEVER = "WAIT_PASSWORD_NEVER"
    DECLINE = "DECLINE"
    SLOW = "SLOW"
    CHARGED_NO_REPLY = "CHARGED_NO_REPLY"
    CANCEL_RETRY = "CANCEL_RETRY"
    WRONG_SIGNATURE = "WRONG_SIGNATURE"


# Alipay's own sub_codes a DECLINE may name, with the sub_msg Alipay writes.
DECLINES: dict[str, str] = {
    "ACQ.PAYMENT_AUTH_CODE_INVALID": "支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款",
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": "买家余额不足",
    "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH": "用户的银行卡余额不足",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR": "买家付款日限额超限",
    "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR": "买家付款月额度超限",
    "ACQ.BUYER_ENABLE_STATUS_FORBID": "买家状态非法",
    "ACQ.PAYMENT_FAIL": "支付失败",
    "ACQ.PAYMENT_REQUEST_HAS_RISK": "支付有风险",
    "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT": "买家未通过人行认证",
}

# The WeChat simulator's names of Alipay's own errors and declines (the rest are
# common: ``WECHAT_NAMES``), for a chaos run that drives both.
_ALIASES: dict[str, tuple[Outcome, str | None]] = {
    "BANKERROR": (Outcome.ACQ_SYSTEM_ERROR, None),
    "NOTENOUGH": (Outcome.DECLINE, "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
    "AUTHCODEEXPIRE": (Outcome.DECLINE, "ACQ.PAYMENT_AUTH_CODE_INVALID"),
}

DESCRIPTIONS: dict[Outcome, Text] = {
    Outcome.SYSTEM_ERROR: Text(
        "回答 20000 isp.unknow-error，未扣款：交易等待付款，付款码未用，相同请求重试即继续。",
        "Answers 20000 isp.unknow-error, nothing charged: the trade waits unpaid, the code"
        " stays unused, the same request again goes on.",
    ),
    Outcome.ACQ_SYSTEM_ERROR: Text(
        "回答 40004 ACQ.SYSTEM_ERROR，其余同 SYSTEM_ERROR。",
        "Answers 40004 ACQ.SYSTEM_ERROR; otherwise as SYSTEM_ERROR.",
    ),
    Outcome.CHARGED_THEN_UNKNOWN: Text(
        "照常扣款成功，但回答 20000（结果未知）：查询可见已支付。",
        "Charged as usual, but answers 20000 (unknown): a query finds it paid.",
    ),
    Outcome.WAIT_PASSWORD_SUCCESS: Text(
        "回答 10003（等待用户输入密码），N 秒后（默认 0）支付成功。",
        "Answers 10003 (waiting for the password); paid N seconds later (default 0).",
    ),
    Outcome.WAIT_PASSWORD_FAIL: Text(
        "回答 10003，N 秒后交易关闭，不扣款。",
        "Answers 10003; the trade closes N seconds later, nothing charged.",
    ),
    Outcome.WAIT_PASSWORD_NEVER: Text(
        "回答 10003，一直等待，直到撤销或超时关闭。",
        "Answers 10003 and waits until cancelled or past its deadline.",
    ),
    Outcome.DECLINE: Text(
        "以指定的 sub_code 拒绝（默认 ACQ.PAYMENT_FAIL），不扣款。",
        "Declined with the sub_code named (default ACQ.PAYMENT_FAIL), nothing charged.",
    ),
    Outcome.SLOW: SLOW_TEXT,
    Outcome.CHARGED_NO_REPLY: CHARGED_NO_REPLY_TEXT,
    Outcome.CANCEL_RETRY: Text(
        "第一次撤销回答 ACQ.SYSTEM_ERROR、retry_flag=Y，不做任何事；再次撤销才完成。",
        "The first cancel answers ACQ.SYSTEM_ERROR with retry_flag=Y and does nothing;"
        " the next one does it.",
    ),
    Outcome.WRONG_SIGNATURE: WRONG_SIGNATURE_TEXT,
}


@dataclass(frozen=True)
class Chosen:
    """An outcome a test chose, with its seconds and sub_code where it has them."""

    outcome: Outcome
    seconds: float | None = None
    sub_code: str | None = None

    @property
    def delay(self) -> float:
        return default_delay(self.outcome, self.seconds)


def choose(name: str, seconds: float | None = None, sub_code: str | None = None) -> Chosen:
    """An outcome by name (or a WeChat simulator alias); ValueError when unknown, when the
    seconds are out of 0..3600, or when the sub_code is not one a DECLINE may name."""
    outcome, sub_code = parse(
        name,
        seconds,
        sub_code,
        outcomes=Outcome,
        aliases=_ALIASES,
        declines=DECLINES,
        default_decline="ACQ.PAYMENT_FAIL",
        code_name="sub_code",
    )
    return Chosen(outcome, seconds, sub_code)


def from_headers(headers: Mapping[str, str]) -> Chosen | None:
    """The outcome a request's headers choose (ValueError for a bad one)."""
    return from_headers_named(headers, (HEADER, SECONDS_HEADER, SUB_CODE_HEADER), choose)
