"""``/api/session`` and ``/api/operators``: logging in and out with a PIN."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from scanpay.terminal.api.deps import COOKIE, AgentDep, SessionDep
from scanpay.terminal.api.schemas import LoginIn

__all__ = ["router"]

router = APIRouter(tags=["session"])


@router.post("/api/session")
def login(body: LoginIn, agent: AgentDep, response: Response) -> dict[str, Any]:
    """Log in with operator id and PIN. Returns a token (``Authorization: Bearer``),
    also set as an HttpOnly, SameSite=Strict cookie for the browser.
    Wrong PINs: 401 ``bad_pin``; too many: 429 ``pin_locked`` with the wait."""
    session = agent.operators.login(body.operator_id, body.pin)
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict")
    return {"token": session.token, "operator": session.operator.to_dict()}


@router.get("/api/session")
def whoami(session: SessionDep) -> dict[str, Any]:
    """The logged-in operator."""
    return {"operator": session.operator.to_dict(), "started_at": session.started_at}


@router.delete("/api/session", status_code=204)
def logout(request: Request, agent: AgentDep, session: SessionDep, response: Response) -> None:
    """Log out (the token stops working). A show-to-pay order still payable is closed
    on the host: no screen shows it any more."""
    agent.operators.logout(session.token)
    agent.engine.orders.close_open(session.operator.operator_id)
    response.delete_cookie(COOKIE)


@router.get("/api/operators")
def operators(agent: AgentDep) -> list[dict[str, Any]]:
    """The operators to choose from on the login screen (ids, names, roles; no PINs)."""
    return [op.to_dict() for op in agent.operators.all()]
