"""UnionPay's ``respCode`` in our terms (pure: the table the adapter answers from).

The published list (ACP 5.1.0 应答码): 00 success; 01–09 UnionPay's own trouble;
10–29 the request's format; 30–59 the merchant's business checks; 60–89 the card
holder or the issuer; 90–99 others. For a pay call (C2B consume)::

    respCode                                  outcome      ours  why
    00 with origRespCode 00                   APPROVED     00    the reply says it succeeded
    00 otherwise                              UNKNOWN      91    accepted: the result comes
                                                                 by backUrl or query
    02, 03, 04, 05, 06                        UNKNOWN      91    closed, timeout, state not
                                                                 known, accepted, busy
    12 duplicate                              UNKNOWN      91    the order id already has a
                                                                 trade (a retry of ours may
                                                                 have paid it): query decides
    37 too frequent                           UNKNOWN      91    refused for load, not a "no"
    42, 74, 75 charged (late, unposted)       UNKNOWN      91    money moved: never a decline
    83 issuer processing                      UNKNOWN      91
    70, 82 waiting for the holder             USER_PAYING  09
    10, 11, 13, 14, 31, 32, 43, 92–96         DECLINED     58    format, signature, missing
                                                                 field, merchant set up wrong
    64, 90                                    DECLINED     51
    44, 61, 86, 88, 89                        DECLINED     14    no such code / account
    80                                        DECLINED     54    the token (code) expired
    65                                        DECLINED     55
    67                                        DECLINED     75
    33, 38, 39, 62, 63, 68, 72, 73, 76–79, 81, 87  DECLINED 57  limits, risk, card, issuer
    45, 46                                    DECLINED     12    reversed or refunded
    36                                        DECLINED     95    not what the order was
    01, 30, 34, 35, 40, 41, 60, 66, 69, 71,   DECLINED     05
      85, 91, 98, 99
    any other code                            DECLINED     05    generic, never approved

Every row but "no reply" needs a reply :mod:`.acp` verified: anything else is UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from scanpay.i18n import Text
from scanpay.networks.port import Outcome, PayAnswer
from scanpay.networks.results import CodeRule
from scanpay.protocol.result_codes import result_code

__all__ = [
    "IN_DOUBT",
    "NOT_FOUND",
    "SUCCESS",
    "UNIONPAY_CODES",
    "code_rule",
    "decline_message",
    "pay_answer",
]

SUCCESS = "00"
NOT_FOUND = "34"
IN_DOUBT = frozenset({"03", "04", "05"})
"""Timeout, state not known, accepted: UnionPay's own "query it"."""

_A, _D, _P, _U = Outcome.APPROVED, Outcome.DECLINED, Outcome.USER_PAYING, Outcome.UNKNOWN
_QUERYING = " Querying the result."


def _rule(outcome: Outcome, code: str, zh: str, en: str) -> CodeRule:
    return CodeRule(outcome, code, Text(zh, en))


_CONFIG = " 请联系收单机构", "; call the acquirer"
_TABLE: dict[str, CodeRule] = {
    "01": _rule(
        _D, "05", "交易失败，请顾客换一种方式付款", "The payment failed; ask for another way to pay"
    ),
    "02": _rule(
        _U,
        "91",
        "银联系统未开放或暂时关闭，正在查询结果",
        "UnionPay is closed for now." + _QUERYING,
    ),
    "03": _rule(_U, "91", "交易通讯超时，正在查询结果", "UnionPay timed out." + _QUERYING),
    "04": _rule(
        _U, "91", "交易状态未明，正在查询结果", "The payment's state is not known." + _QUERYING
    ),
    "05": _rule(_U, "91", "交易已受理，正在查询结果", "UnionPay accepted the payment." + _QUERYING),
    "06": _rule(_U, "91", "银联系统繁忙，正在查询结果", "UnionPay is busy." + _QUERYING),
    "10": _rule(
        _D, "58", "报文格式错误" + _CONFIG[0], "The request's format is wrong" + _CONFIG[1]
    ),
    "11": _rule(
        _D,
        "58",
        "验证签名失败" + _CONFIG[0],
        "UnionPay could not verify our signature" + _CONFIG[1],
    ),
    "12": _rule(
        _U, "91", "该订单号已有交易，正在查询结果", "This order number has a trade." + _QUERYING
    ),
    "13": _rule(
        _D, "58", "报文交易要素缺失" + _CONFIG[0], "The request lacks a field" + _CONFIG[1]
    ),
    "14": _rule(
        _D, "58", "批量文件格式错误" + _CONFIG[0], "A batch file's format is wrong" + _CONFIG[1]
    ),
    "30": _rule(
        _D,
        "05",
        "交易未通过，请顾客换一种方式付款",
        "The payment was not approved; ask for another way to pay",
    ),
    "31": _rule(
        _D,
        "58",
        "商户状态不正确" + _CONFIG[0],
        "The merchant's state at UnionPay is wrong" + _CONFIG[1],
    ),
    "32": _rule(
        _D,
        "58",
        "商户无此交易权限" + _CONFIG[0],
        "The merchant may not make this transaction" + _CONFIG[1],
    ),
    "33": _rule(_D, "57", "交易金额超限", "The amount is over the limit"),
    "34": _rule(_D, "05", "查无此交易", "UnionPay has no such transaction"),
    "35": _rule(
        _D,
        "05",
        "原交易不存在或状态不正确",
        "The original transaction is missing or in the wrong state",
    ),
    "36": _rule(_D, "95", "与原交易信息不符", "Not what the original transaction was"),
    "37": _rule(_U, "91", "操作过于频繁，正在查询结果", "Too many requests." + _QUERYING),
    "38": _rule(_D, "57", "银联风险受限", "Refused by UnionPay's risk rules"),
    "39": _rule(
        _D, "57", "交易不在受理时间范围内", "Not within the hours this transaction is taken"
    ),
    "40": _rule(_D, "05", "绑定关系检查失败", "The binding check failed"),
    "41": _rule(
        _D, "05", "批量状态不正确，无法下载", "The batch's state does not allow a download"
    ),
    "42": _rule(
        _U,
        "91",
        "扣款成功但超过规定支付时间，正在查询结果",
        "Charged after the time allowed." + _QUERYING,
    ),
    "43": _rule(
        _D, "58", "无此业务权限" + _CONFIG[0], "The merchant may not use this service" + _CONFIG[1]
    ),
    "44": _rule(
        _D,
        "14",
        "号码错误或未开通此业务，请顾客刷新付款码",
        "Wrong number or service not open; ask for a fresh code",
    ),
    "45": _rule(_D, "12", "原交易已被退货或撤销", "The original was refunded or cancelled"),
    "46": _rule(_D, "12", "交易已被冲正", "The transaction was reversed"),
    "60": _rule(
        _D, "05", "交易失败，详情请咨询发卡行", "The payment failed; the issuer can say why"
    ),
    "61": _rule(_D, "14", "卡号无效", "The card number is not valid"),
    "62": _rule(
        _D,
        "57",
        "发卡行不支持该商户，请更换其他银行卡",
        "The issuer does not take this merchant; ask for another card",
    ),
    "63": _rule(_D, "57", "卡状态不正确", "The card's state is wrong"),
    "64": _rule(
        _D,
        "51",
        "卡上余额不足，请顾客换卡或换一种支付方式",
        "Insufficient balance; ask for another card or way to pay",
    ),
    "65": _rule(_D, "55", "密码、有效期或 CVN2 有误", "Wrong PIN, expiry date or CVN2"),
    "66": _rule(
        _D, "05", "持卡人身份信息或手机号不正确", "The holder's identity or phone number is wrong"
    ),
    "67": _rule(_D, "75", "密码输入次数超限", "Too many PIN tries"),
    "68": _rule(_D, "57", "该卡暂不支持此业务", "The card does not support this yet"),
    "69": _rule(
        _D, "05", "顾客输入超时，交易失败", "The customer took too long; the payment failed"
    ),
    "70": _rule(
        _P, "09", "等待顾客在手机上确认", "Waiting for the customer to confirm on their phone"
    ),
    "71": _rule(_D, "05", "动态口令或短信验证码校验失败", "The one-time code was wrong"),
    "72": _rule(
        _D, "57", "该卡未开通银联无卡支付", "The card is not enabled for card-not-present payment"
    ),
    "73": _rule(_D, "57", "支付卡已超过有效期", "The card has expired"),
    "74": _rule(
        _U,
        "91",
        "扣款成功，销账未知，正在查询结果",
        "Charged; its posting is not known." + _QUERYING,
    ),
    "75": _rule(
        _U, "91", "扣款成功，销账失败，正在查询结果", "Charged; its posting failed." + _QUERYING
    ),
    "76": _rule(_D, "57", "需要验密开通", "The card needs a PIN check to be enabled"),
    "77": _rule(
        _D, "57", "银行卡未开通认证支付", "The card is not enabled for authenticated payment"
    ),
    "78": _rule(_D, "57", "发卡行交易权限受限", "The issuer restricts this card"),
    "79": _rule(_D, "57", "发卡行暂不支持短信验证", "The issuer does not support SMS checks"),
    "80": _rule(
        _D,
        "54",
        "付款码已过期，请顾客刷新后重新扫描",
        "The code has expired; ask the customer to refresh it",
    ),
    "81": _rule(_D, "57", "月累计交易笔数或金额超限", "Over the monthly count or amount limit"),
    "82": _rule(
        _P, "09", "等待顾客在手机上输入密码", "Waiting for the customer to enter their PIN"
    ),
    "83": _rule(_U, "91", "发卡行处理中，正在查询结果", "The issuer is processing it." + _QUERYING),
    "85": _rule(_D, "05", "营销规则不满足", "The promotion's rules are not met"),
    "86": _rule(
        _D,
        "14",
        "二维码状态错误，请顾客刷新后重新扫描",
        "The code's state is wrong; ask for a fresh code",
    ),
    "87": _rule(_D, "57", "支付次数超限", "Too many payments"),
    "88": _rule(_D, "14", "无此二维码，请顾客刷新后重新扫描", "No such code; ask for a fresh code"),
    "89": _rule(
        _D, "14", "付款码无效，请顾客刷新后重新扫描", "The code is not valid; ask for a fresh code"
    ),
    "90": _rule(_D, "51", "账户余额不足", "Insufficient balance"),
    "91": _rule(_D, "05", "认证失败", "Authentication failed"),
    **{
        code: _rule(
            _D,
            "58",
            "商户营业执照无效" + _CONFIG[0],
            "The merchant's business licence is not valid" + _CONFIG[1],
        )
        for code in ("92", "93", "94", "95", "96")
    },
    "98": _rule(_D, "05", "文件不存在", "No such file"),
    "99": _rule(
        _D,
        "05",
        "银联通用错误，请顾客换一种方式付款",
        "UnionPay's general error; ask for another way to pay",
    ),
}

UNIONPAY_CODES: Mapping[str, CodeRule] = MappingProxyType(_TABLE)
"""Every published ``respCode`` but 00 and what it means for a pay call."""

_OTHER = Text(
    "银联拒绝了该交易（{code}），请顾客换一种方式付款",
    "UnionPay refused the payment ({code}); ask for another way to pay",
)
_ACCEPTED = Text("银联已受理，正在查询支付结果", "UnionPay accepted the payment." + _QUERYING)
_PAID = result_code("00").message


def code_rule(code: str) -> CodeRule:
    """The rule of a ``respCode`` other than 00 (an unknown one: a generic decline)."""
    rule = _TABLE.get(code)
    if rule is None:
        return CodeRule(_D, "05", _OTHER.format(code=code or "-"))
    return rule


def pay_answer(
    resp_code: str | None, orig_resp_code: str | None = None, query_id: str | None = None
) -> PayAnswer:
    """The answer for a verified consume reply's ``respCode`` (and ``origRespCode``, when
    it carries one). ``network_code`` is the respCode (the host shows ``unionpay:30``)."""
    code = (resp_code or "").strip()
    if not code:
        return PayAnswer.unknown()
    if code == SUCCESS:
        if (orig_resp_code or "").strip() == SUCCESS:
            return PayAnswer(_A, "00", _PAID, code, query_id)
        return PayAnswer.unknown(code, _ACCEPTED)
    rule = code_rule(code)
    return PayAnswer(rule.outcome, rule.result_code, rule.message, code)


def decline_message(network_code: str) -> Text | None:
    """The cashier's message for a decline with ``network_code`` (a respCode), or None
    when it is not a decline this table knows."""
    rule = _TABLE.get(network_code.strip())
    return rule.message if rule is not None and rule.outcome is Outcome.DECLINED else None
