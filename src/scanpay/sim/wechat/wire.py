"""The network's answers: one refusal, written the v2 way or the v3 way.

The rules (:mod:`.payments`, :mod:`.returns`) refuse with a :class:`Refusal` whose
code is the network's own name for the case, the API v2 ``err_code`` (``NOTENOUGH``,
``AUTHCODEEXPIRE``, ...). API v2 sends that name as ``err_code`` with the message as
``err_code_des``; API v3 sends the HTTP status and ``code`` of :data:`V3` with the
message (and, for a field, a ``detail``). ``docs/networks.md`` has the table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STATE_DESC", "V3", "Refusal", "v3_status"]


class Refusal(Exception):
    """The network declines or cannot answer: ``code`` (v2 name), message in Chinese as WeChat
    writes it, the ``field`` at fault if any, and ``recall`` for a reverse to call again."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        recall: bool = False,
        location: str = "body",
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.value = value
        self.recall = recall
        self.location = location  # where the field is: body, query or path


# v2 name -> (HTTP status, v3 code). USERPAYING is not an error in v3: 202 with the order.
V3: dict[str, tuple[int, str]] = {
    "USERPAYING": (202, "USERPAYING"),
    "SYSTEMERROR": (500, "SYSTEM_ERROR"),
    "BANKERROR": (500, "BANK_ERROR"),
    "RECALL": (500, "SYSTEM_ERROR"),
    "NOTENOUGH": (403, "NOTENOUGH"),
    "AUTHCODEEXPIRE": (403, "AUTHCODEEXPIRE"),
    "AUTH_CODE_INVALID": (403, "AUTH_CODE_INVALID"),
    "AUTH_CODE_ERROR": (400, "PARAM_ERROR"),
    "ORDERPAID": (403, "ORDERPAID"),
    "ORDERCLOSED": (403, "ORDERCLOSED"),
    "ORDERREVERSED": (403, "ORDERREVERSED"),
    "OUT_TRADE_NO_USED": (403, "OUT_TRADE_NO_USED"),
    "TRADE_ERROR": (403, "TRADE_ERROR"),
    "REVERSE_EXPIRE": (403, "REVERSE_EXPIRE"),
    "NOT_ENOUGH": (403, "NOT_ENOUGH"),
    "ORDERNOTEXIST": (404, "ORDER_NOT_EXIST"),
    "REFUNDNOTEXIST": (404, "RESOURCE_NOT_EXISTS"),
    "PARAM_ERROR": (400, "PARAM_ERROR"),
    "INVALID_REQUEST": (400, "INVALID_REQUEST"),
    "APPID_MCHID_NOT_MATCH": (400, "APPID_MCHID_NOT_MATCH"),
    "MCH_NOT_EXISTS": (400, "MCH_NOT_EXISTS"),
    "NO_STATEMENT_EXIST": (400, "NO_STATEMENT_EXIST"),
    "SIGNERROR": (401, "SIGN_ERROR"),
    "NOAUTH": (403, "NO_AUTH"),
}


def v3_status(code: str) -> tuple[int, str]:
    return V3.get(code, (400, code))


STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "REVOKED": "已撤销",
    "USERPAYING": "需要用户输入支付密码",
    "PAYERROR": "支付失败",
}
