"""Operations endpoints (unsigned): liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.api.schemas import Readiness
from scanpay.host.metrics import CONTENT_TYPE
from scanpay.host.services import operations

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (it answers). Nothing else is checked."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(ctx: HostDep) -> JSONResponse:
    """Ready to serve: the database answers and its schema is at this code's revision
    (503 otherwise, so a load balancer sends no traffic here)."""
    ready = await run_in_threadpool(operations.readiness, ctx)
    return JSONResponse(ready.to_dict(), status_code=200 if ready.ok else 503)


@router.get("/metrics", response_class=Response)
def metrics(ctx: HostDep) -> Response:
    """Prometheus text format: requests, latencies, payments, refunds, orders, rule hits."""
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)


@router.head("/metrics", include_in_schema=False)
def metrics_head() -> Response:
    """What GET would answer, without the body (a probe that checks the endpoint is up;
    the counts are not rendered for nobody)."""
    return Response(media_type=CONTENT_TYPE)
