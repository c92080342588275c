"""The operator's channel pages (issue 16, "Channels per merchant"): every merchant's
channels to payment networks and the acquirer's network accounts, seen and changed.

- ``/portal/operator/channels``: the network accounts (add, update, remove an unused
  one) and every merchant's channels; ``?merchant=M…`` goes to that merchant's page.
- ``/portal/operator/merchants/{merchant_id}/channels``: a merchant's channels (add a
  service-provider or a direct one, update, enable or disable, remove).

Only operators get here (:class:`~.deps.OperatorViewer`, and their ``operate``
permission); a merchant's user gets 404, as if the pages did not exist. Every change
goes through :mod:`~scanpay.host.services.channels` or
:mod:`~scanpay.host.services.network_accounts` with the operator as the actor, so it
is audited.

Secrets travel only in the CSRF-checked POST bodies: pages show their names and
fingerprints, a form's secret fields are always empty (after an error too:
:func:`~.channel_forms.echoed`), and nothing here logs. Bad input re-renders the page
with the refusal beside its field, in the viewer's language, and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from scanpay.host.errors import HostError
from scanpay.host.portal import channel_forms
from scanpay.host.portal.accounts import user_actor
from scanpay.host.portal.deps import NOT_FOUND, CheckedForm, OperatorViewer, PortalRefusal, Viewer
from scanpay.host.portal.pages import page, redirect
from scanpay.host.portal.roles import Permission
from scanpay.host.portal.texts import has_text, translate
from scanpay.host.services import channels, merchants, network_accounts
from scanpay.host.services.channel_secrets import NETWORKS
from scanpay.i18n import Text

__all__ = ["router"]

router = APIRouter(prefix="/portal/operator", include_in_schema=False)
MerchantQuery = Annotated[str | None, Query(max_length=16)]


class _Refused:
    """A form the services refused: which form, its errors by field, what it may show again."""

    def __init__(self, v: Viewer, exc: HostError, form_id: str, fields: dict[str, str]) -> None:
        field = exc.field or "form"
        message = exc.text.get(v.lang)
        label_key = f"channels.field.{field}"
        label = translate(label_key, v.lang) if has_text(label_key) else field
        self.status = 404 if exc.code == "25" else 400
        self.context: dict[str, Any] = {
            "failed": form_id,
            "errors": {field: message},
            "values": channel_forms.echoed(fields),
            "notice": translate("channels.refused", v.lang, field=label, message=message),
            "notice_kind": "error",
        }


def _fields(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _drops(form: FormData) -> list[str]:
    return [value for value in form.getlist("drop") if isinstance(value, str)]


def _operator(v: Viewer) -> None:
    if not v.can(Permission.OPERATE):
        raise PortalRefusal(404, NOT_FOUND)


def _common(v: Viewer) -> dict[str, Any]:
    return {
        "networks": NETWORKS,
        "secret_fields": channel_forms.secret_fields(),
        "accounts": network_accounts.list_accounts(v.ctx),
        "failed": "",
        "errors": {},
        "values": {},
        "notice": "",
        "notice_kind": "ok",
    }


def _overview(v: Viewer, status: int = 200, **context: Any) -> Response:
    shown = {**_common(v), **context}
    return page(
        v,
        "op_channels.html",
        http_status=status,
        section="channels",
        rows=channels.list_channels(v.ctx),
        **shown,
    )


def _merchant_page(v: Viewer, merchant_id: str, status: int = 200, **context: Any) -> Response:
    try:
        info = merchants.get_merchant(v.ctx, merchant_id)
        rows = channels.list_channels(v.ctx, info.merchant_id)
    except HostError:
        raise PortalRefusal(404, NOT_FOUND) from None
    shown = {**_common(v), **context}
    return page(
        v,
        "op_merchant_channels.html",
        http_status=status,
        section="channels",
        m=info,
        rows=rows,
        **shown,
    )


def _no_merchant(exc: HostError) -> None:
    """A form for a merchant that does not exist: 404, like its page."""
    if exc.code == "25" and exc.field == "merchant":
        raise PortalRefusal(404, NOT_FOUND) from None


# ------------------------------------------------------------------ the overview, accounts


@router.get("/channels")
def channel_overview(v: OperatorViewer, merchant: MerchantQuery = None) -> Response:
    _operator(v)
    if merchant is not None and merchant.strip():
        wanted = merchant.strip().upper()
        try:
            found = merchants.get_merchant(v.ctx, wanted)
        except HostError as exc:
            refused = _Refused(v, exc, "find-merchant", {})
            refused.context["values"] = {"merchant": wanted[:16]}
            return _overview(v, refused.status, **refused.context)
        return redirect(f"/portal/operator/merchants/{found.merchant_id}/channels")
    return _overview(v)


@router.post("/channels/accounts")
def account_add(v: OperatorViewer, form: CheckedForm) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    try:
        info = network_accounts.add_account(
            v.ctx,
            network=fields.get("network", "").strip()[:32],
            label=fields.get("label", "").strip()[:64],
            app_id=fields.get("app_id", "")[:128],
            mch_id=fields.get("mch_id", "")[:128],
            secrets=channel_forms.read_secrets(fields),
            actor=user_actor(v.user),
        )
    except HostError as exc:
        refused = _Refused(v, exc, "account-add", fields)
        return _overview(v, refused.status, **refused.context)
    notice = translate("accounts.added", v.lang, label=info.label)
    return _overview(v, notice=notice)


def _account(v: Viewer, label: str) -> network_accounts.AccountInfo:
    for info in network_accounts.list_accounts(v.ctx):
        if info.label == label:
            return info
    shown = label[:32]
    raise HostError(
        "25",
        Text(f"找不到网络账户 {shown!r}", f"no network account {shown!r}"),
        field="label",
    )


@router.post("/channels/accounts/update")
def account_update(v: OperatorViewer, form: CheckedForm) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    label = fields.get("label", "").strip()[:64]
    try:
        current = _account(v, label)
        changes = channel_forms.account_changes(current, fields, _drops(form))
        info = network_accounts.update_account(
            v.ctx, current.label, **changes, actor=user_actor(v.user)
        )
    except HostError as exc:
        refused = _Refused(v, exc, f"account-update-{label}", fields)
        return _overview(v, refused.status, **refused.context)
    notice = translate("accounts.updated", v.lang, label=info.label)
    return _overview(v, notice=notice)


@router.post("/channels/accounts/remove")
def account_remove(v: OperatorViewer, form: CheckedForm) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    label = fields.get("label", "").strip()[:64]
    try:
        info = network_accounts.remove_account(v.ctx, label, actor=user_actor(v.user))
    except HostError as exc:
        refused = _Refused(v, exc, f"account-update-{label}", fields)
        return _overview(v, refused.status, **refused.context)
    notice = translate("accounts.removed", v.lang, label=info.label)
    return _overview(v, notice=notice)


# ------------------------------------------------------------------ a merchant's channels


@router.get("/merchants/{merchant_id}/channels")
def merchant_channels(v: OperatorViewer, merchant_id: str) -> Response:
    _operator(v)
    return _merchant_page(v, merchant_id)


@router.post("/merchants/{merchant_id}/channels")
def channel_add(v: OperatorViewer, form: CheckedForm, merchant_id: str) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    form_id = "add-direct" if fields.get("mode") == "direct" else "add-service-provider"
    try:
        info = channels.add_channel(
            v.ctx, merchant_id, **channel_forms.new_channel(fields), actor=user_actor(v.user)
        )
    except HostError as exc:
        _no_merchant(exc)
        refused = _Refused(v, exc, form_id, fields)
        return _merchant_page(v, merchant_id, refused.status, **refused.context)
    notice = translate(
        "channels.added", v.lang, merchant=info.merchant_id, network=_network(v, info.network)
    )
    return _merchant_page(v, merchant_id, notice=notice)


def _network(v: Viewer, network: str) -> str:
    key = f"wallet.{network}"
    return translate(key, v.lang) if has_text(key) else network


@router.post("/merchants/{merchant_id}/channels/update")
def channel_update(v: OperatorViewer, form: CheckedForm, merchant_id: str) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    network = fields.get("network", "").strip()[:32]
    try:
        current = channels.get_channel(v.ctx, merchant_id, network)
        changes = channel_forms.channel_changes(current, fields, _drops(form))
        info = channels.update_channel(
            v.ctx, merchant_id, network, **changes, actor=user_actor(v.user)
        )
    except HostError as exc:
        _no_merchant(exc)
        refused = _Refused(v, exc, f"update-{network}", fields)
        return _merchant_page(v, merchant_id, refused.status, **refused.context)
    name = _network(v, info.network)
    if set(fields) - {"csrf", "network", "enabled"}:
        notice = translate("channels.updated", v.lang, merchant=info.merchant_id, network=name)
    else:  # the enable / disable button
        key = "channels.enabled_done" if info.enabled else "channels.disabled_done"
        notice = translate(key, v.lang, merchant=info.merchant_id, network=name)
    return _merchant_page(v, merchant_id, notice=notice)


@router.post("/merchants/{merchant_id}/channels/remove")
def channel_remove(v: OperatorViewer, form: CheckedForm, merchant_id: str) -> Response:
    assert v.user is not None
    _operator(v)
    fields = _fields(form)
    network = fields.get("network", "").strip()[:32]
    try:
        info = channels.remove_channel(v.ctx, merchant_id, network, actor=user_actor(v.user))
    except HostError as exc:
        _no_merchant(exc)
        refused = _Refused(v, exc, f"update-{network}", fields)
        return _merchant_page(v, merchant_id, refused.status, **refused.context)
    notice = translate(
        "channels.removed", v.lang, merchant=info.merchant_id, network=_network(v, info.network)
    )
    return _merchant_page(v, merchant_id, notice=notice)
