"""Structured logs: one JSON object per line, with the request id, secrets masked.

Every record carries ``ts`` (UTC), ``level``, ``logger``, ``message`` and the
``request_id`` of the HTTP request it belongs to (from the ``X-Request-Id``
header, or made up), plus any ``extra`` fields. Log calls never pass a full
payment code, key or PIN; as a second line of defence the formatter masks
anything shaped like one before it is written:

- runs of 16-24 digits (wallet payment codes, card numbers): first 6 / last 4;
- EMV consumer-presented codes (base64 starting ``hQVDUFYw``): first 6 / last 4;
- 64 hex characters (terminal keys, wallet secrets) and sealed values: removed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from scanpay.codes.mask import mask_text

__all__ = ["JsonFormatter", "configure_logging", "redact", "request_id"]

#: The id of the HTTP request being served (None outside requests).
request_id: ContextVar[str | None] = ContextVar("scanpay_request_id", default=None)

_DIGITS = re.compile(r"(?<![0-9])[0-9]{16,24}(?![0-9])")
_CPM = re.compile(r"hQVDUFYw[A-Za-z0-9+/=_-]{8,}")
_HEX64 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])")
_SEALED = re.compile(r"enc[0-9]:[A-Za-z0-9_-]+")

# uvicorn passes ``color_message``, a copy of the message with ANSI colour escapes for
# its own console formatter: never a field of a JSON line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


def redact(text: str) -> str:
    """``text`` with anything shaped like a payment code, key or secret masked."""
    text = _SEALED.sub("[sealed]", text)
    text = _HEX64.sub("[redacted]", text)
    text = _CPM.sub(lambda m: mask_text(m.group(0)), text)
    return _DIGITS.sub(lambda m: mask_text(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", *, json_lines: bool = True) -> None:
    """Send every log record to stderr, as JSON lines (or plain text for a terminal).

    SQLAlchemy's own loggers stay at WARNING whatever ``level`` says: at INFO
    they would write SQL parameters, and those can be secrets.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
