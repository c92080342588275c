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
from scanpay.sim.alipay.store import App, Trade
from scanpay.sim.common.crypto import random_digits
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.keys import certificate_pem, new_key, private_pem, public_pem
from scanpay.sim.common.views import row_json

__all__ = [
    "MODES",
    "NewApp",
    "app_json",
    "create_app_account",
    "customer_ids",
    "find_app",
    "network_json",
    "set_app",
    "trade_json",
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


def customer_ids() -> dict[str, str]:
    """A new customer's ids, as a wallet row keeps them: Alipay's user_id and logon_id."""
    return {"user_id": "2088" + random_digits(12), "logon_id": "1" + random_digits(10)}


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
    return row_json(app, "app_id pid name mode app_cert_sn fee_bp wrong_key balance")


def trade_json(trade: Trade) -> dict[str, Any]:
    """A trade as the network's own books show it."""
    return row_json(
        trade,
        "trade_no app_id out_trade_no wallet_id subject total refunded fee "
        "status decline outcome cancel_action created_at paid_at closed_at",
    )
