"""``/v1/terminals``: activation and the terminal's self-test."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import CurrentTerminal, HostDep
from scanpay.host.api.errors import refusals
from scanpay.host.api.security import HEADER_SOFTWARE_VERSION, STATE_SIGNING
from scanpay.host.services import terminals
from scanpay.protocol.models import (
    ActivationRequest,
    ActivationResponse,
    SelfTestReport,
    TerminalStatus,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/terminals", tags=["terminals"])


@router.post(
    "/activate",
    response_model=ActivationResponse,
    operation_id="activateTerminal",
    responses=refusals("58"),
)
async def activate(body: ActivationRequest, ctx: HostDep, request: Request) -> ActivationResponse:
    """Trade a one-time activation code for the terminal's key (unsigned request).

    The answer is signed with the key it carries. A used, expired or unknown
    code is 401/63; a merchant that may not transact 403/58; old software 426/26.
    """
    done = await run_in_threadpool(
        terminals.activate, ctx, body.activation_code, body.software_version
    )
    request.scope.setdefault("state", {})[STATE_SIGNING] = (done.response.terminal_id, done.key_hex)
    return done.response


@router.get(
    "/self", response_model=TerminalStatus, operation_id="getTerminalSelf", responses=refusals()
)
def terminal_self(ctx: HostDep, terminal: CurrentTerminal) -> TerminalStatus:
    """The terminal's own standing, for its self-test: host time, minimum version, statuses.

    Answered even when the software is too old, so the terminal can say so.
    """
    return terminals.terminal_status(ctx, terminal.terminal_pk)


@router.post(
    "/self/report",
    status_code=204,
    response_class=Response,
    operation_id="reportSelfTest",
    responses=refusals(),
)
def report_self_test(
    body: SelfTestReport, ctx: HostDep, terminal: CurrentTerminal, request: Request
) -> Response:
    """Report the terminal's latest self-test (signed): its merchant's portal shows the
    reversals waiting for the host and the sales in doubt beside the terminal."""
    terminals.record_self_test(
        ctx,
        terminal.terminal_pk,
        status=body.status,
        pending_reversals=body.pending_reversals,
        in_doubt=body.in_doubt,
        checks=body.checks,
        pending=body.pending,
        software_version=request.headers.get(HEADER_SOFTWARE_VERSION),
    )
    return Response(status_code=204)
