"""One error shape for every refusal: :class:`~scanpay.protocol.models.ErrorBody`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from scanpay.host.errors import HostError
from scanpay.i18n import Text
from scanpay.protocol.models import ErrorBody, Message
from scanpay.protocol.result_codes import result_code

__all__ = ["ERROR_RESPONSES", "error_response", "install_error_handlers", "refusals"]

_log = logging.getLogger("scanpay.host.api")


def error_response(
    code: str, text: Text | None = None, *, field: str | None = None, status: int | None = None
) -> JSONResponse:
    """An ErrorBody answer with the code's HTTP status (or ``status``)."""
    rc = result_code(code)
    body = ErrorBody(
        code=rc.code,
        name=rc.name,
        message=Message.model_validate((text or rc.message).as_dict()),
        field=field,
    )
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status or rc.http_status)


def _host_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HostError)
    return error_response(exc.code, exc.text, field=exc.field, status=exc.http_status)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = next(iter(exc.errors()), {})
    if first.get("type") == "json_invalid":
        # pydantic places a JSON syntax error at ("body", <character offset>): the
        # offending field is the body itself, not a field named "1".
        field: str | None = "body"
    else:
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or None
    detail = str(first.get("msg", "invalid"))
    where = f"{field}: " if field else ""
    return error_response(
        "30",
        Text(f"请求格式错误：{where}{detail}", f"malformed request: {where}{detail}"),
        field=field,
    )


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response("25", Text("没有这个接口", "no such endpoint"))
    text = Text(f"请求错误（HTTP {exc.status_code}）", f"bad request: {exc.detail}")
    return error_response("30", text, status=exc.status_code)


def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The database went away (restart, failover, network): whatever the request was doing
    # may or may not have committed, so the answer is "unknown, query it" (91), signed
    # like every answer, never a bare 500 a terminal could not tell from a forgery.
    _log.warning("database unavailable: %s", type(exc).__name__)
    return error_response("91")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HostError, _host_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def _doc(*codes: str) -> dict[str, Any]:
    names = ", ".join(f"{c} {result_code(c).name}" for c in codes)
    return {"model": ErrorBody, "description": f"ErrorBody with code {names}"}


#: The refusals any signed call can meet: malformed (30, 413 for a body too large),
#: security (63), old software (26), a crash (96), the database away (91).
_ANY_SIGNED_CALL = ("30", "63", "26", "96", "91")


def refusals(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of one signed operation: the refusals every signed call
    can meet and ``codes``, grouped by the HTTP status each is answered with (a
    decline code refusing a request, 12, is 409: :attr:`HostError.http_status`)."""
    by_status: dict[int, list[str]] = {413: ["30"]}
    for code in (*_ANY_SIGNED_CALL, *codes):
        status = result_code(code).http_status
        found = by_status.setdefault(status if status >= 400 else 409, [])
        if code not in found:
            found.append(code)
    return {status: _doc(*found) for status, found in sorted(by_status.items())}


#: OpenAPI ``responses`` for the terminal API: every refusal and its codes.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("30", "13"),
    401: _doc("63"),
    403: _doc("58"),
    404: _doc("25"),
    409: _doc("95", "12"),
    413: _doc("30"),
    426: _doc("26"),
    500: _doc("96"),
    503: _doc("91"),
}
