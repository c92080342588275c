"""Helpers for the WeChat Pay adapter's tests: the simulator's merchants as channels.

A *variant* is how a channel reaches WeChat Pay: ``v3-<verification>-<form>`` (API v3,
verified in ``public_key`` or ``certificate`` mode, ``direct`` or ``partner`` form) or
``v2-<sign type>-<form>``. :func:`make_shop` makes the merchant (and the sub-merchant
for a partner) at the simulator and the :class:`Channel` the adapter pays it through.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from scanpay.networks.port import Channel, ChannelMode, PayRequest, RefundRequest
from scanpay.networks.wechat import Timeouts, WeChatPayNetwork, WeChatSettings
from scanpay.sim.wechat.clock import beijing_day
from sim.kit import Merchant, RunningSim

__all__ = [
    "ALL",
    "SOME",
    "Shop",
    "adapter",
    "make_shop",
    "pay_request",
    "refund_request",
    "today",
    "trade_no",
]

ALL = [
    "v3-public_key-direct",
    "v3-certificate-direct",
    "v3-public_key-partner",
    "v3-certificate-partner",
    "v2-MD5-direct",
    "v2-HMAC-SHA256-direct",
    "v2-MD5-partner",
    "v2-HMAC-SHA256-partner",
]
# One of each API and form, for the slower cases.
SOME = ["v3-public_key-direct", "v3-certificate-partner", "v2-MD5-direct", "v2-HMAC-SHA256-partner"]

PATIENT = 120.0  # seconds: the machine is busy; no call in these tests may time out unless meant


def adapter(url: str, pay: float = PATIENT, notify_url: str | None = None) -> WeChatPayNetwork:
    timeouts = Timeouts(
        pay=pay, query=PATIENT, reverse=PATIENT, refund=PATIENT, statement=PATIENT, connect=30
    )
    return WeChatPayNetwork(WeChatSettings(gateway=url, timeouts=timeouts, notify_url=notify_url))


@dataclass
class Shop:
    """A merchant at the simulator and the channel that pays it."""

    channel: Channel
    top: Merchant  # who signs: the direct merchant or the service provider
    mchid: str  # whose balance a payment moves (the sub-merchant for a partner)
    variant: str

    @property
    def api(self) -> str:
        return self.variant.split("-")[0]


def v3_secrets(merchant: Merchant, mode: str) -> dict[str, str]:
    data = merchant.data
    secrets = {
        "private_key": data["client_private_key"],
        "cert_serial": data["client_serial"],
        "api_v3_key": data["api_v3_key"],
    }
    if mode == "public_key":
        secrets["wechatpay_public_key"] = data["platform"]["public_key"]
        secrets["wechatpay_public_key_id"] = data["platform"]["public_key_id"]
    return secrets


def make_shop(sim: RunningSim, variant: str, *, v3_keys: bool = True) -> Shop:
    """The merchant of ``variant`` at the simulator and its channel. A v2 channel gets
    the v3 secrets too unless ``v3_keys`` is false (statements need them)."""
    api, rest = variant.split("-", 1)
    how, form = rest.rsplit("-", 1)
    mode = how if api == "v3" else "public_key"
    top = sim.merchant(kind="partner" if form == "partner" else "direct", mode=mode)
    secrets: dict[str, str] = {"api": api}
    if api == "v3" or v3_keys:
        secrets.update(v3_secrets(top, mode))
    if api == "v2":
        secrets.update(api_key=top.v2_key, sign_type=how)
    if form == "partner":
        sub = sim.admin("POST", f"/sim/merchants/{top.mchid}/sub-merchants", json={})
        channel = Channel(
            "wechat_pay",
            ChannelMode.SERVICE_PROVIDER,
            top.appid,
            top.mchid,
            sub_mch_id=sub["mchid"],
            secrets=secrets,
        )
        return Shop(channel, top, sub["mchid"], variant)
    channel = Channel("wechat_pay", ChannelMode.DIRECT, top.appid, top.mchid, secrets=secrets)
    return Shop(channel, top, top.mchid, variant)


def trade_no() -> str:
    return "T" + uuid.uuid4().hex[:24]


def pay_request(shop: Shop | Channel, code: str, amount: int, no: str | None = None) -> PayRequest:
    return PayRequest(
        channel=shop if isinstance(shop, Channel) else shop.channel,
        trade_no=no or trade_no(),
        auth_code=code,
        amount=amount,
        currency="CNY",
        description="Lily's shop - tea",
        device_ip="127.0.0.1",
        store_id="S1",
    )


def refund_request(
    shop: Shop, no: str, refund_no: str, amount: int, total: int, reason: str | None = None
) -> RefundRequest:
    return RefundRequest(shop.channel, no, refund_no, amount, total, "CNY", reason)


def today(sim: RunningSim) -> date:
    """The simulator's Beijing day (its bills are by Beijing day)."""
    return beijing_day(sim.clock.now())
