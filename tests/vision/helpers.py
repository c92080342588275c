"""Data the vision tests make themselves (no ../shared needed), and dataset access."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from scanpay.vision import synth
from support import shared_path

WALLET = "281234567890123456"  # Alipay: prefix 28, 18 digits


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, as EMV tag 63 carries it."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def mpm(name: str = "SHOP 1", *, corrupt: bool = False) -> str:
    """A minimal EMV merchant-presented payload with a correct (or wrong) CRC."""
    body = (
        "00020101021226300012D156000000000510A93FO3230Q52045812530315658 02CN".replace(" ", "")
        + f"59{len(name):02d}{name}"
        + "6007BEIJING6304"
    )
    crc = crc16(body.encode())
    if corrupt:
        crc ^= 0x0101
    return body + f"{crc:04X}"


def save(path: Path, image: np.ndarray[Any, Any]) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


def frame_with(text: str, **kw: Any) -> np.ndarray[Any, Any]:
    """A 640x480 frame with ``text`` as a QR label in it."""
    return synth.place(synth.render_qr(text, module_px=5), **kw).frame


@cache
def dataset_dir() -> Path:
    return shared_path("datasets", "qr-real")


@cache
def manifest() -> dict[str, dict[str, Any]]:
    data = json.loads((dataset_dir() / "manifest.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in data["entries"]}
