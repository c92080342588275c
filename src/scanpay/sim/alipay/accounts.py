"""Setting the network up: apps (merchants, with their keys), wallets, top-ups.

An app that brings no public key gets a key pair made here: the simulator keeps the
public half and hands the private key back once. In certificate mode the app's public
key is put in an app certificate issued by the simulator's root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from scanpay.i18n import Text
from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.keys import cert_sn, issue_app_cert, read_public_key
from scanpay.sim.alipay.store import App, Trade, Wallet
from scanpay.sim.wechat.accounts import SimError
from scanpay.sim.wechat.clock import rfc3339
from scanpay.sim.wechat.crypto import random_digits
from scanpay.sim.wechat.keys import certificate_pem, new_key, private_pem, public_pem

__all__ = [
    "MODES",
    "NewApp",
    "SimError",
    "app_json",
    "create_app_account",
    "create_wallet",
    "find_app",
    "find_wallet",
    "network_json",
    "set_app",
    "top_up",
    "trade_json",
    "wallet_json",
]

MODES = ("public_key", "cert")


@dataclass(frozen=True)
class NewApp:
    app: App
    app_private_key: str | None  # made here: handed back once, never kept
    app_cert: str | None  # certificate mode


def _bad_mode() -> SimError:
    return SimError(
        "sim_bad_mode",
        Text("mode 应为 public_key 或 cert", "mode is public_key or cert"),
        field="mode",
    )


def create_app_account(
    sim: Sim,
    *,
    app_id: str | None = None,
    name: str | None = None,
    mode: str = "public_key",
    app_public_key: str | None = None,
    fee_bp: int | None = None,
) -> NewApp:
    if mode not in MODES:
        raise _bad_mode()
    if app_id is not None and sim.store.app(app_id) is not None:
        raise SimError(
            "sim_app_exists",
            Text(f"应用 {app_id} 已存在", f"app {app_id} exists"),
            409,
            field="app_id",
        )
    if fee_bp is not None and not 0 <= fee_bp <= 10_000:
        raise SimError(
            "sim_bad_fee",
            Text("费率应在 0 到 10000 基点之间", "fee_bp is 0 to 10000"),
            field="fee_bp",
        )
    now = sim.network.clock.now()
    private_key = None
    public_key: RSAPublicKey
    if app_public_key:
        try:
            public_key = read_public_key(app_public_key)
        except ValueError as exc:
            raise SimError(
                "sim_bad_key",
                Text(f"应用公钥无效：{exc}", f"bad app public key: {exc}"),
                field="app_public_key",
            ) from None
    else:
        key = new_key()
        private_key, public_key = private_pem(key), key.public_key()
    while app_id is None:
        candidate = "2021" + random_digits(12)
        if sim.store.app(candidate) is None:
            app_id = candidate
    certificate = issue_app_cert(sim.keys, public_key, app_id, now)
    app = App(
        app_id=app_id,
        pid="2088" + random_digits(12),
        name=name or "Demo shop",
        mode=mode,
        app_public_key=public_pem(public_key),
        app_cert_sn=cert_sn(certificate),
        fee_bp=sim.settings.fee_bp if fee_bp is None else fee_bp,
        wrong_key=False,
        balance=0,
        created_at=now,
    )
    sim.store.add_app(app)
    return NewApp(app, private_key, certificate_pem(certificate))


def find_app(sim: Sim, app_id: str) -> App:
    app = sim.store.app(app_id)
    if app is None:
        raise SimError("sim_unknown_app", Text(f"没有应用 {app_id}", f"no app {app_id}"), 404)
    return app


def set_app(
    sim: Sim,
    app_id: str,
    *,
    mode: str | None = None,
    wrong_key: bool | None = None,
    fee_bp: int | None = None,
) -> App:
    find_app(sim, app_id)
    changes: dict[str, Any] = {}
    if mode is not None:
        if mode not in MODES:
            raise _bad_mode()
        changes["mode"] = mode
    if wrong_key is not None:
        changes["wrong_key"] = wrong_key
    if fee_bp is not None:
        changes["fee_bp"] = fee_bp
    sim.store.update_app(app_id, **changes)
    return find_app(sim, app_id)


def create_wallet(
    sim: Sim,
    balance: int,
    *,
    name: str | None = None,
    password_above: int | None = None,
    password_seconds: float | None = None,
) -> Wallet:
    if balance < 0 or (password_above is not None and password_above < 0):
        raise SimError("sim_bad_amount", Text("金额不能为负", "amounts are never negative"))
    with sim.store.transaction():
        return sim.store.add_wallet(
            user_id="2088" + random_digits(12),
            logon_id="1" + random_digits(10),
            name=name or "Demo customer",
            balance=balance,
            funded=balance,
            password_above=password_above,
            password_seconds=password_seconds,
            created_at=sim.network.clock.now(),
        )


def find_wallet(sim: Sim, wallet_id: int) -> Wallet:
    wallet = sim.store.wallet(wallet_id)
    if wallet is None:
        raise SimError(
            "sim_unknown_wallet", Text(f"没有钱包 {wallet_id}", f"no wallet {wallet_id}"), 404
        )
    return wallet


def top_up(sim: Sim, wallet_id: int, amount: int) -> Wallet:
    if amount <= 0:
        raise SimError("sim_bad_amount", Text("充值金额应为正数", "a top-up is positive"))
    find_wallet(sim, wallet_id)
    with sim.store.transaction():
        sim.store.move_wallet(wallet_id, amount, funding=True)
    return find_wallet(sim, wallet_id)


def network_json(sim: Sim) -> dict[str, Any]:
    """What a client needs of the network: its public key, certificate, root chain and SNs."""
    keys = sim.keys
    return {
        "alipay_public_key": keys.public_key_pem,
        "alipay_cert": keys.alipay_cert_pem,
        "alipay_root_cert": keys.root_chain_pem,
        "alipay_cert_sn": keys.alipay_cert_sn,
        "alipay_root_cert_sn": keys.root_cert_sn,
    }


def app_json(app: App) -> dict[str, Any]:
    return {
        "app_id": app.app_id,
        "pid": app.pid,
        "name": app.name,
        "mode": app.mode,
        "app_cert_sn": app.app_cert_sn,
        "fee_bp": app.fee_bp,
        "wrong_key": app.wrong_key,
        "balance": app.balance,
    }


def wallet_json(wallet: Wallet) -> dict[str, Any]:
    return {
        "wallet_id": wallet.id,
        "user_id": wallet.user_id,
        "logon_id": wallet.logon_id,
        "name": wallet.name,
        "balance": wallet.balance,
        "funded": wallet.funded,
        "password_above": wallet.password_above,
        "password_seconds": wallet.password_seconds,
    }


def trade_json(trade: Trade) -> dict[str, Any]:
    """A trade as the network's own books show it."""
    return {
        "trade_no": trade.trade_no,
        "app_id": trade.app_id,
        "out_trade_no": trade.out_trade_no,
        "wallet_id": trade.wallet_id,
        "subject": trade.subject,
        "total": trade.total,
        "refunded": trade.refunded,
        "fee": trade.fee,
        "status": trade.status,
        "decline": trade.decline,
        "outcome": trade.outcome,
        "cancel_action": trade.cancel_action,
        "created_at": rfc3339(trade.created_at),
        "paid_at": rfc3339(trade.paid_at) if trade.paid_at else None,
        "closed_at": rfc3339(trade.closed_at) if trade.closed_at else None,
    }
