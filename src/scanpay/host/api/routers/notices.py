"""``/networks/{network}/notify``: where a payment network posts its asynchronous
notifications (Alipay's ``notify_url``); ``/networks/{network}/notify/{key}``: one
merchant's URL, for a network whose notifications name their merchant only sealed
(WeChat Pay's callbacks; ``key`` is the merchant id). Not under ``/v1/``: the network
signs them its own way, not as a terminal does;
:mod:`scanpay.host.services.network_notices` checks them and takes them as hints only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.services import network_notices

__all__ = ["router"]

router = APIRouter(prefix="/networks", tags=["networks"])

#: Larger than any network's notification (Alipay's are about 1.5 KiB).
_MAX_BODY = 64 * 1024

NetworkPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
# A merchant id (WeChat Pay's are digits); as long as a channel's column holds.
KeyPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.post("/{network}/notify", operation_id="networkNotify", include_in_schema=False)
async def notify(network: NetworkPath, request: Request, ctx: HostDep) -> Response:
    """Take one notification; answered as the network expects (Alipay: ``success``)."""
    return await _take(network, None, request, ctx)


@router.post("/{network}/notify/{key}", operation_id="networkNotifyKeyed", include_in_schema=False)
async def notify_keyed(
    network: NetworkPath, key: KeyPath, request: Request, ctx: HostDep
) -> Response:
    """Take one notification posted to merchant ``key``'s URL (WeChat Pay's callbacks:
    200 ``{"code":"SUCCESS"}``, or 400 ``{"code":"FAIL",...}``)."""
    return await _take(network, key, request, ctx)


async def _take(network: str, key: str | None, request: Request, ctx: HostDep) -> Response:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            return Response(status_code=413)
    headers = {k.lower(): v for k, v in request.headers.items()}
    answer = await run_in_threadpool(
        network_notices.accept, ctx, network, bytes(body), headers, key
    )
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
