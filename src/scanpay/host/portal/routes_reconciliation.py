"""The operator's reconciliation pages (issue 17, "a reconciliation page (per day and
network: matched, breaks, resolved), all in both languages").

- ``/portal/operator/reconciliation``: the runs, newest day first (``?day=`` and
  ``?network=`` narrow them): each channel's matched trades, statement lines, open and
  resolved breaks; and the *Run now* form (a day, every network or one), which calls
  :func:`~scanpay.host.services.reconciliation.reconcile`.
- ``/portal/operator/reconciliation/day?day=…``: a day's runs and every break of them,
  in words (:data:`~scanpay.host.domain.reconciliation.KIND_TEXTS`), with a form to
  resolve each open one (:func:`~scanpay.host.services.reconciliation_records.resolve_break`).

No route has a path parameter of its own: the break to resolve travels in the
CSRF-checked form, like the channel pages' account label. Only operators get here
(:class:`~.deps.OperatorViewer`, and their ``operate`` permission); a merchant's user
gets 404, as if the pages did not exist. Every change goes through the services with
the operator as the actor (``operator:<e-mail>``), so it is audited. Bad input
re-renders the page with the refusal beside its field, in the viewer's language, and
changes nothing.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from scanpay.host.domain.reconciliation import KIND_TEXTS
from scanpay.host.errors import HostError
from scanpay.host.portal.accounts import user_actor
from scanpay.host.portal.deps import NOT_FOUND, CheckedForm, OperatorViewer, PortalRefusal, Viewer
from scanpay.host.portal.pages import page, redirect
from scanpay.host.portal.render import group_digits
from scanpay.host.portal.roles import Permission
from scanpay.host.portal.texts import has_text, text_of, translate
from scanpay.host.services.reconciliation import NETWORK_ZONES, reconcile
from scanpay.host.services.reconciliation_records import (
    MAX_RESOLUTION,
    ReconciliationError,
    list_runs,
    resolve_break,
)
from scanpay.money import MoneyError, format_amount

__all__ = ["router"]

router = APIRouter(prefix="/portal/operator", include_in_schema=False)
_HOME = "/portal/operator/reconciliation"
#: The most runs the list shows (newest first); a narrower filter shows older ones.
_LIST_LIMIT = 200
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Room for a value a form posts that is too long, so the error can show what was typed.
_ECHO = 2 * MAX_RESOLUTION
#: The largest break number (a 32-bit key on PostgreSQL: a larger one is no break).
_MAX_BREAK = 2**31 - 1
DayQuery = Annotated[str | None, Query(max_length=32)]
NetworkQuery = Annotated[str | None, Query(max_length=32)]


class _Refused:
    """A form the services refused: which form, its errors by field, what it may show again."""

    def __init__(self, v: Viewer, exc: HostError, form_id: str, values: dict[str, str]) -> None:
        field = exc.field or "form"
        message = exc.text.get(v.lang)
        label_key = f"recon.field.{field}"
        label = translate(label_key, v.lang) if has_text(label_key) else field
        self.status = exc.http_status
        self.context: dict[str, Any] = {
            "failed": form_id,
            "errors": {field: message},
            "values": values,
            "notice": translate("recon.refused", v.lang, field=label, message=message),
            "notice_kind": "error",
        }


def _operator(v: Viewer) -> None:
    if not v.can(Permission.OPERATE):
        raise PortalRefusal(404, NOT_FOUND)


def _text(form: FormData, name: str, size: int) -> str:
    value = form.get(name, "")
    return value[:size] if isinstance(value, str) else ""


def _read_day(text: str | None) -> date | None:
    """The day typed (``YYYY-MM-DD``); None for nothing typed. A bad one is refused
    (``30``, field ``day``) in both languages."""
    wanted = (text or "").strip()
    if not wanted:
        return None
    try:
        if not _DAY.fullmatch(wanted):
            raise ValueError(wanted)
        return date.fromisoformat(wanted)
    except ValueError:
        raise HostError("30", text_of("recon.bad_day"), field="day") from None


def _read_network(text: str | None) -> str | None:
    """A network reconciled, or None (every network) for nothing or anything else."""
    wanted = (text or "").strip()
    return wanted if wanted in NETWORK_ZONES else None


def _amount(minor: int | None, currency: str | None) -> str:
    """An amount with its currency (``1,234.56 CNY``); a currency the host does not know
    (a statement's) in its minor units as given."""
    if minor is None:
        return "-"
    if not currency:
        return str(minor)
    try:
        return f"{group_digits(format_amount(minor, currency))} {currency}"
    except MoneyError:
        return f"{minor} {currency}"


def _default_day(v: Viewer) -> date:
    """Yesterday in every network's zone: a day whose statements are due."""
    now = v.ctx.now()
    today = min((now.astimezone(zone).date() for zone in NETWORK_ZONES.values()), default=None)
    return (today or now.astimezone(v.ctx.settings.zone).date()) - timedelta(days=1)


def _common(v: Viewer) -> dict[str, Any]:
    return {
        "networks": sorted(NETWORK_ZONES),
        "kinds": {kind.value: words.get(v.lang) for kind, words in KIND_TEXTS.items()},
        "amount": _amount,
        "max_resolution": MAX_RESOLUTION,
        "failed": "",
        "errors": {},
        "values": {},
        "notice": "",
        "notice_kind": "ok",
    }


def _overview(
    v: Viewer,
    status: int = 200,
    *,
    wanted: date | None = None,
    network: str | None = None,
    **context: Any,
) -> Response:
    shown = {**_common(v), **context}
    runs = list_runs(v.ctx, day=wanted, network=network, limit=_LIST_LIMIT)
    return page(
        v,
        "op_reconciliation.html",
        http_status=status,
        section="reconciliation",
        runs=runs,
        chosen_day=wanted.isoformat() if wanted else "",
        chosen_network=network or "",
        default_day=_default_day(v).isoformat(),
        limited=len(runs) >= _LIST_LIMIT,
        **shown,
    )


def _day_page(
    v: Viewer, wanted: date, network: str | None, status: int = 200, **context: Any
) -> Response:
    shown = {**_common(v), **context}
    runs = list_runs(v.ctx, day=wanted, network=network, with_breaks=True, limit=10_000)
    return page(
        v,
        "op_reconciliation_day.html",
        http_status=status,
        section="reconciliation",
        runs=runs,
        shown_day=wanted.isoformat(),
        chosen_network=network or "",
        **shown,
    )


# ------------------------------------------------------------------------ the runs


@router.get("/reconciliation")
def reconciliation_runs(
    v: OperatorViewer, day: DayQuery = None, network: NetworkQuery = None
) -> Response:
    _operator(v)
    chosen = _read_network(network)
    try:
        wanted = _read_day(day)
    except HostError as exc:
        refused = _Refused(v, exc, "filter", {"day": (day or "")[:32]})
        return _overview(v, refused.status, network=chosen, **refused.context)
    return _overview(v, wanted=wanted, network=chosen)


@router.post("/reconciliation/run")
def reconciliation_run(v: OperatorViewer, form: CheckedForm) -> Response:
    """Reconcile a day now (every network, or the one chosen), as this operator."""
    assert v.user is not None
    _operator(v)
    typed = {"day": _text(form, "day", 32).strip(), "network": _text(form, "network", 32).strip()}
    try:
        wanted = _read_day(typed["day"])
        if wanted is None:
            raise HostError("30", text_of("recon.no_day"), field="day")
        network = typed["network"] or None
        runs = reconcile(v.ctx, wanted, network, actor=user_actor(v.user))
    except HostError as exc:
        refused = _Refused(v, exc, "run-now", typed)
        return _overview(v, refused.status, **refused.context)
    if runs:
        notice = translate(
            "recon.ran",
            v.lang,
            day=wanted.isoformat(),
            runs=len(runs),
            open=sum(r.open_breaks for r in runs),
        )
    else:
        notice = translate("recon.ran_none", v.lang, day=wanted.isoformat())
    return _overview(v, wanted=wanted, network=network, notice=notice)


# ------------------------------------------------------------------ a day's breaks


@router.get("/reconciliation/day")
def reconciliation_day(
    v: OperatorViewer, day: DayQuery = None, network: NetworkQuery = None
) -> Response:
    _operator(v)
    try:
        wanted = _read_day(day)
    except HostError:
        wanted = None
    if wanted is None:  # no day to show: the runs, where a day is chosen
        return redirect(_HOME)
    return _day_page(v, wanted, _read_network(network))


@router.post("/reconciliation/resolve")
def reconciliation_resolve(v: OperatorViewer, form: CheckedForm) -> Response:
    """Record the operator's decision on one break (audited, once only)."""
    assert v.user is not None
    _operator(v)
    number = _text(form, "break", 20).strip()
    resolution = _text(form, "resolution", _ECHO)
    network = _read_network(_text(form, "network", 32))
    try:
        back = _read_day(_text(form, "day", 32))
    except HostError:
        back = None
    try:
        if not (number.isascii() and number.isdigit()) or int(number) > _MAX_BREAK:
            raise ReconciliationError("no_such_break")
        info = resolve_break(v.ctx, int(number), resolution, user_actor(v.user))
    except HostError as exc:
        refused = _Refused(v, exc, f"resolve-{number}", {"resolution": resolution})
        if back is None:  # the page the form was on is unknown: the runs, with the refusal
            return _overview(v, refused.status, **refused.context)
        return _day_page(v, back, network, refused.status, **refused.context)
    trade = info.trade_no + (f"/{info.refund_no}" if info.refund_no else "")
    notice = translate("recon.resolved_done", v.lang, id=info.id, trade=trade)
    return _day_page(v, info.day, network, notice=notice)
