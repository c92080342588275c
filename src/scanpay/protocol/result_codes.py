"""The host's result codes: one table for the host, the terminal and the screens.

Codes follow ISO 8583 field 39 where one fits (research-payments.md §8b).
Each has a stable two-character ``code``, a ``name``, a class that tells the
terminal what to do (approved, pending, declined, error, unknown) and messages
in zh-CN and en for the cashier: what happened, and what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scanpay.i18n import Text

__all__ = ["RESULT_CODES", "ResultClass", "ResultCode", "result_code"]

ResultClass = Literal["approved", "pending", "declined", "error", "unknown"]


@dataclass(frozen=True, slots=True)
class ResultCode:
    """One result code: ``code`` ("51"), ``name`` ("INSUFFICIENT_FUNDS"), class, texts."""

    code: str
    name: str
    klass: ResultClass
    http_status: int
    message: Text
    action: Text


def _rc(
    code: str,
    name: str,
    klass: ResultClass,
    status: int,
    msg: tuple[str, str],
    act: tuple[str, str],
) -> ResultCode:
    return ResultCode(code, name, klass, status, Text(*msg), Text(*act))


RESULT_CODES: dict[str, ResultCode] = {
    rc.code: rc
    for rc in (
        _rc(
            "00",
            "APPROVED",
            "approved",
            200,
            ("支付成功", "Approved"),
            ("打印小票", "Print the receipt"),
        ),
        _rc(
            "05",
            "PAYMENT_FAILED",
            "declined",
            200,
            (
                "支付失败（顾客取消或银行拒绝）",
                "The payment failed (cancelled by the customer or refused by the bank)",
            ),
            ("请顾客换一种方式付款", "Ask the customer to pay another way"),
        ),
        _rc(
            "09",
            "PENDING_USER",
            "pending",
            200,
            ("等待顾客在手机上确认", "Waiting for the customer to confirm on their phone"),
            ("请顾客输入支付密码，稍候", "Ask the customer to enter their PIN, then wait"),
        ),
        _rc(
            "12",
            "ORDER_CLOSED",
            "declined",
            200,
            ("订单已关闭或已撤销", "The order is closed or reversed"),
            ("请重新下单", "Start a new sale"),
        ),
        _rc(
            "13",
            "INVALID_AMOUNT",
            "error",
            400,
            ("金额无效", "The amount is not valid"),
            ("检查金额和币种", "Check the amount and currency"),
        ),
        _rc(
            "14",
            "CODE_INVALID",
            "declined",
            200,
            ("付款码无效或已使用", "The payment code is not valid or was already used"),
            ("请顾客刷新付款码后重新扫描", "Ask the customer to refresh the code, then scan again"),
        ),
        _rc(
            "25",
            "NOT_FOUND",
            "error",
            404,
            ("找不到该交易", "No such transaction"),
            ("检查订单号", "Check the trade number"),
        ),
        _rc(
            "26",
            "UPGRADE_REQUIRED",
            "error",
            426,
            ("终端软件版本过旧", "The terminal software is too old"),
            ("请升级收银软件", "Update the POS software"),
        ),
        _rc(
            "30",
            "FORMAT",
            "error",
            400,
            ("请求格式错误", "The request is malformed"),
            ("检查输入后重试", "Check the input and try again"),
        ),
        _rc(
            # Not 13: the amount is fine, the merchant takes another currency (its own,
            # named in the message); the terminal is set up wrong, not the sale.
            "31",
            "CURRENCY_NOT_ACCEPTED",
            "error",
            400,
            ("该商户不收此币种", "This merchant does not take this currency"),
            ("检查终端的币种设置", "Check the terminal's currency setting"),
        ),
        _rc(
            "51",
            "INSUFFICIENT_FUNDS",
            "declined",
            200,
            ("余额不足", "Insufficient funds"),
            ("请顾客换一种支付方式", "Ask the customer for another way to pay"),
        ),
        _rc(
            "54",
            "CODE_EXPIRED",
            "declined",
            200,
            ("付款码已过期", "The payment code has expired"),
            ("请顾客刷新付款码后重新扫描", "Ask the customer to refresh the code, then scan again"),
        ),
        _rc(
            "55",
            "WRONG_PIN",
            "declined",
            200,
            ("支付密码错误", "Wrong PIN"),
            ("请顾客重新输入密码", "Ask the customer to enter the PIN again"),
        ),
        _rc(
            "57",
            "NOT_PERMITTED",
            "declined",
            200,
            ("交易不被允许（风控或限额）", "Not permitted (risk rules or limits)"),
            ("请顾客换一种支付方式", "Ask the customer for another way to pay"),
        ),
        _rc(
            "58",
            "TERMINAL_NOT_PERMITTED",
            "error",
            403,
            ("终端或商户不可交易", "This terminal or merchant may not transact"),
            ("联系收单机构", "Call the acquirer"),
        ),
        _rc(
            "63",
            "SECURITY",
            "error",
            401,
            ("安全校验失败", "Security check failed"),
            ("检查终端时钟和密钥", "Check the terminal's clock and key"),
        ),
        _rc(
            "75",
            "PIN_TRIES_EXCEEDED",
            "declined",
            200,
            (
                "密码错误次数过多，账户已暂时锁定",
                "Too many wrong PINs; the account is locked for a while",
            ),
            ("请顾客换一种支付方式", "Ask the customer for another way to pay"),
        ),
        _rc(
            "91",
            "UNKNOWN",
            "unknown",
            503,
            ("结果未知，正在查询", "Result unknown; querying"),
            ("请勿重新扫码，等待查询结果", "Do not scan again; wait for the query"),
        ),
        _rc(
            "94",
            "DUPLICATE",
            "approved",
            200,
            ("重复请求，已返回原结果", "Duplicate request; the stored result was returned"),
            ("无需操作", "Nothing to do"),
        ),
        _rc(
            "95",
            "KEY_REUSED_MISMATCH",
            "error",
            409,
            ("订单号已用于另一笔不同的交易", "This trade number was used for a different sale"),
            ("请使用新的订单号", "Use a new trade number"),
        ),
        _rc(
            "96",
            "SYSTEM_ERROR",
            "unknown",
            500,
            ("系统故障", "System malfunction"),
            ("稍后查询结果", "Query the result later"),
        ),
    )
}


def result_code(code: str) -> ResultCode:
    """Look a result code up; an unknown one is treated as a system error."""
    return RESULT_CODES.get(code, RESULT_CODES["96"])
