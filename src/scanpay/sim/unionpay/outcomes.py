"""Outcomes a test chooses, the same faults the WeChat Pay and Alipay simulators offer.

Chosen on one request with the header ``UnionPay-Sim-Outcome: NAME``
(``UnionPay-Sim-Seconds`` and, for DECLINE, ``UnionPay-Sim-Resp-Code``), or attached
to a payment code when it is issued (``POST /sim/wallets/{id}/codes {outcome,
seconds, resp_code}``) for a client that sends no test headers: it fires on the first
consume with that code (and on the later steps of that order it shapes). The WeChat
Pay and Alipay simulators' names are accepted as aliases, so one chaos run can drive
all three alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from scanpay.i18n import Text
from scanpay.networks.port import Outcome as PortOutcome
from scanpay.networks.unionpay.codes import UNIONPAY_CODES
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
    "RESP_CODE_HEADER",
    "SECONDS_HEADER",
    "Chosen",
    "Outcome",
    "choose",
    "from_headers",
]

HEADER = "UnionPay-Sim-Outcome"
SECONDS_HEADER = "UnionPay-Sim-Seconds"
RESP_CODE_HEADER = "UnionPay-Sim-Resp-Code"
DEFAULT_DECLINE = "01"


class Outcome(StrEnum):
    SYSTEM_ERROR = "SYSTEM_ERROR"
    BUSY = "BUSY"
    CHARGED_THEN_UNKNOWN = "CHARGED_THEN_UNKNOWN"
    WAIT_PASSWORD_SUCCESS = "WAIT_PASSWORD_SUCCESS"
    WAIT_PASSWORD_FAIL = "WAIT_PASSWORD_FAIL"
    WAIT_PASSWORD_NEVER = "WAIT_PASSWORD_NEVER"
    DECLINE = "DECLINE"
    SLOW = "SLOW"
    CHARGED_NO_REPLY = "CHARGED_NO_REPLY"
    CANCEL_RETRY = "CANCEL_RETRY"
    WRONG_SIGNATURE = "WRONG_SIGNATURE"


DECLINES: frozenset[str] = frozenset(
    code for code, rule in UNIONPAY_CODES.items() if rule.outcome is PortOutcome.DECLINED
)
"""The published respCodes a DECLINE may name: those a consume is refused with."""

# The other simulators' names of UnionPay's own errors and declines (the rest are
# common: ``WECHAT_NAMES``), for a chaos run that drives all three.
_ALIASES: dict[str, tuple[Outcome, str | None]] = {
    "BANKERROR": (Outcome.BUSY, None),
    "ACQ_SYSTEM_ERROR": (Outcome.BUSY, None),
    "NOTENOUGH": (Outcome.DECLINE, "64"),
    "AUTHCODEEXPIRE": (Outcome.DECLINE, "80"),
}

DESCRIPTIONS: dict[Outcome, Text] = {
    Outcome.SYSTEM_ERROR: Text(
        "回答 respCode 03（通讯超时），未受理：没有订单，付款码未用，同一请求重试即继续。",
        "Answers respCode 03 (timeout), nothing taken: no order, the code stays unused,"
        " the same request again goes on.",
    ),
    Outcome.BUSY: Text(
        "回答 respCode 06（系统繁忙），其余同 SYSTEM_ERROR。",
        "Answers respCode 06 (busy); otherwise as SYSTEM_ERROR.",
    ),
    Outcome.CHARGED_THEN_UNKNOWN: Text(
        "照常扣款成功，但回答 respCode 04（状态未明）：查询可见已成功。",
        "Charged as usual, but answers respCode 04 (state unknown): a query finds it paid.",
    ),
    Outcome.WAIT_PASSWORD_SUCCESS: Text(
        "回答 00（已受理），查询 origRespCode 05；N 秒后（默认 0）支付成功。",
        "Answers 00 (accepted), queries origRespCode 05; paid N seconds later (default 0).",
    ),
    Outcome.WAIT_PASSWORD_FAIL: Text(
        "回答 00（已受理），N 秒后失败（origRespCode 65），不扣款。",
        "Answers 00 (accepted); fails N seconds later (origRespCode 65), nothing charged.",
    ),
    Outcome.WAIT_PASSWORD_NEVER: Text(
        "回答 00（已受理），一直等待，直到撤销或超过期限（origRespCode 69）。",
        "Answers 00 (accepted) and waits until cancelled or past its deadline (origRespCode 69).",
    ),
    Outcome.DECLINE: Text(
        "以指定的 respCode 拒绝（默认 01），不扣款。",
        "Declined with the respCode named (default 01), nothing charged.",
    ),
    Outcome.SLOW: SLOW_TEXT,
    Outcome.CHARGED_NO_REPLY: CHARGED_NO_REPLY_TEXT,
    Outcome.CANCEL_RETRY: Text(
        "第一次撤销回答 respCode 03，不做任何事；再次撤销才完成。",
        "The first cancel answers respCode 03 and does nothing; the next one does it.",
    ),
    Outcome.WRONG_SIGNATURE: WRONG_SIGNATURE_TEXT,
}
WAITS = frozenset(
    {Outcome.WAIT_PASSWORD_SUCCESS, Outcome.WAIT_PASSWORD_FAIL, Outcome.WAIT_PASSWORD_NEVER}
)


@dataclass(frozen=True)
class Chosen:
    """An outcome a test chose, with its seconds and respCode where it has them."""

    outcome: Outcome
    seconds: float | None = None
    resp_code: str | None = None

    @property
    def delay(self) -> float:
        return default_delay(self.outcome, self.seconds)


def choose(name: str, seconds: float | None = None, resp_code: str | None = None) -> Chosen:
    """An outcome by name (or another simulator's alias); ValueError when unknown, when
    the seconds are out of 0..3600, or when the respCode is not a published decline."""
    outcome, resp_code = parse(
        name,
        seconds,
        resp_code,
        outcomes=Outcome,
        aliases=_ALIASES,
        declines=DECLINES,
        default_decline=DEFAULT_DECLINE,
        code_name="resp_code",
    )
    return Chosen(outcome, seconds, resp_code)


def from_headers(headers: Mapping[str, str]) -> Chosen | None:
    """The outcome a request's headers choose (ValueError for a bad one)."""
    return from_headers_named(headers, (HEADER, SECONDS_HEADER, RESP_CODE_HEADER), choose)
