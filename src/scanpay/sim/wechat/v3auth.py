"""API v3 signatures: a request's ``Authorization`` checked, a reply's ``Wechatpay-*`` made.

A request carries ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
signature="…",timestamp="…",serial_no="…"``, the signature being SHA256-with-RSA over
``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL: path and query as sent) with the
key of the merchant's API client certificate ``serial_no``. A reply is signed over
``TIMESTAMP\\nNONCE\\nBODY\\n`` with the platform certificate's key (serial in
``Wechatpay-Serial``) or the WeChat Pay public key's (``PUB_KEY_ID_…``), as the
merchant is set up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from scanpay.sim.common.crypto import nonce, rsa_sign, rsa_verify
from scanpay.sim.wechat.keys import NetworkKeys
from scanpay.sim.wechat.store import Merchant, Store
from scanpay.sim.wechat.wire import Refusal

__all__ = ["SCHEMA", "authenticate", "reply_headers"]

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
# WeChat refuses a request whose timestamp is more than five minutes off its clock.
_SKEW_SECONDS = 300
_PAIR = re.compile(r'(\w+)="([^"]*)"')


def _refuse(message: str) -> Refusal:
    return Refusal("SIGNERROR", message)


def authenticate(
    store: Store,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> Merchant:
    """The merchant a request is signed by; a SIGNERROR refusal (401 ``SIGN_ERROR``) otherwise."""
    header = headers.get("authorization", "")
    schema, _, rest = header.partition(" ")
    if schema != SCHEMA:
        raise _refuse("Http头缺少Authorization或认证类型不是WECHATPAY2-SHA256-RSA2048")
    fields = dict(_PAIR.findall(rest))
    missing = [
        k for k in ("mchid", "nonce_str", "signature", "timestamp", "serial_no") if k not in fields
    ]
    if missing:
        raise _refuse(f"Http头Authorization值格式错误，缺少{','.join(missing)}")
    merchant = store.merchant(fields["mchid"])
    if merchant is None or merchant.client_public_key is None or merchant.client_serial is None:
        raise _refuse("Authorization中的商户号mchid不存在或未开通APIv3")
    try:
        same_serial = int(fields["serial_no"], 16) == int(merchant.client_serial, 16)
    except ValueError:
        same_serial = False
    if not same_serial:
        raise _refuse("商户证书序列号有误。请使用签名私钥匹配的证书序列号")
    try:
        stamp = int(fields["timestamp"])
    except ValueError:
        raise _refuse("Http头Authorization中的timestamp不是整数") from None
    if abs((time.time() if now is None else now) - stamp) > _SKEW_SECONDS:
        raise _refuse("Http头Authorization中的timestamp与当前时间相差过大")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise _refuse("请求体不是UTF-8编码") from None
    message = f"{method}\n{url}\n{fields['timestamp']}\n{fields['nonce_str']}\n{text}\n"
    key = serialization.load_pem_public_key(merchant.client_public_key.encode())
    if not isinstance(key, RSAPublicKey) or not rsa_verify(key, message, fields["signature"]):
        raise _refuse("错误的签名，验签失败")
    return merchant


def reply_headers(
    keys: NetworkKeys,
    merchant: Merchant | None,
    body: bytes,
    *,
    wrong_key: RSAPrivateKey | None = None,
) -> dict[str, str]:
    """The ``Wechatpay-*`` headers of a reply to ``merchant`` (none known: the platform
    certificate). ``wrong_key``: sign with it instead, under the right serial, so a
    client that really checks the signature refuses the reply."""
    mode = merchant.mode if merchant is not None and merchant.mode else "certificate"
    serial, key = keys.signer(mode)
    stamp = str(int(time.time()))
    once = nonce(32)
    message = f"{stamp}\n{once}\n{body.decode()}\n"
    return {
        "Wechatpay-Nonce": once,
        "Wechatpay-Signature": rsa_sign(wrong_key or key, message),
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SCHEMA,
        "Request-ID": nonce(24),
    }
