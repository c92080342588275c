"""The error a simulator's admin, pages or gateway refuses with: typed, in both languages."""

from __future__ import annotations

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = ["SimError"]


class SimError(ScanpayError):
    """The simulator's admin refuses: stable code, both languages, an HTTP status."""

    def __init__(
        self, code: str, text: Text, status: int = 400, *, field: str | None = None
    ) -> None:
        super().__init__(code, text, field=field)
        self.status = status
