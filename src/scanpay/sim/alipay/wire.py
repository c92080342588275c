"""Alipay's gateway wire: the string a signature covers, answers and their signed JSON.

A request's signature (RSA2: SHA256withRSA, PKCS#1 v1.5, base64) covers the sorted
``k=v`` pairs of every non-empty parameter but ``sign``, joined with ``&``. A reply is
``{"<method>_response":{…},"sign":"…"}`` (certificate mode: ``alipay_cert_sn`` before
``sign``), its signature over the exact JSON text of the response node. A
notification's signature leaves out ``sign_type`` as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from scanpay.sim.common.crypto import rsa_sign

__all__ = [
    "Answer",
    "failed",
    "invalid",
    "missing",
    "node_name",
    "reply_text",
    "signed_content",
    "success",
    "unknown",
    "waiting",
]


@dataclass(frozen=True)
class Answer:
    """A response node: Alipay's code and msg, a sub_code and sub_msg when it refuses,
    and the method's fields."""

    code: str = "10000"
    msg: str = "Success"
    sub_code: str | None = None
    sub_msg: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def node(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.sub_code is not None:
            out["sub_code"] = self.sub_code
            out["sub_msg"] = self.sub_msg or ""
        out.update(self.fields)
        return out


def success(**fields: Any) -> Answer:
    return Answer(fields=fields)


def waiting(**fields: Any) -> Answer:
    """10003: the buyer is entering the password; poll with alipay.trade.query."""
    return Answer("10003", "order success pay inprocess", fields=fields)


def failed(sub_code: str, sub_msg: str, **fields: Any) -> Answer:
    return Answer("40004", "Business Failed", sub_code, sub_msg, fields)


def unknown(**fields: Any) -> Answer:
    """20000: the outcome is unknown to the caller; it must query."""
    return Answer("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙", fields)


def invalid(sub_code: str, sub_msg: str) -> Answer:
    return Answer("40002", "Invalid Arguments", sub_code, sub_msg)


def missing(sub_code: str, sub_msg: str) -> Answer:
    return Answer("40001", "Missing Required Arguments", sub_code, sub_msg)


def node_name(method: str | None) -> str:
    """``alipay.trade.pay`` -> ``alipay_trade_pay_response``; no method: ``error_response``."""
    return method.replace(".", "_") + "_response" if method else "error_response"


def signed_content(params: Mapping[str, str], *, leave_out: tuple[str, ...] = ("sign",)) -> str:
    """The text a signature covers: sorted non-empty ``k=v`` pairs but ``leave_out``."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in leave_out and v != "")


def reply_text(
    name: str, answer: Answer, key: RSAPrivateKey | None, cert_sn: str | None = None
) -> str:
    """The reply's exact text: the node as compact JSON (Chinese as is), then the
    certificate SN and the signature over that node text (unsigned when ``key`` is None,
    as Alipay answers an unknown app)."""
    body = json.dumps(answer.node(), ensure_ascii=False, separators=(",", ":"))
    parts = [f"{json.dumps(name)}:{body}"]
    if key is not None:
        if cert_sn:
            parts.append(f'"alipay_cert_sn":{json.dumps(cert_sn)}')
        parts.append(f'"sign":{json.dumps(rsa_sign(key, body))}')
    return "{" + ",".join(parts) + "}"
