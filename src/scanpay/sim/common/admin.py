"""The admin routes every simulator has: its wallets and the outcomes a test may choose,
and the pieces the others share (a day in a path, a chosen outcome, a payment
confirmed or cancelled at the password step, the books, a notification's delivery).

Under the simulator's ``/sim`` router (loopback only): ``POST /wallets`` (balance,
name, password limit), ``GET /wallets``, ``GET /wallets/{id}``,
``POST /wallets/{id}/top-up``, and ``GET /outcomes``. Amounts are fen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field

from scanpay.i18n import Text
from scanpay.sim.common.clock import Clock, rfc3339
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.store import SimStore
from scanpay.sim.common.wallets import create_wallet, find_wallet, top_up, wallet_json

__all__ = [
    "Delivered",
    "Settling",
    "TopUpIn",
    "WalletIn",
    "add_accounts_route",
    "add_decision_routes",
    "add_outcome_route",
    "add_wallet_routes",
    "chosen_outcome",
    "code_issued",
    "delivery_json",
    "parse_day",
]

E = TypeVar("E", bound=Enum)
T = TypeVar("T")


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


def parse_day(text: str) -> date:
    """A day in a path (``yyyy-MM-dd``); ``sim_bad_day`` otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SimError(
            "sim_bad_day", Text("日期格式应为 yyyy-MM-dd", "a day is yyyy-MM-dd"), field="day"
        ) from None


def chosen_outcome(
    choose: Callable[[str, float | None, str | None], T],
    outcome: str,
    seconds: float | None,
    detail: str | None,
) -> T:
    """What ``choose(outcome, seconds, detail)`` makes of a requested outcome (``detail``:
    the network's own code to answer with); its ``ValueError`` is ``sim_bad_outcome``
    on the field ``outcome``."""
    try:
        return choose(outcome, seconds, detail)
    except ValueError as exc:
        raise SimError(
            "sim_bad_outcome", Text(f"结果无效：{exc}", f"bad outcome: {exc}"), field="outcome"
        ) from None


class _CodeBody(Protocol):
    @property
    def outcome(self) -> str | None: ...

    @property
    def seconds(self) -> float | None: ...


class _Chosen(Protocol):
    @property
    def outcome(self) -> Enum: ...


Ch = TypeVar("Ch", bound=_Chosen)


def code_issued(
    store: SimStore[Any, Any],
    wallet_id: int,
    body: _CodeBody | None,
    choose: Callable[[str, float | None, str | None], Ch],
    issue_code: Callable[[int, Ch | None], tuple[str, datetime]],
    detail: str,
) -> dict[str, Any]:
    """``POST /wallets/{id}/codes``'s answer: a code issued to the wallet, with the outcome
    ``body`` chose, if any, and its decline code (``detail``: the name of that field in
    the body and in what ``choose`` makes, e.g. Alipay's ``sub_code``)."""
    find_wallet(store, wallet_id)
    chosen = None
    if body is not None and body.outcome:
        chosen = chosen_outcome(choose, body.outcome, body.seconds, getattr(body, detail))
    code, expires = issue_code(wallet_id, chosen)
    return {
        "wallet_id": wallet_id,
        "auth_code": code,
        "expires_at": rfc3339(expires),
        "outcome": chosen.outcome.value if chosen else None,
        detail: getattr(chosen, detail) if chosen else None,
    }


def add_decision_routes(
    router: APIRouter,
    path: str,
    decide: Callable[[str, bool], T | None],
    to_json: Callable[[T], dict[str, Any]],
    unknown: Callable[[str], SimError],
) -> None:
    """``POST {path}/confirm`` and ``POST {path}/cancel`` (``path`` ends in ``{key}``): the
    customer's answer at the password step, ``decide(key, confirm)``; ``unknown(key)``
    when it finds nothing."""

    def decided(key: str, confirm: bool) -> dict[str, Any]:
        found = decide(key, confirm)
        if found is None:
            raise unknown(key)
        return to_json(found)

    @router.post(path + "/confirm")
    def confirm(key: str) -> dict[str, Any]:
        return decided(key, True)

    @router.post(path + "/cancel")
    def cancel(key: str) -> dict[str, Any]:
        return decided(key, False)


def add_accounts_route(
    router: APIRouter, network: Settling, totals: Callable[[], tuple[int, int, int]], held: str
) -> None:
    """``GET /accounts``: the money funded, held in wallets and held by the merchants
    (named ``held``), and whether they balance."""

    @router.get("/accounts")
    def accounts() -> dict[str, Any]:
        network.settle_all()
        funded, wallets_held, merchants_held = totals()
        return {
            "funded": funded,
            "wallets": wallets_held,
            held: merchants_held,
            "balanced": funded == wallets_held + merchants_held,
        }


class Delivered(Protocol):
    """A notification as its delivery stands."""

    @property
    def attempts(self) -> int: ...

    @property
    def next_at(self) -> datetime | None: ...

    @property
    def delivered_at(self) -> datetime | None: ...

    @property
    def last_error(self) -> str | None: ...


def delivery_json(n: Delivered) -> dict[str, Any]:
    """How a notification's delivery stands, as the admin routes show it."""
    return {
        "attempts": n.attempts,
        "next_at": rfc3339(n.next_at) if n.next_at else None,
        "delivered_at": rfc3339(n.delivered_at) if n.delivered_at else None,
        "last_error": n.last_error,
    }
