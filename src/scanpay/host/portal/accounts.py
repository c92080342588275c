"""Portal users and sessions: argon2 passwords, server-side sessions, throttled logins.

- :func:`add_user` creates a login for a merchant (owner, accountant, read-only)
  or for the acquirer (operator); ``scanpay host user add`` calls it.
- :func:`login` checks a password (argon2, outside any transaction, through the
  process's hashing gate; an unknown e-mail is checked against a dummy hash so both
  take the same time), under the throttle (:mod:`.throttle`): every attempt is
  stored, per e-mail and client address, so the lock holds across host processes.
  The attempt is stored as a failure before the password is checked, in the same
  transaction that counts the earlier ones, and that transaction holds the e-mail's
  and the address's turn (:func:`_take_turns`): of many logins at once, only as
  many as the throttle allows get their password checked.
- A session is a random token in an HttpOnly cookie; the database keeps only its
  SHA-256, with the session's CSRF token. :func:`load_session` answers the
  logged-in user (or None when the session is unknown, expired, idle too long
  or its user disabled) in one query.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    Merchant,
    PortalLoginAttempt,
    PortalSession,
    PortalUser,
    merchant_public_id,
    parse_public_id,
)
from scanpay.host.errors import HostError
from scanpay.host.portal.forms import check_password, normalize_email
from scanpay.host.portal.roles import MERCHANT_ROLES, Role, parse_role
from scanpay.host.portal.throttle import ThrottlePolicy
from scanpay.host.services import audit, hashing
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text

__all__ = [
    "ABSOLUTE_LIFETIME",
    "IDLE_TIMEOUT",
    "THROTTLE",
    "LoginRefused",
    "SessionUser",
    "UserInfo",
    "add_user",
    "create_session",
    "hash_password",
    "list_users",
    "load_session",
    "login",
    "logout",
    "set_user_status",
    "token_digest",
    "user_actor",
]

log = logging.getLogger("scanpay.host.portal")

#: A session ends this long after login, whatever happens.
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: ... or after this long without a request.
IDLE_TIMEOUT = timedelta(hours=1)
THROTTLE = ThrottlePolicy()
_TOUCH_EVERY = timedelta(minutes=1)
_KEEP_ATTEMPTS = timedelta(days=2)
_ACTIVE = "active"
_DISABLED = "disabled"


def token_digest(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_public_id(pk: int) -> str:
    return f"U{pk:06d}"


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A portal user as the operator's CLI lists it (never the hash)."""

    user_id: str
    email: str
    role: str
    merchant_id: str | None
    status: str
    created_at: datetime
    last_login_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "role": self.role,
            "merchant_id": self.merchant_id,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
        }


def _info(row: PortalUser) -> UserInfo:
    return UserInfo(
        user_public_id(row.id),
        row.email,
        row.role,
        merchant_public_id(row.merchant_id) if row.merchant_id is not None else None,
        row.status,
        row.created_at,
        row.last_login_at,
    )


@dataclass(frozen=True, slots=True)
class SessionUser:
    """The logged-in user of a request, and their session's CSRF token."""

    session_pk: int
    user_pk: int
    email: str
    role: Role
    merchant_pk: int | None
    merchant_id: str | None
    merchant_name: str | None
    merchant_status: str | None
    currency: str
    application_pk: int | None
    csrf_token: str

    @property
    def user_id(self) -> str:
        return user_public_id(self.user_pk)

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR

    @property
    def is_applicant(self) -> bool:
        """An applicant's owner login whose application is not approved yet."""
        return self.merchant_pk is None and self.application_pk is not None

    def __repr__(self) -> str:  # never print the CSRF token
        return f"SessionUser({self.user_id}, {self.role}, merchant {self.merchant_id})"


def user_actor(user: SessionUser) -> audit.Actor:
    """Who a portal user is in the audit trail: ``operator:<e-mail>`` or ``portal:<e-mail>``."""
    return audit.Actor("operator" if user.is_operator else "portal", user.email)


def _refuse(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def add_user(
    ctx: HostContext,
    *,
    email: str,
    password: str,
    role: str,
    merchant_id: str | None = None,
    actor: audit.Actor = audit.LOCAL,
    application_pk: int | None = None,
    session: Session | None = None,
    password_hash: str | None = None,
) -> UserInfo:
    """A new portal login. Merchant roles need ``merchant_id`` (or, for an applicant's
    owner, ``application_pk``); an operator has none. ``session``: add it inside the
    caller's write transaction, with ``password_hash`` made before it
    (:func:`hash_password`), so the slow hash never holds the write lock."""
    address = normalize_email(email)
    if address is None:
        raise _refuse("email", "电子邮箱格式错误", "not an e-mail address")
    try:
        role_ = parse_role(role)
    except ValueError as exc:
        raise _refuse("role", "未知的角色", str(exc)) from None
    if role_ is Role.OPERATOR and merchant_id is not None:
        raise _refuse("merchant", "收单机构操作员不属于商户", "an operator belongs to no merchant")
    if role_ in MERCHANT_ROLES and merchant_id is None and application_pk is None:
        raise _refuse("merchant", "商户用户须指定商户", "a merchant user needs --merchant")
    hashed = password_hash or hash_password(ctx, password, email=address)
    now = ctx.now()

    def write(s: Session) -> UserInfo:
        merchant_pk = None
        if merchant_id is not None:
            pk = parse_public_id(merchant_id, "M")
            merchant = s.get(Merchant, pk) if pk is not None else None
            if merchant is None:
                raise HostError("25", Text("找不到该商户", "no such merchant"), field="merchant")
            merchant_pk = merchant.id
        row = PortalUser(
            email=address,
            password_hash=hashed,
            role=role_.value,
            merchant_id=merchant_pk,
            application_id=application_pk,
            status=_ACTIVE,
            created_at=now,
            created_by=str(actor),
        )
        s.add(row)
        s.flush()
        info = _info(row)
        audit.record(
            s,
            now,
            actor,
            "portal.user.add",
            ("portal_user", info.user_id),
            merchant=info.merchant_id,
            email=address,
            role=role_.value,
        )
        return info

    try:
        if session is not None:
            with session.begin_nested():
                return write(session)
        with ctx.db.write() as own:
            return write(own)
    except IntegrityError:
        raise _refuse(
            "email", "该电子邮箱已有登录账户", "that e-mail already has a portal login"
        ) from None


def hash_password(ctx: HostContext, password: str, *, email: str = "") -> str:
    """The argon2 hash of an acceptable password (slow on purpose: call it outside
    any transaction); :class:`HostError` when the password is too weak."""
    problem = check_password(password, email=email)
    if problem is not None:
        raise HostError("30", problem, field="password")
    return hashing.make_hash(ctx, password)


def list_users(ctx: HostContext, merchant_id: str | None = None) -> list[UserInfo]:
    """Portal users (of one merchant when given), in creation order."""
    query = select(PortalUser).order_by(PortalUser.id)
    if merchant_id is not None:
        query = query.where(PortalUser.merchant_id == parse_public_id(merchant_id, "M"))
    with ctx.db.read() as session:
        return [_info(row) for row in session.scalars(query)]


def set_user_status(
    ctx: HostContext, email: str, active: bool, *, actor: audit.Actor = audit.LOCAL
) -> UserInfo:
    """Enable or disable a login (disabling ends its sessions)."""
    address = normalize_email(email) or email
    now = ctx.now()
    with ctx.db.write() as session:
        row = session.scalar(select(PortalUser).where(PortalUser.email == address))
        if row is None:
            raise HostError("25", Text("找不到该用户", "no such portal user"), field="email")
        row.status = _ACTIVE if active else _DISABLED
        if not active:
            session.execute(delete(PortalSession).where(PortalSession.user_id == row.id))
        info = _info(row)
        audit.record(
            session,
            now,
            actor,
            "portal.user.enable" if active else "portal.user.disable",
            ("portal_user", info.user_id),
            merchant=info.merchant_id,
        )
        return info


class LoginRefused(Exception):
    """A refused login: ``throttled`` (locked until ``until``) or a wrong e-mail/password.

    ``busy``: not checked at all, the host hashes all the passwords it can; try again
    in ``retry_after`` seconds (``until`` is then too; nothing was counted).
    """

    def __init__(
        self,
        throttled: bool,
        until: datetime | None = None,
        *,
        busy: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(
            "busy" if busy else "throttled" if throttled else "wrong e-mail or password"
        )
        self.throttled = throttled
        self.until = until
        self.busy = busy
        self.retry_after = retry_after


def _failures(session: Session, *, by_address: bool, value: str, since: datetime) -> list[datetime]:
    """Failure times for an e-mail (or address) after ``since`` and after its last success."""
    column = PortalLoginAttempt.address if by_address else PortalLoginAttempt.email
    last_ok = session.scalar(
        select(func.max(PortalLoginAttempt.at)).where(
            column == value, PortalLoginAttempt.ok.is_(True), PortalLoginAttempt.at > since
        )
    )
    start = max(since, last_ok) if last_ok is not None else since
    return list(
        session.scalars(
            select(PortalLoginAttempt.at).where(
                column == value, PortalLoginAttempt.ok.is_(False), PortalLoginAttempt.at > start
            )
        )
    )


def _busy(full: hashing.HashBusy, now: datetime) -> LoginRefused:
    later = now + timedelta(seconds=full.retry_after)
    return LoginRefused(True, later, busy=True, retry_after=full.retry_after)


def _take_turns(session: Session, email: str, address: str) -> None:
    """Make this transaction the only one counting the logins of ``email`` and of
    ``address`` until it ends. SQLite runs one write transaction at a time already
    (``db.engine``); PostgreSQL takes two transaction-scoped advisory locks, the e-mail's
    namespace always first, so two logins never wait for each other in a cycle."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for namespace, value in ((1, email), (2, address)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:value))"),
            {"namespace": namespace, "value": value},
        )


def _claim(
    ctx: HostContext, email: str, address: str, now: datetime
) -> tuple[int, datetime | None]:
    """Store this attempt as a failure, and when the throttle locks the login: the
    attempt's id and the lock's end (None: the password may be checked)."""
    since = THROTTLE.since(now)
    with ctx.db.write() as session:
        _take_turns(session, email, address)
        locks = [
            THROTTLE.locked_until(
                _failures(session, by_address=False, value=email, since=since),
                now,
                per_address=False,
            ),
            THROTTLE.locked_until(
                _failures(session, by_address=True, value=address, since=since),
                now,
                per_address=True,
            ),
        ]
        attempt = PortalLoginAttempt(email=email, address=address, ok=False, at=now)
        session.add(attempt)
        session.flush()
        return attempt.id, max((lock for lock in locks if lock is not None), default=None)


def login(ctx: HostContext, email: str, password: str, address: str) -> tuple[str, SessionUser]:
    """Check a login; a new session's token and its user, or :class:`LoginRefused`."""
    now = ctx.now()
    busy = hashing.GATE.refusal()
    if busy is not None:  # refused before the throttle counts anything
        raise _busy(busy, now)
    key = (normalize_email(email) or email.strip().lower())[:254]
    address = address[:64]
    attempt, until = _claim(ctx, key, address, now)
    if until is not None:
        log.warning("portal login throttled for an e-mail (until %s)", until.isoformat())
        raise LoginRefused(True, until)
    with ctx.db.read() as session:
        user = session.scalar(select(PortalUser).where(PortalUser.email == key))
        stored = user.password_hash if user is not None else None
    try:
        ok = hashing.verify(ctx, stored or hashing.dummy_hash(ctx), password) and stored is not None
    except hashing.HashBusy as full:
        with ctx.db.write() as session:  # never checked: not a failure
            session.execute(delete(PortalLoginAttempt).where(PortalLoginAttempt.id == attempt))
        raise _busy(full, now) from None
    if not ok or user is None or user.status != _ACTIVE:
        raise LoginRefused(False)
    new_hash = None
    if ctx.hasher.check_needs_rehash(stored or ""):
        with contextlib.suppress(hashing.HashBusy):  # the next login rehashes it then
            new_hash = hashing.make_hash(ctx, password)
    with ctx.db.write() as session:
        session.execute(
            update(PortalLoginAttempt).where(PortalLoginAttempt.id == attempt).values(ok=True)
        )
        values: dict[str, object] = {"last_login_at": now}
        if new_hash is not None:
            values["password_hash"] = new_hash
        session.execute(update(PortalUser).where(PortalUser.id == user.id).values(**values))
        audit.record(
            session,
            now,
            audit.Actor("operator" if user.role == Role.OPERATOR else "portal", user.email),
            "portal.login",
            ("portal_user", user_public_id(user.id)),
            merchant=merchant_public_id(user.merchant_id) if user.merchant_id else None,
        )
        token = _new_session(session, user.id, now)
    _prune(ctx, now)
    found = load_session(ctx, token)
    assert found is not None
    return token, found


def _new_session(session: Session, user_pk: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        PortalSession(
            token_digest=token_digest(token),
            user_id=user_pk,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_LIFETIME,
        )
    )
    return token


def create_session(ctx: HostContext, user_pk: int) -> str:
    """A session for a user who just proved who they are another way (a new applicant)."""
    with ctx.db.write() as session:
        return _new_session(session, user_pk, ctx.now())


def _prune(ctx: HostContext, now: datetime) -> None:
    if not ctx.due("portal_prune", 600):
        return
    with ctx.db.write() as session:
        session.execute(delete(PortalSession).where(PortalSession.expires_at < now))
        session.execute(
            delete(PortalLoginAttempt).where(PortalLoginAttempt.at < now - _KEEP_ATTEMPTS)
        )


def load_session(ctx: HostContext, token: str | None) -> SessionUser | None:
    """The user of a session token (None: no such session, or it ended)."""
    if not token or len(token) > 128:
        return None
    now = ctx.now()
    with ctx.db.read() as session:
        row = session.execute(
            select(PortalSession, PortalUser, Merchant)
            .join(PortalUser, PortalUser.id == PortalSession.user_id)
            .outerjoin(Merchant, Merchant.id == PortalUser.merchant_id)
            .where(PortalSession.token_digest == token_digest(token))
        ).first()
    if row is None:
        return None
    sess, user, merchant = row
    if now >= sess.expires_at or now - sess.last_seen_at > IDLE_TIMEOUT:
        return None
    if user.status != _ACTIVE:
        return None
    if now - sess.last_seen_at > _TOUCH_EVERY:
        with ctx.db.write() as session:
            session.execute(
                update(PortalSession).where(PortalSession.id == sess.id).values(last_seen_at=now)
            )
    return SessionUser(
        sess.id,
        user.id,
        user.email,
        Role(user.role),
        merchant.id if merchant else None,
        merchant.public_id if merchant else None,
        merchant.name if merchant else None,
        merchant.status if merchant else None,
        merchant.currency if merchant else "CNY",
        user.application_id,
        sess.csrf_token,
    )


def logout(ctx: HostContext, token: str | None) -> None:
    """End the session of ``token`` (nothing happens for an unknown one)."""
    if not token or len(token) > 128:
        return
    with ctx.db.write() as session:
        session.execute(
            delete(PortalSession).where(PortalSession.token_digest == token_digest(token))
        )
