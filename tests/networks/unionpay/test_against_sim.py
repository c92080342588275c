"""The UnionPay adapter against the UnionPay simulator over loopback: the port's calls
end to end, each checked against the simulator's own books; what a fresh adapter (a
restarted process) finds with ``placed_at`` alone; and the ``backUrl`` notification
read through the port's ``Notifying``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from scanpay.networks import (
    Notifying,
    Outcome,
    PayRequest,
    RefundRequest,
    RefundStatus,
    ReverseOutcome,
    StatementKind,
    TradeState,
)
from scanpay.networks.port import Notice
from scanpay.networks.unionpay import UnionPayNetwork
from scanpay.networks.unionpay.acp import SIGN_CERT, sign_fields
from scanpay.sim.common.clock import BEIJING
from scanpay.sim.common.keys import new_key
from sim.unionpay.kit import Merchant, RunningSim, receiver, running_sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    with running_sim(tmp_path_factory.mktemp("unionpay")) as running:
        yield running
        running.books_balance()


@pytest.fixture
def shop(sim: RunningSim) -> Merchant:
    return sim.merchant()


@pytest.fixture
def adapter(sim: RunningSim) -> Iterator[UnionPayNetwork]:
    with sim.adapter() as made:
        yield made


def _no(prefix: str = "T") -> str:
    return prefix + uuid.uuid4().hex[:20]


def _pay(
    sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant, code: str, amount: int
) -> tuple[PayRequest, Outcome, str | None]:
    request = PayRequest(
        shop.channel(), _no(), code, amount, "CNY", "莉莉茶铺 tea", placed_at=sim.clock.now()
    )
    answer = adapter.pay(request)
    return request, answer.outcome, answer.network_code


def test_approved(sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    request, outcome, code = _pay(sim, adapter, shop, sim.code(wallet), 1_230)
    assert (outcome, code) == (Outcome.APPROVED, "00")
    found = adapter.query(shop.channel(), request.trade_no, request.placed_at)
    assert (found.state, found.amount) == (TradeState.PAID, 1_230)
    assert sim.balance(wallet) == 8_770 and sim.merchant_balance(shop.mer_id) == 1_230


def test_the_password_step_then_the_query(
    sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant
) -> None:
    wallet = sim.wallet(100_000, password_above=5_000)["wallet_id"]
    request, outcome, code = _pay(sim, adapter, shop, sim.code(wallet), 6_000)
    assert (outcome, code) == (Outcome.UNKNOWN, "00")  # accepted: the query decides
    waiting = adapter.query(shop.channel(), request.trade_no, request.placed_at)
    assert waiting.state is TradeState.USER_PAYING
    sim.admin("POST", f"/sim/orders/{waiting.transaction_id}/confirm")
    paid = adapter.query(shop.channel(), request.trade_no, request.placed_at)
    assert (paid.state, paid.amount) == (TradeState.PAID, 6_000)
    assert sim.balance(wallet) == 94_000


@pytest.mark.parametrize(
    ("outcome", "body", "network_code", "ours"),
    [("DECLINE", {"resp_code": "30"}, "30", "05"), ("NOTENOUGH", {}, "64", "51")],
)
def test_a_decline(
    sim: RunningSim,
    adapter: UnionPayNetwork,
    shop: Merchant,
    outcome: str,
    body: dict[str, str],
    network_code: str,
    ours: str,
) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    request = PayRequest(
        shop.channel(), _no(), sim.code(wallet, outcome, **body), 500, "CNY", "tea",
        placed_at=sim.clock.now(),
    )  # fmt: skip
    answer = adapter.pay(request)
    assert (answer.outcome, answer.network_code, answer.result_code) == (
        Outcome.DECLINED,
        network_code,
        ours,
    )
    found = adapter.query(shop.channel(), request.trade_no, request.placed_at)
    assert found.state is TradeState.PAY_ERROR and sim.balance(wallet) == 10_000


@pytest.mark.parametrize("fault", ["CHARGED_THEN_UNKNOWN", "CHARGED_NO_REPLY"])
def test_charged_then_unknown_is_found_by_a_fresh_adapter(
    sim: RunningSim, shop: Merchant, fault: str
) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    with sim.adapter(pay=2) as first:
        request, outcome, _ = _pay(sim, first, shop, sim.code(wallet, fault, seconds=30), 700)
        assert outcome is Outcome.UNKNOWN
    assert sim.balance(wallet) == 9_300  # charged all the same
    with sim.adapter() as restarted:  # remembers nothing: placed_at dates the order
        found = restarted.query(shop.channel(), request.trade_no, request.placed_at)
        assert (found.state, found.amount) == (TradeState.PAID, 700)
        done = restarted.reverse(shop.channel(), request.trade_no, request.placed_at)
        assert done.outcome is ReverseOutcome.DONE
    assert sim.balance(wallet) == 10_000


def test_a_cancel(sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    request, outcome, _ = _pay(sim, adapter, shop, sim.code(wallet), 900)
    assert outcome is Outcome.APPROVED
    done = adapter.reverse(shop.channel(), request.trade_no, request.placed_at)
    assert (done.outcome, done.network_code) == (ReverseOutcome.DONE, "00")
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mer_id) == 0
    # Cancelled again (the host's retry): the adapter's cancel orderId carries the
    # second, so one in the same second is a duplicate (12, UNKNOWN) and is made again.
    deadline = time.monotonic() + 60
    while True:
        again = adapter.reverse(shop.channel(), request.trade_no, request.placed_at)
        if again.outcome is not ReverseOutcome.UNKNOWN:
            break
        assert again.network_code == "12" and time.monotonic() < deadline
        time.sleep(0.2)
    assert (again.outcome, again.network_code) == (ReverseOutcome.DONE, "45")
    # A consume waiting for the password is closed by the cancel.
    waiting, _, _ = _pay(sim, adapter, shop, sim.code(wallet, "WAIT_PASSWORD_NEVER"), 300)
    closed = adapter.reverse(shop.channel(), waiting.trade_no, waiting.placed_at)
    assert closed.outcome is ReverseOutcome.DONE
    found = adapter.query(shop.channel(), waiting.trade_no, waiting.placed_at)
    assert found.state is TradeState.PAY_ERROR and sim.balance(wallet) == 10_000


def test_a_refund_and_its_query(sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    paid, _, _ = _pay(sim, adapter, shop, sim.code(wallet), 1_000)

    def refund(number: str, amount: int, on: UnionPayNetwork = adapter) -> RefundRequest:
        return RefundRequest(
            shop.channel(), paid.trade_no, number, amount, 1_000, "CNY",
            placed_at=placed, trade_placed_at=paid.placed_at,
        )  # fmt: skip

    placed = sim.clock.now()
    first = _no("R")
    answer = adapter.refund(refund(first, 400))
    assert (answer.status, answer.amount) == (RefundStatus.SUCCESS, 400)
    assert adapter.refund(refund(first, 400)).status is RefundStatus.SUCCESS  # 12, then asked
    assert sim.balance(wallet) == 9_400
    too_much = adapter.refund(refund(_no("R"), 601))
    assert (too_much.status, too_much.network_code) == (RefundStatus.FAILED, "30")
    with sim.adapter() as restarted:
        found = restarted.refund_query(shop.channel(), first, paid.trade_no, placed)
        assert (found.status, found.amount) == (RefundStatus.SUCCESS, 400)
        rest = restarted.refund(refund(_no("R"), 600))  # finds the consume's queryId by query
        assert rest.status is RefundStatus.SUCCESS
    assert sim.balance(wallet) == 10_000 and sim.merchant_balance(shop.mer_id) == 0


def test_the_statement(sim: RunningSim, adapter: UnionPayNetwork, shop: Merchant) -> None:
    wallet = sim.wallet(10_000)["wallet_id"]
    paid, _, _ = _pay(sim, adapter, shop, sim.code(wallet), 1_000)
    refund_no = _no("R")
    request = RefundRequest(
        shop.channel(), paid.trade_no, refund_no, 250, 1_000, "CNY",
        placed_at=sim.clock.now(), trade_placed_at=paid.placed_at,
    )  # fmt: skip
    assert adapter.refund(request).status is RefundStatus.SUCCESS
    day = sim.clock.now().astimezone(BEIJING).date()
    assert not adapter.statement(shop.channel(), day).ready  # out at 09:00 the next day
    sim.admin("POST", f"/sim/merchants/{shop.mer_id}/bills/{day.isoformat()}")
    statement = adapter.statement(shop.channel(), day)
    assert statement.ready
    lines = sorted((x.kind, x.trade_no, x.refund_no, x.amount) for x in statement.lines)
    assert lines == [
        (StatementKind.PAYMENT, paid.trade_no, None, 1_000),
        (StatementKind.REFUND, paid.trade_no, refund_no, 250),
    ]


# ---------------------------------------------------------------- notifications


def _wait(back: object, count: int) -> list[dict[str, str]]:
    deadline = time.monotonic() + 60
    while len(back.forms()) < count:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "never notified"
        time.sleep(0.05)
    forms: list[dict[str, str]] = back.forms()  # type: ignore[attr-defined]
    return forms


def test_the_notifications_through_the_port(sim: RunningSim, shop: Merchant) -> None:
    wallet = sim.wallet(100_000, password_above=5_000)["wallet_id"]
    with receiver([200]) as back, sim.adapter(back_url=back.url) as adapter:
        assert isinstance(adapter, Notifying)
        assert adapter.notice_reply.accepted == b"ok"
        request, outcome, _ = _pay(sim, adapter, shop, sim.code(wallet), 8_000)
        assert outcome is Outcome.UNKNOWN
        waiting = adapter.query(shop.channel(), request.trade_no, request.placed_at)
        sim.admin("POST", f"/sim/orders/{waiting.transaction_id}/confirm")
        [form] = _wait(back, 1)
        body = urlencode(form).encode()  # as it came over the wire
        assert adapter.notice_claim(body, {}) == request.trade_no
        assert adapter.notice(shop.channel(), body, {}) == Notice(request.trade_no)
        # Another merchant's channel, a tampered or a forged form: not believed.
        other = sim.merchant()
        assert adapter.notice(other.channel(), body, {}) is None
        tampered = urlencode({**form, "txnAmt": "1"}).encode()
        assert adapter.notice(shop.channel(), tampered, {}) is None
        forged = sign_fields({**form, SIGN_CERT: form[SIGN_CERT]}, new_key())
        assert adapter.notice(shop.channel(), urlencode(forged).encode(), {}) is None
        assert adapter.notice_claim(b"not a form", {}) is None
        # A refund's notification: the trade through the consume's queryId.
        refund_no = _no("R")
        refund = RefundRequest(
            shop.channel(), request.trade_no, refund_no, 100, 8_000, "CNY",
            placed_at=sim.clock.now(), trade_placed_at=request.placed_at,
        )  # fmt: skip
        assert adapter.refund(refund).status is RefundStatus.SUCCESS
        refund_form = _wait(back, 2)[1]
        refund_body = urlencode(refund_form).encode()
        assert adapter.notice_claim(refund_body, {}) == request.trade_no
        assert adapter.notice(shop.channel(), refund_body, {}) == Notice(
            request.trade_no, refund_no
        )
    with sim.adapter() as restarted:  # remembers no queryId: the refund's own number
        assert restarted.notice_claim(refund_body, {}) == refund_no
