"""Alipay's pay-call codes in our terms (pure: the table the adapter answers from).

Alipay answers with a gateway ``code`` and, on a business failure, a ``sub_code``::

    code   sub_code                                 outcome      ours  why
    10000                                           APPROVED     00
    10003                                           USER_PAYING  09    password step: poll
    20000  (any)                                    UNKNOWN      91    service unavailable
    40004  ACQ.SYSTEM_ERROR                         UNKNOWN      91    Alipay's own "query it"
    40004  ACQ.TRADE_HAS_SUCCESS,                  UNKNOWN      91    the trade number already has
             ACQ.TRADE_BUYER_NOT_MATCH                                a trade (a retry of ours may
                                                                      have paid it): query decides
    40004  ACQ.BUYER_BALANCE_NOT_ENOUGH,            DECLINED     51
             ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH
    40004  ACQ.PAYMENT_AUTH_CODE_INVALID            DECLINED     14
    40004  ACQ.TRADE_HAS_CLOSE                      DECLINED     12
    40004  ACQ.CONTEXT_INCONSISTENT                 DECLINED     95    the number was used for
                                                                      another sale (ours are
                                                                      resent unchanged)
    40004  limits, risk, account (…_LIMIT_ERROR,    DECLINED     57
             PAYMENT_REQUEST_HAS_RISK, …)
    40004  ACQ.PAYMENT_FAIL                         DECLINED     05
    40004  ACQ.INVALID_PARAMETER, ACCESS_FORBIDDEN, DECLINED     58    our channel is set up wrong
             seller/store errors
    40004  any other sub_code                       DECLINED     05    40004 is Alipay's "business
                                                                      failure": nothing was charged
    40004  none                                     UNKNOWN      91    a failure without a reason
    40001, 40002, 40003, 40006 (verified)           DECLINED     58    missing or invalid parameter,
                                                                      signature, app id, permission:
                                                                      refused before any trade began
    anything else                                   UNKNOWN      91

Every row but the first two needs a reply Alipay signed: the adapter answers UNKNOWN
for anything it cannot verify, whatever it says.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from scanpay.i18n import Text
from scanpay.networks.port import Outcome, PayAnswer
from scanpay.networks.results import CodeRule
from scanpay.protocol.result_codes import result_code

__all__ = [
    "ALIPAY_PAY_CODES",
    "BUSINESS_FAILED",
    "CONFIG_CODES",
    "PAYING",
    "SUCCESS",
    "UNAVAILABLE",
    "decline_message",
    "pay_answer",
]

SUCCESS = "10000"
PAYING = "10003"
UNAVAILABLE = "20000"
BUSINESS_FAILED = "40004"
CONFIG_CODES = frozenset({"40001", "40002", "40003", "40006"})
"""Missing parameter, invalid parameter (signature, app id…), insufficient ISV rights,
insufficient permission: the gateway refused the call itself."""

_A, _D, _P, _U = Outcome.APPROVED, Outcome.DECLINED, Outcome.USER_PAYING, Outcome.UNKNOWN
_QUERYING = " Querying the result."


def _rule(outcome: Outcome, code: str, zh: str, en: str) -> CodeRule:
    return CodeRule(outcome, code, Text(zh, en))


_CONFIG = Text(
    "支付渠道配置错误（{code}），请联系收单机构",
    "The payment channel is set up wrongly ({code}); call the acquirer",
)
_LIMIT = ("交易金额超出顾客的支付限额", "Over the customer's payment limit")
_TABLE: dict[str, CodeRule] = {
    "ACQ.SYSTEM_ERROR": _rule(
        _U, "91", "支付宝系统繁忙，正在查询结果", "Alipay is busy." + _QUERYING
    ),
    "ACQ.TRADE_HAS_SUCCESS": _rule(
        _U, "91", "该订单号已有支付，正在查询结果", "This trade number was paid." + _QUERYING
    ),
    "ACQ.TRADE_BUYER_NOT_MATCH": _rule(
        _U,
        "91",
        "该订单号已由其他顾客支付，正在查询结果",
        "Another payer has this trade." + _QUERYING,
    ),
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": _rule(
        _D,
        "51",
        "余额不足，请顾客换一种支付方式",
        "Insufficient balance; ask for another way to pay",
    ),
    "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH": _rule(
        _D, "51", "银行卡余额不足，请顾客换卡或换一种支付方式", "The bank card's balance is too low"
    ),
    "ACQ.PAYMENT_AUTH_CODE_INVALID": _rule(
        _D,
        "14",
        "付款码无效，请顾客刷新后重新扫描",
        "The code is not valid; ask the customer to refresh it",
    ),
    "ACQ.TRADE_HAS_CLOSE": _rule(
        _D, "12", "订单已关闭，请重新下单", "The order is closed; start a new sale"
    ),
    "ACQ.CONTEXT_INCONSISTENT": _rule(
        _D, "95", "该订单号已用于另一笔不同的交易", "This trade number was used for another sale"
    ),
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR": _rule(
        _D, "57", "超出顾客当日支付限额", "Over the customer's daily payment limit"
    ),
    "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR": _rule(
        _D, "57", "超出顾客当月支付限额", "Over the customer's monthly payment limit"
    ),
    "ACQ.BEYOND_PAY_RESTRICTION": _rule(_D, "57", *_LIMIT),
    "ACQ.BEYOND_PER_RECEIPT_RESTRICTION": _rule(_D, "57", *_LIMIT),
    "ACQ.TOTAL_FEE_EXCEED": _rule(
        _D, "57", "订单金额超过限额", "The amount is over the network's limit"
    ),
    "ACQ.BUYER_SELLER_EQUAL": _rule(
        _D, "57", "买家与卖家不能是同一账户", "The buyer and the seller are the same account"
    ),
    "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT": _rule(
        _D, "57", "顾客未完成实名认证，无法付款", "The customer's account is not verified"
    ),
    "ACQ.BUYER_ENABLE_STATUS_FORBID": _rule(
        _D, "57", "顾客账户状态异常", "The customer's account is restricted"
    ),
    "ACQ.PAYMENT_REQUEST_HAS_RISK": _rule(
        _D, "57", "支付存在风险，已被拒绝", "Refused by the network's risk rules"
    ),
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": _rule(
        _D, "57", "商户余额不足", "The merchant's balance is too low"
    ),
    "ACQ.PAYMENT_FAIL": _rule(
        _D, "05", "支付失败，请顾客换一种方式付款", "The payment failed; ask for another way to pay"
    ),
    **{
        code: CodeRule(_D, "58", _CONFIG.format(code=code))
        for code in (
            "ACQ.INVALID_PARAMETER",
            "ACQ.ACCESS_FORBIDDEN",
            "ACQ.INVALID_STORE_ID",
            "ACQ.SELLER_BEEN_BLOCKED",
            "ACQ.PARTNER_ERROR",
            "ACQ.EXIST_FORBIDDEN_WORD",
        )
    },
}

ALIPAY_PAY_CODES: Mapping[str, CodeRule] = MappingProxyType(_TABLE)
"""The ``sub_code`` of a ``40004`` answer to ``alipay.trade.pay`` and what each means here."""

_OTHER = Text(
    "支付宝拒绝了该交易（{code}），请顾客换一种方式付款",
    "Alipay refused the payment ({code}); ask for another way to pay",
)
_UNKNOWN_CODE = Text(
    "支付宝返回未知代码 {code}，正在查询结果",
    "Alipay answered {code}, a code we do not know." + _QUERYING,
)
_PAID = result_code("00").message
_PAYING = Text("等待顾客在手机上输入支付密码", "Waiting for the customer to enter their password")


def pay_answer(
    code: str | None, sub_code: str | None = None, transaction_id: str | None = None
) -> PayAnswer:
    """The answer for a verified reply's ``code`` and ``sub_code``. ``network_code`` is
    the sub_code when there is one (what the host shows as ``alipay:SUB_CODE``), else
    the code."""
    code = (code or "").strip()
    sub = (sub_code or "").strip() or None
    if sub and sub.upper().startswith("ACQ."):
        sub = sub.upper()  # Alipay writes them in capitals: a lower-case one is the same
    if code == SUCCESS:
        return PayAnswer(_A, "00", _PAID, code, transaction_id)
    if code == PAYING:
        return PayAnswer(_P, "09", _PAYING, code, transaction_id)
    if code in CONFIG_CODES:
        named = sub or code
        return PayAnswer(_D, "58", _CONFIG.format(code=named), named)
    if code == BUSINESS_FAILED and sub is not None:
        rule = _TABLE.get(sub)
        if rule is None:
            return PayAnswer(_D, "05", _OTHER.format(code=sub), sub)
        return PayAnswer(rule.outcome, rule.result_code, rule.message, sub)
    other = sub or code or None
    if code == UNAVAILABLE or other is None:
        return PayAnswer.unknown(other)
    return PayAnswer.unknown(other, _UNKNOWN_CODE.format(code=other))


def decline_message(network_code: str) -> Text | None:
    """The cashier's message for a decline with ``network_code`` (a ``sub_code``), or
    None when it is not a decline this table knows."""
    rule = _TABLE.get(network_code.strip().upper())
    return rule.message if rule is not None and rule.outcome is Outcome.DECLINED else None
