"""Customers' wallets: made with a balance and a password limit, found, topped up, shown.

A wallet's row is the network's own dataclass (its customer ids differ: WeChat's
openid, Alipay's user_id and logon_id); ``customer_ids`` gives those ids when one is
made. Amounts are fen; topping up is new money from outside, so it counts as funded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from scanpay.i18n import Text
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.store import SimStore

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["create_wallet", "find_wallet", "top_up", "wallet_json"]

W = TypeVar("W")


def create_wallet(
    store: SimStore[W, Any],
    now: datetime,
    balance: int,
    customer_ids: Mapping[str, str],
    *,
    name: str | None = None,
    password_above: int | None = None,
    password_seconds: float | None = None,
) -> W:
    """A new wallet holding ``balance`` (funded), asking for the password above
    ``password_above`` (None: never), confirmed by itself after ``password_seconds``
    (None: only on the password page)."""
    if balance < 0 or (password_above is not None and password_above < 0):
        raise SimError("sim_bad_amount", Text("金额不能为负", "amounts are never negative"))
    if password_seconds is not None and not 0 <= password_seconds <= 86400:
        raise SimError(
            "sim_bad_seconds", Text("秒数应在 0 到 86400 之间", "seconds are 0 to 86400")
        )
    with store.transaction():
        return store.add_wallet(
            **customer_ids,
            name=name or "Demo customer",
            balance=balance,
            funded=balance,
            password_above=password_above,
            password_seconds=password_seconds,
            created_at=now,
        )


def find_wallet(store: SimStore[W, Any], wallet_id: int) -> W:
    """The wallet, or a 404 :class:`SimError`."""
    wallet = store.wallet(wallet_id)
    if wallet is None:
        raise SimError(
            "sim_unknown_wallet", Text(f"没有钱包 {wallet_id}", f"no wallet {wallet_id}"), 404
        )
    return wallet


def top_up(store: SimStore[W, Any], wallet_id: int, amount: int) -> W:
    """``amount`` (positive) of new money put into the wallet."""
    if amount <= 0:
        raise SimError("sim_bad_amount", Text("充值金额应为正数", "a top-up is positive"))
    find_wallet(store, wallet_id)
    with store.transaction():
        store.move_wallet(wallet_id, amount, funding=True)
    return find_wallet(store, wallet_id)


def wallet_json(wallet: DataclassInstance) -> dict[str, Any]:
    """A wallet as the admin shows it: ``wallet_id``, then its columns but the creation time."""
    shown = {f.name: getattr(wallet, f.name) for f in fields(wallet)}
    shown.pop("created_at", None)
    return {"wallet_id": shown.pop("id"), **shown}
