"""Coverage-guided fuzzing of the payment-code parsers with atheris (libFuzzer).

Run by ``test_code_fuzzing.py`` for a bounded, seeded number of inputs; run it by
hand for longer::

    PYTHONPATH=src:tests .venv/bin/python tests/security/atheris_codes.py -runs=1000000

Every parser must answer any text with a code or :class:`scanpay.codes.CodeError`;
anything else escaping is a crash that libFuzzer reports (exit status not 0) with
the input that caused it. The seeds are the project's own codes and the real
vectors of ``tests/codes/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from scanpay.codes import (
        CodeError,
        parse_cpm,
        parse_mpm,
        parse_payment_code,
        parse_wallet_code,
    )

PARSERS = (parse_payment_code, parse_mpm, parse_cpm, parse_wallet_code)


def one_input(data: bytes) -> None:
    # The bytes as text (so the seeds mutate as the codes they are), else as Latin-1.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    for parse in PARSERS:
        with contextlib.suppress(CodeError):  # the one exception a parser may raise
            parse(text)


def main() -> None:
    from codes.test_fuzz import _seeds  # the suite's seeds: built codes and real vectors

    corpus = Path(tempfile.mkdtemp(prefix="atheris-codes-"))
    for i, seed in enumerate(_seeds()):
        (corpus / f"seed-{i}").write_bytes(seed.encode())
    atheris.Setup([*sys.argv, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
