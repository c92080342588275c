"""Helpers for the Alipay simulator's tests: the simulator served on a loopback port,
its admin over HTTP, python-alipay-sdk's real clients pointed at it, a raw gateway
caller (for test headers and hand-made requests), and a notification receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alipay import AliPay, DCAliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.host.clock import ManualClock
from scanpay.sim.alipay import SimSettings, create_app
from scanpay.sim.alipay.store import Store
from scanpay.sim.alipay.wire import signed_content
from scanpay.sim.common.crypto import rsa_sign
from sim.common_kit import FormReceiver, RunningSimBase, form_receiver, serving

__all__ = ["App", "Receiver", "RunningSim", "receiver", "running_sim"]


@dataclass
class App:
    """What the admin handed back for an app: its id and the keys its client needs."""

    data: dict[str, Any]

    @property
    def app_id(self) -> str:
        return str(self.data["app_id"])

    @property
    def private_key(self) -> RSAPrivateKey:
        key = serialization.load_pem_private_key(self.data["app_private_key"].encode(), None)
        assert isinstance(key, RSAPrivateKey)
        return key


@dataclass
class RunningSim(RunningSimBase[Store]):
    def app(self, **body: Any) -> App:
        return App(self.admin("POST", "/sim/apps", json=body))

    def app_balance(self, app_id: str) -> int:
        return int(self.admin("GET", f"/sim/apps/{app_id}")["balance"])

    def client(self, app: App, **kwargs: Any) -> AliPay:
        """python-alipay-sdk's ``AliPay`` (public-key mode), changed only in its gateway."""
        client = AliPay(
            appid=app.app_id,
            app_private_key_string=app.data["app_private_key"],
            alipay_public_key_string=app.data["alipay_public_key"],
            sign_type="RSA2",
            **kwargs,
        )
        client._gateway = self.url + "/gateway.do"
        return client

    def cert_client(self, app: App, **kwargs: Any) -> DCAliPay:
        """The SDK's certificate-mode client (``DCAliPay``), changed only in its gateway."""
        client = DCAliPay(
            appid=app.app_id,
            app_private_key_string=app.data["app_private_key"],
            app_public_key_cert_string=app.data["app_cert"],
            alipay_public_key_cert_string=app.data["alipay_cert"],
            alipay_root_cert_string=app.data["alipay_root_cert"],
            **kwargs,
        )
        client._gateway = self.url + "/gateway.do"
        return client

    def call(
        self,
        app: App,
        method: str,
        biz: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        key: RSAPrivateKey | None = None,
        tamper: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[str, dict[str, Any]]:
        """POST a form to the gateway, signed as Alipay documents with the app's key (or
        ``key``), ``tamper`` applied after signing; the raw reply and its response node."""
        params = {
            "app_id": app.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": "2024-06-01 10:00:00",
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **(extra or {}),
        }
        params["sign"] = rsa_sign(key or app.private_key, signed_content(params))
        params.update(tamper or {})
        response = self.http.post(
            self.url + "/gateway.do", data=params, headers=headers or {}, timeout=timeout
        )
        assert response.status_code == 200, response.text
        node = json.loads(response.text)[method.replace(".", "_") + "_response"]
        return response.text, node


@contextmanager
def running_sim(folder: Path, code_ttl: float = 60.0, fee_bp: int = 60) -> Iterator[RunningSim]:
    """The simulator on a free loopback port, with a clock the test moves."""
    clock = ManualClock()
    app = create_app(SimSettings(data_dir=folder / "sim", code_ttl=code_ttl, fee_bp=fee_bp), clock)
    with serving(app, "the Alipay simulator") as (url, http):
        yield RunningSim(url, clock, app.state.sim.store, folder, http)


Receiver = FormReceiver


@contextmanager
def receiver(answers: list[str]) -> Iterator[Receiver]:
    """A merchant's notify_url recording form posts and answering ``answers`` in turn."""
    with form_receiver([(200, a) for a in answers], "/notify", "text/plain") as made:
        yield made
