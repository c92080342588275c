"""The backUrl notification: verified like a reply, then read; a form as the host's
HTTP layer decodes it (URL-encoded on the wire, so "+" and line breaks survive)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from networks.unionpay.kit import pki, signed
from scanpay.networks.unionpay.config import UNIONPAY_CN
from scanpay.networks.unionpay.notify import BackNotice, Untrusted, read_notification

NOTICE = {
    "version": "5.1.0",
    "encoding": "UTF-8",
    "signMethod": "01",
    "bizType": "000000",
    "accessType": "0",
    "merId": "777290058110048",
    "orderId": "20261208101500T0001",
    "txnType": "01",
    "txnSubType": "06",
    "txnTime": "20261208101500",
    "txnAmt": "1230",
    "currencyCode": "156",
    "queryId": "512312081015001234567",
    "respCode": "00",
    "respMsg": "成功[0000000]",
    "settleDate": "1208",
}


def _read(fields: dict[str, str], **how: object) -> BackNotice:
    p = pki()
    args: dict[str, object] = {"root": p.root, "middle": p.middle, "expected_cn": UNIONPAY_CN}
    args.update(how)
    return read_notification(fields, **args)  # type: ignore[arg-type]


def test_a_good_notification() -> None:
    wire = urlencode(signed(NOTICE))  # as UnionPay POSTs it
    notice = _read(dict(parse_qsl(wire, keep_blank_values=True)))
    assert notice == BackNotice(
        mer_id="777290058110048",
        order_id="20261208101500T0001",
        query_id="512312081015001234567",
        resp_code="00",
        txn_type="01",
        amount=1230,
        txn_time="20261208101500",
    )
    assert notice.succeeded
    refund = _read(signed({**NOTICE, "txnType": "04", "origQryId": "Q0", "respCode": "01"}))
    assert (refund.txn_type, refund.orig_query_id, refund.succeeded) == ("04", "Q0", False)


@pytest.mark.parametrize("case", ["forged", "tampered", "wrong chain", "unsigned", "lacking"])
def test_a_notification_not_believed(case: str) -> None:
    p = pki()
    good = signed(NOTICE)
    fields = {
        "forged": signed(NOTICE, key=p.stranger_key),
        "tampered": {**good, "txnAmt": "1"},
        "wrong chain": signed(NOTICE, key=p.stranger_key, cert=p.stranger_cert),
        "unsigned": {k: v for k, v in good.items() if k != "signature"},
        "lacking": signed({k: v for k, v in NOTICE.items() if k != "queryId"}),
    }[case]
    with pytest.raises(Untrusted):
        _read(fields)
