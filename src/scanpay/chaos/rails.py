"""What differs between the run's payment networks: WeChat Pay and Alipay, at their simulators.

A chaos run pays a share of its sales through each network it was asked for (one
:class:`~scanpay.chaos.network.ChaosNetwork` per network); the parts that differ are a
:class:`Rail` here: how its simulator is started and reached, how the run's merchant is
made there and its channel named, what a fault proxy asks of it for an upstream error,
which outcome each kind of code carries, and how its own books are read into the facts'
common words (an order's state in WeChat Pay's: an Alipay trade closed by a cancel that
gave the money back is REVOKED, one paid and refunded since is REFUND...).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

import httpx

from scanpay.chaos.customers import NETWORK_OUTCOMES, NetworkCodeKind
from scanpay.chaos.facts import NetworkOrder, NetworkRefund, NetworkStatementLine

__all__ = [
    "ALIPAY",
    "RAILS",
    "WECHAT_PAY",
    "Merchant",
    "NetworkSide",
    "Rail",
    "order_state",
    "rail",
]


@dataclass
class NetworkSide:
    """A network's own books of the run's merchant, as its simulator's admin shows them,
    and its statement of the run's days (read through the host's adapter)."""

    orders: list[NetworkOrder] = field(default_factory=list)
    refunds: list[NetworkRefund] = field(default_factory=list)
    statement: list[NetworkStatementLine] = field(default_factory=list)
    statement_problems: list[str] = field(default_factory=list)
    wallets: dict[str, int] = field(default_factory=dict)
    merchant_balance: int = 0
    books: dict[str, int] = field(default_factory=dict)
    balanced: bool = False


@dataclass(frozen=True, slots=True)
class Merchant:
    """The run's merchant at a network: its channel's ids and secrets at the host."""

    app_id: str
    mch_id: str
    secrets: dict[str, str]


class Rail:
    """One payment network's particulars (subclassed per network)."""

    name: ClassVar[str]
    """The host's name for it (``wechat_pay``, ``alipay``)."""
    label: ClassVar[str]
    sim: ClassVar[str]
    """``scanpay sim <this>``."""
    health_path: ClassVar[str]
    code_prefix: ClassVar[str]
    """How the report names its codes' kinds (``wx_valid``, ``ali_valid``...)."""
    error_header: ClassVar[tuple[str, str]]
    """What a request the proxy gives UPSTREAM_ERROR asks of the simulator."""
    outcomes: ClassVar[dict[NetworkCodeKind, str | None]]

    def sim_command(self, port: int, data: str) -> list[str]:
        """``scanpay sim ...`` on ``port`` with its state in ``data``."""
        return [
            sys.executable,
            "-c",
            "from scanpay.cli import main; main()",
            "sim",
            self.sim,
            "--port",
            str(port),
            "--data",
            data,
            "--code-ttl",
            "300",
        ]

    def gateway(self, url: str) -> str:
        """The adapter's ``gateway`` option for a simulator (or a proxy to it) at ``url``."""
        return url

    def open_merchant(self, admin: httpx.Client) -> Merchant:
        raise NotImplementedError

    def read(
        self, admin: httpx.Client, merchant: Merchant, wallet_ids: Sequence[int]
    ) -> NetworkSide:
        """The network's orders and refunds of ``merchant``, the wallets, its books."""
        raise NotImplementedError

    def publish(self, admin: httpx.Client, merchant: Merchant, days: Sequence[date]) -> None:
        """Make each of ``days``' statements available (where the network waits to)."""

    def _wallets(self, admin: httpx.Client, wallet_ids: Sequence[int]) -> dict[str, int]:
        return {str(w): int(_json(admin.get(f"/sim/wallets/{w}"))["balance"]) for w in wallet_ids}


class _WeChatPay(Rail):
    name: ClassVar[str] = "wechat_pay"
    label: ClassVar[str] = "WeChat Pay"
    sim: ClassVar[str] = "wechat"
    health_path: ClassVar[str] = "/sim/platform"
    code_prefix: ClassVar[str] = "wx_"
    error_header: ClassVar[tuple[str, str]] = ("Wechatpay-Negative-Test", "SYSTEMERROR")
    outcomes: ClassVar[dict[NetworkCodeKind, str | None]] = dict(NETWORK_OUTCOMES)

    def open_merchant(self, admin: httpx.Client) -> Merchant:
        made = _json(admin.post("/sim/merchants", json={"kind": "direct", "mode": "public_key"}))
        secrets = {
            "api": "v3",
            "private_key": made["client_private_key"],
            "cert_serial": made["client_serial"],
            "api_v3_key": made["api_v3_key"],
            "wechatpay_public_key": made["platform"]["public_key"],
            "wechatpay_public_key_id": made["platform"]["public_key_id"],
        }
        return Merchant(str(made["appid"]), str(made["mchid"]), secrets)

    def read(
        self, admin: httpx.Client, merchant: Merchant, wallet_ids: Sequence[int]
    ) -> NetworkSide:
        out = NetworkSide()
        for order in _json(admin.get("/sim/orders", params={"mchid": merchant.mch_id})):
            trade_no = str(order["out_trade_no"])
            out.orders.append(
                NetworkOrder(
                    trade_no,
                    str(order["state"]),
                    int(order["total"]),
                    int(order.get("refunded") or 0),
                    str(order.get("wallet_id")),
                )
            )
            if order.get("refunded"):
                # Only an order's own view lists its refunds (a reverse's among them).
                seen = _json(admin.get(f"/sim/orders/{order['transaction_id']}"))
                out.refunds.extend(
                    NetworkRefund(
                        trade_no,
                        str(r["out_refund_no"]),
                        int(r["amount"]),
                        str(r["status"]),
                        r.get("kind") == "reverse",
                    )
                    for r in seen["refunds"]
                )
        out.wallets = self._wallets(admin, wallet_ids)
        out.merchant_balance = int(_json(admin.get(f"/sim/merchants/{merchant.mch_id}"))["balance"])
        books = _json(admin.get("/sim/accounts"))
        out.books = {k: int(books[k]) for k in ("funded", "wallets", "merchants")}
        out.balanced = bool(books["balanced"])
        return out


class _Alipay(Rail):
    name: ClassVar[str] = "alipay"
    label: ClassVar[str] = "Alipay"
    sim: ClassVar[str] = "alipay"
    health_path: ClassVar[str] = "/sim/network"
    code_prefix: ClassVar[str] = "ali_"
    error_header: ClassVar[tuple[str, str]] = ("Alipay-Sim-Outcome", "SYSTEM_ERROR")
    # The simulator takes WeChat Pay's names for its own; a refund answered PROCESSING
    # it has not (Alipay answers a refund at once): a plain code there.
    outcomes: ClassVar[dict[NetworkCodeKind, str | None]] = {
        **NETWORK_OUTCOMES,
        NetworkCodeKind.REFUND_PROCESSING: None,
    }

    def gateway(self, url: str) -> str:
        return url + "/gateway.do"

    def open_merchant(self, admin: httpx.Client) -> Merchant:
        made = _json(admin.post("/sim/apps", json={"mode": "public_key"}))
        secrets = {
            "app_private_key": made["app_private_key"],
            "alipay_public_key": made["alipay_public_key"],
        }
        return Merchant(str(made["app_id"]), str(made["pid"]), secrets)

    def read(
        self, admin: httpx.Client, merchant: Merchant, wallet_ids: Sequence[int]
    ) -> NetworkSide:
        out = NetworkSide()
        for trade in _json(admin.get("/sim/trades", params={"app_id": merchant.app_id})):
            trade_no = str(trade["out_trade_no"])
            out.orders.append(
                NetworkOrder(
                    trade_no,
                    order_state(trade),
                    int(trade["total"]),
                    int(trade.get("refunded") or 0),
                    str(trade.get("wallet_id")),
                )
            )
            if trade.get("refunded"):
                seen = _json(admin.get(f"/sim/trades/{trade['trade_no']}"))
                # A cancel's refund is numbered as its trade (Alipay's own rule).
                out.refunds.extend(
                    NetworkRefund(
                        trade_no,
                        str(r["out_request_no"]),
                        int(r["amount"]),
                        "SUCCESS",
                        str(r["out_request_no"]) == trade_no,
                    )
                    for r in seen["refunds"]
                )
        out.wallets = self._wallets(admin, wallet_ids)
        out.merchant_balance = int(_json(admin.get(f"/sim/apps/{merchant.app_id}"))["balance"])
        books = _json(admin.get("/sim/accounts"))
        out.books = {
            "funded": int(books["funded"]),
            "wallets": int(books["wallets"]),
            "merchants": int(books["apps"]),
        }
        out.balanced = bool(books["balanced"])
        return out

    def publish(self, admin: httpx.Client, merchant: Merchant, days: Sequence[date]) -> None:
        for day in days:
            _json(admin.post(f"/sim/apps/{merchant.app_id}/bills/{day.isoformat()}"))


def order_state(trade: dict[str, Any]) -> str:
    """An Alipay trade's state in WeChat Pay's words (what the invariants speak)."""
    status, refunded, total = str(trade["status"]), int(trade["refunded"] or 0), int(trade["total"])
    if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        return "REFUND" if refunded else "SUCCESS"
    if status == "WAIT_BUYER_PAY":
        return "USERPAYING"
    if status != "TRADE_CLOSED":
        return status
    if trade.get("cancel_action") == "refund":
        return "REVOKED"  # paid, then given back whole by a cancel
    if trade.get("paid_at") and refunded == total:
        return "REFUND"  # paid, then refunded in full (Alipay closes it)
    return "PAYERROR" if trade.get("decline") else "CLOSED"


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise httpx.HTTPStatusError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} "
            f"{response.text[:200]}",
            request=response.request,
            response=response,
        )
    return response.json()


WECHAT_PAY: Rail = _WeChatPay()
ALIPAY: Rail = _Alipay()
#: Every network a run may pay through, by the host's name for it.
RAILS: dict[str, Rail] = {r.name: r for r in (WECHAT_PAY, ALIPAY)}


def rail(name: str) -> Rail:
    """The rail of the network ``name`` (KeyError for one the chaos run does not drive)."""
    return RAILS[name]
