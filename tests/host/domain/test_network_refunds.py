"""A refund at a payment network: its answer's meaning and the next call (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.network_refunds import (
    BACKOFF,
    RefundCall,
    RefundLegStatus,
    after_answer,
)
from scanpay.networks.port import RefundStatus

calls = st.sampled_from(list(RefundCall))
tries = st.integers(min_value=1, max_value=1_000)


@given(calls, tries)
def test_the_networks_final_word_ends_it(call: RefundCall, n: int) -> None:
    done = after_answer(call, RefundStatus.SUCCESS, n)
    failed = after_answer(call, RefundStatus.FAILED, n)
    assert (done.status, done.final, done.after) == (RefundLegStatus.SUCCESS, True, None)
    assert (failed.status, failed.final, failed.after) == (RefundLegStatus.FAILED, True, None)


@given(calls, tries)
def test_processing_is_queried_and_no_answer_asks_the_same_again(call: RefundCall, n: int) -> None:
    processing = after_answer(call, RefundStatus.PROCESSING, n)
    assert (processing.status, processing.call) == (RefundLegStatus.PROCESSING, RefundCall.QUERY)
    lost = after_answer(call, RefundStatus.UNKNOWN, n)
    # Never a failure from silence, and never a second refund: the same call again.
    assert (lost.status, lost.call, lost.final) == (RefundLegStatus.UNKNOWN, call, False)


@given(calls, st.integers(min_value=1, max_value=50), st.floats(min_value=0.5, max_value=600))
def test_backoff_grows_to_its_cap_and_never_past_it(call: RefundCall, n: int, cap: float) -> None:
    here = after_answer(call, RefundStatus.UNKNOWN, n, cap).after
    later = after_answer(call, RefundStatus.UNKNOWN, n + 1, cap).after
    assert here is not None and later is not None
    assert 0 < here <= later <= min(cap, BACKOFF[-1])
    assert after_answer(call, RefundStatus.UNKNOWN, 1).after == BACKOFF[0]
    assert after_answer(call, RefundStatus.UNKNOWN, 10_000).after == BACKOFF[-1]
