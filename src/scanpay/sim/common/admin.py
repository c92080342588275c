"""The admin routes every simulator has: its wallets and the outcomes a test may choose.

Under the simulator's ``/sim`` router (loopback only): ``POST /wallets`` (balance,
name, password limit), ``GET /wallets``, ``GET /wallets/{id}``,
``POST /wallets/{id}/top-up``, and ``GET /outcomes``. Amounts are fen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field

from scanpay.i18n import Text
from scanpay.sim.common.clock import Clock
from scanpay.sim.common.store import SimStore
from scanpay.sim.common.wallets import create_wallet, find_wallet, top_up, wallet_json

__all__ = ["Settling", "TopUpIn", "WalletIn", "add_outcome_route", "add_wallet_routes"]

E = TypeVar("E", bound=Enum)


class WalletIn(BaseModel):
    balance: int = Field(0, ge=0)
    name: str | None = Field(None, max_length=64)
    password_above: int | None = Field(None, ge=0)
    password_seconds: float | None = Field(None, ge=0, le=86400)


class TopUpIn(BaseModel):
    amount: int = Field(..., gt=0)


class Settling(Protocol):
    """A network's rules as the wallet routes need them."""

    @property
    def clock(self) -> Clock: ...

    def settle_all(self) -> None:
        """Bring the payments due up to date (before balances are read)."""


def add_wallet_routes(
    router: APIRouter,
    store: SimStore[Any, Any],
    network: Settling,
    customer_ids: Callable[[], dict[str, str]],
) -> None:
    """The wallet routes on ``router``; a new wallet's customer gets ``customer_ids()``."""

    @router.post("/wallets")
    def new_wallet(body: WalletIn) -> dict[str, Any]:
        now = network.clock.now()
        return wallet_json(
            create_wallet(store, now, customer_ids=customer_ids(), **body.model_dump())
        )

    @router.get("/wallets")
    def wallets() -> list[dict[str, Any]]:
        network.settle_all()
        return [wallet_json(w) for w in store.wallets()]

    @router.get("/wallets/{wallet_id}")
    def wallet(wallet_id: int) -> dict[str, Any]:
        network.settle_all()
        return wallet_json(find_wallet(store, wallet_id))

    @router.post("/wallets/{wallet_id}/top-up")
    def wallet_top_up(wallet_id: int, body: TopUpIn) -> dict[str, Any]:
        return wallet_json(top_up(store, wallet_id, body.amount))


def add_outcome_route(router: APIRouter, outcomes: type[E], descriptions: Mapping[E, Text]) -> None:
    """``GET /outcomes`` on ``router``: each outcome's name and description, both languages."""

    @router.get("/outcomes")
    def outcome_list() -> list[dict[str, Any]]:
        return [{"name": o.value, "description": descriptions[o].as_dict()} for o in outcomes]
