"""The host's errors: one family, each carrying a result code of the protocol.

A :class:`HostError` is what a service raises when a request cannot be served
(bad signature, unknown trade number, mismatched retry...). Its ``code`` is a
result code (``63``, ``25``, ``95``...) whose ``http_status`` the API answers
with, in the one :class:`~scanpay.protocol.models.ErrorBody` shape. Declines
are not errors: they are stored payment outcomes.
"""

from __future__ import annotations

from scanpay.errors import ScanpayError
from scanpay.i18n import Text
from scanpay.protocol.result_codes import ResultCode, result_code

__all__ = ["HostError"]


class HostError(ScanpayError):
    """A request the host refuses; ``result`` is its protocol result code."""

    def __init__(self, code: str, text: Text | None = None, *, field: str | None = None) -> None:
        self.result: ResultCode = result_code(code)
        super().__init__(self.result.code, text or self.result.message, field=field)

    @property
    def http_status(self) -> int:
        return self.result.http_status

    @property
    def name(self) -> str:
        return self.result.name
