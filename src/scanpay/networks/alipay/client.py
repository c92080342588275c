"""Alipay's OpenAPI through ``python-alipay-sdk`` (3.4.0, pinned), for signing only.

What we use of the package: its request builder (``build_body``: the common
parameters, ``notify_url``, and in certificate mode ``app_cert_sn`` and
``alipay_root_cert_sn`` computed from the certificates), its RSA2 request
signature (``sign_data``) and its reply signature check (``_verify``), in
public-key mode (``AliPay``) and certificate mode (``DCAliPay``; the package
has no ``AliPayCert``).

What we replace, and why:

- **The transport** (``verified_sync_response``). It GETs the whole signed request,
  payment code included, as a URL query (where proxies log it) with ``urlopen``: a
  timeout per socket read, not per call; one timeout per client; a 5xx, a reset or a
  timeout raised as whatever ``urllib`` raises. Ours POSTs the same signed form over a
  shared ``httpx.Client``, within the call's own time (twice it at worst), and turns
  every failure into :class:`NoReply`, which the adapter answers UNKNOWN.
- **Finding the signed text** (``_get_string_to_be_signed``). It takes the first
  occurrence of the response's name anywhere in the text and counts braces, also
  those inside strings (a ``subject`` with a ``}`` breaks it). Ours reads the JSON
  structure: the exact text of the top-level member that holds the answer.
- **Unsigned errors.** The package raises for a reply without ``sign``; so do we, as
  :class:`NoReply`, but a signed ``error_response`` (40002: a bad signature, app
  id…) is verified and handed back like any other answer.
- **The timestamp**: the package sends the machine's local time; Alipay reads
  Beijing time. And service-provider calls carry ``app_auth_token`` in certificate
  mode too (the package has it only in its public-key ``ISVAliPay``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from alipay import AliPay, DCAliPay  # type: ignore[import-untyped]

import scanpay
from scanpay.networks.alipay.config import BEIJING, AlipayKeys, bad_secret, is_loopback
from scanpay.networks.transport import NoReply, send_within

__all__ = ["AlipayClient", "NoReply", "Reply", "signed_member"]

_USER_AGENT = f"scanpay/{getattr(scanpay, '__version__', '0')} (python-alipay-sdk 3.4.0)"
_FORM = "application/x-www-form-urlencoded;charset=utf-8"
_MAX_REPLY = 1 << 20
_MAX_FILE = 64 << 20


@dataclass(frozen=True, slots=True)
class Reply:
    """A verified answer: the signed member (``alipay_trade_pay_response`` or
    ``error_response``) as a JSON object."""

    data: dict[str, Any]

    @property
    def code(self) -> str | None:
        return self.text("code")

    @property
    def sub_code(self) -> str | None:
        return self.text("sub_code")

    def text(self, name: str) -> str | None:
        """The member ``name`` when it is a non-empty string."""
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None


class _Ours:
    """What we add to the package's builder: Beijing time, the provider's token."""

    _token: str | None = None

    def build_body(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().build_body(*args, **kwargs)  # type: ignore[misc]
        data["timestamp"] = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        if self._token:
            data["app_auth_token"] = self._token
        return data


class _PublicKeyMode(_Ours, AliPay):  # type: ignore[misc]
    pass


class _CertificateMode(_Ours, DCAliPay):  # type: ignore[misc]
    pass


def _signer(keys: AlipayKeys, gateway: str, notify_url: str | None) -> Any:
    made: Any
    if keys.certificate_mode:
        made = _certificate_mode(keys, notify_url)
    else:
        made = _PublicKeyMode(
            appid=keys.app_id,
            app_notify_url=notify_url,
            app_private_key_string=keys.app_private_key,
            alipay_public_key_string=keys.alipay_public_key,
            sign_type="RSA2",
        )
    made._token = keys.app_auth_token
    # Never the package's own (the real Alipay's): nothing of ours may go there by mistake.
    made._gateway = gateway
    return made


def _certificate_mode(keys: AlipayKeys, notify_url: str | None) -> Any:
    """The package's certificate-mode signer, its certificates' numbers worked out now:
    a certificate it cannot read fails here, before anything is sent."""
    try:
        made = _CertificateMode(
            appid=keys.app_id,
            app_private_key_string=keys.app_private_key,
            app_public_key_cert_string=keys.app_cert,
            alipay_public_key_cert_string=keys.alipay_cert,
            alipay_root_cert_string=keys.alipay_root_cert,
            app_notify_url=notify_url,
            sign_type="RSA2",
        )
    except Exception:  # pyOpenSSL's and the package's own errors alike
        raise bad_secret("alipay_cert") from None
    try:
        app_sn = made.app_cert_sn
    except Exception:
        raise bad_secret("app_cert") from None
    try:
        # None when the chain holds no RSA certificate: Alipay's root is among them.
        root_sn = made.alipay_root_cert_sn
    except Exception:
        root_sn = None
    if not app_sn or not root_sn:
        raise bad_secret("app_cert" if not app_sn else "alipay_root_cert")
    return made


def signed_member(raw: str, name: str) -> str | None:
    """The exact text of the top-level member ``name`` of the JSON object ``raw`` (what
    Alipay signs), or None when there is no such member."""
    decoder = json.JSONDecoder()
    at = raw.find("{")
    if at < 0 or raw[:at].strip():
        return None
    at += 1
    while True:
        while at < len(raw) and raw[at] in " \t\r\n,":
            at += 1
        if at >= len(raw) or raw[at] == "}":
            return None
        key, at = decoder.raw_decode(raw, at)
        while raw[at] in " \t\r\n:":
            at += 1
        start = at
        _, at = decoder.raw_decode(raw, at)
        if key == name:
            return raw[start:at]


class AlipayClient:
    """One channel's signer and the shared connection pool; safe to share by threads."""

    def __init__(
        self, keys: AlipayKeys, *, gateway: str, notify_url: str | None, http: httpx.Client
    ) -> None:
        self.keys = keys
        self.gateway = gateway
        self._http = http
        self._signer = _signer(keys, gateway, notify_url)

    def signed_form(self, method: str, biz: dict[str, Any]) -> str:
        """The request as sent: the form, signed (also what tests verify)."""
        data = self._signer.build_body(method, dict(biz))
        form: str = self._signer.sign_data(data)
        return form

    def verify(self, text: str, signature: str) -> bool:
        """Whether ``signature`` is Alipay's over ``text`` (the channel's trusted key)."""
        try:
            return bool(self._signer._verify(text, signature))
        except (ValueError, TypeError):  # not base64, not a signature of the key's size
            return False

    def call(self, method: str, biz: dict[str, Any], seconds: float, connect: float) -> Reply:
        """Call ``method`` within ``seconds`` in all: the verified answer, or :class:`NoReply`."""
        try:
            form = self.signed_form(method, biz)
        except Exception as exc:  # the package raises bare exceptions and assertions
            raise NoReply(f"request not signed: {type(exc).__name__}") from None
        headers = {"Content-Type": _FORM, "Accept": "application/json", "User-Agent": _USER_AGENT}
        status, body = send_within(
            self._http,
            "POST",
            self.gateway,
            seconds=seconds,
            connect=connect,
            limit=_MAX_REPLY,
            content=form,
            headers=headers,
        )
        if status != 200:
            raise NoReply(f"HTTP {status}")
        try:
            raw = body.decode("utf-8")
            whole = json.loads(raw)
        except ValueError:
            raise NoReply("reply not JSON") from None
        if not isinstance(whole, dict):
            raise NoReply("reply not a JSON object")
        name = method.replace(".", "_") + "_response"
        if name not in whole:
            name = "error_response"
        sign = whole.get("sign")
        try:
            text = signed_member(raw, name)
        except (ValueError, IndexError):
            text = None
        if text is None or not isinstance(whole.get(name), dict):
            raise NoReply("no answer in the reply")
        if not isinstance(sign, str) or not sign:
            raise NoReply("reply not signed")
        if not self.verify(text, sign):
            raise NoReply("reply not verified")
        data: dict[str, Any] = whole[name]
        return Reply(data)

    def download(self, url: str, seconds: float, connect: float) -> bytes:
        """The file at ``url`` (a bill), over TLS, or plain HTTP on this machine only."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not host or not (
            parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))
        ):
            raise NoReply("a download link not taken")
        status, body = send_within(
            self._http, "GET", url, seconds=seconds, connect=connect, limit=_MAX_FILE
        )
        if status != 200:
            raise NoReply(f"HTTP {status}")
        return body
