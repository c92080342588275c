"""Issue 14 item 12: one PIN deadline, the host's. The sale machine waits for the
deadline the host's reply names (never giving up before it, since a reversal then
undoes a payment the customer may still confirm), asks once more when it passes,
and says "timed out" as such; the screen and the receipt say it in words."""

from __future__ import annotations

from dataclasses import replace

from scanpay.i18n import Text
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.receipts import build_receipt
from scanpay.terminal.sale import (
    CodeScanned,
    CodeSummary,
    Confirmed,
    NoAnswer,
    PaymentReplied,
    Query,
    ReversalAcknowledged,
    ReversalReason,
    Reverse,
    Sale,
    SaleState,
    Submitted,
    Tick,
    Timings,
    advance,
)
from scanpay.terminal.texts import screen_for, state_label

T = Timings(
    unknown_deadline=45.0,
    customer_deadline=40.0,
    customer_grace=5.0,
    poll_interval=3.0,
    query_backoff=Backoff(1.0, 2.0, 8.0),
)
T0 = 1_000.0
SENT = T0 + 3
HOST_LEFT = 120.0  # the host waits 120 s for the PIN; the terminal's own setting is 40 s
WALLET = CodeSummary("wallet", "scanpay", "scanpay 881234********5678")


def step(sale: Sale, event: object) -> Sale:
    return advance(sale, event, T).sale  # type: ignore[arg-type]


def reply(status: str, code: str, now: float, left: float | None = None) -> PaymentReplied:
    return PaymentReplied(
        now,
        "query",
        status,
        code,
        Text("好", "ok"),
        "P1",
        "scanpay",
        "881234****5678",
        None,
        0,
        left,
    )


def submitted() -> Sale:
    sale = Sale.open("T1-0001", 1234, "CNY", operator_id="c01", now=T0)
    for event in (CodeScanned(T0 + 1, WALLET), Confirmed(T0 + 2), Submitted(SENT)):
        sale = step(sale, event)
    return sale


def waiting(left: float = HOST_LEFT) -> Sale:
    """USER_PAYING after the send's reply (received 1 s after sending)."""
    return step(submitted(), replace(reply("USER_PAYING", "09", SENT + 1, left), source="send"))


def test_the_hosts_deadline_replaces_the_terminals_own() -> None:
    sale = waiting()
    assert sale.state == SaleState.USER_PAYING
    assert sale.host_deadline and sale.customer_deadline_at == SENT + 1 + HOST_LEFT
    # The screen counts down to the host's deadline, not to the terminal's 40 s.
    assert screen_for(sale).countdown_to == SENT + 1 + HOST_LEFT


def test_the_terminal_never_gives_up_before_the_host() -> None:
    sale = waiting()
    # Where the terminal's own setting used to reverse the payment: it keeps polling.
    at_own_deadline = advance(replace(sale, wake_at=SENT + 40), Tick(SENT + 40), T)
    assert at_own_deadline.sale.state == SaleState.USER_PAYING
    assert at_own_deadline.commands == (Query("T1-0001", "user_paying"),)
    polled = step(at_own_deadline.sale, reply("USER_PAYING", "09", SENT + 41, HOST_LEFT - 38))
    assert polled.state == SaleState.USER_PAYING
    # A later reply (one that took longer to arrive) never moves the deadline later.
    assert polled.customer_deadline_at == SENT + 1 + HOST_LEFT


def test_a_closer_reply_moves_the_deadline_earlier_never_before_the_host() -> None:
    sale = waiting()
    closer = step(sale, reply("USER_PAYING", "09", SENT + 10, HOST_LEFT - 9.5))
    assert closer.customer_deadline_at == SENT + 0.5 + HOST_LEFT


def test_at_the_hosts_deadline_it_asks_once_more_and_says_timed_out() -> None:
    sale = waiting()
    deadline = sale.customer_deadline_at
    assert deadline is not None
    polled = step(sale, reply("USER_PAYING", "09", deadline - 1, 0.5))
    assert polled.wake_at == deadline - 0.5  # the next poll is right at the deadline
    due = advance(polled, Tick(deadline - 0.5), T)
    assert due.commands == (Query("T1-0001", "user_paying"),)
    assert due.sale.state == SaleState.USER_PAYING  # asked, not reversed
    # The host stopped waiting: FAILED with code 12.
    done = step(due.sale, reply("FAILED", "12", deadline))
    assert done.state == SaleState.DECLINED and done.customer_timed_out
    screen = screen_for(done)
    assert screen.id == "timed_out"
    assert screen.title.en == "Timed out" and screen.title.zh_cn == "已超时"
    assert screen.message.en == "The customer did not confirm in time; nothing was charged"
    assert screen.message.zh_cn == "顾客未在时限内确认，未扣款"
    assert state_label(done).en == "Timed out"


def test_without_an_answer_it_reverses_after_the_grace_and_says_timed_out() -> None:
    sale = waiting()
    deadline = sale.customer_deadline_at
    assert deadline is not None
    asked = step(replace(sale, wake_at=deadline), Tick(deadline))
    quiet = step(asked, NoAnswer(deadline + 1, "query", "timeout"))
    assert quiet.state == SaleState.USER_PAYING  # still within the grace
    given_up = advance(quiet, Tick(deadline + T.customer_grace), T)
    assert given_up.sale.state == SaleState.REVERSING
    assert given_up.commands[0] == Reverse("T1-0001", ReversalReason.CUSTOMER_TIMEOUT)
    assert "did not confirm in time" in screen_for(given_up.sale).message.en
    cancelled = step(given_up.sale, ReversalAcknowledged(deadline + 6, "REVERSED", "12"))
    assert cancelled.state == SaleState.CANCELLED
    assert screen_for(cancelled).id == "timed_out"
    assert state_label(cancelled).zh_cn == "已超时"


def test_a_pin_locked_decline_is_not_a_time_out() -> None:
    done = step(waiting(), reply("FAILED", "75", SENT + 20))
    assert done.state == SaleState.DECLINED and not done.customer_timed_out
    assert screen_for(done).id == "declined"


def test_a_host_without_a_deadline_leaves_the_terminals_own() -> None:
    sale = waiting(left=None)  # type: ignore[arg-type]
    assert not sale.host_deadline and sale.customer_deadline_at == SENT + 40
    given_up = advance(sale, Tick(SENT + 40), T)
    assert given_up.commands[0] == Reverse("T1-0001", ReversalReason.CUSTOMER_TIMEOUT)


def test_the_receipt_says_timed_out() -> None:
    from scanpay.terminal.config import TerminalConfig

    sale = waiting()
    deadline = sale.customer_deadline_at
    assert deadline is not None
    done = step(sale, reply("FAILED", "12", deadline))
    config = TerminalConfig(
        host_url="http://127.0.0.1:1",
        terminal_id="T1",
        key="0" * 64,
        merchant_id="M1",
        merchant_name="Shop",
    )
    receipt = build_receipt(done, config, "merchant")
    assert receipt.result.en == "Timed out"


def test_the_snapshot_keeps_the_hosts_deadline() -> None:
    sale = waiting()
    assert Sale.from_dict(sale.to_dict()) == sale
