"""The root of scanpay's error tree.

Every error scanpay raises on purpose is a :class:`ScanpayError`: it carries a
stable machine ``code`` (never reworded once published), the ``field`` it is
about when there is one, and a message in zh-CN and en. Packages derive their
own families from it (``scanpay.codes.CodeError``, the host's API errors, ...)
so callers can catch one package or everything.
"""

from __future__ import annotations

from typing import Any

from scanpay.i18n import Text

__all__ = ["ScanpayError"]


class ScanpayError(Exception):
    """Base class of every deliberate scanpay error."""

    def __init__(self, code: str, text: Text, *, field: str | None = None) -> None:
        super().__init__(f"{code}: {text.en}" + (f" (field {field})" if field else ""))
        self.code = code
        self.text = text
        self.field = field

    def message(self, language: str = "en") -> str:
        """The user-facing message in ``language``."""
        return self.text.get(language)

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data: ``code``, ``field`` and ``message`` in both languages."""
        return {"code": self.code, "field": self.field, "message": self.text.as_dict()}
