"""Helpers for the UnionPay simulator's tests: the simulator served on a loopback port,
its admin over HTTP, a merchant's raw ACP caller signing with the adapter's
:mod:`scanpay.networks.unionpay.acp` (the published rule) and checking the replies
with it, the adapter itself pointed at the simulator, and a ``backUrl`` receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.host.clock import ManualClock
from scanpay.networks import Channel, ChannelMode
from scanpay.networks.unionpay import Timeouts, UnionPayNetwork, UnionPaySettings
from scanpay.networks.unionpay.acp import parse_reply, sign_fields, verify_fields
from scanpay.networks.unionpay.memory import txn_time_of
from scanpay.sim.unionpay import SimSettings, create_app
from scanpay.sim.unionpay.store import Store
from sim.common_kit import FormReceiver, RunningSimBase, form_receiver, serving

__all__ = [
    "BACK_PATH",
    "BACK_URL",
    "FILE_PATH",
    "QUERY_PATH",
    "Merchant",
    "Receiver",
    "RunningSim",
    "receiver",
    "running_sim",
]

BACK_PATH = "/gateway/api/backTransReq.do"
QUERY_PATH = "/gateway/api/queryTrans.do"
FILE_PATH = "/gateway/api/fileTransReq.do"
BACK_URL = "http://127.0.0.1:9/unionpay/back"  # loopback, nobody listening
PATIENT = 120.0


@dataclass
class Merchant:
    """What the admin handed back for a merchant: its merId, keys and the chain."""

    data: dict[str, Any]

    @property
    def mer_id(self) -> str:
        return str(self.data["mer_id"])

    @property
    def key(self) -> RSAPrivateKey:
        key = serialization.load_pem_private_key(self.data["sign_key"].encode(), None)
        assert isinstance(key, RSAPrivateKey)
        return key

    @property
    def cert_id(self) -> str:
        cert = x509.load_pem_x509_certificate(self.data["sign_cert"].encode())
        return str(cert.serial_number)

    @property
    def root(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.data["root_cert"].encode())

    @property
    def middle(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.data["middle_cert"].encode())

    @property
    def expected_cn(self) -> str:
        return str(self.data["expected_cn"])

    def channel(self) -> Channel:
        """The port's channel for this merchant (``mch_id`` = ``app_id`` = merId)."""
        secrets = {k: self.data[k] for k in ("sign_key", "sign_cert", "root_cert", "middle_cert")}
        return Channel("unionpay", ChannelMode.DIRECT, self.mer_id, self.mer_id, secrets=secrets)

    def verify(self, fields: dict[str, str]) -> None:
        """Raise unless the simulator signed ``fields`` (the adapter's rule)."""
        verify_fields(fields, root=self.root, middle=self.middle, expected_cn=self.expected_cn)


@dataclass
class RunningSim(RunningSimBase[Store]):
    def merchant(self, **body: Any) -> Merchant:
        return Merchant(self.admin("POST", "/sim/merchants", json=body))

    def merchant_balance(self, mer_id: str) -> int:
        return int(self.admin("GET", f"/sim/merchants/{mer_id}")["balance"])

    def orders(self, mer_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.admin("GET", f"/sim/orders?mer_id={mer_id}")
        return found

    def order(self, mer_id: str, order_id: str) -> dict[str, Any]:
        [found] = [o for o in self.orders(mer_id) if o["order_id"] == order_id]
        return found

    def call(
        self,
        merchant: Merchant,
        path: str,
        fields: dict[str, str],
        *,
        headers: dict[str, str] | None = None,
        key: RSAPrivateKey | None = None,
        tamper: dict[str, str] | None = None,
        verify: bool = True,
        timeout: float = 60,
    ) -> dict[str, str]:
        """POST ``fields`` (with ACP's common ones) signed by the merchant's key (or
        ``key``), ``tamper`` applied after signing; the reply's fields, checked to be
        the simulator's when ``verify``."""
        form = {
            "version": "5.1.0",
            "encoding": "UTF-8",
            "signMethod": "01",
            "bizType": "000000",
            "accessType": "0",
            "merId": merchant.mer_id,
            "certId": merchant.cert_id,
            **fields,
        }
        signed = sign_fields(form, key or merchant.key)
        signed.update(tamper or {})
        response = self.http.post(
            self.url + path, data=signed, headers=headers or {}, timeout=timeout
        )
        assert response.status_code == 200, response.text
        reply = parse_reply(response.text)
        if verify:
            merchant.verify(reply)
        return reply

    def consume(
        self, merchant: Merchant, order_id: str, qr_no: str, amount: int, **extra: Any
    ) -> dict[str, str]:
        fields = {
            "txnType": "01",
            "txnSubType": "06",
            "channelType": "08",
            "orderId": order_id,
            "txnTime": self.txn_time(),
            "txnAmt": str(amount),
            "currencyCode": "156",
            "backUrl": BACK_URL,
            "qrNo": qr_no,
        }
        headers = extra.pop("headers", None)
        fields.update(extra)
        return self.call(merchant, BACK_PATH, fields, headers=headers)

    def query(self, merchant: Merchant, order_id: str, txn_time: str) -> dict[str, str]:
        fields = {"txnType": "00", "txnSubType": "00", "orderId": order_id, "txnTime": txn_time}
        return self.call(merchant, QUERY_PATH, fields)

    def txn_time(self) -> str:
        return txn_time_of(self.clock.now())

    def adapter(self, back_url: str = BACK_URL, pay: float = PATIENT) -> UnionPayNetwork:
        """The UnionPay adapter pointed at the simulator, believing its chain's CN."""
        timeouts = Timeouts(
            pay=pay, query=PATIENT, reverse=PATIENT, refund=PATIENT, statement=PATIENT, connect=30
        )
        expected_cn = str(self.admin("GET", "/sim/network")["expected_cn"])
        settings = UnionPaySettings(
            gateway=self.url, back_url=back_url, timeouts=timeouts, expected_cn=expected_cn
        )
        return UnionPayNetwork(settings)


@contextmanager
def running_sim(folder: Path, code_ttl: float = 60.0) -> Iterator[RunningSim]:
    """The simulator on a free loopback port, with a clock the test moves."""
    clock = ManualClock()
    app = create_app(SimSettings(data_dir=folder / "sim", code_ttl=code_ttl), clock)
    with serving(app, "the UnionPay simulator") as (url, http):
        yield RunningSim(url, clock, app.state.sim.store, folder, http)


Receiver = FormReceiver


@contextmanager
def receiver(statuses: list[int]) -> Iterator[Receiver]:
    """A merchant's backUrl recording form posts and answering ``statuses`` in turn
    (the body ``ok``)."""
    with form_receiver([(status, "ok") for status in statuses], "/back") as made:
        yield made
