"""The cashier screen: a static single-page app the agent serves at ``/``.

Plain HTML, CSS and JavaScript modules shipped inside the package (no CDN, no
build step). The page drives the agent's JSON API (``/api/...``) with the
session cookie set at login, and never loads anything from another origin:
every page and asset is sent with a strict Content-Security-Policy.

:func:`install` adds the page and its assets to the agent's FastAPI app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["CSP", "STATIC_DIR", "install"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Where the page's files are (``index.html``, ``app.css``, ``js/``)."""

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "frame-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""Content-Security-Policy of the page: only this agent's own scripts, styles and data."""

_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


def _is_page(path: str) -> bool:
    return path == "/" or path.startswith("/ui/")


def install(app: FastAPI) -> None:
    """Serve the cashier screen at ``/`` and its assets under ``/ui/``."""
    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="ui")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.middleware("http")
    async def page_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if _is_page(request.url.path):
            for name, value in _HEADERS.items():
                response.headers.setdefault(name, value)
        return response
