"""Money rules an outside attacker found broken (issue 13): limits per currency, and a
suspended merchant's standing at every step that moves money.

Limits: every amount limit is a row *in one currency*, in that currency's own minor
units (IDR 2 decimals, JPY none, KWD 3); the shipped defaults are worth about the
same in every currency the host ships them for (migration 0004), and a currency
with no limits at all is refused (57), never waved through against another
currency's numbers.

Standing: a suspended merchant is paid nothing, whichever door the money comes
through (a new payment, an open order's QR, a PIN confirmation), and its terminal
or portal cannot refund on its own; the acquirer still can, and a reversal (the
terminal's undo of a sale in doubt) still completes. A refused step changes
nothing: the order stays open, the customer's code is not used up, no posting.

Every test runs against the real host on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select, text
from typer.testing import CliRunner

from host.kit import (
    LICENCE,
    PIN,
    RunningHost,
    Wallet,
    World,
    cli_env,
    make_terminal,
    postgres_database,
    remember,
)
from scanpay.cli import app
from scanpay.host.db.engine import Database
from scanpay.host.db.migrate import upgrade
from scanpay.host.db.models import RiskLimit, parse_public_id
from scanpay.host.errors import HostError
from scanpay.host.services import audit, merchants, pin_waits, refunds, risk, wallets
from scanpay.protocol.models import RefundRequest
from security.attack_kit import assert_unchanged, snapshot

OFFICER = audit.Actor.operator("risk-officer")
MERCHANT_LIMIT = "Over the merchant's transaction limit"
WALLET_LIMIT = "Over the payer account's limit"


def _shop(
    host: RunningHost,
    currency: str,
    *,
    balance: int,
    mcc: str = "5411",
    pin_above: int | None = 10**12,
) -> World:
    """An approved merchant taking ``currency``, its activated terminal, and a wallet in
    the same currency (PIN asked only above ``pin_above``)."""
    info = merchants.add_merchant(
        host.ctx, name=f"Shop {currency}", city="Shanghai", mcc=mcc, license=LICENCE,
        currency=currency,
    )  # fmt: skip
    merchants.set_status(host.ctx, info.merchant_id, "approve")
    terminal = make_terminal(host, info.merchant_id)
    opened = wallets.open_account(
        host.ctx, name="Customer", currency=currency, balance=balance, pin=PIN,
        pin_above=pin_above,
    )  # fmt: skip
    wallet = Wallet(opened.info.account, remember(opened.secret_hex))
    return World(host, info.merchant_id, terminal, wallet)


def _number() -> str:
    return f"MR-{uuid.uuid4().hex[:12]}"


def _rules(world: World, payment_id: str) -> dict[str, str]:
    """What each risk rule said about a payment (its audit record)."""
    record = audit.history(world.ctx, subject=("payment", payment_id))[-1]
    return {r["rule"]: r["outcome"] for r in record.data["risk"] or []}


def _healthy(host: RunningHost) -> None:
    report = host.check_ledger()
    assert report.ok, report.to_dict()
    chain = audit.verify(host.ctx)
    assert chain.ok, chain.to_dict()


# ------------------------------------------------------------------ limits per currency


def test_an_idr_payment_of_a_few_dollars_is_not_over_the_limit(host: RunningHost) -> None:
    shop = _shop(host, "IDR", balance=20_000_000_000)  # Rp 200,000,000.00
    # Rp 50,000.01 (about 3 USD): the CNY default read as IDR cents refused it.
    small = shop.pay(_number(), 5_000_001, currency="IDR")
    assert (small["status"], small["code"]) == ("SUCCESS", "00"), small
    assert _rules(shop, small["payment_id"])["txn_amount"] == "approve"
    # The IDR default is Rp 100,000,000.00 (about 6,000 USD): one rupiah cent more is over.
    big = shop.pay(_number(), 10_000_000_001, currency="IDR")
    assert (big["code"], big["message"]["en"]) == ("57", MERCHANT_LIMIT)
    assert shop.balance() == 20_000_000_000 - 5_000_001
    _healthy(host)


def test_a_jpy_payment_of_nearly_five_million_yen_is_over_the_merchant_limit(
    host: RunningHost,
) -> None:
    shop = _shop(host, "JPY", balance=10_000_000)
    # ¥4,999,999 (about 34,000 USD) passed the merchant limit: 5,000,000 "fen" read as yen.
    big = shop.pay(_number(), 4_999_999, currency="JPY")
    assert (big["code"], big["message"]["en"]) == ("57", MERCHANT_LIMIT)
    assert _rules(shop, big["payment_id"])["txn_amount"] == "decline"
    # The same through an order QR the customer pays.
    order = shop.order(_number(), 4_999_999, currency="JPY")
    paid = shop.wallet_pay(order["payload"]).json()
    assert (paid["code"], paid["message"]["en"], paid["order_status"]) == (
        "57",
        MERCHANT_LIMIT,
        "CREATED",
    )
    # ¥300,000 (about 2,000 USD) is an ordinary payment.
    fine = shop.pay(_number(), 300_000, currency="JPY")
    assert fine["code"] == "00", fine
    assert shop.balance() == 10_000_000 - 300_000
    _healthy(host)


def test_kwd_limits_are_counted_in_fils(host: RunningHost) -> None:
    shop = _shop(host, "KWD", balance=10_000_000)  # 10,000.000 KWD
    assert shop.pay(_number(), 700_000, currency="KWD")["code"] == "00"  # 700.000 KWD
    # 1,500.000 KWD (about 4,900 USD) from one account: over the payer's 800.000 KWD.
    over = shop.pay(_number(), 1_500_000, currency="KWD")
    assert (over["code"], over["message"]["en"]) == ("57", WALLET_LIMIT)
    # 2,000.001 KWD: over the merchant's 2,000.000 KWD as well.
    top = shop.pay(_number(), 2_000_001, currency="KWD")
    assert (top["code"], top["message"]["en"]) == ("57", MERCHANT_LIMIT)
    assert _rules(shop, top["payment_id"])["txn_amount"] == "decline"
    assert shop.balance() == 10_000_000 - 700_000
    _healthy(host)


def test_a_new_wallets_pin_amount_is_in_its_own_currency(host: RunningHost) -> None:
    """The PIN amount defaulted to 1000 major units of any currency (1000.000 KWD, about
    3,300 USD); now one risk unit in the currency's own minor units."""
    expected = {"CNY": 100_000, "JPY": 20_000, "KWD": 40_000, "IDR": 200_000_000}
    for currency, pin_above in expected.items():
        opened = wallets.open_account(
            host.ctx, name="Customer", currency=currency, balance=0, pin=PIN
        )
        remember(opened.secret_hex)
        assert (currency, opened.info.pin_above) == (currency, pin_above)


def test_a_currency_without_limits_is_refused_until_the_operator_sets_them(
    host: RunningHost,
) -> None:
    shop = _shop(host, "ZAR", balance=1_000_000)  # the host ships no ZAR limits
    refused = shop.pay(_number(), 1_000, currency="ZAR")
    assert (refused["status"], refused["code"]) == ("FAILED", "57")
    assert refused["message"]["en"].startswith("No risk limits are set for this currency")
    outcomes = _rules(shop, refused["payment_id"])
    assert outcomes["txn_amount"] == outcomes["wallet_txn_amount"] == "decline"
    # The operator sets them (here for this merchant and this wallet only): it pays.
    for rule, value in (("txn_amount", 500_000), ("daily_amount", 5_000_000)):
        risk.set_limit(
            host.ctx, OFFICER, rule, value, scope="merchant", key=shop.merchant_id,
            currency="ZAR",
        )  # fmt: skip
    for rule, value in (("wallet_txn_amount", 200_000), ("wallet_daily_amount", 500_000)):
        # A wallet's own limit takes the wallet's currency when none is given.
        made = risk.set_limit(host.ctx, OFFICER, rule, value, scope="wallet",
                              key=shop.wallet.account)  # fmt: skip
        assert made.limit.currency == "ZAR"
    assert shop.pay(_number(), 1_000, currency="ZAR")["code"] == "00"
    over = shop.pay(_number(), 200_001, currency="ZAR")
    assert (over["code"], over["message"]["en"]) == ("57", WALLET_LIMIT)
    assert shop.balance() == 1_000_000 - 1_000
    _healthy(host)


def test_a_limit_in_one_currency_never_applies_to_another(host: RunningHost) -> None:
    cny = _shop(host, "CNY", balance=5_000_000, mcc="5812")  # a restaurant
    jpy = _shop(host, "JPY", balance=5_000_000, mcc="5812")
    # The restaurant class: 10,000.00 CNY and ¥200,000, each in its own currency.
    assert cny.pay(_number(), 1_000_001)["message"]["en"] == MERCHANT_LIMIT
    assert cny.pay(_number(), 1_000_000)["code"] == "00"
    assert jpy.pay(_number(), 200_001, currency="JPY")["message"]["en"] == MERCHANT_LIMIT
    # A yen limit for the JPY shop's terminal changes nothing at the CNY shop.
    risk.set_limit(
        host.ctx, OFFICER, "txn_amount", 1_000, scope="terminal",
        key=jpy.terminal.terminal_id, currency="JPY",
    )  # fmt: skip
    assert jpy.pay(_number(), 1_001, currency="JPY")["message"]["en"] == MERCHANT_LIMIT
    assert jpy.pay(_number(), 1_000, currency="JPY")["code"] == "00"
    assert cny.pay(_number(), 5_000)["code"] == "00"
    # Limits that cannot be right are refused, and change nothing.
    before = snapshot(host)
    refusals = [
        # An amount limit for everyone needs its currency.
        dict(rule="txn_amount", value=1, currency=None),
        dict(rule="txn_amount", value=1, currency="XXY"),
        dict(rule="txn_amount", value=1, currency="jpy"),
        # The JPY shop takes yen: a CNY limit for it could never apply.
        dict(rule="txn_amount", value=1, scope="merchant", key=jpy.merchant_id, currency="CNY"),
        # A count has no currency.
        dict(rule="velocity", value=3, currency="CNY", window_seconds=60),
    ]
    for bad in refusals:
        with pytest.raises(HostError) as refused:
            risk.set_limit(host.ctx, OFFICER, **bad)  # type: ignore[arg-type]
        assert (refused.value.code, refused.value.field) in {("13", "currency"), ("30", "currency")}
        assert refused.value.text.zh_cn and refused.value.text.en
    with pytest.raises(HostError) as missing:
        risk.unset_limit(host.ctx, OFFICER, "txn_amount", "default", "", currency="ZWG")
    assert missing.value.code == "25"
    assert_unchanged(host, before)
    assert cny.balance() == 5_000_000 - 1_000_000 - 5_000
    _healthy(host)


def test_the_operators_cli_sets_and_lists_limits_in_their_currency(host: RunningHost) -> None:
    shop = _shop(host, "JPY", balance=1_000_000)
    url = host.ctx.settings.database_url
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, ["host", *args, "--json"], env=cli_env(url))
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    made = cli("limits", "set", "txn_amount", "5000", "--currency", "JPY", "--scope",
               "merchant", "--key", shop.merchant_id)  # fmt: skip
    assert (made["value"], made["currency"], made["shown"]) == (5_000, "JPY", "5000 JPY")
    # Yen have no decimals; an amount limit for everyone needs a currency.
    assert cli("limits", "set", "txn_amount", "50.5", "--currency", "JPY", "--scope",
               "merchant", "--key", shop.merchant_id, code=1)["error"]["code"] == "13"  # fmt: skip
    assert cli("limits", "set", "txn_amount", "50", code=1)["error"]["field"] == "currency"
    listed = cli("limits", "list")
    kwd = next(
        r for r in listed
        if (r["rule"], r["scope"], r["key"], r["currency"]) == ("txn_amount", "default", "", "KWD")
    )  # fmt: skip
    assert (kwd["value"], kwd["shown"]) == (2_000_000, "2000.000 KWD")
    assert shop.pay(_number(), 5_001, currency="JPY")["message"]["en"] == MERCHANT_LIMIT
    cli("limits", "unset", "txn_amount", "--scope", "merchant", "--key", shop.merchant_id,
        "--currency", "JPY")  # fmt: skip
    assert shop.pay(_number(), 5_001, currency="JPY")["code"] == "00"
    _healthy(host)


# ------------------------------------------------------------------ a suspended merchant


def _pay_order(world: World, payload: str, auth_code: str) -> httpx.Response:
    return httpx.post(
        world.host.url + "/wallet/v1/pay",
        json={"payload": payload, "auth_code": auth_code},
        timeout=30,
    )


def test_a_suspended_merchants_open_order_is_not_paid(world: World) -> None:
    order = world.order("SU-O1", 2_500)
    merchants.set_status(world.ctx, world.merchant_id, "suspend", actor=OFFICER)
    code = world.code()
    before = snapshot(world.host)
    seen = httpx.post(
        world.host.url + "/wallet/v1/preview", json={"payload": order["payload"]}, timeout=30
    ).json()
    assert seen["payable"] is False
    refused = _pay_order(world, order["payload"], code)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "58"
    # Nothing moved and nothing changed: the order is open, the code is unused.
    assert_unchanged(world.host, before)
    assert world.terminal.get_order("SU-O1").json()["status"] == "CREATED"
    # New sales are refused by the same rule.
    assert world.terminal.create_order("SU-O2", 100).json()["code"] == "58"
    assert world.terminal.pay("SU-P1", 100, world.code()).json()["code"] == "58"
    # Reinstated, the order is paid with the very same code.
    merchants.set_status(world.ctx, world.merchant_id, "approve", actor=OFFICER)
    paid = _pay_order(world, order["payload"], code).json()
    assert (paid["code"], paid["order_status"]) == ("00", "PAID")
    assert world.balance() == 50_000 - 2_500


def test_a_suspended_merchant_is_not_paid_by_a_pin_confirmation(world: World) -> None:
    wallet = world.open_wallet(balance=50_000, pin_above=1_000)
    waiting = world.pay("SU-PIN-1", 5_000, wallet=wallet)
    assert waiting["status"] == "USER_PAYING"
    merchants.set_status(world.ctx, world.merchant_id, "suspend", actor=OFFICER)
    before = snapshot(world.host)
    # The one function behind both confirmation routes (``/wallet/v1/confirm`` and the
    # wallet page's), on the host's own database: how the customer gets there (session,
    # CSRF) is the wallet's business, what it may move is this rule's.
    with pytest.raises(HostError) as refused:
        pin_waits.confirm_with_pin(world.ctx, wallet.account, PIN)
    assert (refused.value.code, refused.value.http_status) == ("58", 403)
    assert_unchanged(world.host, before)
    assert world.terminal.get("SU-PIN-1").json()["status"] == "USER_PAYING"
    assert world.balance(wallet) == 50_000
    # Reinstated before the PIN deadline, the customer's confirmation goes through.
    merchants.set_status(world.ctx, world.merchant_id, "approve", actor=OFFICER)
    done = pin_waits.confirm_with_pin(world.ctx, wallet.account, PIN)
    assert (done.code, done.payment.status) == ("00", "SUCCESS")
    assert world.balance(wallet) == 50_000 - 5_000


def test_a_suspended_merchant_cannot_refund_on_its_own_but_the_acquirer_can(
    world: World,
) -> None:
    assert world.pay("SU-R1", 3_000)["code"] == "00"
    assert world.pay("SU-R2", 1_000)["code"] == "00"
    merchants.set_status(world.ctx, world.merchant_id, "suspend", actor=OFFICER)
    before = snapshot(world.host)
    by_terminal = world.terminal.refund("SU-R1-1", "SU-R1", 3_000)
    assert by_terminal.status_code == 403, by_terminal.text
    assert by_terminal.json()["code"] == "58"
    request = RefundRequest(out_refund_no="SU-R1-2", out_trade_no="SU-R1", amount=3_000)
    merchant_pk = parse_public_id(world.merchant_id, "M")
    assert merchant_pk is not None
    owner = audit.Actor("portal", "owner@shop.example")  # what the merchant portal passes
    with pytest.raises(HostError) as by_portal:
        refunds.create_refund(world.ctx, request, merchant_pk=merchant_pk, actor=owner)
    assert by_portal.value.code == "58"
    assert_unchanged(world.host, before)
    assert world.balance() == 50_000 - 4_000
    # The acquirer returns the customer's money.
    done = refunds.create_refund(world.ctx, request, merchant_pk=merchant_pk, actor=OFFICER)
    assert (done.refund.status, done.refund.code) == ("SUCCESS", "00")
    # The terminal still undoes a sale (a reversal is how it settles a sale in doubt).
    assert world.terminal.reverse("SU-R2").json()["status"] == "REVERSED"
    assert world.balance() == 50_000


def test_the_migration_gives_the_shipped_limits_a_currency(host: RunningHost) -> None:
    with host.ctx.db.read() as session:
        rows = session.execute(
            select(RiskLimit.rule, RiskLimit.scope, RiskLimit.key, RiskLimit.currency,
                   RiskLimit.value).where(RiskLimit.updated_by.like("migration%"))
        ).all()  # fmt: skip
    shipped = {(r.rule, r.scope, r.key, r.currency): r.value for r in rows}
    assert shipped[("txn_amount", "default", "", "CNY")] == 5_000_000  # 50,000.00 CNY
    assert shipped[("txn_amount", "default", "", "JPY")] == 1_000_000  # ¥1,000,000
    assert shipped[("txn_amount", "default", "", "KWD")] == 2_000_000  # 2,000.000 KWD
    assert shipped[("txn_amount", "default", "", "IDR")] == 10_000_000_000  # Rp 100,000,000.00
    assert shipped[("failed_codes", "default", "", "")] == 5  # a count: no currency


def test_migration_0004_puts_existing_limits_in_their_partys_currency(
    database_url: str, tmp_path: Path
) -> None:
    """A database of before the fix, with limits the operator had set: after 0004 each
    amount row is in the currency it was always read in (its merchant's, terminal's
    merchant's or wallet's; CNY, the shipped defaults' currency, for everyone else),
    counts have none, and the shipped defaults of the other currencies join the rows
    the operator kept (a default the operator removed stays removed in every currency)."""
    with _fresh_database(database_url, tmp_path) as url:
        db = Database(url)
        try:
            upgrade(db, "0003")
            with db.write() as session:
                _seed_0003(session.connection())
            upgrade(db, "0004")
            with db.read() as session:
                rows = session.execute(
                    text("SELECT rule, scope, key, currency, value, action FROM risk_limits")
                ).all()
        finally:
            db.dispose()
    got = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in rows}
    assert got[("txn_amount", "merchant", "M000001", "JPY")] == (70_000, "decline")
    assert got[("daily_amount", "terminal", "T000001", "JPY")] == (90_000, "decline")
    assert got[("wallet_txn_amount", "wallet", "0000000018", "KWD")] == (5_000, "decline")
    assert got[("txn_amount", "merchant", "M000404", "CNY")] == (1_234, "decline")
    assert got[("txn_amount", "default", "", "CNY")] == (7_777, "review")  # as the operator left it
    assert got[("velocity", "terminal", "T000001", "")] == (9, "decline")
    # The shipped defaults of other currencies, for the rows the operator kept, with its action.
    assert got[("txn_amount", "default", "", "JPY")] == (1_000_000, "review")
    assert got[("txn_amount", "mcc_class", "restaurant", "IDR")] == (2_000_000_000, "decline")
    assert not any(k[0] == "daily_amount" and k[1] == "default" for k in got)  # removed: stays
    assert all(k[3] == "" for k in got if k[0] in ("velocity", "failed_codes", "duplicate"))


@contextmanager
def _fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    with postgres_database() as url:
        yield url


def _seed_0003(conn: Connection) -> None:
    """Rows as a host of revision 0003 had them: a JPY merchant with a terminal, a KWD
    wallet, limits for each, one for a merchant that does not exist, and defaults the
    operator changed (one flagged for review) or removed."""
    now = datetime(2026, 1, 2, 3, 4, 5)
    conn.execute(
        text(
            "INSERT INTO merchants (id, name, city, mcc, license, fee_rate_ppm, currency,"
            " payee, status, created_at, updated_at) VALUES (1, 'Yen Shop', 'Tokyo', '5411',"
            " :lic, 3800, 'JPY', 'M000001', 'approved', :now, :now)"
        ),
        {"lic": LICENCE, "now": now},
    )
    conn.execute(
        text(
            "INSERT INTO terminals (id, merchant_id, status, created_at)"
            " VALUES (1, 1, 'active', :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO ledger_accounts (id, code, kind, book, currency, balance, created_at)"
            " VALUES (1, 'wallet:0000000018', 'wallet', 'real', 'KWD', 0, :now)"
        ),
        {"now": now},
    )
    conn.execute(
        text(
            "INSERT INTO wallet_accounts (id, number, name, currency, training, secret_hex,"
            " pin_hash, pin_above, pin_failures, atc_issued, atc_last_used, ledger_account_id,"
            " created_at) VALUES (1, '0000000018', 'Dana', 'KWD', :no, '', 'x', 40000, 0, 0, 0,"
            " 1, :now)"
        ),
        {"no": False, "now": now},
    )
    conn.execute(text("DELETE FROM risk_limits WHERE rule = 'daily_amount' AND scope = 'default'"))
    conn.execute(
        text(
            "UPDATE risk_limits SET value = 7777, action = 'review'"
            " WHERE rule = 'txn_amount' AND scope = 'default'"
        )
    )
    insert = text(
        "INSERT INTO risk_limits (rule, scope, key, value, action, window_seconds,"
        " updated_at, updated_by) VALUES (:rule, :scope, :key, :value, 'decline', :window,"
        " :now, 'operator:alice')"
    )
    for rule, scope, key, value, window in (
        ("txn_amount", "merchant", "M000001", 70_000, None),
        ("daily_amount", "terminal", "T000001", 90_000, None),
        ("wallet_txn_amount", "wallet", "0000000018", 5_000, None),
        ("txn_amount", "merchant", "M000404", 1_234, None),
        ("velocity", "terminal", "T000001", 9, 60),
    ):
        conn.execute(
            insert,
            {"rule": rule, "scope": scope, "key": key, "value": value, "window": window,
             "now": now},
        )  # fmt: skip
