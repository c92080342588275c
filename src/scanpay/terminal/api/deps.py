"""Dependencies of the agent API: the agent, the logged-in operator, supervisor approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from scanpay.money import format_amount, read_amount
from scanpay.terminal.agent import Agent
from scanpay.terminal.api.schemas import AmountIn, SupervisorIn
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.operators import Operator, Session

__all__ = [
    "COOKIE",
    "AgentDep",
    "SessionDep",
    "amount_of",
    "approver",
    "charge_of",
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


def amount_of(
    amount: int | None,
    text: str | None,
    currency: str,
    *,
    locale: str | None = None,
    maximum: int | None = None,
) -> int:
    """The amount of a request: ``amount`` in minor units, or ``text`` as a person typed it
    in ``locale`` (the screen's language), read by :func:`scanpay.money.read_amount` - the
    same reader as the portal's and the command line's. Above ``maximum`` (the terminal's
    ``max_amount`` for a sale) is refused either way: a typed error (``MoneyError``, 422)
    with its code, the field and a message for the cashier in both languages."""
    if amount is not None and text is not None:
        raise TerminalError("bad_request", field="amount", reason="give amount or amount_text")
    if amount is not None:
        if maximum is not None and amount > maximum:
            # The same refusal a typed amount gets, with the same words.
            read_amount(format_amount(amount, currency), currency, maximum=maximum)
        return amount
    if text is None:
        raise TerminalError("bad_request", field="amount", reason="an amount is required")
    return read_amount(text, currency, locale=locale or "en", maximum=maximum)


def charge_of(agent: Agent, body: AmountIn) -> tuple[int, str]:
    """What a sale or a show-to-pay order asks for: (amount, currency), the currency the
    terminal's unless the request names one, the amount under ``max_amount``."""
    currency = (body.currency or agent.config.currency).upper()
    amount = amount_of(
        body.amount, body.amount_text, currency, locale=body.locale, maximum=agent.config.max_amount
    )
    return amount, currency
