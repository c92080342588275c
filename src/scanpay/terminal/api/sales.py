"""``/api/sales``: start a sale, scan (text, image, camera frame), confirm, cancel,
rescan, follow it (long-poll or server-sent events), receipts, refunds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Query, Response, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from scanpay.money import format_amount
from scanpay.terminal.api.deps import AgentDep, SessionDep, amount_of, approver, charge_of
from scanpay.terminal.api.schemas import (
    AmountIn,
    RefundIn,
    ScanIn,
    order_view,
    refund_view,
    sale_view,
)
from scanpay.terminal.camera import read_frame, read_image
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.receipts import build_receipt, render_escpos, render_html
from scanpay.terminal.refund import check_refund
from scanpay.terminal.sale import FINAL_STATES, IN_DOUBT_STATES, OPEN_STATES, SaleState

__all__ = ["router"]

router = APIRouter(prefix="/api/sales", tags=["sales"])

MAX_IMAGE = 8 * 1024 * 1024


@router.post("", status_code=201)
def start_sale(
    body: AmountIn, agent: AgentDep, session: SessionDep, response: Response
) -> dict[str, Any]:
    """Start a sale (state NEW). Refused while a sale is in doubt or sales are blocked.

    One start, one sale: the same request again with the same ``request_key`` while
    its sale is still NEW (a double click, a retry) answers that same sale, with
    ``X-Scanpay-Replayed: true``.
    Any other start cancels an open sale that was never sent (NEW, CODE_READ) and
    closes a show-to-pay order still payable.
    """
    amount, currency = charge_of(agent, body)
    sale, replayed = agent.engine.start_sale(
        amount, currency, session.operator.operator_id, body.note, request_key=body.request_key
    )
    if replayed:
        response.headers["X-Scanpay-Replayed"] = "true"
    return sale_view(sale)


@router.get("")
def recent_sales(
    agent: AgentDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    state: SaleState | None = None,
) -> list[dict[str, Any]]:
    """Recent sales, newest first: scanned sales (``kind`` ``sale``) and show-to-pay
    orders (``kind`` ``order``, with the wallet that paid); ``state`` keeps the
    scanned sales in that state only."""
    states = {state} if state is not None else None
    rows = [sale_view(s) for s in agent.journal.sales(states=states, limit=limit)]
    if state is None:
        rows += [order_view(o) for o in agent.journal.orders(limit=limit)]
        rows.sort(key=lambda row: float(row["created_at"]), reverse=True)
    return rows[:limit]


@router.get("/current")
def current_sale(agent: AgentDep, session: SessionDep) -> dict[str, Any] | None:
    """The sale the screen should show: one in doubt, else one still open, else none."""
    for states in (IN_DOUBT_STATES, OPEN_STATES | {SaleState.REVERSING}):
        found = agent.journal.sales(states=states, limit=1)
        if found:
            return sale_view(found[0])
    return None


@router.get("/{out_trade_no}")
def get_sale(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    wait: Annotated[float, Query(ge=0, le=30, description="Long-poll: seconds to wait")] = 0,
    version: Annotated[int | None, Query(description="Return when the version differs")] = None,
    refresh: Annotated[
        bool, Query(description="Ask the host first: refunds made elsewhere (the portal)")
    ] = False,
) -> dict[str, Any]:
    """The sale; with ``wait`` and ``version``, blocks until it changes (long-poll).

    With ``refresh`` a paid sale is brought up to date from the host first (refunds
    made in the merchant's portal). ``host_checked`` says how that went: true, false
    when the host could not be reached (the figures may be out of date), or null
    (nothing to ask: the sale took no money)."""
    if wait and version is not None:
        return sale_view(agent.engine.wait_for_change(out_trade_no, version, wait))
    if not refresh:
        return sale_view(agent.engine.sale(out_trade_no))
    checked = agent.engine.refunds.refresh(out_trade_no)
    view = sale_view(agent.engine.sale(out_trade_no))
    view["host_checked"] = checked
    return view


@router.get("/{out_trade_no}/events", response_class=EventSourceResponse)
def sale_events(
    out_trade_no: str, agent: AgentDep, session: SessionDep
) -> Iterator[ServerSentEvent]:
    """Server-sent events: the sale's view on every change, until it is settled."""
    sale = agent.engine.sale(out_trade_no)
    yield ServerSentEvent(data=sale_view(sale), event="sale", id=str(sale.version))
    while sale.state not in FINAL_STATES:
        changed = agent.engine.wait_for_change(out_trade_no, sale.version, 15.0)
        if changed.version == sale.version:
            yield ServerSentEvent(comment="keep-alive")
            continue
        sale = changed
        yield ServerSentEvent(data=sale_view(sale), event="sale", id=str(sale.version))


def _scan(agent: Any, out_trade_no: str, text: str, operator_id: str) -> dict[str, Any]:
    outcome = agent.engine.scan(out_trade_no, text, operator_id)
    return {
        "sale": sale_view(outcome.sale),
        "code": outcome.code,
        "charged": outcome.charged,
        "sticker": outcome.sticker,
    }


@router.post("/{out_trade_no}/scan")
def scan_text(
    out_trade_no: str, body: ScanIn, agent: AgentDep, session: SessionDep
) -> dict[str, Any]:
    """A scanned text. Parsed here first: a malformed code is refused (422,
    ``code_refused``, with the field and reason). A merchant-presented code is
    never charged: it comes back with the host's sticker verdict."""
    return _scan(agent, out_trade_no, body.text, session.operator.operator_id)


async def _read_upload(file: UploadFile) -> bytes:
    data = await file.read(MAX_IMAGE + 1)
    if len(data) > MAX_IMAGE:
        raise TerminalError("bad_request", field="file", reason="image larger than 8 MB")
    return data


@router.post("/{out_trade_no}/scan-image")
async def scan_image(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="A photo or screenshot of the code")],
) -> dict[str, Any]:
    """An image of a code, decoded with ``scanpay.vision``, then handled as a scan."""
    from starlette.concurrency import run_in_threadpool

    data = await _read_upload(file)
    reading = await run_in_threadpool(read_image, data)
    if reading.text is None:
        raise TerminalError("no_code_in_image", hint="hold the code flat, fill the picture")
    result = await run_in_threadpool(
        _scan, agent, out_trade_no, reading.text, session.operator.operator_id
    )
    result["vision"] = {"read": True, "symbols": len(reading.detail["scan"]["symbols"])}
    return result


@router.post("/{out_trade_no}/frame")
async def camera_frame(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="One camera frame (JPEG or PNG)")],
) -> dict[str, Any]:
    """One live camera frame: the quality guidance to show over the video, and -
    when a code is read - the scan applied to the sale (no button needed)."""
    from starlette.concurrency import run_in_threadpool

    data = await _read_upload(file)
    reading, quality = await run_in_threadpool(read_frame, data)
    agent.frames.record(agent.clock(), quality.brightness, quality.contrast)
    answer: dict[str, Any] = {"quality": reading.detail["quality"], "read": False}
    if reading.text is not None:
        try:
            answer.update(
                await run_in_threadpool(
                    _scan, agent, out_trade_no, reading.text, session.operator.operator_id
                )
            )
            answer["read"] = True
        except TerminalError as exc:
            answer["error"] = exc.to_dict()
    return answer


@router.post("/{out_trade_no}/confirm")
def confirm(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    wait: Annotated[float, Query(ge=0, le=60, description="Seconds to wait for an outcome")] = 0,
) -> dict[str, Any]:
    """Confirm and send. Returns at once (SUBMITTED) or, with ``wait``, as soon as
    there is an answer to show (APPROVED, DECLINED, USER_PAYING, REVERSING...)."""
    sale = agent.engine.confirm(out_trade_no, session.operator.operator_id)
    if wait:
        sale = agent.engine.wait_answered(out_trade_no, wait)
    return sale_view(sale)


@router.post("/{out_trade_no}/cancel")
def cancel(out_trade_no: str, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Cancel: before sending, locally; after, through a reversal (REVERSING)."""
    return sale_view(agent.engine.cancel(out_trade_no, session.operator.operator_id))


@router.post("/{out_trade_no}/rescan")
def rescan(out_trade_no: str, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Drop the scanned code and scan again (before sending only)."""
    return sale_view(agent.engine.rescan(out_trade_no, session.operator.operator_id))


@router.get("/{out_trade_no}/receipt", response_model=None)
def receipt(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(html|escpos)$")] = "html",
    copy: Annotated[str, Query(pattern="^(both|merchant|customer)$")] = "both",
    width: Annotated[int | None, Query()] = None,
    language: str | None = None,
) -> Response:
    """The receipt as printable HTML or as ESC/POS bytes (58 or 80 mm)."""
    sale = agent.engine.sale(out_trade_no)
    copies = ["merchant", "customer"] if copy == "both" else [copy]
    receipts = [build_receipt(sale, agent.config, c) for c in copies]  # type: ignore[arg-type]
    p = agent.config.printer
    lang = language or p.language
    if format == "html":
        return HTMLResponse(render_html(receipts, lang, width or p.width))
    data = render_escpos(receipts, width=width or p.width, encoding=p.encoding, language=lang)
    return Response(data, media_type="application/octet-stream")


@router.post("/{out_trade_no}/reprint")
def reprint(out_trade_no: str, agent: AgentDep, session: SessionDep) -> dict[str, Any]:
    """Print both copies again, marked REPRINT."""
    printed = agent.engine.print_receipts(
        out_trade_no, reprint=True, operator_id=session.operator.operator_id
    )
    return {"printed": printed, "sale": sale_view(agent.engine.sale(out_trade_no))}


@router.get("/{out_trade_no}/journal")
def sale_journal(out_trade_no: str, agent: AgentDep, session: SessionDep) -> list[dict[str, Any]]:
    """The sale's journal rows, oldest first (who did what, when)."""
    agent.engine.sale(out_trade_no)
    return [e.to_dict() for e in agent.journal.events(ref=out_trade_no)]


@router.post("/{out_trade_no}/refunds")
def refund(
    out_trade_no: str, body: RefundIn, agent: AgentDep, session: SessionDep
) -> dict[str, Any]:
    """Refund all or part of a paid sale. Needs a supervisor: logged in, or
    ``supervisor`` with their id and PIN. Waits up to 10 s for the host."""
    who = approver(agent, session, body.supervisor)
    sale = agent.engine.sale(out_trade_no)
    amount = (
        None
        if body.amount is None and body.amount_text is None
        else amount_of(body.amount, body.amount_text, sale.currency, locale=body.locale)
    )
    record = agent.engine.refunds.refund(
        out_trade_no,
        amount,
        operator_id=session.operator.operator_id,
        approved_by=who.operator_id,
        reason=body.reason,
    )
    return {"refund": refund_view(record), "sale": sale_view(agent.engine.sale(out_trade_no))}


@router.post("/{out_trade_no}/refunds/check")
def check_refund_amount(
    out_trade_no: str, body: RefundIn, agent: AgentDep, session: SessionDep
) -> dict[str, Any]:
    """The refund an amount would make, read and checked as the refund itself would be
    (all that is left when none is given); nothing is written and no approval is used.
    The screen shows it in its confirm step ("Refund CNY 1.00?") and then sends exactly
    this ``amount``."""
    sale = agent.engine.sale(out_trade_no)
    amount = (
        sale.refundable
        if body.amount is None and body.amount_text is None
        else amount_of(body.amount, body.amount_text, sale.currency, locale=body.locale)
    )
    pending = any(not r.settled for r in agent.journal.refunds(out_trade_no=out_trade_no))
    check_refund(sale, amount, pending)
    return {
        "amount": amount,
        "amount_text": format_amount(amount, sale.currency),
        "currency": sale.currency,
    }


@router.post("/{out_trade_no}/void")
def void(
    out_trade_no: str,
    agent: AgentDep,
    session: SessionDep,
    body: Annotated[RefundIn | None, Body()] = None,
) -> dict[str, Any]:
    """Void a paid sale: refund all that is left (supervisor)."""
    who = approver(agent, session, body.supervisor if body else None)
    record = agent.engine.refunds.refund(
        out_trade_no,
        None,
        operator_id=session.operator.operator_id,
        approved_by=who.operator_id,
        reason=(body.reason if body and body.reason else "void"),
    )
    return {"refund": refund_view(record), "sale": sale_view(agent.engine.sale(out_trade_no))}
