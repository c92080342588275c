"""Applications for acquiring: submitted on the public page, reviewed by an operator.

- :func:`submit` stores the application and its owner's login (the applicant
  chooses the password), in one transaction; the applicant then sees the
  status page with the reference number.
- :func:`review` is what the operator sees: the application, its licence's
  check (:mod:`.licence`) and the duplicates (merchants and other applications
  with the same licence, name, e-mail or phone).
- :func:`approve` creates the merchant (approved), its terminals and their
  one-time activation codes, binds the owner's login to the merchant, in one
  transaction; the codes are kept sealed under the master key for the owner's
  login to show (:func:`activation_codes`) until each terminal activates.
- :func:`reject` records the reason, which the applicant sees.

Every step is in the audit trail (subject ``application:<reference>``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scanpay.host.db.models import (
    ActivationCode,
    Application,
    Merchant,
    PortalUser,
    Terminal,
)
from scanpay.host.domain.parties import ACTIVATION_ALPHABET, activation_digest
from scanpay.host.errors import HostError
from scanpay.host.portal import accounts
from scanpay.host.portal.forms import ApplicationInput, clean_text
from scanpay.host.portal.licence import LicenceReport, check_licence
from scanpay.host.portal.roles import Role
from scanpay.host.services import audit, merchants, terminals
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import seal
from scanpay.i18n import Text

__all__ = [
    "CODES_PURPOSE",
    "ApplicationView",
    "CodeView",
    "Duplicate",
    "Review",
    "activation_codes",
    "application_of",
    "approve",
    "list_applications",
    "reject",
    "review",
    "submit",
]

#: The sealing purpose of the stored activation codes.
CODES_PURPOSE = "portal-activation-codes"
SUBMITTED, APPROVED, REJECTED = "submitted", "approved", "rejected"


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application as its applicant and the operator see it."""

    reference: str
    company_name: str
    shop_name: str
    license: str
    legal_representative: str
    phone: str
    email: str
    city: str
    address: str
    mcc: str
    monthly_volume: int
    currency: str
    terminal_count: int
    status: str
    reason: str | None
    merchant_id: str | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


def _view(row: Application, merchant_public: str | None) -> ApplicationView:
    return ApplicationView(
        row.reference,
        row.company_name,
        row.shop_name,
        row.license,
        row.legal_representative,
        row.phone,
        row.email,
        row.city,
        row.address,
        row.mcc,
        row.monthly_volume,
        row.currency,
        row.terminal_count,
        row.status,
        row.reason,
        merchant_public,
        row.created_at,
        row.decided_at,
        row.decided_by,
    )


def _public(merchant_pk: int | None) -> str | None:
    return f"M{merchant_pk:06d}" if merchant_pk is not None else None


def _reference() -> str:
    chars = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(8))
    return f"AP-{chars[:4]}-{chars[4:]}"


def submit(
    ctx: HostContext, form: ApplicationInput, password: str, *, currency: str = "CNY"
) -> tuple[ApplicationView, int]:
    """Store an application and its owner's login; the application and the user's key."""
    now = ctx.now()
    actor = audit.Actor("portal", form.email)
    hashed = accounts.hash_password(ctx, password, email=form.email)
    for _ in range(3):
        try:
            with ctx.db.write() as session:
                row = Application(
                    reference=_reference(),
                    company_name=form.company_name,
                    shop_name=form.shop_name,
                    license=form.license,
                    legal_representative=form.legal_representative,
                    phone=form.phone,
                    email=form.email,
                    city=form.city,
                    address=form.address,
                    mcc=form.mcc,
                    monthly_volume=form.monthly_volume,
                    currency=currency,
                    terminal_count=form.terminal_count,
                    status=SUBMITTED,
                    created_at=now,
                    updated_at=now,
                )
                with session.begin_nested():
                    session.add(row)
                user = accounts.add_user(
                    ctx,
                    email=form.email,
                    password=password,
                    password_hash=hashed,
                    role=Role.OWNER.value,
                    actor=actor,
                    application_pk=row.id,
                    session=session,
                )
                audit.record(
                    session,
                    now,
                    actor,
                    "application.submit",
                    ("application", row.reference),
                    company_name=row.company_name,
                    license=row.license,
                    mcc=row.mcc,
                    terminals=row.terminal_count,
                    monthly_volume=row.monthly_volume,
                    currency=currency,
                )
                return _view(row, None), int(user.user_id[1:])
        except IntegrityError:  # the random reference was taken: draw another
            continue
    raise HostError("96")


def list_applications(ctx: HostContext, status: str | None = None) -> list[ApplicationView]:
    """Applications, the waiting ones first, then newest first."""
    query = select(Application).order_by(
        (Application.status != SUBMITTED), Application.created_at.desc(), Application.id.desc()
    )
    if status:
        query = query.where(Application.status == status)
    with ctx.db.read() as session:
        return [_view(row, _public(row.merchant_id)) for row in session.scalars(query.limit(500))]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Something already known that looks like this application."""

    kind: str  # "merchant" or "application"
    ident: str
    name: str
    status: str
    matched: tuple[str, ...]  # which fields: license, name, email, phone


@dataclass(frozen=True, slots=True)
class Review:
    """What the operator decides on."""

    application: ApplicationView
    licence: LicenceReport
    duplicates: tuple[Duplicate, ...]


def _load(session: Session, reference: str, *, lock: bool = False) -> Application:
    query = select(Application).where(Application.reference == reference[:16])
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise HostError("25", Text("找不到该申请", "no such application"), field="reference")
    return row


def review(ctx: HostContext, reference: str) -> Review:
    """An application with its licence check and its possible duplicates."""
    with ctx.db.read() as session:
        row = _load(session, reference)
        name = row.company_name.lower()
        shop = row.shop_name.lower()
        found: list[Duplicate] = []
        for m in session.scalars(
            select(Merchant).where(
                or_(
                    Merchant.license == row.license,
                    func.lower(Merchant.name) == name,
                    func.lower(Merchant.name) == shop,
                )
            )
        ):
            matched = []
            if m.license == row.license:
                matched.append("license")
            if m.name.lower() in (name, shop):
                matched.append("name")
            found.append(Duplicate("merchant", m.public_id, m.name, m.status, tuple(matched)))
        for other in session.scalars(
            select(Application).where(
                Application.id != row.id,
                or_(
                    Application.license == row.license,
                    func.lower(Application.company_name) == name,
                    Application.email == row.email,
                    Application.phone == row.phone,
                ),
            )
        ):
            matched = [
                label
                for label, same in (
                    ("license", other.license == row.license),
                    ("name", other.company_name.lower() == name),
                    ("email", other.email == row.email),
                    ("phone", other.phone == row.phone),
                )
                if same
            ]
            found.append(
                Duplicate(
                    "application", other.reference, other.company_name, other.status, tuple(matched)
                )
            )
        return Review(
            _view(row, _public(row.merchant_id)), check_licence(row.license), tuple(found)
        )


def application_of(ctx: HostContext, application_pk: int) -> ApplicationView:
    """An applicant's own application (by their login's link to it)."""
    with ctx.db.read() as session:
        row = session.get(Application, application_pk)
        if row is None:
            raise HostError("25", Text("找不到该申请", "no such application"))
        return _view(row, _public(row.merchant_id))


def _decided(reference: str, status: str) -> HostError:
    return HostError(
        "30",
        Text(
            f"申请 {reference} 已处理（{status}）", f"application {reference} is already {status}"
        ),
        field="reference",
    )


def approve(
    ctx: HostContext, reference: str, *, fee_rate: str, actor: audit.Actor
) -> ApplicationView:
    """Approve an application: merchant (approved), terminals and codes, owner bound.

    All in one transaction, under the application's row lock: two operators
    approving at once make one merchant, and the second is told it is done.
    """
    now = ctx.now()
    with ctx.db.write() as session:
        row = _load(session, reference, lock=True)
        if row.status != SUBMITTED:
            raise _decided(row.reference, row.status)
        info = merchants.add_merchant(
            ctx,
            name=row.shop_name,
            city=row.city,
            mcc=row.mcc,
            license=row.license,
            fee_rate=fee_rate,
            currency=row.currency,
            actor=actor,
            session=session,
        )
        merchants.set_status(ctx, info.merchant_id, "approve", actor=actor, session=session)
        issued = [
            terminals.add_terminal(ctx, info.merchant_id, actor=actor, session=session)
            for _ in range(row.terminal_count)
        ]
        codes = [
            {
                "terminal_id": code.terminal_id,
                "code": code.activation_code,
                "expires_at": code.expires_at.isoformat(),
            }
            for code in issued
        ]
        merchant_pk = int(info.merchant_id[1:])
        row.status, row.merchant_id = APPROVED, merchant_pk
        row.codes_sealed = seal(ctx, json.dumps(codes), CODES_PURPOSE)
        row.updated_at = row.decided_at = now
        row.decided_by = str(actor)
        session.execute(
            update(PortalUser)
            .where(PortalUser.application_id == row.id, PortalUser.merchant_id.is_(None))
            .values(merchant_id=merchant_pk)
        )
        audit.record(
            session,
            now,
            actor,
            "application.approve",
            ("application", row.reference),
            merchant=info.merchant_id,
            fee_rate=fee_rate,
            terminals=[code.terminal_id for code in issued],
        )
        return _view(row, info.merchant_id)


def reject(ctx: HostContext, reference: str, reason: str, *, actor: audit.Actor) -> ApplicationView:
    """Reject an application with a reason the applicant sees."""
    text = clean_text(reason)
    if not 3 <= len(text) <= 256:
        raise HostError(
            "30",
            Text("请填写 3-256 个字符的理由", "give a reason of 3-256 characters"),
            field="reason",
        )
    now = ctx.now()
    with ctx.db.write() as session:
        row = _load(session, reference, lock=True)
        if row.status != SUBMITTED:
            raise _decided(row.reference, row.status)
        row.status, row.reason = REJECTED, text
        row.updated_at = row.decided_at = now
        row.decided_by = str(actor)
        audit.record(
            session, now, actor, "application.reject", ("application", row.reference), reason=text
        )
        return _view(row, None)


@dataclass(frozen=True, slots=True)
class CodeView:
    """A new terminal's one-time activation code, as its owner's login shows it."""

    terminal_id: str
    code: str | None  # None once used or expired: never shown again
    expires_at: datetime
    state: str  # "pending", "activated" or "expired"


def activation_codes(ctx: HostContext, merchant_pk: int) -> list[CodeView]:
    """The activation codes of the merchant's approved application, with their state."""
    now = ctx.now()
    with ctx.db.read() as session:
        sealed = session.scalars(
            select(Application.codes_sealed).where(
                Application.merchant_id == merchant_pk, Application.codes_sealed.is_not(None)
            )
        ).all()
        out: list[CodeView] = []
        for blob in sealed:
            assert blob is not None
            for item in json.loads(ctx.secret_box.open(blob, CODES_PURPOSE)):
                stored = session.scalar(
                    select(ActivationCode).where(
                        ActivationCode.digest == activation_digest(item["code"])
                    )
                )
                terminal = session.scalar(
                    select(Terminal).where(
                        Terminal.id == int(item["terminal_id"][1:]),
                        Terminal.merchant_id == merchant_pk,
                    )
                )
                if stored is None or terminal is None:
                    continue
                if stored.used_at is not None:
                    state = "activated"
                elif now >= stored.expires_at:
                    state = "expired"
                else:
                    state = "pending"
                out.append(
                    CodeView(
                        item["terminal_id"],
                        item["code"] if state == "pending" else None,
                        stored.expires_at,
                        state,
                    )
                )
        return out
