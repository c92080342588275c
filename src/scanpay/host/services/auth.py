"""Request authentication for the terminal API: signature, timestamp window, nonce.

Every check failure is a :class:`SecurityError` (401, code 63) and changes
nothing, except that a request with a valid signature always consumes its
nonce (so it can never be replayed, whatever became of it). Nonces live in
the database, unique per terminal, so any number of host processes share
them; they are pruned once their timestamp is outside the window, where a
replay would be refused as stale anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update

from scanpay.host.db.engine import insert_if_new
from scanpay.host.db.models import (
    Merchant,
    Nonce,
    Terminal,
    TerminalKey,
    merchant_public_id,
    parse_public_id,
    terminal_public_id,
)
from scanpay.host.domain.parties import TerminalStatus, key_is_usable
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import terminal_key
from scanpay.i18n import Text
from scanpay.protocol.signing import MAX_SKEW_SECONDS, is_valid_nonce, request_message, verify

__all__ = ["SecurityError", "TerminalIdentity", "authenticate"]

_PRUNE_EVERY = 60.0
_SEEN_EVERY = timedelta(minutes=1)

# The hot path's statements, built once (building them per request costs more than
# running them). One query reads the terminal, its merchant and its keys, newest first.
_terminals, _merchants, _keys = Terminal.__table__, Merchant.__table__, TerminalKey.__table__
_IDENTITY = (
    select(
        _terminals.c.status,
        _terminals.c.last_seen_at,
        _merchants.c.id,
        _merchants.c.status,
        _keys.c.key_sealed,
        _keys.c.key_hex,
        _keys.c.not_after,
    )
    .select_from(
        _terminals.join(_merchants, _merchants.c.id == _terminals.c.merchant_id).outerjoin(
            _keys, _keys.c.terminal_id == _terminals.c.id
        )
    )
    .where(_terminals.c.id == bindparam("pk"))
    .order_by(_keys.c.id.desc())
)
_SEEN = (
    update(_terminals)
    .where(_terminals.c.id == bindparam("pk"))
    .values(last_seen_at=bindparam("now", type_=_terminals.c.last_seen_at.type))
)


_NONCE_INSERT = insert_if_new(Nonce.__table__, Nonce.__table__.c.id)


@dataclass(frozen=True, slots=True)
class TerminalIdentity:
    """An authenticated terminal, and the key its request was signed with."""

    terminal_pk: int
    terminal_id: str
    merchant_pk: int
    merchant_id: str
    merchant_status: str
    key_hex: str

    def __repr__(self) -> str:  # the key never reaches a log
        return f"TerminalIdentity({self.terminal_id}, merchant {self.merchant_id})"


class SecurityError(HostError):
    """A refused request; ``signing_key`` is the key that verified the request's
    signature (the refusal may then be signed), None when it did not verify."""

    def __init__(self, zh: str, en: str, *, signing_key: str | None, field: str | None = None):
        super().__init__("63", Text(zh, en), field=field)
        self.signing_key = signing_key


def authenticate(
    ctx: HostContext,
    *,
    terminal_id: str | None,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    method: str,
    path: str,
    body: bytes,
) -> TerminalIdentity:
    """Check one signed request; the identity, or :class:`SecurityError`."""
    if not (terminal_id and timestamp and nonce and signature):
        raise SecurityError(
            "缺少签名请求头",
            "the request is not signed (X-Scanpay-* headers missing)",
            signing_key=None,
        )
    # The headers' shapes first, cheaply (a 60 kB "nonce" is refused by name, unsigned:
    # nothing about such a request has been verified).
    try:
        stamp: int | None = int(timestamp) if len(timestamp) <= 20 else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise SecurityError(
            "请求时间戳格式错误",
            "the timestamp must be unix seconds",
            signing_key=None,
            field="X-Scanpay-Timestamp",
        )
    if not is_valid_nonce(nonce):
        raise SecurityError(
            "随机数格式错误",
            "the nonce must be 16-64 lower-case hex characters",
            signing_key=None,
            field="X-Scanpay-Nonce",
        )
    if len(signature) > 128:
        raise SecurityError(
            "签名错误",
            "the signature does not match",
            signing_key=None,
            field="X-Scanpay-Signature",
        )
    now = ctx.now()
    pk = parse_public_id(terminal_id, "T")
    with ctx.db.statements() as db:
        rows = db.read(_IDENTITY, {"pk": pk}) if pk is not None else []
        if not rows:
            raise SecurityError("未知终端", "unknown terminal", signing_key=None)
        status, last_seen_at, merchant_pk, merchant_status = rows[0][:4]
        keys = [
            (terminal_key(ctx, sealed, plain), until)
            for *_, sealed, plain, until in rows
            if sealed is not None or plain is not None
        ]
        usable = [key for key, not_after in keys if key_is_usable(not_after, now)]
        # The signature first, over the headers exactly as sent: every later refusal is
        # then the host's answer to a request the terminal really made, and may be
        # signed. A request that does not verify is answered unsigned, because signing
        # it would hand whoever sent it the host's word on a nonce they chose.
        message = request_message(method, path, timestamp, nonce, body)
        # Newest key first: during a rotation's grace period both keys verify.
        key = next((k for k in usable if verify(k, message, signature)), None)
        if key is None:
            retired = [k for k, not_after in keys if not key_is_usable(not_after, now)]
            old = next((k for k in retired if verify(k, message, signature)), None)
            if old is not None:
                # The terminal's own key, past its rotation's grace period: tell it so,
                # under that key, so it knows to activate again rather than guess.
                raise SecurityError(
                    "终端密钥已过期（已轮换），请重新激活",
                    "the terminal key has expired (rotated); activate the terminal again",
                    signing_key=old,
                    field="X-Scanpay-Signature",
                )
            raise SecurityError(
                "签名错误",
                "the signature does not match",
                signing_key=None,
                field="X-Scanpay-Signature",
            )
        if status != TerminalStatus.ACTIVE:
            raise SecurityError("终端未激活或已停用", "the terminal is not active", signing_key=key)
        if abs(now.timestamp() - stamp) > MAX_SKEW_SECONDS:
            raise SecurityError(
                "请求时间戳超出允许范围（检查终端时钟）",
                f"the timestamp is more than {MAX_SKEW_SECONDS} s off the host's clock",
                signing_key=key,
                field="X-Scanpay-Timestamp",
            )
        # The nonce is used up (committed) before the request goes any further.
        inserted = db.write(
            _NONCE_INSERT[ctx.db.dialect], {"terminal_id": pk, "nonce": nonce, "request_ts": stamp}
        )
        if inserted != 1:
            raise SecurityError(
                "重复的请求（随机数已使用）",
                "replayed request: this nonce was already used",
                signing_key=key,
                field="X-Scanpay-Nonce",
            )
        # A coarse "last seen" for the operator, without a write per request.
        if last_seen_at is None or now - last_seen_at > _SEEN_EVERY:
            db.write(_SEEN, {"pk": pk, "now": now})
    if ctx.due("prune_nonces", _PRUNE_EVERY):
        with ctx.db.write() as session:
            cutoff = int(now.timestamp()) - MAX_SKEW_SECONDS - 1
            session.execute(delete(Nonce).where(Nonce.request_ts < cutoff))
    return TerminalIdentity(
        pk,
        terminal_public_id(pk),
        merchant_pk,
        merchant_public_id(merchant_pk),
        merchant_status,
        key,
    )
