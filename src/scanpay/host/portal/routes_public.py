"""The portal's public side: login and logout, the language, the application for
acquiring and its status page, and the static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from scanpay.host.errors import HostError
from scanpay.host.portal import accounts, onboarding
from scanpay.host.portal.deps import (
    LANG_COOKIE,
    NOT_FOUND,
    SESSION_COOKIE,
    CheckedForm,
    LoginRequired,
    PortalRefusal,
    ViewerDep,
    safe_next,
)
from scanpay.host.portal.forms import check_password, parse_application
from scanpay.host.portal.pages import page, redirect, set_session_cookie
from scanpay.host.portal.render import STATIC_DIR
from scanpay.host.portal.texts import MCC_CHOICES, translate

__all__ = ["router"]

router = APIRouter(prefix="/portal", include_in_schema=False)

#: The static files, by name: nothing else under the directory is ever served.
_STATIC = {
    "portal.css": "text/css; charset=utf-8",
    "portal.js": "text/javascript; charset=utf-8",
    "uscc.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@router.get("/static/{name}")
def static(name: str) -> Response:
    """A file of the portal's own (no CDN): a fixed list, so no path can escape it."""
    media = _STATIC.get(name)
    if media is None:
        raise PortalRefusal(404, NOT_FOUND)
    body = (STATIC_DIR / name).read_bytes()
    return Response(
        body,
        media_type=media,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _home(v: ViewerDep) -> str:
    user = v.user
    if user is None:
        return "/portal/login"
    if user.is_operator:
        return "/portal/operator/applications"
    if user.merchant_pk is None:
        return "/portal/application"
    return "/portal/today"


@router.get("")
@router.get("/")
def home(v: ViewerDep) -> Response:
    return redirect(_home(v))


@router.get("/lang/{lang}")
def language(lang: str, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    """Choose the language (a cookie), then go back to the page."""
    response = redirect(safe_next(next))
    if lang in ("zh-CN", "en"):
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True, path="/portal"
        )
    return response


@router.get("/login")
def login_page(
    v: ViewerDep, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    if v.user is not None:
        return redirect(safe_next(next, _home(v)))
    return page(v, "login.html", next=safe_next(next, ""), email="", message="", failed=False)


@router.post("/login")
def login(v: ViewerDep, form: CheckedForm, request: Request) -> Response:
    email = str(form.get("email", ""))[:254]
    password = str(form.get("password", ""))[:128]
    next_path = safe_next(str(form.get("next", "")), "")
    address = request.client.host if request.client else "-"
    try:
        token, user = accounts.login(v.ctx, email, password, address)
    except accounts.LoginRefused as refused:
        if refused.busy:
            # Not a failed login: the host hashes all the passwords it can at once.
            message = translate("login.busy", v.lang)
        elif refused.throttled and refused.until is not None:
            until = refused.until.astimezone(v.ctx.settings.zone).strftime("%H:%M:%S")
            message = translate("login.throttled", v.lang, until=until)
        else:
            message = translate("login.failed", v.lang)
        status = 503 if refused.busy else 429 if refused.throttled else 401
        answer = page(
            v, "login.html", http_status=status, next=next_path, email=email, message=message,
            failed=True,
        )  # fmt: skip
        if refused.busy and refused.retry_after:
            answer.headers["Retry-After"] = str(refused.retry_after)
        return answer
    if user.is_operator:
        home_path = "/portal/operator/applications"
    elif user.merchant_pk is None:
        home_path = "/portal/application"
    else:
        home_path = "/portal/today"
    response = redirect(next_path or home_path)
    set_session_cookie(response, token, v.secure)
    return response


@router.post("/logout")
def logout(v: ViewerDep, form: CheckedForm) -> Response:
    accounts.logout(v.ctx, v.token)
    response = redirect("/portal/login?bye=1")
    response.delete_cookie(SESSION_COOKIE, path="/portal", httponly=True, samesite="strict")
    return response


def _apply_page(
    v: ViewerDep, *, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return page(v, "apply.html", http_status=status, values=values, errors=errors, mccs=MCC_CHOICES)


@router.get("/apply")
def apply_page(v: ViewerDep) -> Response:
    """The public application for acquiring."""
    if v.user is not None and v.user.application_pk is not None:
        return redirect("/portal/application")
    return _apply_page(v, values={}, errors={})


_APPLY_FIELDS = (
    "company_name", "shop_name", "license", "legal_representative", "phone", "email", "city",
    "address", "mcc", "monthly_volume", "terminal_count",
)  # fmt: skip


@router.post("/apply")
def apply(v: ViewerDep, form: CheckedForm) -> Response:
    values = {name: str(form.get(name, ""))[:256] for name in _APPLY_FIELDS}
    parsed, problems = parse_application(values, language=v.lang)
    errors = {name: text.get(v.lang) for name, text in problems.items()}
    password = str(form.get("password", ""))[:256]
    weak = check_password(
        password, str(form.get("password_again", ""))[:256], email=values["email"]
    )
    if weak is not None:
        errors["password"] = weak.get(v.lang)
    if parsed is None or errors:
        return _apply_page(v, values=values, errors=errors, status=400)
    try:
        _, user_pk = onboarding.submit(v.ctx, parsed, password)
    except HostError as exc:
        field = exc.field if exc.field in values or exc.field == "password" else "company_name"
        message = (
            translate("apply.email_taken", v.lang) if exc.field == "email" else exc.text.get(v.lang)
        )
        return _apply_page(v, values=values, errors={field: message}, status=400)
    token = accounts.create_session(v.ctx, user_pk)
    response = redirect("/portal/application")
    set_session_cookie(response, token, v.secure)
    return response


@router.get("/application")
def application(v: ViewerDep) -> Response:
    """The applicant's status page: reference, status, the reason of a rejection, and once
    approved the terminals' activation codes."""
    if v.user is None:
        raise LoginRequired(v.path)
    if v.user.application_pk is None:
        raise PortalRefusal(404, NOT_FOUND)
    app = onboarding.application_of(v.ctx, v.user.application_pk)
    codes = (
        onboarding.activation_codes(v.ctx, v.user.merchant_pk)
        if v.user.merchant_pk is not None and v.user.role == "owner"
        else []
    )
    return page(v, "application.html", section="application", app=app, codes=codes)
