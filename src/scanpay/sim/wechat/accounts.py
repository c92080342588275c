"""Setting the network up: merchants (with their keys), sub-merchants, wallets.

Used by the admin endpoints and by the demo made on first start. A merchant that
brings no API client certificate gets one made here; the simulator keeps only its
public key and serial, and hands the private key back once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanpay.i18n import Text
from scanpay.sim.common.crypto import nonce, random_digits
from scanpay.sim.common.errors import SimError
from scanpay.sim.common.views import row_json
from scanpay.sim.wechat.context import Sim
from scanpay.sim.wechat.crypto import random_key
from scanpay.sim.wechat.keys import new_client_identity, read_client_key
from scanpay.sim.wechat.store import Merchant, Order

__all__ = [
    "MODES",
    "NewMerchant",
    "create_merchant",
    "create_sub_merchant",
    "customer_ids",
    "find_merchant",
    "merchant_json",
    "order_json",
    "platform_json",
    "set_merchant",
]

MODES = ("certificate", "public_key")


def _unknown_merchant(mchid: str) -> SimError:
    return SimError(
        "sim_unknown_merchant", Text(f"没有商户号 {mchid}", f"no merchant {mchid}"), 404
    )


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    client_private_key: str | None  # made here: handed back once, never kept
    client_certificate: str | None


def _fresh_mchid(sim: Sim, head: str) -> str:
    while True:
        mchid = head + random_digits(8)
        if sim.store.merchant(mchid) is None:
            return mchid


def create_merchant(
    sim: Sim,
    *,
    kind: str = "direct",
    mchid: str | None = None,
    appid: str | None = None,
    name: str | None = None,
    mode: str = "public_key",
    client_certificate: str | None = None,
    client_public_key: str | None = None,
    client_serial: str | None = None,
    v2_key: str | None = None,
    v3_key: str | None = None,
) -> NewMerchant:
    if kind not in ("direct", "partner"):
        raise SimError(
            "sim_bad_kind", Text("kind 应为 direct 或 partner", "kind is direct or partner")
        )
    if mode not in MODES:
        raise SimError(
            "sim_bad_mode",
            Text("mode 应为 certificate 或 public_key", "mode is certificate or public_key"),
        )
    if v3_key is not None and len(v3_key.encode()) != 32:
        raise SimError("sim_bad_key", Text("APIv3 密钥应为 32 字节", "the APIv3 key is 32 bytes"))
    if mchid is not None and sim.store.merchant(mchid) is not None:
        raise SimError(
            "sim_merchant_exists", Text(f"商户号 {mchid} 已存在", f"merchant {mchid} exists"), 409
        )
    now = sim.network.clock.now()
    mchid = mchid or _fresh_mchid(sim, "19")
    private_key = certificate = None
    if client_certificate or client_public_key:
        try:
            public_key, serial = read_client_key(
                client_certificate, client_public_key, client_serial
            )
        except ValueError as exc:
            raise SimError(
                "sim_bad_key", Text(f"客户端证书或公钥无效：{exc}", f"bad client key: {exc}")
            ) from None
    else:
        identity = new_client_identity(mchid, now)
        public_key, serial = identity.public_key_pem, identity.serial
        private_key, certificate = identity.private_key_pem, identity.certificate_pem
    merchant = Merchant(
        mchid=mchid,
        kind=kind,
        parent=None,
        appid=appid or "wx" + nonce(16).lower(),
        name=name or ("Demo service provider" if kind == "partner" else "Demo merchant"),
        mode=mode,
        wrong_key=False,
        v2_key=v2_key or random_key(),
        v3_key=v3_key or random_key(),
        client_serial=serial,
        client_public_key=public_key,
        balance=0,
        created_at=now,
    )
    sim.store.add_merchant(merchant)
    return NewMerchant(merchant, private_key, certificate)


def create_sub_merchant(
    sim: Sim,
    sp_mchid: str,
    *,
    sub_mchid: str | None = None,
    sub_appid: str | None = None,
    name: str | None = None,
) -> Merchant:
    sp = sim.store.merchant(sp_mchid)
    if sp is None:
        raise _unknown_merchant(sp_mchid)
    if sp.kind != "partner":
        raise SimError(
            "sim_not_partner", Text(f"{sp_mchid} 不是服务商", f"{sp_mchid} is no service provider")
        )
    if sub_mchid is not None and sim.store.merchant(sub_mchid) is not None:
        raise SimError(
            "sim_merchant_exists",
            Text(f"商户号 {sub_mchid} 已存在", f"merchant {sub_mchid} exists"),
            409,
        )
    sub = Merchant(
        mchid=sub_mchid or _fresh_mchid(sim, "16"),
        kind="sub",
        parent=sp.mchid,
        appid=sub_appid,
        name=name or "Demo sub-merchant",
        mode=None,
        wrong_key=False,
        v2_key=None,
        v3_key=None,
        client_serial=None,
        client_public_key=None,
        balance=0,
        created_at=sim.network.clock.now(),
    )
    sim.store.add_merchant(sub)
    return sub


def set_merchant(
    sim: Sim, mchid: str, *, mode: str | None = None, wrong_key: bool | None = None
) -> Merchant:
    merchant = sim.store.merchant(mchid)
    if merchant is None or merchant.kind == "sub":
        raise _unknown_merchant(mchid)
    changes: dict[str, Any] = {}
    if mode is not None:
        if mode not in MODES:
            raise SimError(
                "sim_bad_mode",
                Text("mode 应为 certificate 或 public_key", "mode is certificate or public_key"),
            )
        changes["mode"] = mode
    if wrong_key is not None:
        changes["wrong_key"] = int(wrong_key)
    if changes:
        sim.store.update_merchant(mchid, **changes)
    found = sim.store.merchant(mchid)
    assert found is not None
    return found


def find_merchant(sim: Sim, mchid: str) -> Merchant:
    merchant = sim.store.merchant(mchid)
    if merchant is None:
        raise _unknown_merchant(mchid)
    return merchant


def customer_ids() -> dict[str, str]:
    """A new customer's ids, as a wallet row keeps them: WeChat's openid."""
    return {"openid": "o" + nonce(27)}


def merchant_json(merchant: Merchant) -> dict[str, Any]:
    return row_json(merchant, "mchid kind parent appid name mode wrong_key client_serial balance")


def order_json(order: Order) -> dict[str, Any]:
    """An order as the network's own books show it (not an API's view)."""
    return row_json(
        order,
        "transaction_id mchid sp_mchid out_trade_no wallet_id total refunded "
        "currency description state state_desc err_code api outcome created_at "
        "success_time",
    )


def platform_json(sim: Sim) -> dict[str, Any]:
    keys = sim.keys
    return {
        "certificate_serial": keys.certificate_serial,
        "certificate": keys.certificate_pem,
        "public_key_id": keys.public_key_id,
        "public_key": keys.public_key_pem,
    }
