"""ACP 5.1.0's signature (``signMethod=01``) and reply format, pure: what a request
signs and what makes a reply believable. A simulator signs and checks with these too.

Signing (UnionPay's SDKs, ``SDKUtil.sign`` for 5.1.0): every field but
``signature``, sorted by name, joined as ``k=v`` with ``&`` (values as they are: no
URL encoding, empty ones included); the SHA-256 of that text's UTF-8 bytes as
lower-case hex; that hex text (64 ASCII bytes) signed RSA PKCS#1 v1.5 with SHA-256
by the merchant's key; base64 is ``signature``. ``certId`` (the signing
certificate's serial, decimal) is a field like any other, so it is signed.

A reply is believed only when (:func:`verify_fields`): it carries ``signPubKeyCert``
(PEM) and ``signature``; that certificate is valid now, issued by the configured
intermediate, itself valid and issued by the configured root; its CN names the
expected entity (UnionPay's CNs read ``041@<id>@中国银联股份有限公司@<n>``: the third
``@`` part, or the whole CN when it has no ``@``); and the signature verifies under
its key over the same text built from the reply's fields.

The synchronous reply is ``k=v&k=v`` *without* URL encoding (the PEM's ``+``, ``/``,
``=`` and line breaks appear as they are): :func:`parse_reply` splits it as
UnionPay's SDKs do (at the first ``=``; ``&`` inside ``{}`` or ``[]`` is a value's);
:func:`reply_text` writes one. A ``backUrl`` notification is an ordinary URL-encoded
form: its fields, decoded, verify the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.x509.oid import NameOID

__all__ = [
    "SIGNATURE",
    "SIGN_CERT",
    "Untrusted",
    "digest",
    "parse_reply",
    "reply_text",
    "sign",
    "sign_fields",
    "signed_text",
    "signer_entity",
    "verify_fields",
]

SIGNATURE = "signature"
SIGN_CERT = "signPubKeyCert"
_OPEN = {"{": "}", "[": "]"}


class Untrusted(Exception):
    """A reply or notification that is not to be believed; the text says why."""


def signed_text(fields: Mapping[str, str]) -> str:
    """``k=v&…`` of every field but ``signature``, sorted by name: what is signed."""
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != SIGNATURE)


def digest(fields: Mapping[str, str]) -> str:
    """The lower-case hex SHA-256 of :func:`signed_text` (UTF-8)."""
    return hashlib.sha256(signed_text(fields).encode("utf-8")).hexdigest()


def sign(fields: Mapping[str, str], key: RSAPrivateKey) -> str:
    """The ``signature`` of ``fields`` by ``key`` (base64)."""
    raw = key.sign(digest(fields).encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def sign_fields(fields: Mapping[str, str], key: RSAPrivateKey) -> dict[str, str]:
    """``fields`` with their ``signature`` added (any former one replaced)."""
    unsigned = {k: v for k, v in fields.items() if k != SIGNATURE}
    return {**unsigned, SIGNATURE: sign(unsigned, key)}


def signer_entity(cert: x509.Certificate) -> str | None:
    """The entity a signing certificate names: the CN's third ``@`` part, or the CN."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1:
        return None
    cn = names[0].value
    if not isinstance(cn, str):
        return None
    parts = cn.split("@")
    return parts[2] if len(parts) >= 3 else cn


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def verify_fields(
    fields: Mapping[str, str],
    *,
    root: x509.Certificate,
    middle: x509.Certificate,
    expected_cn: str,
    now: datetime | None = None,
) -> x509.Certificate:
    """The certificate that signed ``fields`` when they are to be believed (see the
    module's text); :class:`Untrusted` saying why when not."""
    at = now or datetime.now(UTC)
    pem, signature = fields.get(SIGN_CERT), fields.get(SIGNATURE)
    if not pem or not signature:
        raise Untrusted("not signed")
    try:
        cert = x509.load_pem_x509_certificate(pem.strip().encode())
    except ValueError:
        raise Untrusted("signPubKeyCert unreadable") from None
    if not all(_valid_at(c, at) for c in (cert, middle, root)):
        raise Untrusted("a certificate out of its validity")
    if not _issued(cert, middle) or not _issued(middle, root):
        raise Untrusted("signPubKeyCert not issued under the configured root")
    if signer_entity(cert) != expected_cn:
        raise Untrusted("signPubKeyCert names another entity")
    public = cert.public_key()
    if not isinstance(public, RSAPublicKey):
        raise Untrusted("signPubKeyCert not RSA")
    try:
        raw = base64.b64decode(signature, validate=True)
        public.verify(raw, digest(fields).encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        raise Untrusted("signature does not verify") from None
    return cert


def parse_reply(text: str) -> dict[str, str]:
    """The fields of a synchronous reply (``k=v&…``, not URL-encoded); ValueError when
    it is not one (a part without ``=``, an empty name, a name twice)."""
    fields: dict[str, str] = {}
    if not text.strip():
        raise ValueError("empty reply")
    part: list[str] = []
    closing: str | None = None
    for ch in text.strip():
        if closing is not None:
            if ch == closing:
                closing = None
        elif ch in _OPEN and "=" in "".join(part):
            closing = _OPEN[ch]
        elif ch == "&":
            _put(fields, "".join(part))
            part = []
            continue
        part.append(ch)
    _put(fields, "".join(part))
    return fields


def _put(fields: dict[str, str], part: str) -> None:
    name, eq, value = part.partition("=")
    if not eq or not name or name in fields:
        raise ValueError("not a k=v reply")
    fields[name] = value


def reply_text(fields: Mapping[str, str]) -> str:
    """A reply as UnionPay writes it: ``k=v&…``, values as they are."""
    return "&".join(f"{k}={v}" for k, v in fields.items())
