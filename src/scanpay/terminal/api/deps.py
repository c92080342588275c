"""Dependencies of the agent API: the agent, the logged-in operator, supervisor approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from scanpay.money import parse_amount
from scanpay.terminal.agent import Agent
from scanpay.terminal.api.schemas import SupervisorIn
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.operators import Operator, Session

__all__ = [
    "COOKIE",
    "AgentDep",
    "SessionDep",
    "amount_of",
    "approver",
    "current_session",
    "get_agent",
]

COOKIE = "scanpay_session"


def get_agent(request: Request) -> Agent:
    agent: Agent = request.app.state.agent
    return agent


AgentDep = Annotated[Agent, Depends(get_agent)]


def current_session(request: Request, agent: AgentDep) -> Session:
    """The operator's session: ``Authorization: Bearer <token>`` or the session cookie."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return agent.operators.session(token or request.cookies.get(COOKIE))


SessionDep = Annotated[Session, Depends(current_session)]


def approver(agent: Agent, session: Session, supervisor: SupervisorIn | None) -> Operator:
    """The supervisor who approves: the logged-in one, or one typing their PIN now."""
    if supervisor is None:
        return agent.operators.supervisor(None, None, session.operator)
    return agent.operators.supervisor(supervisor.operator_id, supervisor.pin, session.operator)


def amount_of(amount: int | None, text: str | None, currency: str) -> int:
    if amount is not None and text is not None:
        raise TerminalError("bad_request", field="amount", reason="give amount or amount_text")
    if amount is not None:
        return amount
    if text is None:
        raise TerminalError("bad_request", field="amount", reason="an amount is required")
    return parse_amount(text.strip(), currency)
