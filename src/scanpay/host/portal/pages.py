"""Page responses and the portal's error pages (what every route module shares)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scanpay.host.portal.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    PortalRefusal,
    Viewer,
    viewer,
)
from scanpay.host.portal.render import render

__all__ = ["install_handlers", "page", "redirect", "set_session_cookie"]


def page(
    v: Viewer, name: str, *, http_status: int = 200, section: str = "", **context: Any
) -> HTMLResponse:
    """The template ``name`` for viewer ``v`` (with the pre-session CSRF cookie when new)."""
    response = render(
        name,
        lang=v.lang,
        zone=v.ctx.settings.zone,
        status=http_status,
        user=v.user,
        csrf=v.csrf,
        here=v.path,
        section=section,
        **context,
    )
    if v.fresh_csrf:
        response.set_cookie(
            CSRF_COOKIE, v.csrf, httponly=True, samesite="strict", secure=v.secure, path="/portal"
        )
    return response


def redirect(location: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser GETs the next page."""
    return RedirectResponse(location, status_code=303)


def set_session_cookie(response: Response, token: str, secure: bool) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site
    sends it), the portal's path only, ended with the browser."""
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/portal"
    )


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalRefusal)
    v = await run_in_threadpool(viewer, request)
    message = exc.text.get(v.lang)
    return page(v, "error.html", http_status=exc.status, status_code=exc.status, message=message)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return redirect("/portal/login?next=" + quote(exc.next_path, safe="/"))


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PortalRefusal, _refused)
    app.add_exception_handler(LoginRequired, _login_required)
