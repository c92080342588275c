"""``/gateway.do``: Alipay's one endpoint, its common parameters and signature checks.

Parameters come in the query string, the form body, or both (python-alipay-sdk sends
them all in the query of a GET; Alipay's own SDKs POST a form with the common ones in
the query). The checks, in Alipay's order and with its codes: 40001 for a missing
common parameter, 40002 ``isv.invalid-app-id`` (answered unsigned: there is no app to
sign for), ``isv.invalid-signature-type``, ``isv.invalid-timestamp`` (its form only:
the simulator does not compare it with its clock), certificate SNs in certificate
mode, then ``isv.invalid-signature``; an unknown method is ``isv.invalid-method``.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from scanpay.i18n import Text
from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.keys import read_public_key
from scanpay.sim.alipay.methods import METHODS, Call
from scanpay.sim.alipay.outcomes import Chosen, Outcome, from_headers
from scanpay.sim.alipay.store import App
from scanpay.sim.alipay.trades import Result
from scanpay.sim.alipay.wire import (
    Answer,
    failed,
    invalid,
    missing,
    node_name,
    reply_text,
    signed_content,
    unknown,
)
from scanpay.sim.common import delivery
from scanpay.sim.common.crypto import rsa_verify
from scanpay.sim.common.errors import SimError

__all__ = ["gateway_router"]

_REQUIRED = (
    ("app_id", "isv.missing-app-id", "缺少appId参数"),
    ("sign", "isv.missing-signature", "缺少签名参数"),
    ("sign_type", "isv.missing-signature-type", "缺少签名类型参数"),
    ("timestamp", "isv.missing-timestamp", "缺少时间戳参数"),
    ("version", "isv.missing-version", "缺少版本参数"),
)
_PAY_ONLY = {
    Outcome.WAIT_PASSWORD_SUCCESS,
    Outcome.WAIT_PASSWORD_FAIL,
    Outcome.WAIT_PASSWORD_NEVER,
    Outcome.DECLINE,
}


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        charset = params.get("charset") or "utf-8"
        try:
            text = body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            text = body.decode("utf-8", "replace")
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


def _check(sim: Sim, params: dict[str, str]) -> tuple[App | None, Answer | None]:
    """The app and, when the request is refused, the answer (None: go on)."""
    if not params.get("method"):
        return None, missing("isv.missing-method", "缺少方法名参数")
    for name, sub_code, sub_msg in _REQUIRED[:1]:
        if not params.get(name):
            return None, missing(sub_code, sub_msg)
    app = sim.store.app(params["app_id"])
    if app is None:
        return None, invalid("isv.invalid-app-id", "无效的AppID参数")
    for name, sub_code, sub_msg in _REQUIRED[1:]:
        if not params.get(name):
            return app, missing(sub_code, sub_msg)
    if params["sign_type"] != "RSA2":
        return app, invalid("isv.invalid-signature-type", "无效的签名类型参数")
    try:
        datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return app, invalid("isv.invalid-timestamp", "非法的时间戳参数")
    if params.get("format", "JSON").upper() != "JSON":
        return app, invalid("isv.invalid-format", "无效的数据格式参数")
    if params.get("charset", "utf-8").lower() not in ("utf-8", "gbk"):
        return app, invalid("isv.invalid-charset", "无效的字符集参数")
    if app.mode == "cert":
        if params.get("app_cert_sn") != app.app_cert_sn:
            return app, invalid("isv.app-cert-sn-not-match", "应用公钥证书序列号不匹配")
        if params.get("alipay_root_cert_sn") != sim.keys.root_cert_sn:
            return app, invalid("isv.alipay-root-cert-sn-not-match", "支付宝根证书序列号不匹配")
    key = read_public_key(app.app_public_key)
    if not rsa_verify(key, signed_content(params), params["sign"]):
        return app, invalid(
            "isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥证书是否匹配"
        )
    if params["method"] not in METHODS:
        return app, invalid("isv.invalid-method", "不存在的方法名")
    return app, None


def _chosen(request: Request, method: str) -> Chosen | None:
    try:
        chosen = from_headers(request.headers)
    except ValueError as exc:
        raise SimError("sim_bad_outcome", Text(f"结果无效：{exc}", f"bad outcome: {exc}")) from None
    if chosen is not None and chosen.outcome in _PAY_ONLY and method != "alipay.trade.pay":
        raise SimError(
            "sim_bad_outcome",
            Text(f"{chosen.outcome} 只用于支付", f"{chosen.outcome} applies to pay only"),
        )
    return chosen


def _run(call: Call, method: str) -> Result:
    chosen = call.chosen
    if method != "alipay.trade.pay" and chosen is not None:
        if chosen.outcome is Outcome.SYSTEM_ERROR:
            return Result(unknown())
        if chosen.outcome is Outcome.ACQ_SYSTEM_ERROR:
            return Result(failed("ACQ.SYSTEM_ERROR", "系统错误"))
    result = METHODS[method](call)
    if method != "alipay.trade.pay" and chosen is not None:
        if chosen.outcome is Outcome.CHARGED_THEN_UNKNOWN:
            return Result(unknown(), chosen)
        return Result(result.answer, chosen)
    return result


def gateway_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    @router.api_route("/gateway.do", methods=["GET", "POST"])
    async def gateway(request: Request) -> Response:
        params = await _params(request)
        method = params.get("method") or None
        app, refusal = _check(sim, params)
        chosen: Chosen | None = None
        if refusal is not None:
            result = Result(refusal)
        else:
            assert app is not None and method is not None
            chosen = _chosen(request, method)
            biz: Any = None
            with contextlib.suppress(ValueError):
                biz = json.loads(params.get("biz_content") or "{}", parse_float=Decimal)
            if not isinstance(biz, dict):
                result = Result(failed("ACQ.INVALID_PARAMETER", "参数无效：biz_content"))
            else:
                base = str(request.base_url)
                result = _run(Call(sim, app, params, biz, chosen, base), method)
        key = None
        if app is not None and not (
            refusal is not None and refusal.sub_code == "isv.invalid-app-id"
        ):
            wrong = app.wrong_key or (
                result.chosen is not None and result.chosen.outcome is Outcome.WRONG_SIGNATURE
            )
            key = sim.wrong_key if wrong else sim.keys.alipay_key
        cert_sn = sim.keys.alipay_cert_sn if app is not None and app.mode == "cert" else None
        text = reply_text(
            node_name(method), result.answer, key, cert_sn if key is not None else None
        )
        response = Response(text, media_type="application/json;charset=utf-8")
        how = result.chosen
        return await delivery.deliver(
            request,
            response,
            late=how.delay if how is not None and how.outcome is Outcome.SLOW else None,
            drop_after=(
                how.delay if how is not None and how.outcome is Outcome.CHARGED_NO_REPLY else None
            ),
        )

    return router
