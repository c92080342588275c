"""The built-in wallet behind the network port: it answers a pay as every network does
(approved, declined with our code and its reason, the customer still to confirm),
inside the caller's transaction, and a payment it decides never gets a network leg."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from host.kit import World
from scanpay.codes import ConsumerPresentedCode, WalletCode, parse_payment_code
from scanpay.host.db.models import NetworkLeg, Payment
from scanpay.host.services.builtin_wallet import BUILTIN_NETWORK, BuiltinWallet
from scanpay.networks.port import Outcome, PayAnswer, PayRequest


def _pay(
    world: World, auth_code: str, amount: int, currency: str = "CNY", training: bool = False
) -> tuple[PayAnswer, BuiltinWallet]:
    code = parse_payment_code(auth_code, wallet_rules=world.ctx.wallet_rules)
    assert isinstance(code, WalletCode | ConsumerPresentedCode)
    with world.ctx.db.write() as session:
        issuer = BuiltinWallet(
            world.ctx,
            session,
            code,
            merchant_id=world.merchant_id,
            terminal_id=world.terminal.terminal_id,
            training=training,
        )
        request = PayRequest(
            channel=issuer.channel,
            trade_no="PTEST" + auth_code[-8:],
            auth_code=auth_code,
            amount=amount,
            currency=currency,
            description="Best Shop",
        )
        return issuer.pay(request), issuer


def test_a_good_code_is_approved_once(world: World) -> None:
    code = world.code()
    answer, issuer = _pay(world, code, 100)
    assert (answer.outcome, answer.result_code, answer.network_code) == (
        Outcome.APPROVED,
        "00",
        None,
    )
    assert issuer.name == BUILTIN_NETWORK and issuer.channel.network == BUILTIN_NETWORK
    assert issuer.account is not None and issuer.account.number == world.wallet.account
    again, _ = _pay(world, code, 100)
    assert (again.outcome, again.result_code, again.network_code) == (
        Outcome.DECLINED,
        "14",
        "code_used",
    )
    assert again.message.en and again.message.zh_cn


def test_above_the_pin_amount_the_customer_confirms(world: World) -> None:
    world.wallet = world.open_wallet(balance=500_000)
    answer, issuer = _pay(world, world.code(), 120_000)
    assert (answer.outcome, answer.result_code) == (Outcome.USER_PAYING, "09")
    now = world.ctx.now()
    assert issuer.deadline(now) == now + timedelta(seconds=world.ctx.settings.user_paying_timeout)


def test_a_sale_that_cannot_take_the_code_leaves_it_usable(world: World) -> None:
    code = world.code()
    wrong, _ = _pay(world, code, 100, currency="USD")
    assert (wrong.outcome, wrong.result_code, wrong.network_code) == (
        Outcome.DECLINED,
        "57",
        "currency_mismatch",
    )
    training, _ = _pay(world, code, 100, training=True)
    assert (training.result_code, training.network_code) == ("57", "training_mismatch")
    right, _ = _pay(world, code, 100)
    assert right.outcome is Outcome.APPROVED


def test_a_code_of_no_account_is_a_bad_code(world: World) -> None:
    code = world.code()
    fmt = world.ctx.settings.code_format
    start, end = len(fmt.prefix), len(fmt.prefix) + fmt.account_digits
    number = code[start:end]
    other = str((int(number) + 1) % 10**fmt.account_digits).zfill(fmt.account_digits)
    answer, issuer = _pay(world, code[:start] + other + code[end:], 100)
    assert (answer.outcome, answer.result_code, answer.network_code) == (
        Outcome.DECLINED,
        "14",
        "bad_code",
    )
    # The account number carries a check digit: a changed one names no account at all.
    assert issuer.claimed in (None, other) and issuer.account is None


def test_a_payment_it_decides_has_no_network_leg(world: World) -> None:
    paid = world.pay("BW-1", 100)
    assert (paid["status"], paid["code"]) == ("SUCCESS", "00")
    with world.ctx.db.read() as session:
        row = session.scalar(select(Payment).where(Payment.public_id == paid["payment_id"]))
        assert row is not None
        assert (row.wallet, row.network, row.reason) == (BUILTIN_NETWORK, None, None)
        assert row.wallet_account_id is not None
        legs = session.scalar(select(func.count()).select_from(NetworkLeg))
        assert legs == 0
