"""Money is conserved: whatever happens (pays, declines, passwords, refunds, reverses,
either API), every fen funded sits in a wallet or with a merchant, and each balance is
what the orders say it is."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

from wechatpayv3 import WeChatPayType

from sim.kit import RunningSim, v2_call

OUTCOMES = [None, None, None, "USERPAYING_SUCCESS", "USERPAYING_FAIL", "NOTENOUGH", "SYSTEMERROR"]


def _check(sim: RunningSim, wallets: list[int]) -> None:
    sim.books_balance()
    orders = sim.admin("GET", "/sim/orders")
    spent: dict[int, int] = defaultdict(int)
    earned: dict[str, int] = defaultdict(int)
    for order in orders:
        if order["success_time"] is not None:  # paid once, maybe given back since
            kept = order["total"] - order["refunded"]
            spent[order["wallet_id"]] += kept
            earned[order["mchid"]] += kept
        else:
            assert order["refunded"] == 0
    for wallet in wallets:
        info = sim.admin("GET", f"/sim/wallets/{wallet}")
        assert info["balance"] == info["funded"] - spent[wallet] >= 0
    for merchant in sim.admin("GET", "/sim/merchants"):
        assert merchant["balance"] == earned[merchant["mchid"]]


def test_money_is_conserved(sim: RunningSim) -> None:
    rng = random.Random(16)
    shops = [sim.merchant(), sim.merchant(mode="certificate")]
    clients = [sim.client(shop) for shop in shops]
    wallets = [
        int(
            sim.wallet(
                rng.randrange(0, 20_000),
                password_above=rng.choice([None, 3_000]),
                password_seconds=rng.choice([None, 5]),
            )["wallet_id"]
        )
        for _ in range(4)
    ]
    paid: list[tuple[int, str, int]] = []  # (shop index, out_trade_no, total)
    for step in range(120):
        action = rng.choice(["v3", "v3", "v2", "refund", "reverse", "time", "page", "top-up"])
        shop_index = rng.randrange(2)
        shop, client = shops[shop_index], clients[shop_index]
        wallet = rng.choice(wallets)
        if action in ("v3", "v2"):
            no, total = "M" + uuid.uuid4().hex[:16], rng.randrange(1, 6_000)
            code = sim.code(wallet, rng.choice(OUTCOMES))
            if action == "v3":
                status, _ = client.pay(
                    description="goods",
                    out_trade_no=no,
                    amount={"total": total},
                    payer={"auth_code": code},
                    scene_info={"device_id": "POS-1"},
                    pay_type=WeChatPayType.CODEPAY,
                )
                assert status in (200, 202, 403, 500)  # paid, password, declined, system error
            else:
                reply = v2_call(
                    sim,
                    "/pay/micropay",
                    shop,
                    {
                        "body": "goods",
                        "out_trade_no": no,
                        "total_fee": str(total),
                        "spbill_create_ip": "127.0.0.1",
                        "auth_code": code,
                    },
                    sign_type=rng.choice(["MD5", "HMAC-SHA256"]),
                )
                assert reply["return_code"] == "SUCCESS"
            paid.append((shop_index, no, total))
        elif action == "refund" and paid:
            index, no, total = rng.choice(paid)
            clients[index].refund(
                out_refund_no=f"R{step}",
                out_trade_no=no,
                amount={"refund": rng.randrange(1, total + 1), "total": total, "currency": "CNY"},
            )
        elif action == "reverse" and paid:
            index, no, _ = rng.choice(paid)
            clients[index].codepay_reverse(out_trade_no=no)
        elif action == "time":
            sim.clock.advance(rng.choice([1, 4, 6, 30]))
        elif action == "page":
            waiting = [o for o in sim.admin("GET", "/sim/orders") if o["state"] == "USERPAYING"]
            if waiting:
                order = rng.choice(waiting)
                action = rng.choice(["confirm", "cancel"])
                sim.http.post(f"{sim.url}/sim/pay/{order['transaction_id']}/{action}")
        elif action == "top-up":
            sim.admin(
                "POST", f"/sim/wallets/{wallet}/top-up", json={"amount": rng.randrange(1, 5_000)}
            )
        _check(sim, wallets)
    orders = sim.admin("GET", "/sim/orders")
    states = {o["state"] for o in orders}
    # The run went through the paths that move money and those that do not.
    assert {"SUCCESS", "REFUND", "REVOKED", "PAYERROR", "CLOSED"} <= states, states
    assert any(o["refunded"] for o in orders if o["state"] == "REFUND")
