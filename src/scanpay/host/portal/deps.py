"""What every portal route needs: the viewer (session, language, CSRF token), the guards
that keep each page to its users, and the portal's refusals.

- :func:`viewer` reads the session cookie (``scanpay_portal``: a random token,
  HttpOnly, SameSite=Strict) and the language cookie.
- :func:`checked_form` is on every ``POST``: the form's ``csrf`` field must be
  the session's CSRF token (before login: the value of the pre-session cookie
  ``scanpay_portal_csrf``, double-submit), and an ``Origin`` header, when the
  browser sends one, must be this host. Anything else is 403 and changes
  nothing.
- :func:`merchant_viewer` and :func:`operator_viewer` let only a merchant's
  users, or only operators, through; :func:`require` checks a role's
  permission (:mod:`.roles`).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.datastructures import FormData

from scanpay.host.portal.accounts import SessionUser, load_session
from scanpay.host.portal.roles import Permission, can
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text, normalize_language

__all__ = [
    "CSRF_COOKIE",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "CheckedForm",
    "LoginRequired",
    "MerchantViewer",
    "OperatorViewer",
    "PortalRefusal",
    "Viewer",
    "ViewerDep",
    "checked_form",
    "merchant_viewer",
    "operator_viewer",
    "require",
    "safe_next",
    "viewer",
]

SESSION_COOKIE = "scanpay_portal"
CSRF_COOKIE = "scanpay_portal_csrf"
LANG_COOKIE = "scanpay_portal_lang"
_MAX_FORM = 64 * 1024


class PortalRefusal(Exception):
    """A page the viewer may not have: rendered as an error page with ``status``."""

    def __init__(self, status: int, text: Text) -> None:
        super().__init__(text.en)
        self.status = status
        self.text = text


class LoginRequired(Exception):
    """No (valid) session: the viewer is sent to the login page, then back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__("login required")
        self.next_path = next_path


NOT_FOUND = Text("找不到该页面或记录", "No such page or record")
FORBIDDEN = Text("您的角色不能执行此操作", "Your role does not allow this")
BAD_FORM = Text(
    "表单已过期或来源不可信，请刷新页面后重试",
    "The form expired or did not come from this site: reload the page and try again",
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: their session's user (None: nobody logged in), language, CSRF token."""

    ctx: HostContext
    user: SessionUser | None
    lang: str
    csrf: str
    fresh_csrf: bool
    token: str | None
    secure: bool
    path: str

    def can(self, permission: Permission) -> bool:
        return self.user is not None and can(self.user.role, permission)

    @property
    def merchant_pk(self) -> int:
        assert self.user is not None and self.user.merchant_pk is not None
        return self.user.merchant_pk

    def __repr__(self) -> str:  # never print the tokens
        return f"Viewer({self.user!r}, {self.lang})"


def _language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("zh-CN", "en"):
        return chosen
    accept = request.headers.get("accept-language", "")
    return normalize_language(accept.split(",")[0]) if accept else "zh-CN"


def viewer(request: Request) -> Viewer:
    """The viewer of this request (a sync dependency: it reads the session from the database)."""
    ctx: HostContext = request.app.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    user = load_session(ctx, token) if token else None
    fresh = False
    if user is not None:
        csrf = user.csrf_token
    else:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not (20 <= len(csrf) <= 64 and csrf.replace("-", "").replace("_", "").isalnum()):
            csrf, fresh = secrets.token_urlsafe(24), True
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Viewer(
        ctx,
        user,
        _language(request),
        csrf,
        fresh,
        token if user else None,
        request.url.scheme == "https",
        path,
    )


ViewerDep = Annotated[Viewer, Depends(viewer)]


def safe_next(text: str | None, default: str = "/portal/") -> str:
    """A place to go after login: a path of this portal only (never another site)."""
    if not text or not text.startswith("/portal") or text.startswith("//") or "\\" in text:
        return default
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        return default
    return text


def merchant_viewer(v: ViewerDep) -> Viewer:
    """A merchant's user (any role); others are sent away."""
    if v.user is None:
        raise LoginRequired(v.path)
    if v.user.merchant_pk is None:
        # An operator belongs to no merchant (403); an applicant has none yet (404).
        raise PortalRefusal(403, FORBIDDEN) if v.user.is_operator else PortalRefusal(404, NOT_FOUND)
    return v


def operator_viewer(v: ViewerDep) -> Viewer:
    """An acquirer operator; merchant users get 404 (the operator pages do not exist for them)."""
    if v.user is None:
        raise LoginRequired(v.path)
    if not v.user.is_operator:
        raise PortalRefusal(404, NOT_FOUND)
    return v


MerchantViewer = Annotated[Viewer, Depends(merchant_viewer)]
OperatorViewer = Annotated[Viewer, Depends(operator_viewer)]


def require(v: Viewer, permission: Permission) -> None:
    """403 unless the viewer's role grants ``permission``."""
    if not v.can(permission):
        raise PortalRefusal(403, FORBIDDEN)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not every browser sends it on same-origin posts; the token decides
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host


async def checked_form(request: Request, v: ViewerDep) -> FormData:
    """The POSTed form, once its CSRF token and origin are right (403 otherwise)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():  # browsers send it for forms; a stream of unknown size is refused
        raise PortalRefusal(411, Text("缺少请求长度", "The form's length is missing"))
    if int(length) > _MAX_FORM:
        raise PortalRefusal(413, Text("表单过大", "The form is too large"))
    form = await request.form(max_files=0, max_fields=64, max_part_size=_MAX_FORM)
    token = form.get("csrf")
    ok = (
        isinstance(token, str)
        and bool(v.csrf)
        and not v.fresh_csrf
        and hmac.compare_digest(token.encode(), v.csrf.encode())
    )
    if not ok or not _same_origin(request):
        raise PortalRefusal(403, BAD_FORM)
    # PostgreSQL cannot store NUL in text: refused here, once for every form (it was a 500).
    if any(isinstance(value, str) and "\x00" in value for value in form.values()):
        raise PortalRefusal(400, Text("表单含有无效字符", "The form holds an invalid character"))
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
