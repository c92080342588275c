"""``/api/refunds``: the refunds in the journal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from scanpay.terminal.api.deps import AgentDep, SessionDep
from scanpay.terminal.api.schemas import outside_refund_view, refund_view
from scanpay.terminal.errors import TerminalError

__all__ = ["router"]

router = APIRouter(prefix="/api/refunds", tags=["refunds"])


@router.get("")
def list_refunds(
    agent: AgentDep, session: SessionDep, out_trade_no: str | None = None
) -> list[dict[str, Any]]:
    """Refunds, oldest first (of one sale, when given): the terminal's own, and those
    made elsewhere that the host reported (``outside``: the merchant's portal, the
    acquirer)."""
    rows = [refund_view(r) for r in agent.journal.refunds(out_trade_no=out_trade_no)]
    rows += [
        outside_refund_view(r) for r in agent.journal.outside_refunds(out_trade_no=out_trade_no)
    ]
    rows.sort(key=lambda row: float(row["created_at"]))
    return rows


@router.get("/{out_refund_no}")
def get_refund(out_refund_no: str, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    record = agent.journal.get_refund(out_refund_no)
    if record is None:
        raise TerminalError("refund_not_found", out_refund_no=out_refund_no)
    return refund_view(record)
