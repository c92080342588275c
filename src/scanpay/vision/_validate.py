"""The one place where the scanner asks ``scanpay.codes`` whether a reading is right.

A QR or Code 128 reading is only as good as its error correction. An EMV
merchant-presented code carries its own integrity check, the CRC-16 in tag 63,
so a reading whose CRC fails is a misread: the scanner drops it and tries
another strategy. Any other complaint of ``scanpay.codes`` is about the code,
not the reading (a 10-digit number that is no wallet's payment code, an EMV
code with an unknown currency): the decoders' Reed-Solomon check already
vouches for the reading, so the symbol is kept as plain text and the complaint
is passed on (:attr:`Verdict.reason`). Text that is no payment code at all (a
URL, a vCard) is kept too.

``scanpay.codes`` is imported lazily so that the scanner keeps working where it
is absent (it is built in parallel); without it every reading is accepted.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Verdict", "check_text", "could_be_payment_code"]

_NOT_A_PAYMENT_CODE = "not_a_payment_code"
# Problems that mean the characters read are not the characters printed.
_MISREAD = frozenset({"crc_mismatch"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``scanpay.codes`` says about one decoded text."""

    accepted: bool
    """False when the reading fails the code's own integrity check (a misread)."""
    kind: str | None = None
    """``emv_mpm``, ``emv_cpm`` or ``wallet`` for a valid payment code, else None."""
    reason: str | None = None
    """The ``CodeError.code`` when the text looks like a payment code but is not a valid one."""


_PLAIN = Verdict(accepted=True)


@lru_cache(maxsize=1)
def _parser() -> Callable[[str], Verdict] | None:
    try:
        # import_module, not "from scanpay import codes": only it reports a
        # missing submodule as ModuleNotFoundError naming the module.
        codes = importlib.import_module("scanpay.codes")
    except ModuleNotFoundError as error:
        if error.name in {"scanpay.codes", "scanpay"}:
            return None
        raise
    parse = getattr(codes, "parse_payment_code", None)
    code_error = getattr(codes, "CodeError", None)
    if parse is None or code_error is None:
        return None

    def check(text: str) -> Verdict:
        try:
            parsed = parse(text)
        except code_error as error:
            reason = str(getattr(error, "code", "invalid"))
            if reason == _NOT_A_PAYMENT_CODE:
                return _PLAIN
            problems = {str(getattr(p, "code", "")) for p in getattr(error, "problems", ())}
            misread = bool(_MISREAD & (problems | {reason}))
            return Verdict(accepted=not misread, reason=reason)
        kind = getattr(parsed, "kind", None)
        return Verdict(accepted=True, kind=str(kind) if kind is not None else None)

    return check


def could_be_payment_code(text: str) -> bool:
    """Whether ``text`` has the shape of a payment code at all (DESIGN, "Payment
    codes the terminal must read"): EMV MPM ``0002...``, EMV CPM base64 ``hQVDUFY...``
    (85 05 "CPV01"), or a wallet code of digits.

    Most scanned text (URLs, contact cards) is none of these; skipping the parser
    for them keeps validation off the fast path, where raising and formatting a
    ``not_a_payment_code`` error would cost a tenth of a decode.
    """
    return text.startswith(("0002", "hQVDUFY")) or (text.isascii() and text.isdigit())


def check_text(text: str) -> Verdict:
    """Classify ``text``: a valid payment code, plain text, or a rejected misread.

    Not cached on purpose: the texts are one-time payment codes, and parsing
    is microseconds next to decoding.
    """
    if not could_be_payment_code(text):
        return _PLAIN
    check = _parser()
    if check is None:
        return _PLAIN
    return check(text)
