"""Terminals: adding, activation with a one-time code, key rotation with grace, status."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    ActivationCode,
    Merchant,
    Terminal,
    TerminalKey,
    TerminalSelfTest,
    parse_public_id,
)
from scanpay.host.domain.parties import (
    MerchantStatus,
    TerminalStatus,
    activation_code,
    activation_digest,
)
from scanpay.host.domain.versions import is_supported, parse_version
from scanpay.host.errors import HostError
from scanpay.host.services import audit
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import TERMINAL_KEY, seal
from scanpay.i18n import Text
from scanpay.protocol.models import ActivationResponse
from scanpay.protocol.models import TerminalStatus as TerminalStatusBody

__all__ = [
    "Activated",
    "IssuedCode",
    "TerminalInfo",
    "activate",
    "add_terminal",
    "check_legacy_signature",
    "check_version",
    "list_terminals",
    "load_terminal",
    "record_self_test",
    "rotate_key",
    "terminal_status",
]


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A one-time activation code, shown once to the operator (the host keeps its digest)."""

    terminal_id: str
    merchant_id: str
    activation_code: str
    purpose: str
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "terminal_id": self.terminal_id,
            "merchant_id": self.merchant_id,
            "activation_code": self.activation_code,
            "purpose": self.purpose,
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    terminal_id: str
    merchant_id: str
    status: str
    software_version: str | None
    keys: int
    created_at: datetime
    activated_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "terminal_id": self.terminal_id,
            "merchant_id": self.merchant_id,
            "status": self.status,
            "software_version": self.software_version,
            "usable_keys": self.keys,
            "created_at": self.created_at.isoformat(),
            "activated_at": self.activated_at.isoformat() if self.activated_at else None,
        }


@dataclass(frozen=True, slots=True)
class Activated:
    """The answer to an activation, and the key to sign that answer with."""

    response: ActivationResponse
    key_hex: str


def _not_found(what: str) -> HostError:
    return HostError("25", Text(f"找不到该{what}", f"no such {what}"), field=what)


def load_terminal(session: Session, terminal_id: str) -> Terminal:
    pk = parse_public_id(terminal_id, "T")
    row = session.get(Terminal, pk) if pk is not None else None
    if row is None:
        raise HostError("25", Text("找不到该终端", "no such terminal"), field="terminal")
    return row


def _issue(
    ctx: HostContext, session: Session, terminal: Terminal, purpose: str, grace: int
) -> IssuedCode:
    now = ctx.now()
    code = activation_code(secrets.token_bytes(12))
    expires = now + timedelta(seconds=ctx.settings.activation_ttl)
    # Any earlier unused code for this terminal stops working: one live code at a time.
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.terminal_id == terminal.id, ActivationCode.used_at.is_(None))
        .values(expires_at=now)
    )
    session.add(
        ActivationCode(
            terminal_id=terminal.id,
            digest=activation_digest(code),
            purpose=purpose,
            key_grace=grace,
            created_at=now,
            expires_at=expires,
        )
    )
    merchant = session.get(Merchant, terminal.merchant_id)
    assert merchant is not None
    return IssuedCode(terminal.public_id, merchant.public_id, code, purpose, expires)


@contextmanager
def _writing(ctx: HostContext, session: Session | None) -> Iterator[Session]:
    """The caller's write transaction when given, else a new one."""
    if session is not None:
        yield session
        return
    with ctx.db.write() as own:
        yield own


def add_terminal(
    ctx: HostContext,
    merchant_id: str,
    *,
    actor: audit.Actor = audit.LOCAL,
    session: Session | None = None,
) -> IssuedCode:
    """A new terminal for a merchant, with its one-time activation code
    (``session``: inside the caller's write transaction)."""
    pk = parse_public_id(merchant_id, "M")
    with _writing(ctx, session) as session:
        merchant = session.get(Merchant, pk) if pk is not None else None
        if merchant is None:
            raise _not_found("merchant")
        terminal = Terminal(
            merchant_id=merchant.id, status=TerminalStatus.PENDING, created_at=ctx.now()
        )
        session.add(terminal)
        session.flush()
        issued = _issue(ctx, session, terminal, "activate", 0)
        audit.record(
            session,
            terminal.created_at,
            actor,
            "terminal.add",
            ("terminal", terminal.public_id),
            merchant=merchant.public_id,
            activation_expires_at=issued.expires_at.isoformat(),
        )
        return issued


def rotate_key(
    ctx: HostContext,
    terminal_id: str,
    grace: int | None = None,
    *,
    actor: audit.Actor = audit.LOCAL,
) -> IssuedCode:
    """Start a key rotation: a one-time code the terminal activates with to get its new key.

    When the terminal uses it, the new key becomes current and the old one keeps
    working for ``grace`` seconds (default: the ``key_grace`` setting), so
    requests already in flight, or a second till sharing the configuration,
    are not cut off.
    """
    grace = ctx.settings.key_grace if grace is None else grace
    if grace < 0:
        raise HostError("30", Text("宽限期不能为负数", "the grace period is not negative"))
    with ctx.db.write() as session:
        terminal = load_terminal(session, terminal_id)
        if terminal.status != TerminalStatus.ACTIVE:
            raise HostError(
                "30",
                Text("终端尚未激活，无需轮换密钥", "the terminal is not active yet: activate it"),
                field="terminal",
            )
        issued = _issue(ctx, session, terminal, "rotate", grace)
        audit.record(
            session,
            ctx.now(),
            actor,
            "terminal.rotate_key",
            ("terminal", terminal.public_id),
            merchant=issued.merchant_id,
            grace_seconds=grace,
        )
        return issued


def check_legacy_signature(ctx: HostContext) -> None:
    """Refuse a version 1 terminal (replies not bound to requests) after the transition
    period of ``legacy_signature_until`` (426, code 26)."""
    until = ctx.settings.legacy_signature_until
    today = ctx.now().astimezone(ctx.settings.zone).date()
    if until is not None and today <= until:
        return
    raise HostError(
        "26",
        Text(
            "终端软件须升级：应答签名须绑定请求（签名版本 2）",
            "terminal software must be upgraded: replies must be bound to their "
            "requests (signature version 2)",
        ),
        field="X-Scanpay-Signature-Version",
    )


def check_version(ctx: HostContext, version: str | None) -> None:
    """Refuse a terminal below the minimum software version (426, code 26)."""
    minimum = ctx.settings.min_terminal_version
    if version is None or not version.strip():
        raise HostError(
            "26",
            Text(
                f"终端未报告软件版本（最低 {minimum}）",
                f"the terminal did not report its software version (minimum {minimum})",
            ),
            field="software_version",
        )
    try:
        parse_version(version)
    except ValueError:
        raise HostError(
            "30",
            Text("软件版本格式错误", "the software version is malformed"),
            field="software_version",
        ) from None
    if not is_supported(version, minimum):
        raise HostError(
            "26",
            Text(
                f"终端软件版本 {version} 过旧，最低要求 {minimum}",
                f"terminal software {version} is too old; the minimum is {minimum}",
            ),
            field="software_version",
        )


def _activation_refused(zh: str, en: str) -> HostError:
    return HostError("63", Text(zh, en), field="activation_code")


def activate(ctx: HostContext, code: str, software_version: str) -> Activated:
    """Use a one-time activation code: install a new key and answer with it.

    Nothing changes when the code is refused (unknown, used, expired), the
    merchant may not transact, or the software is too old.
    """
    check_version(ctx, software_version)
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.scalar(
            select(ActivationCode)
            .where(ActivationCode.digest == activation_digest(code))
            .with_for_update()
        )
        if row is None:
            raise _activation_refused("激活码无效", "unknown activation code")
        if row.used_at is not None:
            raise _activation_refused("激活码已使用过", "this activation code was already used")
        if now >= row.expires_at:
            raise _activation_refused("激活码已过期", "this activation code has expired")
        terminal = session.get(Terminal, row.terminal_id)
        assert terminal is not None
        merchant = session.get(Merchant, terminal.merchant_id)
        assert merchant is not None
        if merchant.status != MerchantStatus.APPROVED:
            raise HostError(
                "58",
                Text(
                    "商户未通过审核或已暂停，终端不能激活",
                    "the merchant is not approved or is suspended",
                ),
            )
        if terminal.status == TerminalStatus.DISABLED:
            raise HostError("58", Text("终端已停用", "this terminal is disabled"))
        row.used_at = now
        grace_end = now + timedelta(seconds=row.key_grace)
        session.execute(
            update(TerminalKey)
            .where(TerminalKey.terminal_id == terminal.id, TerminalKey.not_after.is_(None))
            .values(not_after=grace_end)
        )
        key_hex = secrets.token_hex(32)
        session.add(
            TerminalKey(
                terminal_id=terminal.id,
                key_hex="",
                key_sealed=seal(ctx, key_hex, TERMINAL_KEY),
                created_at=now,
            )
        )
        terminal.status = TerminalStatus.ACTIVE
        terminal.activated_at = terminal.activated_at or now
        terminal.software_version = software_version
        audit.record(
            session,
            now,
            audit.Actor.terminal(terminal.public_id),
            "terminal.activate",
            ("terminal", terminal.public_id),
            merchant=merchant.public_id,
            purpose=row.purpose,
            software_version=software_version,
            old_key_until=grace_end.isoformat() if row.purpose == "rotate" else None,
        )
        response = ActivationResponse(
            terminal_id=terminal.public_id,
            key=key_hex,
            merchant_id=merchant.public_id,
            merchant_name=merchant.name,
            merchant_city=merchant.city,
            mcc=merchant.mcc,
            currency=merchant.currency,
            payee=merchant.payee or merchant.public_id,
            min_software_version=ctx.settings.min_terminal_version,
            # The host's business day runs in this zone: the terminal shows its times in it.
            timezone=ctx.settings.timezone,
        )
        return Activated(response, key_hex)


def list_terminals(ctx: HostContext, merchant_id: str | None = None) -> list[TerminalInfo]:
    now = ctx.now()
    with ctx.db.read() as session:
        query = select(Terminal).order_by(Terminal.id)
        if merchant_id is not None:
            query = query.where(Terminal.merchant_id == parse_public_id(merchant_id, "M"))
        out = []
        for t in session.scalars(query):
            keys = session.scalars(
                select(TerminalKey.not_after).where(TerminalKey.terminal_id == t.id)
            ).all()
            merchant = session.get(Merchant, t.merchant_id)
            assert merchant is not None
            out.append(
                TerminalInfo(
                    t.public_id,
                    merchant.public_id,
                    t.status,
                    t.software_version,
                    sum(1 for k in keys if k is None or now < k),
                    t.created_at,
                    t.activated_at,
                )
            )
        return out


def terminal_status(ctx: HostContext, terminal_pk: int) -> TerminalStatusBody:
    """What a terminal's self-test checks against: statuses, host time, minimum version."""
    with ctx.db.read() as session:
        row = session.get(Terminal, terminal_pk)
        assert row is not None
        merchant = session.get(Merchant, row.merchant_id)
        assert merchant is not None
        return TerminalStatusBody(
            terminal_id=row.public_id,
            merchant_id=merchant.public_id,
            merchant_name=merchant.name,
            merchant_status=merchant.status,
            terminal_status=row.status,
            server_time=ctx.now(),
            min_software_version=ctx.settings.min_terminal_version,
            software_version=row.software_version,
        )


#: What a terminal may report of its self-test checks.
_CHECK_STATES = frozenset({"ok", "warn", "fail"})


def record_self_test(
    ctx: HostContext,
    terminal_pk: int,
    *,
    status: str,
    pending_reversals: int,
    in_doubt: int,
    checks: Mapping[str, str],
    pending: list[str],
    software_version: str | None,
) -> None:
    """Keep a terminal's latest self-test (what its merchant's portal shows beside it):
    overall status, reversals waiting for the host, sales in doubt, each check's state."""
    if status not in _CHECK_STATES or any(v not in _CHECK_STATES for v in checks.values()):
        raise HostError("30", Text("自检状态无效", "a check state is ok, warn or fail"))
    detail = json.dumps({"checks": dict(checks), "pending": pending}, sort_keys=True)
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.get(TerminalSelfTest, terminal_pk, with_for_update=True)
        if row is None:
            row = TerminalSelfTest(terminal_id=terminal_pk)
            session.add(row)
        row.at, row.status, row.detail = now, status, detail
        row.pending_reversals, row.in_doubt = pending_reversals, in_doubt
        row.software_version = software_version
