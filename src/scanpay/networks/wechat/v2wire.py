"""API v2 on the wire, by hand: XML over HTTPS, MD5 or HMAC-SHA256, replies checked.

No package does v2 micropay well (``wechatpy`` has not been released since 2021),
and the protocol is small:

- a request is ``<xml>`` of flat fields with ``appid``, ``mch_id``, ``nonce_str``,
  ``sign_type`` (HMAC-SHA256; MD5 is the default and is not sent) and ``sign``:
  the non-empty fields but ``sign`` sorted by name as ``k=v&…&key=API_KEY``,
  MD5 or HMAC-SHA256 (keyed with the API key), upper-case hex;
- ``return_code`` is about the call only. FAIL (unreadable, unknown merchant,
  bad signature: ``return_msg`` says) is unsigned, so it is :class:`V2Fail`, no
  answer the adapter may act on. SUCCESS replies are signed the request's way:
  one whose ``sign`` is missing or wrong is :class:`NoReply`, never believed;
- ``/secapi/`` (reverse, refund) needs the merchant's TLS client certificate:
  the channel's ``client_cert`` and ``client_key``, loaded into the client's TLS
  context from memory (Linux ``memfd``; elsewhere a private temporary file,
  removed as soon as it is read).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import ssl
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from scanpay.networks.wechat.config import V2Keys
from scanpay.networks.wechat.v3client import NoReply

__all__ = ["V2Client", "V2Fail", "client_context", "parse_xml", "sign", "to_xml"]


class V2Fail(NoReply):
    """``return_code`` FAIL: the network did not take the call (unsigned, so unproven)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"return_code FAIL: {message}")
        self.message = message


def sign(params: Mapping[str, str], key: str, sign_type: str) -> str:
    pairs = [f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != ""]
    text = "&".join([*pairs, f"key={key}"]).encode()
    if sign_type == "MD5":
        return hashlib.md5(text).hexdigest().upper()
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), text, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unknown sign_type {sign_type!r}")


def to_xml(params: Mapping[str, str]) -> bytes:
    parts = ["<xml>"]
    for key, value in params.items():
        safe = value.replace("]]>", "]]]]><![CDATA[>")
        parts.append(f"<{key}><![CDATA[{safe}]]></{key}>")
    parts.append("</xml>")
    return "".join(parts).encode()


def parse_xml(body: bytes) -> dict[str, str] | None:
    """``<xml><k>v</k>…</xml>`` as a dict; None when it is not that. A reply declaring
    a DTD or entities is refused before it is parsed."""
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag != "xml":
        return None
    return {child.tag: child.text or "" for child in root}


@contextmanager
def _pem_path(text: str) -> Iterator[str]:
    # ssl loads a certificate chain from files only. memfd: the key never touches a disk.
    data = text.encode()
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("scanpay-wechat-pem", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    fd, path = tempfile.mkstemp(prefix="scanpay-pem-")  # 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        os.unlink(path)


def client_context(cert: str, key: str) -> ssl.SSLContext:
    """A TLS context presenting the merchant's client certificate; ``ssl.SSLError`` when
    the pair does not load."""
    context = ssl.create_default_context()
    with _pem_path(cert) as cert_path, _pem_path(key) as key_path:
        context.load_cert_chain(cert_path, key_path)
    return context


class V2Client:
    """One set of v2 credentials (app id, merchant id, API key, client certificate)."""

    def __init__(
        self, keys: V2Keys, *, appid: str, mchid: str, gateway: str, http: httpx.Client
    ) -> None:
        self._keys = keys
        self._appid = appid
        self._mchid = mchid
        self._gateway = gateway
        self._http = http

    @property
    def sign_type(self) -> str:
        return self._keys.sign_type

    def call(
        self, path: str, params: Mapping[str, str], seconds: float, connect: float
    ) -> dict[str, str]:
        """POST ``params`` to ``path``; the reply's fields once its signature is checked.
        :class:`NoReply` (or :class:`V2Fail`) when there is no reply to believe."""
        body = {"appid": self._appid, "mch_id": self._mchid, "nonce_str": secrets.token_hex(16)}
        # Stripped: the network reads values stripped, and checks the signature over them.
        body.update({k: v.strip() for k, v in params.items() if v.strip()})
        if self._keys.sign_type != "MD5":
            body["sign_type"] = self._keys.sign_type
        body["sign"] = sign(body, self._keys.api_key, self._keys.sign_type)
        try:
            response = self._http.post(
                self._gateway + path,
                content=to_xml(body),
                headers={"Content-Type": "text/xml; charset=utf-8"},
                timeout=httpx.Timeout(seconds, connect=min(connect, seconds)),
            )
        except httpx.TimeoutException:
            raise NoReply("timeout") from None
        except httpx.HTTPError as exc:  # refused, reset, closed without a reply, TLS...
            raise NoReply(type(exc).__name__) from None
        if response.status_code != 200:
            raise NoReply("HTTP error", response.status_code)
        reply = parse_xml(response.content)
        if reply is None:
            raise NoReply("reply not XML")
        if reply.get("return_code") != "SUCCESS":
            raise V2Fail(reply.get("return_msg") or "?")
        given = reply.get("sign", "")
        expected = sign(reply, self._keys.api_key, self._keys.sign_type)
        if not hmac.compare_digest(given.upper().encode(), expected.encode()):
            raise NoReply("reply signature wrong or missing")
        if reply.get("mch_id", self._mchid) != self._mchid:
            raise NoReply("reply for another merchant")
        return reply
