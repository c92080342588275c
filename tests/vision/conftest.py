from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from scanpay.vision import synth

TINY_TEXT = "https://example.com/tiny"
PARTS_TEXT = "one message in two symbols " * 4


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A five-entry dataset in the shared manifest format, made from rendered codes."""
    root = tmp_path_factory.mktemp("tiny-dataset")
    clean = synth.render_qr("https://example.com/clean", module_px=4)
    big = synth.render_qr(TINY_TEXT, module_px=8)
    small = cv2.resize(big, None, fx=1.3 / 8, fy=1.3 / 8, interpolation=cv2.INTER_AREA)
    placed = synth.place(synth.render_qr("281234567890123456", module_px=5), side=260).frame
    noise = np.random.default_rng(2).integers(0, 256, (120, 160), dtype=np.uint8)
    cv2.imwrite(str(root / "clean.png"), clean)
    cv2.imwrite(str(root / "small.png"), small)
    cv2.imwrite(str(root / "placed.png"), placed)
    cv2.imwrite(str(root / "noise.png"), noise)
    parts = []
    for i, code in enumerate(segno.make_sequence(PARTS_TEXT, symbol_count=2)):
        matrix = np.pad(np.asarray(code.matrix, dtype=np.uint8), 4)
        image = np.kron(np.where(matrix > 0, 0, 255), np.ones((4, 4))).astype(np.uint8)
        cv2.imwrite(str(root / f"part{i}.png"), image)
        parts.append(f"part{i}.png")
    entries = [
        {"file": "clean.png", "expected_text": "https://example.com/clean", "category": "easy"},
        {"file": "placed.png", "expected_text": "281234567890123456", "category": "easy"},
        {"file": "small.png", "expected_text": TINY_TEXT, "category": "hard"},
        {"file": "noise.png", "expected_text": "nothing", "category": "hard"},
        {
            "file": parts[0],
            "files": parts,
            "structured_append": True,
            "expected_text": PARTS_TEXT,
            "category": "parts",
        },
    ]
    (root / "manifest.json").write_text(
        json.dumps({"name": "tiny", "schema": {}, "entries": entries}), encoding="utf-8"
    )
    return root
