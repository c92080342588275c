"""``/api/day``: the day's totals from the journal, the day close, the Z-report."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from scanpay.terminal.api.deps import AgentDep, SessionDep, approver
from scanpay.terminal.api.schemas import DayCloseIn

__all__ = ["router"]

router = APIRouter(prefix="/api/day", tags=["day close"])


@router.get("/totals")
def totals(
    agent: AgentDep, session: SessionDep, date: date | None = None, refresh: bool = True
) -> dict[str, Any]:
    """The business day's totals as the journal has them (training never counts), after
    asking the host for the day's refunds made elsewhere (the merchant's portal):
    ``host_checked`` is false when it could not be asked (refunds made elsewhere may
    be missing), null without ``refresh``."""
    checked = agent.dayclose.refresh(date) if refresh else None
    data = agent.dayclose.totals(date).to_dict()
    data["host_checked"] = checked
    return data


@router.post("/close")
def close(body: DayCloseIn, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Close the day (supervisor): totals to the host as a batch, the host's verdict
    and differences back, a Z-report printed. 409 ``day_not_ready`` while a sale or
    refund of the day is still in doubt."""
    who = approver(agent, session, body.supervisor)
    day = date.fromisoformat(body.date) if body.date else None
    result = agent.dayclose.close(who.operator_id, day)
    data = result.to_dict()
    data["zreport_url"] = f"/api/day/{result.totals.day.isoformat()}/zreport"
    return data


@router.get("/closes")
def closes(agent: AgentDep, session: SessionDep, date: date | None = None) -> list[dict[str, Any]]:
    """Every day close in the journal (of one day, when given)."""
    return agent.journal.day_closes(date.isoformat() if date else None)


@router.get("/{day}/zreport", response_class=HTMLResponse)
def zreport(
    day: date, agent: AgentDep, session: SessionDep, lang: str | None = None
) -> HTMLResponse:
    """The printable Z-report of the day's last close."""
    return HTMLResponse(agent.dayclose.zreport_html(day, lang))
