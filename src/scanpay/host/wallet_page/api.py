"""The wallet page's routes: the page itself (``/wallet/``), its assets
(``/wallet/static/...``) and its session-authenticated JSON under ``/wallet/v1/``.

- ``POST /wallet/v1/session {account, pin}``: log in (cookie set, CSRF token returned);
  ``GET`` who is logged in (and the CSRF token); ``DELETE`` log out (every session of
  the account ends, on the server);
- ``GET /wallet/v1/me``: balance, payments waiting for the PIN, history;
- ``POST /wallet/v1/me/code``: a fresh one-time code (digits, QR and Code 128 as SVG);
- ``POST /wallet/v1/me/confirm {pin, payment_id?}``: confirm a payment waiting for the PIN;
- ``POST /wallet/v1/me/preview {payload}``: payee and amount of a merchant's QR;
- ``POST /wallet/v1/me/pay {payload, pin?}``: pay it (with a fresh code of this account);
- ``POST /wallet/v1/me/scan?live=`` (multipart ``file``): read a merchant's QR in a picture.

Every ``POST``/``DELETE`` but the login needs the ``X-Wallet-CSRF`` header;
refusals have the host's one error shape. A session is accepted only while its
account is at the session generation it was issued under (see ``session``).
Refusals that say "later" (429: logins slowed; 503: the host's password hashing
is full) carry ``Retry-After``. Every refusal and decline a person can meet here
is in the words of :mod:`scanpay.host.wallet_page.words`, naming its field: a
malformed request gets the field's own message, never pydantic's.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from scanpay.host.api.deps import HostDep
from scanpay.host.api.errors import error_response
from scanpay.host.errors import HostError
from scanpay.host.services import orders, pin_waits
from scanpay.host.services.context import HostContext
from scanpay.host.services.hashing import HashBusy
from scanpay.host.wallet_page import service, words
from scanpay.host.wallet_page.session import (
    COOKIE,
    CSRF_HEADER,
    SessionCodec,
    WalletSession,
)
from scanpay.i18n import Text
from scanpay.protocol.models import ErrorBody

__all__ = [
    "CSP",
    "STATIC_DIR",
    "Refused",
    "Wallet",
    "WalletDep",
    "busy_response",
    "refused_handler",
    "router",
    "validation_handler",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "X-Frame-Options": "DENY",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
MAX_IMAGE = 4 * 1024 * 1024

#: Refusals of the page's JSON routes (all ``ErrorBody``), so the OpenAPI document
#: names every status they answer with.
_REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "ErrorBody with code 30: malformed request"},
    401: {
        "model": ErrorBody,
        "description": "ErrorBody with code 63 (not logged in), 55 (wrong PIN) or 75 (locked)",
    },
    403: {"model": ErrorBody, "description": "ErrorBody with code 63: CSRF or origin refused"},
    404: {"model": ErrorBody, "description": "ErrorBody with code 25: no such order or payment"},
    413: {"model": ErrorBody, "description": "ErrorBody with code 30: the body is too large"},
    429: {
        "model": ErrorBody,
        "description": "ErrorBody with code 57: too many failed logins (see Retry-After)",
    },
    503: {
        "model": ErrorBody,
        "description": "ErrorBody with code 91: the host is busy checking PINs (see Retry-After)",
    },
}

router = APIRouter(tags=["wallet page"], responses=_REFUSALS)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9]+$")]
    pin: Annotated[str, Field(min_length=1, max_length=12)]


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: Annotated[str, Field(min_length=1, max_length=12)]
    payment_id: Annotated[str, Field(max_length=32)] | None = None


class PayloadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: Annotated[str, Field(min_length=1, max_length=1024)]
    pin: Annotated[str, Field(min_length=1, max_length=12)] | None = None


# ------------------------------------------------------------------ the page


@router.get("/wallet", include_in_schema=False)
def wallet_redirect() -> RedirectResponse:
    return RedirectResponse("/wallet/", status_code=308)


@router.get("/wallet/", include_in_schema=False)
def wallet_page() -> FileResponse:
    """The wallet page (a static single-page app)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=_PAGE_HEADERS)


@router.get("/wallet/static/{path:path}", include_in_schema=False)
def wallet_asset(path: str) -> Response:
    """The page's scripts, styles and images; nothing outside its folder."""
    missing = error_response("25", Text("没有这个文件", "no such file"))
    try:
        target = (STATIC_DIR / path).resolve()
        if not target.is_relative_to(STATIC_DIR) or not target.is_file():
            return missing
    except (ValueError, OSError):  # a NUL in the path (%00), a name too long: no such file
        return missing
    media = _TYPES.get(target.suffix, "application/octet-stream")
    return FileResponse(target, media_type=media, headers=_PAGE_HEADERS)


# ------------------------------------------------------------------ sessions


def _codec(request: Request, ctx: HostContext) -> SessionCodec:
    codec: SessionCodec | None = getattr(request.app.state, "wallet_sessions", None)
    if codec is None:
        from scanpay.host.services.secrets import load_master_key

        codec = SessionCodec(load_master_key(ctx.settings))
        request.app.state.wallet_sessions = codec
    return codec


def _set_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/wallet",
    )


class Refused(Exception):
    """A wallet request refused with ``response`` (raised from a route or a dependency)."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        from urllib.parse import urlsplit

        if urlsplit(origin).netloc != request.headers.get("host"):
            return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


class Wallet:
    """The logged-in account of a request (a route dependency)."""

    def __init__(self, ctx: HostContext, session: WalletSession, codec: SessionCodec) -> None:
        self.ctx = ctx
        self.session = session
        self.codec = codec

    @property
    def account(self) -> str:
        return self.session.account


def _session(request: Request, ctx: HostContext) -> tuple[SessionCodec, WalletSession]:
    """The request's session, its CSRF token checked for anything but a read."""
    codec = _codec(request, ctx)
    now = int(time.time())
    session = codec.read(request.cookies.get(COOKIE), now)
    # A logout, a PIN lock or a PIN change moved the account's generation on: over.
    if session is not None and service.session_epoch(ctx, session.account) != session.epoch:
        session = None
    if session is None:
        raise Refused(
            error_response("63", Text("请先登录钱包", "Please log in to the wallet"), status=401)
        )
    if request.method not in ("GET", "HEAD") and (
        not codec.csrf_ok(session, request.headers.get(CSRF_HEADER)) or not _same_origin(request)
    ):
        raise Refused(
            error_response(
                "63",
                Text("无法验证此页面，请刷新后重试", "This page could not be checked; reload it"),
                status=403,
            )
        )
    return codec, session


def _wallet(request: Request, response: Response, ctx: HostDep) -> Wallet:
    codec, session = _session(request, ctx)
    token, renewed = codec.renew(session, int(time.time()))
    _set_cookie(request, response, token)
    response.headers["Cache-Control"] = "no-store"
    return Wallet(ctx, renewed, codec)


WalletDep = Annotated[Wallet, Depends(_wallet)]


def busy_response(busy: HashBusy) -> JSONResponse:
    """The answer when the host's PIN hashing is full: 503, code 91, ``Retry-After``."""
    answer = error_response(busy.code, busy.text, status=503)
    answer.headers["Retry-After"] = str(busy.retry_after)
    return answer


def refused_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Turns a refused wallet request into its error answer (registered on the app)."""
    assert isinstance(exc, Refused)
    return exc.response


Handler = Callable[[Request, Exception], Any]


def validation_handler(fallback: Handler | None) -> Handler:
    """The app's handler of malformed requests, with the wallet page's routes answered
    in the page's words (code 30, the field named); every other route: ``fallback``."""

    async def handle(request: Request, exc: Exception) -> Any:
        if request.url.path.startswith("/wallet/v1/") or fallback is None:
            assert isinstance(exc, RequestValidationError)
            text, field = words.validation_text(exc.errors())
            return error_response("30", text, field=field)
        answer = fallback(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


def _refusal(exc: HostError) -> Refused:
    """A refusal from the host's services, in the page's words."""
    text = words.host_refusal(exc.code, exc.field, exc.text)
    return Refused(error_response(exc.code, text, field=exc.field, status=exc.http_status))


@router.post("/wallet/v1/session")
async def log_in(body: LoginIn, request: Request, ctx: HostDep) -> JSONResponse:
    """Log in with the account number and the six-digit PIN. A wrong PIN or an unknown
    account: 401 with code 55, one answer for both. Failures in a row from one client or
    on one account number slow the next tries: 429 with code 57 and ``Retry-After``
    (the PIN is not checked then). A login never locks the account's payments. 503 with
    code 91 and ``Retry-After`` when the host checks all the PINs it can. Sets an
    HttpOnly SameSite=Strict cookie; the answer holds the CSRF token."""
    if not _same_origin(request):
        return error_response("63", words.LOGIN_ELSEWHERE, status=403)
    client = request.client.host if request.client else "-"
    try:
        done = await run_in_threadpool(service.login, ctx, body.account, body.pin, client)
    except service.LoginRefused as refused:
        answer = error_response(
            refused.code, refused.text, field=refused.field, status=refused.status
        )
        if refused.retry_after is not None:
            answer.headers["Retry-After"] = str(refused.retry_after)
        return answer
    except HashBusy as busy:
        return busy_response(busy)
    info = done.info
    codec = _codec(request, ctx)
    token, session = codec.issue(info.account, done.epoch, int(time.time()))
    answer = JSONResponse(
        {"account": info.account, "name": info.name, "csrf": codec.csrf(session)},
        headers={"Cache-Control": "no-store"},
    )
    _set_cookie(request, answer, token)
    return answer


@router.get("/wallet/v1/session")
def who(wallet: WalletDep) -> dict[str, Any]:
    """The logged-in account and its CSRF token (401 when nobody is logged in)."""
    return {"account": wallet.account, "csrf": wallet.codec.csrf(wallet.session)}


@router.delete("/wallet/v1/session", status_code=204)
def log_out(request: Request, response: Response, ctx: HostDep) -> None:
    """Log out: every session of the account ends on the server (a copy of the cookie
    opens nothing any more), and the cookie is removed."""
    _, session = _session(request, ctx)
    service.logout(ctx, session.account, session.epoch)
    response.delete_cookie(COOKIE, path="/wallet", httponly=True, samesite="strict")


# ------------------------------------------------------------------ the account


@router.get("/wallet/v1/me")
async def me(wallet: WalletDep) -> dict[str, Any]:
    """Balance and state, the payments waiting for the PIN, and the recent history."""
    return await run_in_threadpool(service.account_view, wallet.ctx, wallet.account)


@router.post("/wallet/v1/me/code")
async def new_code(wallet: WalletDep) -> dict[str, Any]:
    """A fresh one-time payment code (digits, QR and Code 128 as SVG data URIs) and when
    it expires. Each code pays once; the page asks for a new one before it expires."""
    return await run_in_threadpool(service.code_view, wallet.ctx, wallet.account)


@router.post("/wallet/v1/me/confirm")
async def confirm(body: ConfirmIn, wallet: WalletDep) -> dict[str, Any]:
    """Confirm a payment waiting for this account's PIN (code 00 paid, 55 wrong PIN with
    ``tries_left``, 75 locked, 51 funds, 12 closed)."""
    try:
        done = await run_in_threadpool(
            pin_waits.confirm_with_pin, wallet.ctx, wallet.account, body.pin, body.payment_id
        )
    except HashBusy as busy:
        raise Refused(busy_response(busy)) from None
    except HostError as exc:
        raise _refusal(exc) from None
    host_text = Text(done.message.zh_cn, done.message.en)
    status = done.payment.status.value
    text = words.confirm_text(done.code, status, done.tries_left, host_text)
    return {
        "code": done.code,
        "message": text.as_dict(),
        "tries_left": done.tries_left,
        "merchant_name": done.merchant_name,
        "payment_id": done.payment.payment_id,
        "status": done.payment.status.value,
    }


@router.post("/wallet/v1/me/preview")
async def preview(body: PayloadIn, wallet: WalletDep) -> dict[str, Any]:
    """Who a scanned merchant QR pays, how much, and whether this account needs its PIN."""
    try:
        seen = await run_in_threadpool(orders.preview, wallet.ctx, body.payload, wallet.account)
    except HostError as exc:
        raise _refusal(exc) from None
    from scanpay.money import format_amount

    return {
        "order_id": seen.order_id,
        "merchant_name": seen.merchant_name,
        "merchant_city": seen.merchant_city,
        "amount": seen.amount,
        "amount_text": format_amount(seen.amount, seen.currency),
        "currency": seen.currency,
        "description": seen.description,
        "status": str(seen.status),
        "payable": seen.payable,
        "expires_at": seen.expires_at.timestamp(),
        "pin_required": seen.pin_required,
    }


@router.post("/wallet/v1/me/pay")
async def pay(body: PayloadIn, wallet: WalletDep) -> dict[str, Any]:
    """Pay a merchant's order QR with a fresh one-time code of this account (and the PIN
    when the amount needs it): the same checks as ``/wallet/v1/pay``."""

    def run() -> Any:
        digits, _ = service.fresh_code(wallet.ctx, wallet.account)
        return orders.pay(wallet.ctx, body.payload, digits, body.pin)

    try:
        done = await run_in_threadpool(run)
    except HashBusy as busy:
        raise Refused(busy_response(busy)) from None
    except HostError as exc:
        raise _refusal(exc) from None
    return {
        "code": done.code,
        "message": done.message.as_dict(),
        "order_id": done.order_id,
        "order_status": str(done.order_status),
        "merchant_name": done.merchant_name,
        "amount": done.amount,
        "currency": done.currency,
        "payment_id": done.payment_id,
        "refunded": done.refunded,
        "tries_left": done.tries_left,
    }


@router.post("/wallet/v1/me/scan")
async def scan(
    wallet: WalletDep,
    file: Annotated[UploadFile, File(description="A photo or camera frame of a merchant's QR")],
    live: Annotated[
        bool, Query(description="A live camera frame (short budget, guidance)")
    ] = False,
) -> dict[str, Any]:
    """Read a merchant's QR with ``scanpay.vision``: its text, or what to fix (live frames)."""
    data = await file.read(MAX_IMAGE + 1)
    if len(data) > MAX_IMAGE:
        return {"text": None, "guidance": None, "error": "too_large"}
    return await run_in_threadpool(service.read_merchant_code, data, live=live)
