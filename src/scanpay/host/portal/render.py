"""Server-rendered pages: the Jinja2 environment, its filters, and the security headers.

Templates live in ``templates/`` and autoescape everything; scripts and styles
come only from ``/portal/static/`` (a strict Content-Security-Policy: no
inline script or style, no other origin). Every page carries the viewer's
language (``t``), the CSRF token for its forms and the host's timezone for
times; a day close's differences are sentences in that language (``difference``),
and so is why a payment failed (``reason``, :func:`reason_markup`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from scanpay.host.portal.texts import has_text, reason_text, translate
from scanpay.money import format_amount
from scanpay.protocol.differences import describe_difference

__all__ = [
    "CSP",
    "PAGE_HEADERS",
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "group_digits",
    "reason_markup",
    "render",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def group_digits(text: str) -> str:
    """Thousands separators in decimal text: ``1234567.89`` -> ``1,234,567.89``."""
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + (f".{frac}" if frac else "")


def _money(minor: int | None, currency: str = "CNY") -> str:
    if minor is None:
        return ""
    return group_digits(format_amount(int(minor), currency))


def reason_markup(reason: str | None, lang: str) -> Markup:
    """Why a payment (or refund) failed, for a page in ``lang``: the words of
    :func:`~scanpay.host.portal.texts.reason_text`; a network's decline keeps its stored
    ``network:CODE`` beside the words, small and muted, so support can still quote the
    network's own code. A reason without words is shown as stored. Pages only: the
    exports carry no reason (were one added, it would be the stored value, for machines)."""
    if not reason:
        return Markup("")
    words = reason_text(reason)
    if words is None:
        return Markup("{}").format(reason)
    if has_text(f"reason.{reason}"):
        return Markup("{}").format(words.get(lang))
    return Markup('{} <span class="muted small reason-code">{}</span>').format(
        words.get(lang), reason
    )


_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(("html", "svg")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["money"] = _money
_env.filters["digits"] = lambda n: group_digits(str(int(n)))


def _url(path: str, params: Mapping[str, str | None] | None = None, **more: str | None) -> str:
    merged = {**(params or {}), **more}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def render(
    name: str,
    *,
    lang: str,
    zone: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``name`` for a viewer speaking ``lang``; times shown in ``zone``."""

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    def t_or(key: str, fallback: str) -> str:
        return translate(key, lang) if has_text(key) else fallback

    def dt(when: datetime | None, seconds: bool = True) -> str:
        if when is None:
            return "-"
        local = when.astimezone(zone)
        return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

    def day(when: date | None) -> str:
        return when.isoformat() if when else "-"

    def difference(diff: Mapping[str, Any], currency: str) -> str:
        # The host stores the difference it answered the terminal with (identifiers and
        # minor units); people read the sentence the terminal's Z-report prints.
        return describe_difference(diff, currency).get(lang)

    def reason(value: str | None) -> Markup:
        return reason_markup(value, lang)

    def svg(markup: str) -> Markup:
        # Only the server's own chart and QR renderers produce these (escaped inside).
        return Markup(markup)

    helpers: dict[str, Callable[..., Any]] = {
        "t": t,
        "t_or": t_or,
        "dt": dt,
        "day": day,
        "difference": difference,
        "reason": reason,
        "url": _url,
        "svg": svg,
    }
    html = _env.get_template(name).render(lang=lang, **helpers, **context)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
