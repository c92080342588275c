"""The run's shop at the host: the merchant and its rules, its terminals, its customers.

Made straight in the host's database (through its services) before any host process
starts serving: one approved merchant with the rules that would otherwise decide a
fast, code-churning run switched off for it, the terminals to activate, and each
terminal's customers with wallets at the host's built-in issuer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanpay.chaos.customers import Customer, Role

if TYPE_CHECKING:
    from scanpay.host.services.context import HostContext
    from scanpay.host.services.terminals import IssuedCode

__all__ = ["CUSTOMER_PIN", "USCC", "open_customers", "open_shop"]

CUSTOMER_PIN = "123456"
USCC = "91350100M000100Y43"

# What each terminal's customers are: (role, how many, opening balance).
_CUSTOMERS = ((Role.RICH, 12, 100_000_000), (Role.PIN, 3, 100_000_000), (Role.POOR, 1, 100))


def open_shop(ctx: HostContext, terminals: int) -> tuple[str, list[IssuedCode]]:
    """The run's merchant, approved, with its rules set, and ``terminals`` terminals to
    activate: (the merchant's id, the terminals' activation codes)."""
    from scanpay.host.services import merchants, risk
    from scanpay.host.services import terminals as terminal_service
    from scanpay.host.services.audit import LOCAL

    merchant = merchants.add_merchant(
        ctx, name="Chaos Mart", city="Shanghai", mcc="5411", license=USCC
    )
    merchant_id = merchant.merchant_id
    merchants.set_status(ctx, merchant_id, "approve")
    # Rules that would otherwise decide most outcomes of a fast, code-churning run
    # (velocity, lockout after failed codes, daily totals) are switched off for
    # this merchant; every other rule stays as shipped.
    for rule, window, lock in (
        ("velocity", 60, None),
        ("failed_codes", 300, 900),
        ("daily_amount", None, None),
        ("wallet_daily_amount", None, None),
    ):
        risk.set_limit(
            ctx,
            LOCAL,
            rule,
            10**12 if rule != "failed_codes" else 10**6,
            scope="merchant",
            key=merchant_id,
            action="approve",
            window_seconds=window,
            lock_seconds=lock,
        )
    issued = [terminal_service.add_terminal(ctx, merchant_id) for _ in range(terminals)]
    return merchant_id, issued


def open_customers(ctx: HostContext, terminals: int) -> tuple[list[list[Customer]], int]:
    """Each terminal's customers, with their wallets opened at the host: (the customers
    by terminal, what their wallets were loaded with in all)."""
    from scanpay.host.services import wallets

    books: list[list[Customer]] = [[] for _ in range(terminals)]
    opened = 0
    for i in range(terminals):
        for role, count, balance in _CUSTOMERS:
            for n in range(count):
                account = wallets.open_account(
                    ctx,
                    name=f"{role.value} {i}-{n}",
                    currency="CNY",
                    balance=balance,
                    pin=CUSTOMER_PIN,
                    pin_above=0 if role is Role.PIN else 10**12,
                )
                secret = bytes.fromhex(account.secret_hex)
                books[i].append(Customer(account.info.account, secret, role, balance, CUSTOMER_PIN))
                opened += balance
    return books, opened
