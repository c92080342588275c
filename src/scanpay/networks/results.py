"""Network codes to our terms: the one table per network an adapter answers from.

A network's error code decides an :class:`~scanpay.networks.port.Outcome` and
one of the host's two-digit result codes (``scanpay.protocol.result_codes``,
ISO 8583 field 39 where one fits), with a message a cashier understands.

WeChat Pay (API v2 ``err_code``; v3 spells some with underscores, and a code is
looked up with its underscores ignored, so ``SYSTEM_ERROR`` is ``SYSTEMERROR``)::

    network code                          outcome      ours  why
    SUCCESS                               APPROVED     00
    USERPAYING                            USER_PAYING  09    password step: poll
    SYSTEMERROR, BANKERROR                UNKNOWN      91    the network's own "query it"
    ORDERPAID, OUT_TRADE_NO_USED,         UNKNOWN      91    the trade number already has a
      BUYER_MISMATCH                                         trade there (a retry of ours may
                                                             have paid it): the query decides
    FREQUENCY_LIMITED                     UNKNOWN      91    refused for load: query, never decline
    NOTENOUGH                             DECLINED     51
    AUTHCODEEXPIRE                        DECLINED     54
    AUTH_CODE_ERROR, AUTH_CODE_INVALID    DECLINED     14
    NOTSUPORTCARD, TRADE_ERROR,           DECLINED     57    card type, account or limits
      RULE_LIMIT, ACCOUNT_ERROR
    ORDERCLOSED, ORDERREVERSED            DECLINED     12    the trade is closed for good
    SIGNERROR, PARAM_ERROR, NOAUTH, ...   DECLINED     58    our channel is set up wrong; the
                                                             network refused before it began
    anything else                         UNKNOWN      91    an unknown word is not a "no"

The rule behind the table: a code is a decline only when the network says this
trade number did not and will not move money; every other code leaves the
payment in doubt, and the leg (``scanpay.networks.leg``) queries and reverses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from scanpay.i18n import Text
from scanpay.networks.port import Outcome, PayAnswer, TradeState
from scanpay.protocol.result_codes import result_code

__all__ = [
    "WECHAT_PAY_CODES",
    "WECHAT_TRADE_STATES",
    "CodeRule",
    "decline_message",
    "wechat_pay_answer",
    "wechat_trade_state",
]


@dataclass(frozen=True, slots=True)
class CodeRule:
    """What one network code means: our outcome, our result code, the cashier's message."""

    outcome: Outcome
    result_code: str
    message: Text


_QUERYING = " Querying the result."
_CONFIG = Text(
    "支付渠道配置错误（{code}），请联系收单机构",
    "The payment channel is set up wrongly ({code}); call the acquirer",
)
_CONFIG_CODES = (
    "SIGNERROR",
    "PARAM_ERROR",
    "LACK_PARAMS",
    "NOAUTH",
    "APPID_MCHID_NOT_MATCH",
    "APPID_NOT_EXIST",
    "MCHID_NOT_EXIST",
    "MCH_NOT_EXISTS",
    "SUB_MCH_NOT_EXISTS",
    "XML_FORMAT_ERROR",
    "NOT_UTF8",
    "REQUIRE_POST_METHOD",
    "POST_DATA_EMPTY",
)


def _rule(outcome: Outcome, code: str, zh: str | None = None, en: str | None = None) -> CodeRule:
    text = Text(zh, en) if zh and en else result_code(code).message
    return CodeRule(outcome, code, text)


_A, _D, _P, _U = Outcome.APPROVED, Outcome.DECLINED, Outcome.USER_PAYING, Outcome.UNKNOWN

_WECHAT: dict[str, CodeRule] = {
    "SUCCESS": _rule(_A, "00"),
    "USERPAYING": _rule(
        _P, "09", "等待顾客在手机上输入支付密码", "Waiting for the customer to enter their password"
    ),
    "SYSTEMERROR": _rule(
        _U, "91", "微信支付系统繁忙，正在查询结果", "WeChat Pay is busy." + _QUERYING
    ),
    "BANKERROR": _rule(_U, "91", "银行系统繁忙，正在查询结果", "The bank is busy." + _QUERYING),
    "ORDERPAID": _rule(
        _U, "91", "该订单号已有支付，正在查询结果", "This trade number was paid." + _QUERYING
    ),
    "OUT_TRADE_NO_USED": _rule(
        _U, "91", "该订单号已被使用，正在查询结果", "This trade number was used." + _QUERYING
    ),
    "BUYER_MISMATCH": _rule(
        _U,
        "91",
        "该订单号已由其他顾客支付，正在查询结果",
        "Another payer has this trade." + _QUERYING,
    ),
    "FREQUENCY_LIMITED": _rule(
        _U, "91", "请求过于频繁，正在查询结果", "Too many requests." + _QUERYING
    ),
    "NOTENOUGH": _rule(
        _D,
        "51",
        "余额不足，请顾客换卡或换一种支付方式",
        "Insufficient balance; ask for another card or way to pay",
    ),
    "AUTHCODEEXPIRE": _rule(
        _D,
        "54",
        "付款码已过期，请顾客刷新后重新扫描",
        "The code has expired; ask the customer to refresh it",
    ),
    "AUTH_CODE_ERROR": _rule(
        _D,
        "14",
        "付款码错误，请顾客刷新后重新扫描",
        "The code is wrong; ask the customer to refresh it",
    ),
    "AUTH_CODE_INVALID": _rule(
        _D,
        "14",
        "付款码无效，请顾客刷新后重新扫描",
        "The code is not valid; ask the customer to refresh it",
    ),
    "NOTSUPORTCARD": _rule(
        _D,
        "57",
        "不支持该卡种，请顾客换卡支付",
        "This card type is not accepted; ask for another card",
    ),
    "TRADE_ERROR": _rule(
        _D, "57", "顾客账户异常或超出限额", "The customer's account is restricted or over its limit"
    ),
    "RULE_LIMIT": _rule(
        _D, "57", "交易金额或次数超出限制", "Over the network's amount or count limit"
    ),
    "ACCOUNT_ERROR": _rule(_D, "57", "顾客账户异常", "The customer's account is restricted"),
    "ORDERCLOSED": _rule(
        _D, "12", "订单已关闭，请重新下单", "The order is closed; start a new sale"
    ),
    "ORDERREVERSED": _rule(
        _D, "12", "订单已撤销，请重新下单", "The order was reversed; start a new sale"
    ),
    **{code: CodeRule(_D, "58", _CONFIG.format(code=code)) for code in _CONFIG_CODES},
}

WECHAT_PAY_CODES: Mapping[str, CodeRule] = MappingProxyType(_WECHAT)
"""WeChat Pay's pay-call codes (v2 spelling) and what each means here."""

_WECHAT_LOOKUP = {code.replace("_", ""): rule for code, rule in _WECHAT.items()}
_UNKNOWN_CODE = Text(
    "微信支付返回未知代码 {code}，正在查询结果",
    "WeChat Pay answered {code}, a code we do not know." + _QUERYING,
)


def wechat_pay_answer(network_code: str, transaction_id: str | None = None) -> PayAnswer:
    """The answer for WeChat Pay's ``network_code`` (``SUCCESS`` or an ``err_code``)."""
    code = network_code.strip().upper()
    rule = _WECHAT_LOOKUP.get(code.replace("_", ""))
    if rule is None:
        return PayAnswer.unknown(code, _UNKNOWN_CODE.format(code=code))
    return PayAnswer(rule.outcome, rule.result_code, rule.message, code, transaction_id)


WECHAT_TRADE_STATES: Mapping[str, TradeState] = MappingProxyType(
    {
        "SUCCESS": TradeState.PAID,
        "REFUND": TradeState.REFUNDED,
        "NOTPAY": TradeState.NOT_PAID,
        "CLOSED": TradeState.CLOSED,
        "REVOKED": TradeState.REVERSED,
        "USERPAYING": TradeState.USER_PAYING,
        "PAYERROR": TradeState.PAY_ERROR,
        # Not a trade_state but the query's err_code for a trade the network has not seen.
        "ORDERNOTEXIST": TradeState.NOT_FOUND,
        "ORDER_NOT_EXIST": TradeState.NOT_FOUND,
    }
)
"""WeChat Pay's order-query ``trade_state`` (and ``ORDERNOTEXIST``) as trade states."""


def wechat_trade_state(value: str) -> TradeState:
    """The trade state for a query's ``trade_state``; anything unknown is ``UNKNOWN``."""
    return WECHAT_TRADE_STATES.get(value.strip().upper(), TradeState.UNKNOWN)


def decline_message(network: str, network_code: str) -> Text | None:
    """The cashier's message for a decline with ``network``'s ``network_code``
    (None when the code is not a decline this module knows). Alipay's table is its
    adapter's (:mod:`scanpay.networks.alipay.codes`, pure, read on first use)."""
    if network == "alipay":
        from scanpay.networks.alipay.codes import decline_message as alipay_decline

        return alipay_decline(network_code)
    if network == "unionpay":
        from scanpay.networks.unionpay.codes import decline_message as unionpay_decline

        return unionpay_decline(network_code)
    if network != "wechat_pay":
        return None
    rule = _WECHAT_LOOKUP.get(network_code.strip().upper().replace("_", ""))
    return rule.message if rule is not None and rule.outcome is Outcome.DECLINED else None
