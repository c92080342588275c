"""The terminal agent's errors: one family, stable codes, zh-CN and en messages.

::

    ScanpayError
     +-- TerminalError        every refusal of the agent (code in CATALOG)
     +-- SaleError            an action the sale's state does not allow (scanpay.terminal.sale)
     +-- CodeError            a scanned text that is not a usable code (scanpay.codes)
     +-- MoneyError           a bad amount or currency (scanpay.money)

The JSON API turns each into one envelope (``{"error": {"code", "message",
"field"}}``) with the HTTP status of :data:`HTTP_STATUS`; the CLI prints the
message and exits non-zero.
"""

from __future__ import annotations

from typing import Any

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = ["CATALOG", "HTTP_STATUS", "TerminalError"]

# code -> message. Codes are API: add new ones, never rename.
CATALOG: dict[str, Text] = {
    "not_activated": Text(
        "终端尚未激活：请先运行 scanpay terminal activate",
        "The terminal is not activated: run scanpay terminal activate first",
    ),
    "already_activated": Text(
        "终端已激活（使用 --force 重新激活）",
        "The terminal is already activated (use --force to activate again)",
    ),
    "activation_failed": Text("激活失败：{reason}", "Activation failed: {reason}"),
    "not_logged_in": Text("请先登录", "Please log in first"),
    "bad_pin": Text("操作员或密码错误", "Wrong operator or PIN"),
    "pin_locked": Text(
        "密码错误次数过多，请 {seconds} 秒后再试",
        "Too many wrong PINs; try again in {seconds} s",
    ),
    "bad_new_pin": Text("密码必须是 4 到 8 位数字", "The PIN must be 4 to 8 digits"),
    "operator_exists": Text("操作员已存在：{operator}", "The operator already exists: {operator}"),
    "supervisor_required": Text(
        "此操作需要主管授权（主管密码）",
        "This needs a supervisor's approval (supervisor PIN)",
    ),
    "sale_not_found": Text("找不到该交易：{out_trade_no}", "No such sale: {out_trade_no}"),
    "refund_not_found": Text("找不到该退款：{out_refund_no}", "No such refund: {out_refund_no}"),
    "sale_in_progress": Text(
        "还有未完成的交易（{out_trade_no}），请先完成或取消",
        "Another sale is still open ({out_trade_no}); finish or cancel it first",
    ),
    "sales_in_doubt": Text(
        "正在确认 {count} 笔结果未知的交易，请稍候",
        "Resolving {count} sale(s) whose outcome is unknown; please wait",
    ),
    "sales_blocked": Text("暂停收款：{reason}", "Sales are blocked: {reason}"),
    "code_refused": Text("付款码无法使用：{reason}", "The payment code cannot be used: {reason}"),
    "merchant_code": Text(
        "这是商户收款码，不会扣款；请扫描顾客的付款码",
        "This is a merchant's code and is not charged; scan the customer's payment code",
    ),
    "no_code_in_image": Text(
        "图片中没有读到条码或二维码：{hint}",
        "No barcode or QR code could be read in the image: {hint}",
    ),
    "image_unreadable": Text("无法读取该图片", "The image cannot be read"),
    "refund_too_much": Text(
        "退款金额超过可退金额（最多 {refundable}）",
        "The refund is more than can be refunded (at most {refundable})",
    ),
    "not_refundable": Text(
        "只有已支付的交易可以退款（当前：{state}）",
        "Only a paid sale can be refunded (now: {state})",
    ),
    "refund_pending": Text(
        "该交易还有未确认的退款，请稍候",
        "A refund of this sale is not confirmed yet; please wait",
    ),
    "day_not_ready": Text(
        "还有 {count} 笔交易或退款结果未定，暂不能日结",
        "{count} sale(s) or refund(s) are not settled yet; the day cannot be closed",
    ),
    "host_unreachable": Text(
        "无法连接收单主机：{reason}", "The acquiring host cannot be reached: {reason}"
    ),
    "host_refused": Text("收单主机拒绝：{reason}", "The acquiring host refused: {reason}"),
    "host_connection_refused": Text(
        "收单主机拒绝连接（未发送任何数据）：{host}",
        "The acquiring host refused the connection (nothing was sent): {host}",
    ),
    "host_untrusted": Text(
        "收单主机的证书不受信任（未发送任何数据）：{reason}",
        "The acquiring host's certificate is not trusted (nothing was sent): {reason}",
    ),
    "host_pin_mismatch": Text(
        "收单主机的证书与固定的指纹不符（未发送任何数据）：应为 {expected}，实为 {actual}",
        "The acquiring host's certificate is not the pinned one (nothing was sent): "
        "expected {expected}, got {actual}",
    ),
    "plain_http_refused": Text(
        "拒绝以明文 HTTP 连接本机以外的收单主机 {host}：请使用 https://，"
        "或明确指定 --allow-plain-http",
        "Plain HTTP to the acquiring host {host}, which is not this machine, is refused: "
        "use https://, or give --allow-plain-http explicitly",
    ),
    "host_feature_missing": Text(
        "收单主机不支持此功能（{path}）", "The acquiring host does not offer this ({path})"
    ),
    "order_not_found": Text("找不到该订单：{out_trade_no}", "No such order: {out_trade_no}"),
    "bad_request": Text("请求无效：{reason}", "Bad request: {reason}"),
    "journal_error": Text("交易日志写入失败：{reason}", "The journal cannot be written: {reason}"),
    "printer_error": Text("打印失败：{reason}", "Printing failed: {reason}"),
}

HTTP_STATUS: dict[str, int] = {
    "not_activated": 503,
    "already_activated": 409,
    "activation_failed": 502,
    "not_logged_in": 401,
    "bad_pin": 401,
    "pin_locked": 429,
    "bad_new_pin": 422,
    "operator_exists": 409,
    "supervisor_required": 403,
    "sale_not_found": 404,
    "refund_not_found": 404,
    "order_not_found": 404,
    "sale_in_progress": 409,
    "sales_in_doubt": 409,
    "sales_blocked": 423,
    "code_refused": 422,
    "merchant_code": 422,
    "no_code_in_image": 422,
    "image_unreadable": 422,
    "refund_too_much": 422,
    "not_refundable": 409,
    "refund_pending": 409,
    "day_not_ready": 409,
    "host_unreachable": 502,
    "host_refused": 502,
    "host_connection_refused": 502,
    "host_untrusted": 502,
    "host_pin_mismatch": 502,
    "plain_http_refused": 422,
    "host_feature_missing": 501,
    "bad_request": 422,
    "journal_error": 500,
    "printer_error": 502,
    # errors of the other families that reach the API
    "action_not_allowed": 409,
    "bad_amount": 422,
    # an amount a person typed (scanpay.money.read_amount)
    "amount_empty": 422,
    "amount_not_a_number": 422,
    "amount_negative": 422,
    "amount_two_decimal_points": 422,
    "amount_bad_grouping": 422,
    "amount_too_many_decimals": 422,
    "amount_zero": 422,
    "amount_too_large": 422,
    "unknown_currency": 422,
    "refund_exceeds_payment": 422,
}


class TerminalError(ScanpayError):
    """A refusal of the terminal agent; ``code`` is a key of :data:`CATALOG`."""

    def __init__(
        self, code: str, *, field: str | None = None, detail: Any = None, **values: object
    ) -> None:
        super().__init__(code, CATALOG[code].format(**values), field=field)
        self.detail = detail

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 400)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        if self.detail is not None:
            data["detail"] = self.detail
        return data
