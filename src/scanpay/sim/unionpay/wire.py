"""ACP 5.1.0's wire as the simulator speaks it: requests checked, replies signed.

A request is a URL-encoded form signed by the merchant (``signMethod=01``: the rule is
the adapter's :mod:`scanpay.networks.unionpay.acp`), its certificate named by
``certId``. The checks, in order: the common fields present and in form (respCode 10
otherwise), the merchant known (31), ``certId`` its certificate's and the signature
good under it (11). A reply is ``k=v&…`` as it is (not URL-encoded), carrying the
simulator's signing certificate (``signPubKeyCert``) and signed with its key.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from scanpay.networks.unionpay import acp
from scanpay.networks.unionpay.codes import code_rule
from scanpay.sim.unionpay.keys import UnionPayKeys
from scanpay.sim.unionpay.store import Merchant, Store

__all__ = [
    "ECHOED",
    "answer",
    "check_request",
    "message",
    "reply",
    "signed",
    "valid_txn_time",
]

ECHOED = (
    "version",
    "encoding",
    "bizType",
    "txnTime",
    "txnType",
    "txnSubType",
    "accessType",
    "merId",
    "orderId",
    "signMethod",
)
_COMMON = {"version": "5.1.0", "signMethod": "01", "accessType": "0"}
_REQUIRED = (
    "version",
    "encoding",
    "signMethod",
    "txnType",
    "txnSubType",
    "bizType",
    "accessType",
    "merId",
    "txnTime",
    "certId",
    "signature",
)
_MER_ID = re.compile(r"[0-9A-Za-z]{15}")


def message(code: str) -> str:
    """``respMsg`` for ``code``, as UnionPay words it."""
    if code == "00":
        return "成功[0000000]"
    return f"{code_rule(code).message.zh_cn}[{code}]"


def answer(code: str, **fields: str) -> dict[str, str]:
    """A reply's own fields: ``respCode``, ``respMsg`` and ``fields``."""
    return {"respCode": code, "respMsg": message(code), **fields}


def valid_txn_time(text: str) -> bool:
    """``yyyyMMddHHmmss``."""
    if not re.fullmatch(r"[0-9]{14}", text):
        return False
    try:
        datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def check_request(store: Store, form: Mapping[str, str]) -> tuple[Merchant | None, str | None]:
    """The merchant and, when the request is refused, its respCode (None: go on)."""
    if any(not form.get(name) for name in _REQUIRED):
        return None, "10"
    if any(form[name] != value for name, value in _COMMON.items()):
        return None, "10"
    if form["encoding"].upper() != "UTF-8" or not valid_txn_time(form["txnTime"]):
        return None, "10"
    if not _MER_ID.fullmatch(form["merId"]):
        return None, "10"
    merchant = store.merchant(form["merId"])
    if merchant is None:
        return None, "31"
    if form["certId"] != merchant.cert_id or not _verifies(merchant, form):
        return merchant, "11"
    return merchant, None


def _verifies(merchant: Merchant, form: Mapping[str, str]) -> bool:
    cert = x509.load_pem_x509_certificate(merchant.sign_cert.encode())
    public = cert.public_key()
    if not isinstance(public, RSAPublicKey):
        return False
    try:
        raw = base64.b64decode(form["signature"], validate=True)
        public.verify(raw, acp.digest(form).encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def signed(fields: Mapping[str, str], keys: UnionPayKeys, key: RSAPrivateKey) -> dict[str, str]:
    """``fields`` with the signing certificate, signed by ``key`` (the simulator's, or
    the wrong one a test asked for)."""
    return acp.sign_fields({**fields, acp.SIGN_CERT: keys.sign_cert_pem}, key)


def reply(
    form: Mapping[str, str], fields: Mapping[str, str], keys: UnionPayKeys, key: RSAPrivateKey
) -> str:
    """The reply's text: the request's common fields echoed, then ``fields``, signed."""
    echoed = {name: form[name] for name in ECHOED if form.get(name)}
    return acp.reply_text(signed({**echoed, **fields}, keys, key))
