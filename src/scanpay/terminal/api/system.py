"""The terminal itself: identity and settings, screen texts, training mode,
self-test (JSON and status page), the reversal queue, a code check without a sale."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from scanpay.terminal.api.deps import AgentDep, SessionDep, approver
from scanpay.terminal.api.schemas import ScanIn, TrainingIn
from scanpay.terminal.config import SOFTWARE_VERSION
from scanpay.terminal.errors import CATALOG
from scanpay.terminal.texts import texts_catalog

__all__ = ["router"]

router = APIRouter(tags=["terminal"])

_PAGES = Environment(loader=PackageLoader("scanpay.terminal", "templates"), autoescape=True)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The agent process is alive."""
    return {"status": "ok"}


@router.get("/api/terminal")
def terminal(agent: AgentDep) -> dict[str, Any]:
    """Who this terminal is and how it is set up (never its key), training mode,
    whether sales are blocked and whether recovery is still running."""
    engine = agent.engine
    return {
        "config": agent.config.public(),
        "software_version": SOFTWARE_VERSION,
        "training": engine.training,
        "sales_blocked": engine.block_reason is not None,
        "block_reason": engine.block_reason.as_dict() if engine.block_reason else None,
        "recovering": engine.recovering,
        "in_doubt": agent.journal.count_in_doubt(),
        "reversals_waiting": len(agent.journal.reversals(waiting=True)),
    }


@router.get("/api/texts")
def texts() -> dict[str, Any]:
    """Every label the screen shows, in zh-CN and en: states, buttons, result codes, errors."""
    data = texts_catalog()
    data["errors"] = {code: text.as_dict() for code, text in CATALOG.items()}
    return data


@router.put("/api/training")
def set_training(body: TrainingIn, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Training mode on or off (supervisor). Training sales go to the host's training
    wallet, are marked TRAINING on receipts and in the journal, and never count."""
    who = approver(agent, session, body.supervisor)
    agent.engine.set_training(body.enabled, who.operator_id)
    return {"training": agent.engine.training}


@router.get("/api/selftest")
def selftest(
    agent: AgentDep, refresh: bool = Query(False, description="Run the checks now")
) -> dict[str, Any]:
    """The self-test report (the last one, or a fresh one with ``refresh``)."""
    report = agent.run_selftest() if refresh or agent.selftest.last is None else agent.selftest.last
    return report.to_dict()


@router.get("/status", response_class=HTMLResponse)
def status_page(agent: AgentDep, lang: str = "zh-CN", refresh: bool = False) -> HTMLResponse:
    """The self-test as a simple page (refreshes itself every 10 s)."""
    report = agent.run_selftest() if refresh or agent.selftest.last is None else agent.selftest.last
    page = _PAGES.get_template("status.html").render(
        report=report,
        config=agent.config,
        version=SOFTWARE_VERSION,
        lang="zh-CN" if lang.lower().startswith("zh") else "en",
    )
    return HTMLResponse(page)


@router.get("/api/reversals")
def reversals(agent: AgentDep, session: SessionDep, waiting: bool = True) -> list[dict[str, Any]]:
    """The store-and-forward queue: reversals waiting for the host (or all of them)."""
    return [e.to_dict() for e in agent.journal.reversals(waiting=waiting)]


@router.post("/api/scan")
def check_code(body: ScanIn, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Parse a scanned text without a sale: what it is (masked), and for a
    merchant-presented code the host's sticker verdict. Malformed: 422 with the reason."""
    from scanpay.codes import MerchantPresentedCode

    code = agent.engine.parse_code(body.text)
    info = agent.engine.describe_code(code)
    sticker = agent.engine.verify_sticker(code) if isinstance(code, MerchantPresentedCode) else None
    return {"code": info, "sticker": sticker}
