"""Helpers for the WeChat Pay simulator's tests: the simulator served on a loopback port,
its admin called over HTTP, the real ``wechatpayv3`` client pointed at it, a small
API v2 caller (XML, MD5 or HMAC-SHA256) built on the simulator's own signing, and a
merchant's server that takes refund callbacks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from wechatpayv3 import WeChatPay, WeChatPayType

from scanpay.host.clock import ManualClock
from scanpay.sim.common.crypto import nonce
from scanpay.sim.wechat import SimSettings, create_app
from scanpay.sim.wechat.crypto import v2_sign
from scanpay.sim.wechat.store import Store
from sim.common_kit import RunningSimBase, serving
from support import app_in_thread, free_socket

__all__ = [
    "Merchant",
    "Receiver",
    "RunningSim",
    "free_socket",
    "receiving",
    "running_sim",
    "v2_call",
    "v3_call",
]


@dataclass
class Merchant:
    """What the admin handed back for a merchant: ids and the keys its client needs."""

    data: dict[str, Any]

    @property
    def mchid(self) -> str:
        return str(self.data["mchid"])

    @property
    def appid(self) -> str:
        return str(self.data["appid"])

    @property
    def v2_key(self) -> str:
        return str(self.data["api_v2_key"])


@dataclass
class RunningSim(RunningSimBase[Store]):
    def merchant(self, **body: Any) -> Merchant:
        return Merchant(self.admin("POST", "/sim/merchants", json=body))

    def merchant_balance(self, mchid: str) -> int:
        return int(self.admin("GET", f"/sim/merchants/{mchid}")["balance"])

    def client(self, merchant: Merchant, *, mode: str | None = None, **kwargs: Any) -> WeChatPay:
        """The real wechatpayv3 client for ``merchant``, pointed at the simulator by its
        gateway only (and, in public-key mode, given the simulator's public key and id).

        In certificate mode the client fetches ``/v3/certificates`` from its constructor,
        before the gateway can be set; it skips that when its ``cert_dir`` holds a valid
        certificate. The folder is seeded with the merchant's own client certificate,
        which no reply is signed with: the first reply's serial is unknown to the client,
        so it fetches the platform certificates from the simulator then, by its own code.
        """
        data = merchant.data
        mode = mode or data["mode"]
        extra: dict[str, Any] = {}
        if mode == "public_key":
            extra = {
                "public_key": data["platform"]["public_key"],
                "public_key_id": data["platform"]["public_key_id"],
            }
        else:
            folder = self.folder / f"certs-{merchant.mchid}-{nonce(6)}"
            folder.mkdir(parents=True)
            (folder / "seed.pem").write_text(data["client_certificate"])
            extra = {"cert_dir": str(folder)}
        client = WeChatPay(
            wechatpay_type=WeChatPayType.CODEPAY,
            mchid=merchant.mchid,
            private_key=data["client_private_key"],
            cert_serial_no=data["client_serial"],
            appid=merchant.appid,
            apiv3_key=data["api_v3_key"],
            partner_mode=data["kind"] == "partner",
            timeout=kwargs.pop("timeout", (10, 60)),
            **extra,
            **kwargs,
        )
        client._core._gate_way = self.url
        return client


@contextmanager
def running_sim(tmp_path: Path, code_ttl: float = 60.0) -> Iterator[RunningSim]:
    """The simulator on a free loopback port, with a clock the test moves."""
    clock = ManualClock()
    app = create_app(SimSettings(data_dir=tmp_path / "sim", code_ttl=code_ttl), clock)
    with serving(app, "the simulator") as (url, http):
        yield RunningSim(url, clock, app.state.sim.store, tmp_path, http)


def v2_call(
    sim: RunningSim,
    path: str,
    merchant: Merchant,
    params: dict[str, str],
    *,
    sign_type: str = "MD5",
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """POST an API v2 call signed with the merchant's v2 key; the reply as a dict, its
    signature checked when it has one."""
    body = {"appid": merchant.appid, "mch_id": merchant.mchid, "nonce_str": nonce(32), **params}
    if sign_type != "MD5":
        body["sign_type"] = sign_type
    body["sign"] = v2_sign(body, key or merchant.v2_key, sign_type)
    xml = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in body.items()) + "</xml>"
    response = sim.http.post(sim.url + path, content=xml.encode(), headers=headers or {})
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    reply = {child.tag: child.text or "" for child in root}
    if "sign" in reply:
        assert reply["sign"] == v2_sign(reply, merchant.v2_key, sign_type), "bad reply signature"
    return reply


def v3_call(
    client: WeChatPay,
    method: str,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    outcome: str | None = None,
    seconds: float | None = None,
) -> tuple[int, Any]:
    """A request through the real client's core (signed and, for 2xx, verified by it),
    with a test-chosen outcome header; the body parsed when it is JSON."""
    from wechatpayv3.type import RequestType

    headers: dict[str, str] = {}
    if outcome:
        headers["Wechatpay-Negative-Test"] = outcome
    if seconds is not None:
        headers["Wechatpay-Sim-Seconds"] = str(seconds)
    status, text = client._core.request(
        path, method=RequestType(method), data=data, headers=headers
    )
    if isinstance(text, str) and text:
        return status, json.loads(text)
    return status, text


@dataclass
class Receiver:
    """A merchant's server on loopback taking callbacks at ``url``/KEY: what it was
    sent, by KEY, and the statuses it answers first (then 200 ``{"code":"SUCCESS"}``)."""

    url: str = ""
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    async def take(self, request: Request) -> Response:
        self.got.append((request.path_params["key"], dict(request.headers), await request.body()))
        if self.answers:
            return Response(status_code=self.answers.pop(0))
        return JSONResponse({"code": "SUCCESS"})

    def of(self, key: str) -> list[tuple[dict[str, str], bytes]]:
        """The (headers, body) of each callback sent to KEY, in order."""
        return [(headers, body) for k, headers, body in self.got if k == key]


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A :class:`Receiver` served on a free loopback port."""
    made = Receiver()
    app = Starlette(routes=[Route("/notify/{key}", made.take, methods=["POST"])])
    with app_in_thread(app, "the receiver", lifespan="off") as url:
        made.url = url + "/notify"
        yield made
