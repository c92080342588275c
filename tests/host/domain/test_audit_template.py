"""A record's template (what PostgreSQL links under the head's lock) hashes exactly as
:func:`record_hash` does, whatever the fields hold."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from scanpay.host.domain.audit import GENESIS, link, record_template

_text = st.text(max_size=40)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@given(
    actor_id=_text,
    subject_id=_text,
    merchant=st.none() | _text,
    data=st.dictionaries(_text, _json, max_size=5),
    seq=st.integers(min_value=1, max_value=2**62),
    prev=st.sampled_from([GENESIS, "ab" * 32, hashlib.sha256(b"x").hexdigest()]),
)
def test_template_text_hashes_like_the_record(
    actor_id: str, subject_id: str, merchant: str | None, data: dict, seq: int, prev: str
) -> None:
    fields = dict(
        at="2026-03-02T09:00:00+00:00",
        actor_kind="terminal",
        actor_id=actor_id,
        action="payment.create",
        subject_kind="payment",
        subject_id=subject_id,
        merchant_id=merchant,
        data=data,
    )
    record = link(prev, seq, **fields)
    template = record_template(**fields)
    assert template.data == record.data
    assert hashlib.sha256(template.text(prev, seq).encode()).hexdigest() == record.hash


def test_a_field_that_looks_like_the_mark_changes_nothing() -> None:
    fields = dict(
        at="2026-03-02T09:00:00+00:00",
        actor_kind="terminal",
        actor_id='"prev":"","seq":0,"subject":',
        action="x",
        subject_kind="payment",
        subject_id="P1",
        merchant_id=None,
        data={'"prev":"","seq":0,"subject":': '"prev":"","seq":0,"subject":'},
    )
    template = record_template(**fields)
    assert (
        hashlib.sha256(template.text(GENESIS, 7).encode()).hexdigest()
        == link(GENESIS, 7, **fields).hash
    )
