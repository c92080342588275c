from __future__ import annotations

import numpy as np
import segno

from scanpay.vision import Scanner, join_structured_append
from vision.helpers import dataset_dir, manifest


def _render(code: segno.QRCode) -> np.ndarray:  # type: ignore[type-arg]
    matrix = np.pad(np.asarray(code.matrix, dtype=np.uint8), 4)
    return np.kron(np.where(matrix > 0, 0, 255), np.ones((4, 4))).astype(np.uint8)


def test_parts_carry_their_header_and_join_in_any_order() -> None:
    message = "Structured append splits one message over several symbols. " * 3
    parts = segno.make_sequence(message, symbol_count=3, error="m")
    scanner = Scanner(structured_append=True)
    symbols = []
    for code in reversed(list(parts)):
        symbols.extend(scanner.scan(_render(code)).symbols)
    assert sorted(s.sequence.index for s in symbols if s.sequence) == [0, 1, 2]
    assert {s.sequence.total for s in symbols if s.sequence} == {3}
    assert join_structured_append(symbols) == message
    assert join_structured_append(symbols[:2]) is None  # a part missing


def test_off_by_default() -> None:
    parts = list(segno.make_sequence("abc" * 40, symbol_count=2))
    assert Scanner().scan(_render(parts[0])).symbols[0].sequence is None


def test_real_structured_append_set() -> None:
    entry = manifest()["qrcode-7/01-01.png"]
    scanner = Scanner(structured_append=True)
    symbols = []
    for name in reversed(entry["files"]):
        symbols.extend(scanner.scan(dataset_dir() / name).symbols)
    assert join_structured_append(symbols) == entry["expected_text"]
