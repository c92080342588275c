"""What each API v2 call does once its signature is good: fields read, rules applied,
the reply's business fields written (``result_code``, ``err_code`` and the rest).

A service provider sends its own ``appid``/``mch_id`` with ``sub_mch_id`` (and
``sub_appid``): the order is the sub-merchant's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanpay.sim.common.clock import bill_time
from scanpay.sim.wechat import returns
from scanpay.sim.wechat.clock import compact
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.outcomes import Chosen
from scanpay.sim.wechat.payments import PayRequest, valid_code
from scanpay.sim.wechat.store import Merchant, Order, Refund
from scanpay.sim.wechat.wire import Refusal

__all__ = ["V2Call", "micropay", "orderquery", "refund_call", "refundquery", "reverse_call"]

Result = tuple[dict[str, str], Chosen | None]


@dataclass(frozen=True)
class V2Call:
    sim: Sim
    merchant: Merchant  # who signed: a direct merchant or a service provider
    params: dict[str, str]
    chosen: Chosen | None

    def text(self, name: str, *, required: bool = True, max_len: int = 32) -> str:
        value = self.params.get(name, "")
        if not value and required:
            raise Refusal("PARAM_ERROR", f"缺少参数{name}")
        if len(value) > max_len:
            raise Refusal("PARAM_ERROR", f"{name}参数长度有误")
        return value

    def fen(self, name: str) -> int:
        value = self.text(name, max_len=12)
        if not value.isdigit() or int(value) <= 0:
            raise Refusal("PARAM_ERROR", f"{name}参数格式错误：应为正整数（单位：分）")
        return int(value)

    def parties(self) -> tuple[Merchant, Merchant | None]:
        """(whose order, service provider), ``appid`` and ``sub_mch_id`` checked."""
        self.text("nonce_str")
        if self.text("appid") != self.merchant.appid:
            raise Refusal("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        if self.merchant.kind == "direct":
            if self.params.get("sub_mch_id"):
                raise Refusal("NOAUTH", "普通商户不能传sub_mch_id")
            return self.merchant, None
        sub = self.sim.store.merchant(self.text("sub_mch_id"))
        if sub is None or sub.kind != "sub" or sub.parent != self.merchant.mchid:
            raise Refusal("PARAM_ERROR", "sub_mch_id不存在或与mch_id不匹配")
        sub_appid = self.params.get("sub_appid")
        if sub_appid and sub.appid and sub_appid != sub.appid:
            raise Refusal("APPID_MCHID_NOT_MATCH", "sub_appid和sub_mch_id不匹配")
        return sub, self.merchant

    def order(self) -> Order:
        owner, sp = self.parties()
        sp_mchid = sp.mchid if sp else None
        transaction_id = self.params.get("transaction_id")
        if transaction_id:
            return self.sim.network.find_by_id(owner.mchid, transaction_id, sp_mchid)
        out_trade_no = self.text("out_trade_no", required=False)
        if not out_trade_no:
            raise Refusal("PARAM_ERROR", "transaction_id和out_trade_no须传其一")
        return self.sim.network.find(owner.mchid, out_trade_no, sp_mchid)


def _paid_fields(order: Order, partner: bool) -> dict[str, str]:
    fields = {
        "openid": order.openid or "",
        "is_subscribe": "N",
        "trade_type": "MICROPAY",
        "bank_type": "OTHERS",
        "fee_type": order.currency,
        "total_fee": str(order.total),
        "cash_fee_type": order.currency,
        "cash_fee": str(order.total),
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
    }
    if partner:
        fields.update(sub_openid=order.openid or "", sub_is_subscribe="N")
    if order.attach:
        fields["attach"] = order.attach
    if order.success_time is not None:
        fields["time_end"] = compact(order.success_time)
    return fields


def micropay(call: V2Call) -> Result:
    owner, sp = call.parties()
    body = call.text("body", max_len=128)
    out_trade_no = call.text("out_trade_no")
    if not re.fullmatch(r"[0-9A-Za-z_\-|*@]+", out_trade_no):
        raise Refusal("PARAM_ERROR", "out_trade_no参数格式错误")
    total = call.fen("total_fee")
    currency = call.params.get("fee_type") or "CNY"
    if currency != "CNY":
        raise Refusal("PARAM_ERROR", "fee_type参数错误：境内商户号仅支持CNY")
    call.text("spbill_create_ip", max_len=64)
    code = call.text("auth_code", max_len=128)
    if not valid_code(code):
        raise Refusal("AUTH_CODE_ERROR", "授权码参数错误：应为18位数字，以10至15开头")
    request = PayRequest(
        owner=owner,
        sp=sp,
        appid=call.params["appid"],
        sub_appid=call.params.get("sub_appid") or None,
        out_trade_no=out_trade_no,
        auth_code=code,
        total=total,
        currency=currency,
        description=body,
        attach=call.params.get("attach") or None,
        device=call.params.get("device_info") or None,
        api="v2",
    )
    paid = call.sim.network.pay(request, call.chosen)
    if paid.order.state == "USERPAYING":
        return {
            "result_code": "FAIL",
            "err_code": "USERPAYING",
            "err_code_des": "需要用户输入支付密码",
        }, paid.delivery
    return {"result_code": "SUCCESS", **_paid_fields(paid.order, sp is not None)}, paid.delivery


def orderquery(call: V2Call) -> Result:
    order = call.order()
    fields = {"result_code": "SUCCESS"}
    if order.state in ("SUCCESS", "REFUND"):
        fields.update(_paid_fields(order, order.sp_mchid is not None))
    else:  # as WeChat: an order not paid shows only its number (and attach)
        fields["out_trade_no"] = order.out_trade_no
        if order.attach:
            fields["attach"] = order.attach
    fields.update(trade_state=order.state, trade_state_desc=order.state_desc)
    return fields, None


def reverse_call(call: V2Call) -> Result:
    order = call.order()
    returns.reverse(call.sim.network, order, call.chosen)
    return {"result_code": "SUCCESS", "recall": "N"}, None


def _refund_fields(made: Refund, order: Order) -> dict[str, str]:
    return {
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "out_refund_no": made.out_refund_no,
        "refund_id": made.refund_id,
        "refund_fee": str(made.amount),
        "total_fee": str(order.total),
        "fee_type": order.currency,
        "cash_fee": str(order.total),
        "cash_refund_fee": str(made.amount),
    }


def refund_call(call: V2Call) -> Result:
    order = call.order()
    out_refund_no = call.text("out_refund_no", max_len=64)
    if not re.fullmatch(r"[0-9A-Za-z_\-|*@]+", out_refund_no):
        raise Refusal("PARAM_ERROR", "out_refund_no参数格式错误")
    total = call.fen("total_fee")
    amount = call.fen("refund_fee")
    currency = call.params.get("refund_fee_type") or "CNY"
    if currency != "CNY":
        raise Refusal("PARAM_ERROR", "refund_fee_type参数错误：境内商户号仅支持CNY")
    reason = call.params.get("refund_desc") or None
    made, after = returns.refund(
        call.sim.network, order, out_refund_no, amount, total, reason, call.chosen
    )
    return {"result_code": "SUCCESS", **_refund_fields(made, after)}, None


def refundquery(call: V2Call) -> Result:
    """By out_refund_no (that refund), or by the order (all its refunds)."""
    out_refund_no = call.params.get("out_refund_no")
    if out_refund_no:
        owner, _ = call.parties()
        made, order = returns.find_refund(call.sim.network, owner.mchid, out_refund_no)
        refunds = [made]
    else:
        order = call.order()
        refunds = [
            returns.find_refund(call.sim.network, order.mchid, r.out_refund_no)[0]
            for r in call.sim.store.refunds_of(order.transaction_id)
            if r.kind == "refund"
        ]
        if not refunds:
            raise Refusal("REFUNDNOTEXIST", "退款订单查询失败：订单没有退款")
    fields = {
        "result_code": "SUCCESS",
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "total_fee": str(order.total),
        "cash_fee": str(order.total),
        "fee_type": order.currency,
        "refund_count": str(len(refunds)),
    }
    for n, made in enumerate(refunds):
        fields[f"out_refund_no_{n}"] = made.out_refund_no
        fields[f"refund_id_{n}"] = made.refund_id
        fields[f"refund_fee_{n}"] = str(made.amount)
        fields[f"refund_status_{n}"] = made.status
        fields[f"refund_channel_{n}"] = "ORIGINAL"
        fields[f"refund_recv_accout_{n}"] = "支付用户的零钱"
        if made.success_time is not None:
            fields[f"refund_success_time_{n}"] = bill_time(made.success_time)
    return fields, None
