"""The signed envelope around the terminal API (an ASGI middleware).

For every request under ``/v1/`` (activation aside) it reads the body (up to
the size limit), authenticates the signature, timestamp and nonce, checks
the software version, and hands the terminal's identity to the routes in the
request state. Whatever the route answers, errors included, goes back signed
with the terminal's key, echoing the request's nonce and - for a terminal that
asks for signature version 2 - bound to the request's own signature, so a reply
answers that request and no other (:mod:`scanpay.protocol.signing`).
Activation answers are signed with the key they hand out.

The rule, in one sentence: every answer to a request whose terminal is known and
whose signature verified under one of that terminal's keys is signed with that
key and echoes that request's nonce; every other answer is unsigned. So a
refusal before that point (no or malformed headers, an unknown terminal, a bad
signature, a body too large to read, an unsupported signature version, a crash
before the key is read) goes out unsigned: the terminal takes it as no answer
and queries. Signing it would let anyone turn the terminal's own nonce into a
signed "no". After that point everything is signed, a crash (500 / 96) too.
The one exception is activation, whose request carries no signature: its
success is signed with the key it hands out, over the request's nonce when it
sent one (16-64 lower-case hex, else refused 400 / 30 before the code is used)
or a fresh one the host picks.

A version 1 terminal (no ``X-Scanpay-Signature-Version``) still gets unbound
replies until ``legacy_signature_until``; after that day it is refused with
426 / 26 UPGRADE_REQUIRED, signed the way it can read.

An event stream (a reply with ``X-Scanpay-Stream: events``) cannot be held
back until it ends: its headers go out at once, signed over the empty body,
and each event is signed by itself (:mod:`scanpay.host.api.events`).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanpay.host.api.errors import error_response
from scanpay.host.api.events import HEADER_STREAM
from scanpay.host.errors import HostError
from scanpay.host.services import terminals
from scanpay.host.services.auth import SecurityError, TerminalIdentity, authenticate
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text
from scanpay.protocol.duplicate_keys import first_duplicate_key
from scanpay.protocol.signing import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_VERSION,
    HEADER_TERMINAL,
    HEADER_TIMESTAMP,
    SIGNATURE_VERSION,
    is_valid_nonce,
    legacy_response_message,
    response_message,
    sign,
)

__all__ = [
    "HEADER_SOFTWARE_VERSION",
    "STATE_IDENTITY",
    "STATE_SIGNING",
    "SignedEnvelope",
]

log = logging.getLogger("scanpay.host.security")

HEADER_SOFTWARE_VERSION = "X-Scanpay-Software-Version"
STATE_IDENTITY = "scanpay_terminal"
STATE_SIGNING = "scanpay_signing"  # (terminal_id, key_hex) set by activation
_UNSIGNED = frozenset({"/v1/terminals/activate"})
#: What a terminal below the minimum version may still do: read (its self-test sees the
#: minimum; a sale in doubt is queried) and undo (reverse a payment, close an order), so
#: that an upgrade never strands money. Whatever takes new money is refused (426 / 26).
_RESOLVING_METHODS = frozenset({"GET", "HEAD"})
_RESOLVING_POSTS = re.compile(r"^/v1/(payments/[^/]+/reverse|orders/[^/]+/close)$")


def _resolving(method: str, path: str) -> bool:
    """Whether the request only reads or undoes (open to outdated terminals)."""
    return method in _RESOLVING_METHODS or (
        method == "POST" and _RESOLVING_POSTS.match(path) is not None
    )


#: The wallet's routes are not signed, but their bodies are read whole too: the same limit
#: (a 300 MB body to /wallet/v1/preview cost the host over a gigabyte before it said 400).
_BOUNDED = "/wallet/v1/"
#: The picture upload of the wallet page (``MAX_IMAGE``, 4 MiB) and its multipart framing.
_UPLOAD_LIMITS = {"/wallet/v1/me/scan": 4 * 1024 * 1024 + 65_536}


class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Binding:
    """What a reply's signature answers: the request's nonce and, for a version 2
    terminal, the request's own signature (None: a version 1 terminal)."""

    nonce: str
    request_signature: str | None

    @classmethod
    def of(cls, headers: dict[str, str]) -> _Binding | None:
        """The binding the request asks for; None for a version this host does not speak."""
        nonce = headers.get(HEADER_NONCE.lower(), "")
        version = headers.get(HEADER_SIGNATURE_VERSION.lower())
        if version is None:
            return cls(nonce, None)
        if version.strip() != str(SIGNATURE_VERSION):
            return None
        return cls(nonce, headers.get(HEADER_SIGNATURE.lower(), "").strip().lower())

    def message(self, status: int, stamp: int, nonce: str, body: bytes) -> bytes:
        if self.request_signature is None:
            return legacy_response_message(status, stamp, nonce, body)
        return response_message(status, stamp, nonce, body, self.request_signature)


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the real channel
    (for the disconnect message)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _repeated_key(headers: dict[str, str], body: bytes) -> JSONResponse | None:
    """400 / 30 naming a key a JSON body repeats (:mod:`scanpay.protocol.duplicate_keys`)."""
    if not body or "json" not in headers.get("content-type", "json"):
        return None
    key = first_duplicate_key(body)
    if key is None:
        return None
    text = Text(f"请求中字段重复：{key}", f"the field {key} appears more than once in the body")
    return error_response("30", text, field=key)


class SignedEnvelope:
    """ASGI middleware: authenticate terminal requests, sign every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            if scope["type"] == "http" and scope["path"].startswith(_BOUNDED):
                await self._bounded(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        ctx: HostContext = scope["app"].state.ctx
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        binding = _Binding.of(headers)
        if binding is None:
            text = Text(
                f"签名版本不受支持（支持 {SIGNATURE_VERSION}）",
                f"unsupported signature version (this host speaks {SIGNATURE_VERSION})",
            )
            unsigned = _Binding(headers.get(HEADER_NONCE.lower(), ""), None)
            reply = error_response("63", text, field=HEADER_SIGNATURE_VERSION)
            await self._send(reply, send, None, unsigned, ctx)
            return
        signing: tuple[str, str] | None = None
        try:
            body = await _read_body(receive, ctx.settings.max_body)
        except _TooLarge:
            # Unsigned: a body not read cannot have been authenticated.
            text = Text("请求体过大", f"the body is larger than {ctx.settings.max_body} bytes")
            await self._send(error_response("30", text, status=413), send, None, binding, ctx)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        if scope["path"] in _UNSIGNED and binding.nonce and not is_valid_nonce(binding.nonce):
            # Refused before the activation code is spent: its signed answer could not
            # echo this nonce, and one signed over another nonce answers nothing.
            text = Text(
                "随机数格式错误（16-64 位小写十六进制）",
                "the nonce must be 16-64 lower-case hex characters",
            )
            reply = error_response("30", text, field=HEADER_NONCE)
            await self._send(reply, send, None, binding, ctx)
            return
        if scope["path"] not in _UNSIGNED:
            try:
                identity = await run_in_threadpool(self._authenticate, ctx, scope, headers, body)
            except SecurityError as exc:
                terminal = headers.get(HEADER_TERMINAL.lower(), "")
                refusal = (terminal, exc.signing_key) if exc.signing_key else None
                log.warning("refused %s %s: %s", scope["method"], scope["path"], exc.text.en)
                reply = error_response(exc.code, exc.text, field=exc.field)
                await self._send(reply, send, refusal, binding, ctx)
                return
            except (OperationalError, InterfaceError) as exc:
                # No database, so no key to sign with: "unknown, query later" (91), which
                # a terminal treats as no answer, never as a decline.
                log.warning("database unavailable: %s", type(exc).__name__)
                await self._send(error_response("91"), send, None, binding, ctx)
                return
            except Exception:
                # A crash before the terminal's key is known (a key that will not open):
                # the one ErrorBody shape, unsigned like every answer without a key.
                log.exception("authentication failed on %s %s", scope["method"], scope["path"])
                await self._send(error_response("96"), send, None, binding, ctx)
                return
            signing = (identity.terminal_id, identity.key_hex)
            state[STATE_IDENTITY] = identity
            try:
                if binding.request_signature is None:
                    terminals.check_legacy_signature(ctx)
                if not _resolving(scope["method"], scope["path"]):
                    terminals.check_version(ctx, headers.get(HEADER_SOFTWARE_VERSION.lower()))
            except HostError as exc:
                reply = error_response(exc.code, exc.text, field=exc.field)
                await self._send(reply, send, signing, binding, ctx)
                return

        repeated = _repeated_key(headers, body)
        if repeated is not None:
            await self._send(repeated, send, signing, binding, ctx)
            return
        replay = _replaying(body, receive)
        start: Message | None = None
        chunks: list[bytes] = []
        streaming = False

        async def capture(message: Message) -> None:
            nonlocal start, streaming
            if message["type"] == "http.response.start":
                marker = HEADER_STREAM.lower().encode()
                if any(k.lower() == marker for k, _ in message.get("headers", [])):
                    # An event stream: headers now (signed over no body), events as they come.
                    streaming = True
                    await self._start(message, b"", send, signing, binding, ctx)
                    return
                start = message
            elif message["type"] == "http.response.body":
                if streaming:
                    await send(message)
                else:
                    chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay, capture)
        except Exception:
            if streaming:  # the reply has begun: all that is left is to end it
                log.exception("event stream failed on %s %s", scope["method"], scope["path"])
                return
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            start, chunks = None, []
        if streaming:
            return
        signing = state.get(STATE_SIGNING) or signing
        if start is None:
            await self._send(error_response("96"), send, signing, binding, ctx)
            return
        await self._finish(start, b"".join(chunks), send, signing, binding, ctx)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An unsigned route with a body: 413 past the limit, else on to the app."""
        ctx: HostContext = scope["app"].state.ctx
        limit = _UPLOAD_LIMITS.get(scope["path"], ctx.settings.max_body)
        try:
            body = await _read_body(receive, limit)
        except _TooLarge:
            text = Text("请求体过大", f"the body is larger than {limit} bytes")
            await error_response("30", text, status=413)(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        repeated = _repeated_key(headers, body)
        if repeated is not None:
            await repeated(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    @staticmethod
    def _authenticate(
        ctx: HostContext, scope: Scope, headers: dict[str, str], body: bytes
    ) -> TerminalIdentity:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        return authenticate(
            ctx,
            terminal_id=headers.get(HEADER_TERMINAL.lower()),
            timestamp=headers.get(HEADER_TIMESTAMP.lower()),
            nonce=headers.get(HEADER_NONCE.lower()),
            signature=headers.get(HEADER_SIGNATURE.lower()),
            method=scope["method"],
            path=path,
            body=body,
        )

    async def _send(
        self,
        response: Any,
        send: Send,
        signing: tuple[str, str] | None,
        binding: _Binding,
        ctx: HostContext,
    ) -> None:
        start: Message = {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": list(response.raw_headers),
        }
        await self._finish(start, bytes(response.body), send, signing, binding, ctx)

    @classmethod
    async def _finish(
        cls,
        start: Message,
        body: bytes,
        send: Send,
        signing: tuple[str, str] | None,
        binding: _Binding,
        ctx: HostContext,
    ) -> None:
        await cls._start(start, body, send, signing, binding, ctx)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    @staticmethod
    async def _start(
        start: Message,
        body: bytes,
        send: Send,
        signing: tuple[str, str] | None,
        binding: _Binding,
        ctx: HostContext,
    ) -> None:
        """Send the reply's start with the signature over ``body`` (empty for a stream)."""
        headers = list(start.get("headers", []))
        if signing is not None:
            terminal_id, key = signing
            stamp = int(ctx.now().timestamp())
            # The request's nonce (checked before anything is signed); only an activation
            # request may come without one, and then the host picks the reply's.
            reply_nonce = binding.nonce or secrets.token_hex(16)
            signature = sign(key, binding.message(start["status"], stamp, reply_nonce, body))
            headers += [
                (HEADER_TERMINAL.lower().encode(), terminal_id.encode()),
                (HEADER_TIMESTAMP.lower().encode(), str(stamp).encode()),
                (HEADER_NONCE.lower().encode(), reply_nonce.encode()),
                (HEADER_SIGNATURE.lower().encode(), signature.encode()),
            ]
        await send({**start, "headers": headers})
