"""The network port's errors: configuration the port refuses before anything is sent.

Network trouble is never an error (a timeout is an ``UNKNOWN`` answer, see
:mod:`scanpay.networks.port`); a :class:`NetworkError` is a channel, a request
or a rule set that cannot work: its ``code`` is stable (a key of
:data:`NETWORK_ERRORS`), its ``field`` names what is at fault, its message is
in zh-CN and en.
"""

from __future__ import annotations

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = ["NETWORK_ERRORS", "NetworkError"]

# code -> message. Codes are API: add new ones, never rename.
NETWORK_ERRORS: dict[str, Text] = {
    "bad_network_name": Text("支付网络名称无效", "the payment network's name is not valid"),
    "channel_incomplete": Text(
        "支付渠道缺少必填的账户信息", "the channel lacks a required account id"
    ),
    "channel_mode": Text(
        "支付渠道的模式与账户信息不符", "the channel's mode does not fit its accounts"
    ),
    "channel_secret_missing": Text("支付渠道缺少所需的密钥", "the channel lacks a secret it needs"),
    "channel_network_mismatch": Text(
        "支付渠道属于另一个支付网络", "the channel is another network's"
    ),
    "bad_trade_no": Text(
        "交易号须为 1–32 位字母、数字或 _-|*", "the trade number must be 1-32 of A-Z a-z 0-9 _-|*"
    ),
    "bad_refund_no": Text(
        "退款号须为 1–64 位字母、数字或 _-|*@",
        "the refund number must be 1-64 of A-Z a-z 0-9 _-|*@",
    ),
    "bad_auth_code": Text("付款码为空或含有空白字符", "the payment code is empty or has blanks"),
    "bad_time": Text("时间须带时区", "the time must carry its time zone"),
    "bad_amount": Text("金额必须是正的整数（最小单位）", "the amount must be positive minor units"),
    "bad_currency": Text("币种必须是 ISO 4217 字母代码", "the currency must be an ISO 4217 code"),
    "bad_description": Text("商品描述不能为空", "the description must not be empty"),
    "bad_answer": Text(
        "支付网络应答与结果代码不一致", "the answer's outcome and result code disagree"
    ),
    "bad_leg_rules": Text("支付网络的时间规则无效", "the network's timing rules are not valid"),
    "channel_secret_bad": Text("支付渠道的机密无法使用", "a channel secret cannot be used"),
    "bad_network_option": Text("支付网络的设置无效", "a payment network option is not valid"),
    "network_unknown": Text("没有该支付网络的适配器", "there is no adapter for that network"),
}


class NetworkError(ScanpayError):
    """A configuration or request the port refuses before anything is sent.

    ``code`` is a key of :data:`NETWORK_ERRORS` (stable); ``field`` names the
    channel field, secret or request field at fault.
    """

    def __init__(self, code: str, text: Text | None = None, *, field: str | None = None) -> None:
        super().__init__(code, text or NETWORK_ERRORS[code], field=field)
