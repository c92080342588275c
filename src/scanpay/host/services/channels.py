"""Merchants' channels to payment networks (issue 16, "Channels per merchant").

A **channel** (``merchant_channels``) is one merchant's way into one network, one per
merchant and network: ``service_provider`` (a sub-merchant under one of the acquirer's
network accounts, :mod:`~scanpay.host.services.network_accounts`, with ``sub_mch_id``
and maybe ``sub_app_id``) or ``direct`` (the merchant's own app id, merchant id and
secrets); enabled or not.

Secrets are write-only (:mod:`~scanpay.host.services.channel_secrets`): a direct
channel's are sealed under the master key (purpose ``CHANNEL_SECRETS``), a
service-provider channel pays with its account's. Only :func:`channel_for` opens them,
to hand a network adapter its :class:`~scanpay.networks.port.Channel`; listings, the
audit trail and the command line see each secret's name and :func:`fingerprint`, never
its value, and nothing here logs.

Every change is audited in its own transaction. Bad input raises a
:class:`~scanpay.host.errors.HostError` (30 a bad field, 25 nothing of that name)
before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import Merchant, MerchantChannel, NetworkAccount, parse_public_id
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.channel_modes import channel_mode, check_channel, refuse_outside_mode
from scanpay.host.services.channel_secrets import (
    checked_id,
    checked_network,
    checked_secrets,
    fingerprint,
    fingerprints,
    merged_secrets,
    open_secrets,
    seal_secrets,
)
from scanpay.host.services.context import HostContext
from scanpay.host.services.network_accounts import account_for
from scanpay.host.services.secrets import CHANNEL_SECRETS, NETWORK_ACCOUNT_SECRETS
from scanpay.i18n import Text
from scanpay.networks.port import Channel, ChannelMode

__all__ = [
    "ChannelInfo",
    "add_channel",
    "channel_for",
    "fingerprint",  # from channel_secrets: what ChannelInfo.secrets holds, to compare with
    "get_channel",
    "list_channels",
    "remove_channel",
    "update_channel",
]


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def _optional_id(value: str | None, field: str) -> str | None:
    """An id, or None for None or blank (an update's "" clears the field)."""
    return None if value is None or not value.strip() else checked_id(value, field)


@contextmanager
def _reading(ctx: HostContext, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    with ctx.db.read() as own:
        yield own


def _merchant(session: Session, merchant: int | str) -> Merchant | None:
    pk = merchant if isinstance(merchant, int) else parse_public_id(merchant, "M")
    return session.get(Merchant, pk) if pk is not None else None


def _load_merchant(session: Session, merchant: int | str) -> Merchant:
    row = _merchant(session, merchant)
    if row is None:
        raise HostError("25", Text("找不到该商户", "no such merchant"), field="merchant")
    return row


def _channel_exists(merchant: str, network: str) -> HostError:
    return _bad(
        "network",
        f"商户 {merchant} 已有 {network} 渠道：请修改它或先删除它",
        f"merchant {merchant} has a {network} channel already: update or remove it",
    )


def _find_channel(session: Session, merchant: Merchant, network: str) -> MerchantChannel | None:
    return session.scalar(
        select(MerchantChannel).where(
            MerchantChannel.merchant_id == merchant.id, MerchantChannel.network == network
        )
    )


def _load_channel(session: Session, merchant: Merchant, network: str) -> MerchantChannel:
    row = _find_channel(session, merchant, network)
    if row is None:
        raise HostError(
            "25",
            Text(
                f"商户 {merchant.public_id} 没有 {network} 渠道",
                f"merchant {merchant.public_id} has no {network} channel",
            ),
            field="network",
        )
    return row


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A merchant's channel as the operator sees it. ``app_id``, ``mch_id`` and
    ``secrets`` are those the channel pays with (a service-provider channel's are its
    account's: ``secrets_from`` says whose); secrets by name and fingerprint only."""

    merchant_id: str
    network: str
    mode: ChannelMode
    account: str | None
    app_id: str
    mch_id: str
    sub_mch_id: str | None
    sub_app_id: str | None
    secrets: Mapping[str, str]
    secrets_from: str
    enabled: bool
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "network": self.network,
            "mode": self.mode.value,
            "account": self.account,
            "app_id": self.app_id,
            "mch_id": self.mch_id,
            "sub_mch_id": self.sub_mch_id,
            "sub_app_id": self.sub_app_id,
            "secrets": dict(self.secrets),
            "secrets_from": self.secrets_from,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _paid_with(
    ctx: HostContext, session: Session, row: MerchantChannel
) -> tuple[str, str, NetworkAccount | None, dict[str, str]]:
    """The app id, merchant id, account and opened secrets ``row`` pays with."""
    if row.mode == ChannelMode.SERVICE_PROVIDER:
        account = session.get(NetworkAccount, row.account_id)
        assert account is not None  # a foreign key
        values = open_secrets(ctx, account.secrets_sealed, NETWORK_ACCOUNT_SECRETS)
        return account.app_id, account.mch_id, account, values
    values = open_secrets(ctx, row.secrets_sealed, CHANNEL_SECRETS)
    return row.app_id or "", row.mch_id or "", None, values


def _channel_info(
    ctx: HostContext, session: Session, row: MerchantChannel, merchant: Merchant
) -> ChannelInfo:
    app_id, mch_id, account, values = _paid_with(ctx, session, row)
    return ChannelInfo(
        merchant.public_id,
        row.network,
        ChannelMode(row.mode),
        account.label if account is not None else None,
        app_id,
        mch_id,
        row.sub_mch_id,
        row.sub_app_id,
        fingerprints(values),
        "account" if account is not None else "channel",
        row.enabled,
        row.created_at,
        row.updated_at,
    )


def _audit_channel(
    session: Session,
    ctx: HostContext,
    actor: audit.Actor,
    action: str,
    info: ChannelInfo,
    **extra: Any,
) -> None:
    data = info.to_dict()
    for key in ("merchant_id", "network", "created_at", "updated_at"):
        del data[key]
    audit.record(
        session,
        ctx.now(),
        actor,
        action,
        ("channel", f"{info.merchant_id}/{info.network}"),
        merchant=info.merchant_id,
        network=info.network,
        **data,
        **extra,
    )


def add_channel(
    ctx: HostContext,
    merchant: str,
    *,
    network: str,
    mode: str,
    account: str | None = None,
    sub_mch_id: str | None = None,
    sub_app_id: str | None = None,
    app_id: str | None = None,
    mch_id: str | None = None,
    secrets: Mapping[str, str] | None = None,
    enabled: bool = True,
    actor: audit.Actor = audit.LOCAL,
) -> ChannelInfo:
    """Give ``merchant`` a channel to ``network`` (one per network).

    ``service_provider``: under the network ``account`` (its label) as sub-merchant
    ``sub_mch_id`` (and ``sub_app_id``). ``direct``: the merchant's own ``app_id``,
    ``mch_id`` and ``secrets``."""
    network, kind = checked_network(network), channel_mode(mode)
    values = checked_secrets(secrets or {})
    if kind is ChannelMode.SERVICE_PROVIDER:
        refuse_outside_mode(kind, app_id=app_id, mch_id=mch_id, secret=values)
        if not account:
            raise _bad(
                "account",
                "服务商模式的渠道须指定网络账户",
                "a service-provider channel needs its network account",
            )
    else:
        refuse_outside_mode(kind, account=account, sub_mch_id=sub_mch_id, sub_app_id=sub_app_id)
    ids = {
        name: _optional_id(value, name)
        for name, value in (
            ("app_id", app_id),
            ("mch_id", mch_id),
            ("sub_mch_id", sub_mch_id),
            ("sub_app_id", sub_app_id),
        )
    }
    now = ctx.now()
    try:
        with ctx.db.write() as session:
            owner = _load_merchant(session, merchant)
            if _find_channel(session, owner, network) is not None:
                raise _channel_exists(merchant, network)
            holder = None if account is None else account_for(session, account, network)
            row = MerchantChannel(
                merchant_id=owner.id,
                network=network,
                mode=kind.value,
                account_id=holder.id if holder is not None else None,
                **ids,
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
            check_channel(row, holder)
            row.secrets_sealed = seal_secrets(ctx, values, CHANNEL_SECRETS)
            session.add(row)
            session.flush()
            info = _channel_info(ctx, session, row, owner)
            _audit_channel(session, ctx, actor, "channel.add", info)
            return info
    except IntegrityError:  # added by another process since the check
        raise _channel_exists(merchant, network) from None


def update_channel(
    ctx: HostContext,
    merchant: str,
    network: str,
    *,
    account: str | None = None,
    sub_mch_id: str | None = None,
    sub_app_id: str | None = None,
    app_id: str | None = None,
    mch_id: str | None = None,
    secrets: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
    enabled: bool | None = None,
    actor: audit.Actor = audit.LOCAL,
) -> ChannelInfo:
    """Change a channel within its mode (None leaves a field as it is; ``""`` clears
    ``sub_app_id``); set or ``drop`` a direct channel's secrets; enable or disable it.
    A channel changes mode by being removed and added again."""
    network = checked_network(network)
    given, drop = checked_secrets(secrets or {}), list(drop)
    fields = {
        "account": account,
        "sub_mch_id": sub_mch_id,
        "sub_app_id": sub_app_id,
        "app_id": app_id,
        "mch_id": mch_id,
    }
    if all(v is None for v in fields.values()) and not given and not drop and enabled is None:
        raise _bad("network", "没有要修改的内容", "nothing to change")
    with ctx.db.write() as session:
        owner = _load_merchant(session, merchant)
        row = _load_channel(session, owner, network)
        if row.mode == ChannelMode.SERVICE_PROVIDER:
            refuse_outside_mode(
                ChannelMode.SERVICE_PROVIDER,
                app_id=app_id,
                mch_id=mch_id,
                secret=given,
                drop_secret=drop,
            )
            if account is not None:
                row.account_id = account_for(session, account, network).id
        else:
            refuse_outside_mode(
                ChannelMode.DIRECT, account=account, sub_mch_id=sub_mch_id, sub_app_id=sub_app_id
            )
            if given or drop:
                current = open_secrets(ctx, row.secrets_sealed, CHANNEL_SECRETS)
                merged = merged_secrets(current, given, drop)
                row.secrets_sealed = seal_secrets(ctx, merged, CHANNEL_SECRETS)
        for name in ("sub_mch_id", "sub_app_id", "app_id", "mch_id"):
            if fields[name] is not None:  # "" clears (and the port's rules then judge)
                setattr(row, name, _optional_id(fields[name], name))
        if enabled is not None:
            row.enabled = enabled
        check_channel(row, session.get(NetworkAccount, row.account_id) if row.account_id else None)
        row.updated_at = ctx.now()
        changed = [name for name, value in fields.items() if value is not None]
        if given or drop:
            changed.append("secrets")
        if enabled is not None:
            changed.append("enabled")
        info = _channel_info(ctx, session, row, owner)
        _audit_channel(session, ctx, actor, "channel.update", info, changed=changed)
        return info


def remove_channel(
    ctx: HostContext, merchant: str, network: str, *, actor: audit.Actor = audit.LOCAL
) -> ChannelInfo:
    """Remove a merchant's channel to ``network`` (its sealed secrets go with it)."""
    network = checked_network(network)
    with ctx.db.write() as session:
        owner = _load_merchant(session, merchant)
        row = _load_channel(session, owner, network)
        info = _channel_info(ctx, session, row, owner)
        session.delete(row)
        _audit_channel(session, ctx, actor, "channel.remove", info)
        return info


def get_channel(ctx: HostContext, merchant: str, network: str) -> ChannelInfo:
    """A merchant's channel to ``network`` (25 when it has none)."""
    network = checked_network(network)
    with ctx.db.read() as session:
        owner = _load_merchant(session, merchant)
        return _channel_info(ctx, session, _load_channel(session, owner, network), owner)


def list_channels(
    ctx: HostContext, merchant: str | None = None, network: str | None = None
) -> list[ChannelInfo]:
    """Every channel (of ``merchant``, to ``network``), secrets by name and fingerprint."""
    query = (
        select(MerchantChannel, Merchant)
        .join(Merchant)
        .order_by(MerchantChannel.merchant_id, MerchantChannel.network)
    )
    if network is not None:
        query = query.where(MerchantChannel.network == checked_network(network))
    with ctx.db.read() as session:
        if merchant is not None:
            query = query.where(MerchantChannel.merchant_id == _load_merchant(session, merchant).id)
        return [_channel_info(ctx, session, row, owner) for row, owner in session.execute(query)]


def channel_for(
    ctx: HostContext,
    merchant: int | str,
    network: str,
    *,
    session: Session | None = None,
    disabled: bool = False,
) -> Channel | None:
    """The :class:`~scanpay.networks.port.Channel` ``merchant`` (its primary key or
    ``M…`` id) pays through at ``network``, secrets opened; None when it has no such
    channel or it is disabled (the payment is then declined as not served).
    ``session``: read inside the caller's transaction. ``disabled``: a disabled channel
    too (a payment it took is still queried and reversed through it)."""
    with _reading(ctx, session) as reading:
        owner = _merchant(reading, merchant)
        if owner is None:
            return None
        row = _find_channel(reading, owner, network)
        if row is None or not (row.enabled or disabled):
            return None
        app_id, mch_id, _, values = _paid_with(ctx, reading, row)
        return Channel(
            network=row.network,
            mode=ChannelMode(row.mode),
            app_id=app_id,
            mch_id=mch_id,
            sub_mch_id=row.sub_mch_id,
            sub_app_id=row.sub_app_id,
            secrets=values,
        )
