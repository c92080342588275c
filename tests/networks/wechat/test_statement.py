"""The day's statement through the adapter (the trade bill, API v3 for every channel),
line for line the simulator's own books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from networks.wechat.kit import ALL, Shop, make_shop, pay_request, refund_request
from scanpay.networks import NetworkError, Outcome, StatementKind
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim

DAY = datetime(2031, 5, 1, 4, 0, tzinfo=UTC)  # noon in Beijing, whose day a bill is
Line = tuple[str, str, str, int, str | None]


def _books(sim: RunningSim, shop: Shop) -> set[Line]:
    """The network's own record of the shop's payments and refunds."""
    lines: set[Line] = set()
    for order in sim.admin("GET", "/sim/orders", params={"mchid": shop.mchid}):
        if order["success_time"] is None:
            continue
        no, tid = order["out_trade_no"], order["transaction_id"]
        lines.add((no, tid, "payment", order["total"], None))
        for refund in sim.admin("GET", f"/sim/orders/{tid}")["refunds"]:
            lines.add((no, tid, "refund", refund["amount"], refund["out_refund_no"]))
    return lines


@pytest.mark.parametrize("variant", ALL)
def test_the_statement_matches_the_networks_books(
    sim: RunningSim, network: WeChatPayNetwork, variant: str
) -> None:
    sim.clock.set(DAY)
    shop = make_shop(sim, variant)
    wallet = int(sim.wallet(100_000)["wallet_id"])
    paid = [pay_request(shop, sim.code(wallet), amount) for amount in (100, 250, 1_000)]
    for request in paid:
        assert network.pay(request).outcome is Outcome.APPROVED
    waiting = pay_request(shop, sim.code(wallet, "USERPAYING_NEVER"), 7)
    assert network.pay(waiting).outcome is Outcome.USER_PAYING
    assert network.pay(pay_request(shop, sim.code(wallet, "NOTENOUGH"), 7)).outcome is (
        Outcome.DECLINED
    )
    refund = refund_request(shop, paid[1].trade_no, "RB" + paid[1].trade_no, 50, 250)
    network.refund(refund)
    assert network.reverse(shop.channel, paid[2].trade_no).done

    statement = network.statement(shop.channel, DAY.date())
    assert statement.ready and statement.day == DAY.date()
    got = {
        (x.trade_no, x.transaction_id, x.kind.value, x.amount, x.refund_no) for x in statement.lines
    }
    books = _books(sim, shop)
    assert got == books and len(got) == 5  # 3 payments, a refund, a reverse's refund
    for line in statement.lines:
        assert line.currency == "CNY" and line.time.utcoffset() == timedelta(hours=8)
        assert line.status == ("SUCCESS" if line.kind is StatementKind.PAYMENT else "REFUND")
        assert line.time.astimezone(UTC).date() == DAY.date()

    # A day without trades: the network has no bill, and says so.
    empty = network.statement(shop.channel, (DAY - timedelta(days=1)).date())
    assert empty.ready and not empty.lines and empty.network_code == "NO_STATEMENT_EXIST"


def test_a_v2_channel_needs_its_v3_keys_for_statements(
    sim: RunningSim, network: WeChatPayNetwork
) -> None:
    shop = make_shop(sim, "v2-MD5-direct", v3_keys=False)
    with pytest.raises(NetworkError) as err:
        network.statement(shop.channel, DAY.date())
    assert (err.value.code, err.value.field) == ("channel_secret_missing", "private_key")
