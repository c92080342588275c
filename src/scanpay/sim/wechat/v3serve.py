"""How every API v3 request is served: authenticated, outcome read, answered, signed.

A route hands :func:`serve` a handler; the handler reads the body with :class:`Fields`
(bad fields: 400 ``PARAM_ERROR`` with WeChat's ``detail``) and returns a
:class:`Reply` or raises a :class:`Refusal`. Every reply, errors too, carries the
``Wechatpay-*`` signature headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from scanpay.sim.common.clock import rfc3339
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.delivery import deliver
from scanpay.sim.wechat.outcomes import HEADER, Chosen, Outcome, from_headers
from scanpay.sim.wechat.store import Merchant, Order
from scanpay.sim.wechat.v3auth import authenticate, reply_headers
from scanpay.sim.wechat.wire import Refusal, v3_status

__all__ = ["Fields", "Handler", "Reply", "order_json", "serve", "url_of"]

_DELIVERY = {Outcome.SLOW, Outcome.CHARGED_NO_REPLY, Outcome.WRONG_SIGNATURE}


@dataclass(frozen=True)
class Reply:
    status: int
    payload: dict[str, Any] | None = None  # JSON; None: no body (204)
    raw: bytes | None = None  # a file (the bill): sent as it is, not signed by clients' rules
    delivery: Chosen | None = None


Handler = Callable[[Merchant, bytes, Chosen | None], Reply]


def url_of(request: Request) -> str:
    """The URL as the client signed it: the raw path and query, undecoded."""
    path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")


def _refusal_reply(refusal: Refusal) -> Reply:
    status, code = v3_status(refusal.code)
    payload: dict[str, Any] = {"code": code, "message": refusal.message}
    if refusal.field:
        payload["detail"] = {
            "field": "/" + refusal.field.replace(".", "/"),
            "value": refusal.value,
            "issue": refusal.message,
            "location": refusal.location,
        }
    return Reply(status, payload)


async def serve(
    sim: Sim,
    request: Request,
    allowed: frozenset[Outcome],
    handler: Handler,
    *,
    pay: bool = False,
) -> Response:
    body = await request.body()
    merchant: Merchant | None = None
    chosen: Chosen | None = None
    try:
        merchant = authenticate(sim.store, request.method, url_of(request), request.headers, body)
        try:
            chosen = from_headers(request.headers, allowed)
        except ValueError as exc:
            raise Refusal("PARAM_ERROR", f"{HEADER}: {exc}") from None
        if chosen is not None and chosen.outcome is Outcome.SYSTEMERROR and not pay:
            raise Refusal("SYSTEMERROR", "系统错误，请稍后重试")
        reply = handler(merchant, body, chosen)
    except Refusal as refusal:
        reply = _refusal_reply(refusal)
    delivery = reply.delivery
    if delivery is None and chosen is not None and chosen.outcome in _DELIVERY:
        delivery = chosen
    if reply.raw is not None:
        content, media = reply.raw, "application/octet-stream"
    elif reply.payload is not None:
        content = json.dumps(reply.payload, ensure_ascii=False, separators=(",", ":")).encode()
        media = "application/json; charset=utf-8"
    else:
        content, media = b"", None
    wrong = (merchant is not None and merchant.wrong_key) or (
        delivery is not None and delivery.outcome is Outcome.WRONG_SIGNATURE
    )
    if reply.raw is not None:
        headers = {}  # a bill file is not signed (clients do not check it; WeChat does not sign it)
    else:
        headers = reply_headers(
            sim.keys, merchant, content, wrong_key=sim.wrong_key if wrong else None
        )
    response = Response(content, status_code=reply.status, headers=headers, media_type=media)
    return await deliver(request, response, delivery)


_PATH_WORD = re.compile(r"[^.]+")


class Fields:
    """A JSON body (or a query) read field by field, refusing as WeChat does."""

    def __init__(self, data: dict[str, Any], location: str = "body") -> None:
        self.data = data
        self.location = location

    @classmethod
    def parse(cls, body: bytes) -> Fields:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise Refusal("PARAM_ERROR", "请求体不是合法的JSON") from None
        if not isinstance(data, dict):
            raise Refusal("PARAM_ERROR", "请求体应为JSON对象")
        return cls(data)

    def _get(self, path: str) -> Any:
        value: Any = self.data
        for word in _PATH_WORD.findall(path):
            if not isinstance(value, dict):
                return None
            value = value.get(word)
        return value

    def _bad(self, path: str, issue: str, value: Any = None) -> Refusal:
        return Refusal(
            "PARAM_ERROR",
            f"参数错误：{path} {issue}",
            field=path,
            value=value,
            location=self.location,
        )

    def text(
        self,
        path: str,
        *,
        required: bool = True,
        max_len: int = 32,
        pattern: str | None = None,
        secret: bool = False,
    ) -> str | None:
        value = self._get(path)
        if value is None or value == "":
            if required:
                raise self._bad(path, "必填，不能为空")
            return None
        shown = None if secret else value  # a payment code is never echoed back
        if not isinstance(value, str):
            raise self._bad(path, "应为字符串", shown)
        if len(value) > max_len:
            raise self._bad(path, f"长度不能超过{max_len}", shown)
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self._bad(path, "格式不正确", shown)
        return value

    def need(self, path: str, **options: Any) -> str:
        value = self.text(path, required=True, **options)
        assert value is not None
        return value

    def integer(self, path: str, *, minimum: int = 1, maximum: int = 10**12) -> int:
        value = self._get(path)
        if value is None:
            raise self._bad(path, "必填，不能为空")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(path, "应为整数（单位：分）", value)
        if not minimum <= value <= maximum:
            raise self._bad(path, f"应在{minimum}到{maximum}之间", value)
        return value

    def mapping(self, path: str, *, required: bool = True) -> dict[str, Any] | None:
        value = self._get(path)
        if value is None:
            if required:
                raise self._bad(path, "必填，不能为空")
            return None
        if not isinstance(value, dict):
            raise self._bad(path, "应为JSON对象", value)
        return value

    def currency(self, path: str) -> str:
        value = self.text(path, required=False, max_len=16) or "CNY"
        if value != "CNY":
            raise self._bad(path, "境内商户号仅支持人民币CNY", value)
        return value


def order_json(order: Order, partner: bool) -> dict[str, Any]:
    """An order as API v3 writes it (pay, query)."""
    data: dict[str, Any] = {}
    if partner:
        data["sp_appid"] = order.appid
        data["sp_mchid"] = order.sp_mchid
        if order.sub_appid:
            data["sub_appid"] = order.sub_appid
        data["sub_mchid"] = order.mchid
    else:
        data["appid"] = order.appid
        data["mchid"] = order.mchid
    data["out_trade_no"] = order.out_trade_no
    data["transaction_id"] = order.transaction_id
    data["trade_type"] = "MICROPAY"
    data["trade_state"] = order.state
    data["trade_state_desc"] = order.state_desc
    paid = order.success_time is not None
    if paid:
        data["bank_type"] = "OTHERS"
    if order.attach:
        data["attach"] = order.attach
    if paid and order.success_time is not None:
        data["success_time"] = rfc3339(order.success_time)
    if order.openid and paid:
        data["payer"] = (
            {"sp_openid": order.openid, "sub_openid": order.openid}
            if partner
            else {"openid": order.openid}
        )
    amount: dict[str, Any] = {"total": order.total, "currency": order.currency}
    if paid:
        amount.update(payer_total=order.total, payer_currency=order.currency)
    data["amount"] = amount
    if order.device:
        data["scene_info"] = {"device_id": order.device}
    return data
