"""A payment that provably never left (the host's certificate was refused in the TLS
handshake) is neither left in doubt nor taken as a decline (issue 15, item 1)."""

from __future__ import annotations

from scanpay.i18n import Text
from scanpay.terminal.sale import (
    NotFound,
    NotSent,
    Reverse,
    SaleState,
    Send,
    advance,
    agrees_with_host,
)
from scanpay.terminal.texts import screen_for
from terminal.test_sale import T0, T, step, submitted, unknown

WHY = Text("证书不符", "not the pinned certificate")


def test_the_first_send_not_sent_ends_cancelled_with_nothing_to_reverse() -> None:
    result = advance(submitted(), NotSent(T0 + 4, "send", "host_pin_mismatch", WHY), T)
    sale = result.sale
    assert sale.state == SaleState.CANCELLED
    assert not sale.in_doubt
    assert not any(isinstance(c, Reverse | Send) for c in result.commands)
    assert sale.result is not None and sale.result.code == "host_pin_mismatch"
    # The host never saw it: its "no such payment" agrees with the journal.
    assert agrees_with_host(sale, None)
    screen = screen_for(sale)
    assert screen.id == "not_sent" and screen.tone == "error"
    assert screen.message == WHY and screen.code == "host_pin_mismatch"


def test_a_resend_not_sent_stays_in_doubt() -> None:
    """After a first send that may have reached the host, a refused re-send says
    nothing: the sale keeps asking (and reverses at the deadline)."""
    resending = advance(unknown(), NotFound(T0 + 6, can_resend=True), T)
    assert any(isinstance(c, Send) for c in resending.commands)
    after = step(resending.sale, NotSent(T0 + 7, "send", "host_untrusted", WHY))
    assert after.state == SaleState.UNKNOWN
    assert after.in_doubt
