"""CRC-16/CCITT-FALSE, the checksum of EMV merchant-presented QR codes."""

from __future__ import annotations

import binascii

__all__ = ["crc16", "mpm_crc"]


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR."""
    # binascii.crc_hqx is exactly this polynomial with a caller-chosen start value.
    return binascii.crc_hqx(data, 0xFFFF)


def mpm_crc(text_through_6304: str) -> str:
    """The 4 upper-case hex digits for an MPM payload ending in ``"6304"``.

    The CRC covers the UTF-8 bytes of everything before the CRC value,
    including the CRC object's own ID and length (``"6304"``).
    """
    return format(crc16(text_through_6304.encode("utf-8")), "04X")
