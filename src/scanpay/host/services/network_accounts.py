"""The acquirer's network accounts (issue 16, "Channels per merchant").

A **network account** (``network_accounts``) is the acquirer's own account at a
payment network, for service-provider mode (服务商模式): app id, merchant id and
secrets. Merchants' service-provider channels (:mod:`~scanpay.host.services.channels`)
hang under one as sub-merchants and pay with its ids and secrets.

Secrets are write-only (:mod:`~scanpay.host.services.channel_secrets`): sealed under
the master key (purpose ``NETWORK_ACCOUNT_SECRETS``), shown and audited by name and
fingerprint, never by value; nothing here logs.

Each change is written with its audit record in one transaction; bad input is refused
with a :class:`~scanpay.host.errors.HostError` (30 a bad field, 25 no account of that
label) before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import MerchantChannel, NetworkAccount
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.channel_secrets import (
    checked_id,
    checked_network,
    checked_secrets,
    fingerprints,
    merged_secrets,
    open_secrets,
    seal_secrets,
)
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import NETWORK_ACCOUNT_SECRETS
from scanpay.i18n import Text

__all__ = [
    "AccountInfo",
    "account_for",
    "add_account",
    "list_accounts",
    "remove_account",
    "update_account",
]

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def _account_exists(label: str) -> HostError:
    return _bad("label", f"网络账户 {label} 已存在", f"the network account {label} exists already")


def _account_in_use(label: str, channels: int) -> HostError:
    return _bad(
        "account",
        f"网络账户 {label} 下还有 {channels} 个商户渠道：先删除它们或改用其他账户",
        f"the network account {label} still has merchant channels under it ({channels}): "
        "remove them or move them to another account first",
    )


def _load_account(session: Session, label: str, *, lock: bool = False) -> NetworkAccount:
    query = select(NetworkAccount).where(NetworkAccount.label == label)
    row = session.scalar(query.with_for_update(read=True) if lock else query)
    if row is None:
        shown = label[:32]
        raise HostError(
            "25",
            Text(f"找不到网络账户 {shown!r}", f"no network account {shown!r}"),
            field="account",
        )
    return row


def account_for(session: Session, label: str, network: str) -> NetworkAccount:
    """The account ``label`` for a channel to ``network``, share-locked (PostgreSQL) so
    that it cannot be removed before the channel under it commits."""
    row = _load_account(session, label, lock=True)
    if row.network != network:
        raise _bad(
            "account",
            f"网络账户 {row.label} 属于 {row.network}，不是 {network}",
            f"the network account {row.label} is {row.network}'s, not {network}'s",
        )
    return row


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A network account as the operator sees it: its secrets by name and fingerprint."""

    label: str
    network: str
    app_id: str
    mch_id: str
    secrets: Mapping[str, str]
    """Secret name -> :func:`~scanpay.host.services.channel_secrets.fingerprint` of its
    value."""
    channels: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The account as ``--json`` shows it (secrets by fingerprint)."""
        return {
            "label": self.label,
            "network": self.network,
            "app_id": self.app_id,
            "mch_id": self.mch_id,
            "secrets": dict(self.secrets),
            "channels": self.channels,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def _account_info(
    ctx: HostContext, session: Session, row: NetworkAccount, values: Mapping[str, str] | None = None
) -> AccountInfo:
    if values is None:
        values = open_secrets(ctx, row.secrets_sealed, NETWORK_ACCOUNT_SECRETS)
    used = session.scalar(
        select(func.count())
        .select_from(MerchantChannel)
        .where(MerchantChannel.account_id == row.id)
    )
    return AccountInfo(
        row.label,
        row.network,
        row.app_id,
        row.mch_id,
        fingerprints(values),
        int(used or 0),
        row.created_at,
        row.updated_at,
    )


def _audit_account(
    session: Session, ctx: HostContext, actor: audit.Actor, action: str, info: AccountInfo
) -> None:
    # Names and fingerprints of the secrets, never a value.
    audit.record(
        session,
        ctx.now(),
        actor,
        action,
        ("network_account", info.label),
        network=info.network,
        app_id=info.app_id,
        mch_id=info.mch_id,
        secrets=dict(info.secrets),
    )


def add_account(
    ctx: HostContext,
    *,
    network: str,
    label: str,
    app_id: str,
    mch_id: str,
    secrets: Mapping[str, str] | None = None,
    actor: audit.Actor = audit.LOCAL,
) -> AccountInfo:
    """Add the acquirer's account at ``network`` (service-provider mode) as ``label``."""
    network = checked_network(network)
    if not _LABEL.fullmatch(label):
        raise _bad(
            "label",
            "账户名称须为 1-32 个字母、数字或 _ . -，以字母或数字开头",
            "the label is 1-32 letters, digits or _ . -, starting with a letter or digit",
        )
    app_id, mch_id = checked_id(app_id, "app_id"), checked_id(mch_id, "mch_id")
    values = checked_secrets(secrets or {})
    now = ctx.now()
    try:
        with ctx.db.write() as session:
            if session.scalar(select(NetworkAccount.id).where(NetworkAccount.label == label)):
                raise _account_exists(label)
            row = NetworkAccount(
                label=label,
                network=network,
                app_id=app_id,
                mch_id=mch_id,
                secrets_sealed=seal_secrets(ctx, values, NETWORK_ACCOUNT_SECRETS),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            info = _account_info(ctx, session, row, values)
            _audit_account(session, ctx, actor, "network_account.add", info)
            return info
    except IntegrityError:  # added by another process since the check
        raise _account_exists(label) from None


def update_account(
    ctx: HostContext,
    label: str,
    *,
    app_id: str | None = None,
    mch_id: str | None = None,
    secrets: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
    actor: audit.Actor = audit.LOCAL,
) -> AccountInfo:
    """Change an account's ids, set secrets (replacing those of the same name) or ``drop``
    some; every channel under it uses the change from its next payment."""
    given = checked_secrets(secrets or {})
    new_app = None if app_id is None else checked_id(app_id, "app_id")
    new_mch = None if mch_id is None else checked_id(mch_id, "mch_id")
    drop = list(drop)
    if new_app is None and new_mch is None and not given and not drop:
        raise _bad("label", "没有要修改的内容", "nothing to change")
    with ctx.db.write() as session:
        row = _load_account(session, label)
        values = open_secrets(ctx, row.secrets_sealed, NETWORK_ACCOUNT_SECRETS)
        merged = merged_secrets(values, given, drop)
        row.app_id = new_app or row.app_id
        row.mch_id = new_mch or row.mch_id
        if given or drop:
            row.secrets_sealed = seal_secrets(ctx, merged, NETWORK_ACCOUNT_SECRETS)
        row.updated_at = ctx.now()
        info = _account_info(ctx, session, row, merged)
        _audit_account(session, ctx, actor, "network_account.update", info)
        return info


def remove_account(
    ctx: HostContext, label: str, *, actor: audit.Actor = audit.LOCAL
) -> AccountInfo:
    """Remove an account no channel uses any more (its sealed secrets go with it)."""
    try:
        with ctx.db.write() as session:
            row = _load_account(session, label)
            info = _account_info(ctx, session, row)
            if info.channels:
                raise _account_in_use(label, info.channels)
            session.delete(row)
            _audit_account(session, ctx, actor, "network_account.remove", info)
            return info
    except IntegrityError:  # a channel was put under it by another process meanwhile
        raise _account_in_use(label, 1) from None


def list_accounts(ctx: HostContext, network: str | None = None) -> list[AccountInfo]:
    """Every network account (of ``network``), secrets by name and fingerprint only."""
    query = select(NetworkAccount).order_by(NetworkAccount.label)
    if network is not None:
        query = query.where(NetworkAccount.network == checked_network(network))
    with ctx.db.read() as session:
        return [_account_info(ctx, session, row) for row in session.scalars(query)]
