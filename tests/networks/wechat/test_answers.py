"""The reverse and refund tables (scanpay.networks.wechat.answers), for the words the
simulator does not say: a code is final only when it says so."""

from __future__ import annotations

import pytest

from scanpay.networks import RefundStatus, ReverseOutcome
from scanpay.networks.wechat.answers import REFUND_STATES, norm, refund_failed, reverse_answer


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("ORDERNOTEXIST", ReverseOutcome.DONE),
        ("ORDER_NOT_EXIST", ReverseOutcome.DONE),
        ("ORDERREVERSED", ReverseOutcome.DONE),
        ("ORDERCLOSED", ReverseOutcome.DONE),
        ("SYSTEMERROR", ReverseOutcome.UNKNOWN),  # recall N: call again all the same
        ("FREQUENCY_LIMITED", ReverseOutcome.UNKNOWN),
        (None, ReverseOutcome.UNKNOWN),
        ("REVERSE_EXPIRE", ReverseOutcome.REFUSED),
        ("NO_AUTH", ReverseOutcome.REFUSED),
    ],
)
def test_reverse_codes(code: str | None, outcome: ReverseOutcome) -> None:
    answer = reverse_answer(code)
    assert answer.outcome is outcome and answer.message is not None
    assert answer.message.zh_cn and answer.message.en


def test_the_form_of_a_reverse_reply_decides_first() -> None:
    assert reverse_answer("SYSTEMERROR", again=True).again  # v2 recall=Y, v3 5xx SYSTEM_ERROR
    assert reverse_answer("REVERSE_EXPIRE", unknown=True).unknown  # a 5xx is never a refusal
    assert reverse_answer(None, done=True).done


def test_refund_words() -> None:
    assert refund_failed("R1", "SYSTEM_ERROR").status is RefundStatus.UNKNOWN
    assert refund_failed("R1", "BIZERR_NEED_RETRY").status is RefundStatus.UNKNOWN
    assert refund_failed("R1", None).status is RefundStatus.UNKNOWN
    failed = refund_failed("R1", "NOTENOUGH")
    assert failed.status is RefundStatus.FAILED and failed.message is not None
    assert REFUND_STATES["ABNORMAL"] is RefundStatus.PROCESSING  # stuck at the bank
    assert REFUND_STATES["REFUNDCLOSE"] is RefundStatus.FAILED
    assert norm(" order_not_exist ") == "ORDERNOTEXIST"
