"""The demo's data at the host and the terminal, and ``demo.json`` that keeps it.

:func:`seed_host` gives a host what a demonstration needs - an approved merchant, a
terminal waiting for activation, wallet accounts - through the host's own services
(every step audited like any other); :func:`add_portal_users` its merchant-portal
logins; :func:`add_demo_operators` gives a terminal its cashier and supervisor.
:class:`DemoData` is what a later start prints again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEMO_FILE",
    "DEMO_OPERATORS",
    "DEMO_PORTAL_USERS",
    "DEMO_WALLETS",
    "DemoData",
    "DemoOperator",
    "DemoPortalUser",
    "DemoWallet",
    "SeededHost",
    "add_demo_operators",
    "add_portal_users",
    "seed_host",
]

DEMO_FILE = "demo.json"
"""Written beside ``host.db`` on the first start: the demo's ids, accounts and PINs."""


@dataclass(frozen=True, slots=True)
class DemoOperator:
    operator_id: str
    name: str
    role: Literal["cashier", "supervisor"]
    pin: str


@dataclass(frozen=True, slots=True)
class DemoPortalUser:
    """A merchant-portal login of the demo (``role`` "operator" is acquirer staff)."""

    email: str
    password: str
    role: str


DEMO_PORTAL_USERS = (
    DemoPortalUser("owner@demo.example", "demo-owner-2026", "owner"),
    DemoPortalUser("ops@demo.example", "demo-operator-2026", "operator"),
)


@dataclass(frozen=True, slots=True)
class DemoWallet:
    """A wallet account of the demo; ``account`` is filled in once it is opened."""

    name: str
    pin: str
    balance: int
    pin_above: int | None = None
    """Payments above this wait for the PIN (None: the host's default, 1000.00)."""
    account: str = ""


DEMO_OPERATORS = (
    DemoOperator("c01", "Ann", "cashier", "1234"),
    DemoOperator("s01", "Sam", "supervisor", "987654"),
)

DEMO_WALLETS = (
    DemoWallet("Alice", "123456", 50_000),
    DemoWallet("Bob", "654321", 200_000, pin_above=10_000),
)
"""Alice: 500.00, never asked for her PIN below 1000.00; Bob: 2000.00, whose
payments above 100.00 wait for his PIN on the wallet page."""


@dataclass
class SeededHost:
    """What :func:`seed_host` made."""

    merchant_id: str
    merchant_name: str
    terminal_id: str
    activation_code: str
    wallets: list[DemoWallet]


def seed_host(
    ctx: Any,
    *,
    merchant_name: str = "Demo Coffee",
    wallets: tuple[DemoWallet, ...] = DEMO_WALLETS,
    currency: str = "CNY",
) -> SeededHost:
    """An approved merchant, a terminal with its activation code, and ``wallets``
    opened with their balances - through the host's services (``ctx``: a
    :class:`scanpay.host.services.context.HostContext`)."""
    from dataclasses import replace

    from scanpay.host.services import merchants, terminals
    from scanpay.host.services import wallets as wallet_service

    merchant = merchants.add_merchant(
        ctx,
        name=merchant_name,
        city="Shanghai",
        mcc="5814",
        license="91350100M000100Y43",
        fee_rate="0.0038",
        currency=currency,
        payee=None,
    )
    merchants.set_status(ctx, merchant.merchant_id, "approve")
    issued = terminals.add_terminal(ctx, merchant.merchant_id)
    opened = []
    for spec in wallets:
        account = wallet_service.open_account(
            ctx,
            name=spec.name,
            currency=currency,
            balance=spec.balance,
            pin=spec.pin,
            pin_above=spec.pin_above,
            training=False,
        )
        opened.append(replace(spec, account=account.info.account))
    return SeededHost(
        merchant.merchant_id, merchant_name, issued.terminal_id, issued.activation_code, opened
    )


def add_portal_users(
    ctx: Any, merchant_id: str, users: tuple[DemoPortalUser, ...] = DEMO_PORTAL_USERS
) -> None:
    """The demo's merchant-portal logins: the merchant's owner and an acquirer operator."""
    from scanpay.host.portal.accounts import add_user

    for user in users:
        add_user(
            ctx,
            email=user.email,
            password=user.password,
            role=user.role,
            merchant_id=None if user.role == "operator" else merchant_id,
        )


def add_demo_operators(
    directory: Path, operators: tuple[DemoOperator, ...] = DEMO_OPERATORS
) -> None:
    """Add the demo's cashier and supervisor to an activated terminal's journal."""
    from scanpay.terminal.journal import JOURNAL_FILE, Journal
    from scanpay.terminal.operators import Operators

    journal = Journal(directory / JOURNAL_FILE)
    try:
        ops = Operators(journal)
        known = {op.operator_id for op in ops.all()}
        for op in operators:
            if op.operator_id not in known:
                ops.add(op.operator_id, op.name, op.role, op.pin)
    finally:
        journal.close()


@dataclass
class DemoData:
    """The demo's facts, kept in ``demo.json`` so that a second start can print them."""

    merchant_id: str
    merchant_name: str
    terminal_id: str
    operators: list[DemoOperator] = field(default_factory=list)
    wallets: list[DemoWallet] = field(default_factory=list)
    portal_users: list[DemoPortalUser] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DemoData:
        return cls(
            merchant_id=data["merchant_id"],
            merchant_name=data["merchant_name"],
            terminal_id=data["terminal_id"],
            operators=[DemoOperator(**op) for op in data.get("operators", [])],
            wallets=[DemoWallet(**w) for w in data.get("wallets", [])],
            portal_users=[DemoPortalUser(**u) for u in data.get("portal_users", [])],
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)

    @classmethod
    def load(cls, path: Path) -> DemoData:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
