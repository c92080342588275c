"""Refunds of payments taken through WeChat Pay go back through WeChat Pay (issue 17):
terminal protocol -> host -> the WeChat Pay simulator, on SQLite and PostgreSQL.

Each test checks the three places money is written: the terminal's answers, the
host's refund, payment and ledger, and the simulator's own books (the customer's
wallet, the order's refunds there). The host's refund sweeper
(:func:`network_refunds.run_due`) is driven by hand after moving both clocks. The
adapter's ``notify_url`` is the host's own: WeChat Pay calls each refund back at its
merchant's URL, and a callback only makes the refund query due.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from host.kit import SignedClient, make_terminal, remember
from host.network_kit import Stack, sim_and_host, wechat_merchant
from scanpay.host.db.models import AuditLog, LedgerAccount, NetworkRefund, Payment, Refund
from scanpay.host.domain.ledger import Book
from scanpay.host.services import audit, ledger, network_legs, network_refunds
from scanpay.host.services.channels import channel_for
from scanpay.networks.port import Network, RefundAnswer, RefundRequest, RefundStatus
from scanpay.sim.common.keys import new_key
from scanpay.sim.wechat.callbacks import seal
from scanpay.sim.wechat.keys import load_or_create
from scanpay.sim.wechat.v3auth import reply_headers
from sim.kit import Merchant as SimMerchant

AMOUNT = 1_000


def _no() -> str:
    return "N" + uuid.uuid4().hex[:20]


@dataclass
class Shop:
    stack: Stack
    terminal: SignedClient
    wechat: SimMerchant
    wallet_id: int

    def paid(self, outcome: str | None = None, seconds: float | None = None) -> str:
        """A sale of AMOUNT paid with a WeChat code; its out_trade_no."""
        no = _no()
        code = remember(self.stack.sim.code(self.wallet_id, outcome, seconds))
        answer = self.terminal.pay(no, AMOUNT, code)
        assert answer.status_code == 200 and answer.json()["status"] == "SUCCESS", answer.text
        return no

    def refund(self, no: str, amount: int, refund_no: str | None = None) -> dict[str, Any]:
        body = {"out_refund_no": refund_no or _no(), "out_trade_no": no, "amount": amount}
        answer = self.terminal.request("POST", "/v1/refunds", body)
        data: dict[str, Any] = answer.json()
        data["http"] = answer.status_code
        return data

    def get_refund(self, refund_no: str) -> dict[str, Any]:
        answer = self.terminal.request("GET", f"/v1/refunds/{refund_no}")
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def payment(self, no: str) -> Payment:
        with self.stack.ctx.db.read() as session:
            found = session.scalar(select(Payment).where(Payment.out_trade_no == no))
            assert found is not None
            return found

    def refunds_at_network(self, no: str) -> list[dict[str, Any]]:
        """The order's refunds in the simulator's books (the reverse's included)."""
        orders = self.stack.sim.admin("GET", "/sim/orders", params={"mchid": self.wechat.mchid})
        [order] = [o for o in orders if o["out_trade_no"] == self.payment(no).public_id]
        found = self.stack.sim.admin("GET", f"/sim/orders/{order['transaction_id']}")
        refunds: list[dict[str, Any]] = found["refunds"]
        return refunds

    def wallet(self) -> int:
        return self.stack.sim.balance(self.wallet_id)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("network_refunds")
    with sim_and_host(folder, request.param, notify=True) as running:
        yield running


@pytest.fixture
def shop(stack: Stack) -> Iterator[Shop]:
    merchant_id, wechat = wechat_merchant(stack.ctx, stack.sim)
    wallet = stack.sim.wallet(100_000)
    yield Shop(stack, make_terminal(stack.host, merchant_id), wechat, wallet["wallet_id"])
    report = ledger.check(stack.ctx)
    assert report.ok, report.to_dict()
    assert audit.verify(stack.ctx).ok


def _network_owes(shop: Shop) -> int:
    code = ledger.network_code("wechat_pay", Book.REAL, "CNY")
    with shop.stack.ctx.db.read() as session:
        account = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
        return -account.balance if account is not None else 0


def _sweep(shop: Shop, seconds: float) -> int:
    shop.stack.advance(seconds)
    return network_refunds.run_due(shop.stack.ctx)


def test_a_refund_goes_back_through_wechat_pay_once(shop: Shop) -> None:
    no = shop.paid()
    paid = shop.wallet()
    owed = _network_owes(shop)
    takings = shop.stack.sim.merchant_balance(shop.wechat.mchid)
    refund_no = _no()
    answer = shop.refund(no, 400, refund_no)
    assert (answer["http"], answer["status"], answer["code"]) == (200, "SUCCESS", "00")
    assert shop.wallet() == paid + 400  # the customer has it back, at the network
    assert shop.stack.sim.merchant_balance(shop.wechat.mchid) == takings - 400
    assert [(r["out_refund_no"], r["amount"]) for r in shop.refunds_at_network(no)] == [
        (answer["refund_id"], 400)  # the network's refund number is the host refund's id
    ]
    assert _network_owes(shop) == owed - 400  # the network owes the host that much less
    payment = shop.payment(no)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", 400)

    again = shop.refund(no, 400, refund_no)  # the terminal's retry: the stored answer
    assert (again["status"], again["refund_id"]) == ("SUCCESS", answer["refund_id"])
    rest = shop.refund(no, 600)
    assert rest["status"] == "SUCCESS"
    too_much = shop.refund(no, 1)
    assert too_much["http"] >= 400 and too_much["code"] == "13"  # more than was paid
    assert shop.wallet() == paid + AMOUNT
    assert sorted(r["amount"] for r in shop.refunds_at_network(no)) == [400, 600]
    assert shop.payment(no).status == "REFUNDED"
    with shop.stack.ctx.db.read() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("refund.network_%"))
        ).all()
    assert actions.count("refund.network_success") >= 2


def test_a_refund_the_network_is_processing_is_finished_by_the_sweeper(shop: Shop) -> None:
    no = shop.paid("REFUND_PROCESSING")  # its first refund answers PROCESSING
    paid = shop.wallet()
    answer = shop.refund(no, 700)
    assert (answer["status"], answer["code"]) == ("PROCESSING", "09")
    assert "processing" in answer["message"]["en"]
    payment = shop.payment(no)
    assert (payment.status, payment.refunded_amount) == ("SUCCESS", 0)  # not yet
    # Held back: no second refund may take the same money meanwhile, nor a reverse.
    over = shop.refund(no, 301)
    assert over["code"] == "13", over
    reverse = shop.terminal.request("POST", f"/v1/payments/{no}/reverse")
    assert reverse.json()["code"] == "57", reverse.text
    assert _sweep(shop, 1) == 0  # not due yet

    assert _sweep(shop, 6) == 1  # the query finds it done
    done = shop.get_refund(answer["out_refund_no"])
    assert (done["status"], done["code"]) == ("SUCCESS", "00")
    assert shop.wallet() == paid + 700
    payment = shop.payment(no)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", 700)
    assert _sweep(shop, 600) == 0  # nothing left to do
    assert len(shop.refunds_at_network(no)) == 1


def test_a_lost_refund_reply_is_asked_again_never_refunded_twice(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    no = shop.paid()
    paid = shop.wallet()
    # The real adapter, but the reply to its first refund call is lost on the way back
    # (the network did refund): what a timeout looks like from the host.
    adapter = type(shop.stack.ctx.network("wechat_pay"))
    real = adapter.refund
    lost: list[str] = []

    def losing_a_reply(self: Network, request: RefundRequest) -> RefundAnswer:
        answer = real(self, request)  # type: ignore[arg-type]
        if not lost:
            lost.append(request.refund_no)
            return RefundAnswer(RefundStatus.UNKNOWN, request.refund_no)
        return answer

    monkeypatch.setattr(adapter, "refund", losing_a_reply)
    answer = shop.refund(no, AMOUNT)
    assert answer["status"] == "PROCESSING"  # no word from the network: never a failure
    assert shop.wallet() == paid + AMOUNT  # though it did refund
    assert _sweep(shop, 6) == 1  # the same refund again: the network answers the one it has
    assert shop.get_refund(answer["out_refund_no"])["status"] == "SUCCESS"
    assert shop.wallet() == paid + AMOUNT  # once
    assert len(shop.refunds_at_network(no)) == 1
    assert shop.payment(no).status == "REFUNDED"
    assert lost == [answer["refund_id"]]


def test_a_host_that_died_before_the_refund_call_leaves_it_to_the_sweeper(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    no = shop.paid()
    paid = shop.wallet()
    monkeypatch.setattr(network_refunds, "drive", lambda *args, **kwargs: None)  # the crash
    answer = shop.refund(no, 250)
    monkeypatch.undo()
    assert answer["status"] == "PROCESSING"
    assert shop.refunds_at_network(no) == []  # the call never went out
    assert _sweep(shop, 1) == 0  # its caller's lease still holds
    assert _sweep(shop, network_legs.LEASE.total_seconds() + 1) == 1
    assert shop.get_refund(answer["out_refund_no"])["status"] == "SUCCESS"
    assert shop.wallet() == paid + 250
    with shop.stack.ctx.db.read() as session:
        record = session.scalar(
            select(NetworkRefund)
            .join(Refund, Refund.id == NetworkRefund.refund_id)
            .where(Refund.out_refund_no == answer["out_refund_no"])
        )
        assert record is not None
        assert (record.status, record.call, record.next_at, record.tries) == (
            "SUCCESS",
            None,
            None,
            2,
        )


def test_a_refund_the_network_refuses_frees_its_amount(shop: Shop) -> None:
    no = shop.paid()
    # The customer's money went back by a reverse at the network behind the host's back:
    # the network then refuses any refund of the order.
    public_id = shop.payment(no).public_id
    channel = channel_for(shop.stack.ctx, shop.payment(no).merchant_id, "wechat_pay")
    assert channel is not None
    assert shop.stack.ctx.network("wechat_pay").reverse(channel, public_id).done
    answer = shop.refund(no, 500)
    assert (answer["status"], answer["code"]) == ("FAILED", "57"), answer
    assert "refused" in answer["message"]["en"] and "拒绝" in answer["message"]["zh-CN"]
    payment = shop.payment(no)
    assert (payment.status, payment.refunded_amount) == ("SUCCESS", 0)
    with shop.stack.ctx.db.read() as session:
        assert network_refunds.pending_amount(session, payment.id) == 0


def _record(shop: Shop, refund_id: str) -> NetworkRefund:
    with shop.stack.ctx.db.read() as session:
        record = session.scalar(
            select(NetworkRefund)
            .join(Refund, Refund.id == NetworkRefund.refund_id)
            .where(Refund.public_id == refund_id)
        )
        assert record is not None
        return record


def _callbacks(shop: Shop) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = shop.stack.sim.admin(
        "GET", "/sim/callbacks", params={"mchid": shop.wechat.mchid}
    )
    return found


def _post(shop: Shop, key: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    url = f"{shop.stack.host.url}/networks/wechat_pay/notify/{key}"
    return httpx.post(url, content=body, headers=headers, timeout=30)


def _callback(shop: Shop, wechat: SimMerchant, no: str, refund_id: str) -> bytes:
    """A REFUND.SUCCESS callback of ``wechat``'s, as WeChat seals one, about the refund
    ``refund_id`` of the sale ``no`` of ``shop``."""
    resource = {
        "mchid": wechat.mchid,
        "out_trade_no": shop.payment(no).public_id,
        "transaction_id": "4200000000000000000000000001",
        "out_refund_no": refund_id,
        "refund_id": "50300000000000000000000000001",
        "refund_status": "SUCCESS",
        "amount": {"total": AMOUNT, "refund": 700, "payer_total": AMOUNT, "payer_refund": 700},
        "user_received_account": "支付用户零钱",
    }
    now = datetime.now(UTC)
    return seal(wechat.data["api_v3_key"], "REFUND.SUCCESS", resource, now).encode()


def _signed(shop: Shop, body: bytes, key: Any = None) -> dict[str, str]:
    """``body`` signed as WeChat Pay signs for the shop's merchant (``key``: another)."""
    sim = shop.stack.sim
    keys, _ = load_or_create(sim.folder / "sim" / "keys", datetime.now(UTC))
    return reply_headers(keys, sim.store.merchant(shop.wechat.mchid), body, wrong_key=key)


def test_wechats_callback_makes_the_host_ask_about_a_processing_refund_at_once(
    shop: Shop,
) -> None:
    no = shop.paid("REFUND_PROCESSING", seconds=1)  # done at the network 1 s after
    paid = shop.wallet()
    answer = shop.refund(no, 700)
    assert (answer["status"], answer["code"]) == ("PROCESSING", "09")
    scheduled = _record(shop, answer["refund_id"]).next_at
    assert scheduled is not None and scheduled > shop.stack.host.clock.now()
    assert network_refunds.run_due(shop.stack.ctx) == 0  # its query is not due yet

    # Only the network's clock moves: the refund is done there, and WeChat calls back.
    shop.stack.sim.clock.advance(1)
    deadline = time.monotonic() + 60  # the simulator calls back on its own
    while not ((sent := _callbacks(shop)) and sent[0]["delivered_at"]):
        assert time.monotonic() < deadline, "the host was never called back"
        time.sleep(0.05)
    [callback] = sent
    assert callback["attempts"] == 1 and callback["out_refund_no"] == answer["refund_id"]
    assert callback["url"].endswith(f"/networks/wechat_pay/notify/{shop.wechat.mchid}")
    assert _record(shop, answer["refund_id"]).next_at == shop.stack.host.clock.now()
    assert network_refunds.run_due(shop.stack.ctx) == 1  # the query finds it done
    done = shop.get_refund(answer["out_refund_no"])
    assert (done["status"], done["code"]) == ("SUCCESS", "00")
    assert shop.wallet() == paid + 700
    payment = shop.payment(no)
    assert (payment.status, payment.refunded_amount) == ("PARTIALLY_REFUNDED", 700)

    # The same callback again (WeChat resends): taken, and nothing changes.
    again = _post(shop, shop.wechat.mchid, callback["body"].encode(), callback["headers"])
    assert again.status_code == 200 and again.json() == {"code": "SUCCESS"}
    assert _record(shop, answer["refund_id"]).next_at is None
    assert network_refunds.run_due(shop.stack.ctx) == 0
    assert shop.get_refund(answer["out_refund_no"])["status"] == "SUCCESS"
    assert shop.wallet() == paid + 700
    shop.stack.host.clock.advance(1)  # the two clocks together again


def test_forged_tampered_and_other_merchants_callbacks_change_nothing(shop: Shop) -> None:
    stack = shop.stack
    no = shop.paid("REFUND_PROCESSING")  # processing until its query
    paid = shop.wallet()
    answer = shop.refund(no, 700)
    assert answer["status"] == "PROCESSING"
    refund_id = answer["refund_id"]
    scheduled = _record(shop, refund_id).next_at
    _, other = wechat_merchant(stack.ctx, stack.sim)  # another shop of the host

    genuine = _callback(shop, shop.wechat, no, refund_id)
    data = json.loads(genuine)
    data["resource"]["associated_data"] = "transaction"
    other_aad = json.dumps(data, ensure_ascii=False).encode()
    tampered = genuine.replace(b'"ciphertext":"', b'"ciphertext":"AAAA')
    assert tampered != genuine
    theirs = _callback(shop, other, no, refund_id)  # sealed with the other's key
    refused = [
        (shop.wechat.mchid, genuine, _signed(shop, genuine, new_key())),  # forged
        (shop.wechat.mchid, tampered, _signed(shop, genuine)),  # changed after signing
        (shop.wechat.mchid, tampered, _signed(shop, tampered)),  # re-signed: won't open
        (shop.wechat.mchid, other_aad, _signed(shop, other_aad)),  # its AAD changed
        (other.mchid, genuine, _signed(shop, genuine)),  # under another merchant's URL
        (other.mchid, theirs, _signed(shop, theirs)),  # theirs, naming our sale
        ("1900000999", genuine, _signed(shop, genuine)),  # no such merchant
    ]
    for key, body, headers in refused:
        response = _post(shop, key, body, headers)
        assert response.status_code == 400, (key, response.text)
        assert response.json()["code"] == "FAIL"
    assert _post(shop, shop.wechat.mchid, genuine, {}).status_code == 400  # unsigned
    assert _record(shop, refund_id).next_at == scheduled
    assert network_refunds.run_due(stack.ctx) == 0
    assert shop.get_refund(answer["out_refund_no"])["status"] == "PROCESSING"

    # Signed by WeChat Pay and sealed with this merchant's key: taken, as a hint only.
    taken = _post(shop, shop.wechat.mchid, genuine, _signed(shop, genuine))
    assert taken.status_code == 200, taken.text
    assert network_refunds.run_due(stack.ctx) == 1  # asked at once; the query decides
    assert shop.get_refund(answer["out_refund_no"])["status"] == "SUCCESS"
    assert shop.wallet() == paid + 700
