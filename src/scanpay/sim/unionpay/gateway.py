"""ACP's three endpoints: ``backTransReq.do`` (consume 01/06, cancel 31, refund 04),
``queryTrans.do`` (00) and ``fileTransReq.do`` (76), form-encoded, answered ``k=v&…``.

Every reply is signed (:mod:`.wire`), refusals too. Business fields in the wrong form
answer 10: ``orderId`` 8–40 letters or digits, ``txnAmt`` 1–12 digits of fen above
zero, ``currencyCode`` 156, ``qrNo``, ``origQryId``, ``backUrl`` present, the
transaction type the endpoint's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from scanpay.i18n import Text
from scanpay.sim.common import delivery
from scanpay.sim.common.errors import SimError
from scanpay.sim.unionpay import bill, returns
from scanpay.sim.unionpay.context import Sim
from scanpay.sim.unionpay.orders import ConsumeRequest, Result
from scanpay.sim.unionpay.outcomes import WAITS, Chosen, Outcome, from_headers
from scanpay.sim.unionpay.store import Merchant
from scanpay.sim.unionpay.wire import answer, check_request, reply

__all__ = ["BACK_PATH", "FILE_PATH", "QUERY_PATH", "gateway_router"]

BACK_PATH = "/gateway/api/backTransReq.do"
QUERY_PATH = "/gateway/api/queryTrans.do"
FILE_PATH = "/gateway/api/fileTransReq.do"
_ORDER_ID = re.compile(r"[0-9A-Za-z]{8,40}")
_AMOUNT = re.compile(r"[0-9]{1,12}")
_CONSUME_ONLY = WAITS | {Outcome.DECLINE}
_NOT_DONE = {Outcome.SYSTEM_ERROR: "03", Outcome.BUSY: "06"}

Form = Mapping[str, str]


def _amount(form: Form) -> int | None:
    text = form.get("txnAmt", "")
    return int(text) if _AMOUNT.fullmatch(text) and int(text) > 0 else None


def _malformed(form: Form, *names: str) -> bool:
    if not _ORDER_ID.fullmatch(form.get("orderId", "")):
        return True
    return any(not form.get(name) for name in names)


def _consume(sim: Sim, merchant: Merchant, form: Form, chosen: Chosen | None) -> Result:
    amount = _amount(form)
    if (
        _malformed(form, "qrNo", "backUrl")
        or amount is None
        or form.get("txnSubType") != "06"
        or form.get("currencyCode") != "156"
    ):
        return Result(answer("10"))
    request = ConsumeRequest(
        merchant, form["orderId"], form["txnTime"], amount, form["qrNo"], form["backUrl"]
    )
    return sim.network.consume(request, chosen)


def _return(sim: Sim, merchant: Merchant, form: Form, chosen: Chosen | None) -> Result:
    amount = _amount(form)
    if _malformed(form, "origQryId", "backUrl") or amount is None:
        return Result(answer("10"))
    if form.get("currencyCode", "156") != "156":
        return Result(answer("10"))
    asked = returns.Return(
        merchant, form["orderId"], form["txnTime"], form["origQryId"], amount, form["backUrl"]
    )
    if form["txnType"] == "31":
        return Result(returns.cancel(sim.network, asked, chosen))
    return Result(returns.refund(sim.network, asked))


def _query(sim: Sim, merchant: Merchant, form: Form, chosen: Chosen | None) -> Result:
    if _malformed(form):
        return Result(answer("10"))
    return Result(sim.network.query(merchant.mer_id, form["orderId"], form["txnTime"]))


def _file(sim: Sim, merchant: Merchant, form: Form, chosen: Chosen | None) -> Result:
    now = sim.network.clock.now()
    day = bill.settle_day(form.get("settleDate", ""), now)
    if day is None or form.get("fileType") != "00":
        return Result(answer("10"))
    with sim.store.transaction():
        content = bill.published(sim.store, merchant, day, now)
    if content is None:
        return Result(answer("98"))
    return Result(
        answer(
            "00",
            settleDate=form["settleDate"],
            fileType="00",
            fileName=bill.file_name(merchant.mer_id, day),
            fileContent=content,
        )
    )


Handler = Callable[[Sim, Merchant, Form, "Chosen | None"], Result]
_ROUTES: dict[str, dict[str, Handler]] = {
    BACK_PATH: {"01": _consume, "31": _return, "04": _return},
    QUERY_PATH: {"00": _query},
    FILE_PATH: {"76": _file},
}


def _chosen(request: Request, consume: bool) -> Chosen | None:
    try:
        chosen = from_headers(request.headers)
    except ValueError as exc:
        raise SimError("sim_bad_outcome", Text(f"结果无效：{exc}", f"bad outcome: {exc}")) from None
    if chosen is not None and chosen.outcome in _CONSUME_ONLY and not consume:
        raise SimError(
            "sim_bad_outcome",
            Text(f"{chosen.outcome} 只用于消费", f"{chosen.outcome} applies to a consume only"),
        )
    return chosen


def _run(
    sim: Sim, handler: Handler, merchant: Merchant, form: Form, chosen: Chosen | None
) -> Result:
    if handler is _consume or chosen is None:
        return handler(sim, merchant, form, chosen)
    if chosen.outcome in _NOT_DONE:
        return Result(answer(_NOT_DONE[chosen.outcome]))
    result = handler(sim, merchant, form, chosen)
    if chosen.outcome is Outcome.CHARGED_THEN_UNKNOWN:
        return Result(answer("04"), chosen)
    return Result(result.fields, chosen)


def gateway_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    async def serve(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        form = dict(parse_qsl(body, keep_blank_values=True))
        handlers = _ROUTES[request.url.path]
        merchant, refusal = check_request(sim.store, form)
        handler = handlers.get(form.get("txnType", ""))
        chosen = _chosen(request, handler is _consume)
        if refusal is not None:
            result = Result(answer(refusal))
        elif handler is None:
            result = Result(answer("10"))
        else:
            assert merchant is not None
            result = _run(sim, handler, merchant, form, chosen)
        how = result.chosen
        wrong = how is not None and how.outcome is Outcome.WRONG_SIGNATURE
        text = reply(form, result.fields, sim.keys, sim.wrong_key if wrong else sim.keys.sign_key)
        response = Response(text, media_type="text/plain;charset=UTF-8")
        return await delivery.deliver(
            request,
            response,
            late=how.delay if how is not None and how.outcome is Outcome.SLOW else None,
            drop_after=(
                how.delay if how is not None and how.outcome is Outcome.CHARGED_NO_REPLY else None
            ),
        )

    for path in _ROUTES:
        router.add_api_route(path, serve, methods=["POST"])
    return router
