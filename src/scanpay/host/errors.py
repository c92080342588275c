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
        # A refusal is never a 2xx, even with a decline code (12: reversing a refunded
        # payment): 409, the request conflicts with the state of what it names.
        status = self.result.http_status
        return status if status >= 400 else 409

    @property
    def name(self) -> str:
        return self.result.name
