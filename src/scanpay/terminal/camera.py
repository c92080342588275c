"""Reading codes from pictures for the agent: uploaded images and camera frames.

Both go through ``scanpay.vision``: :func:`read_image` decodes a still image
(an uploaded photo of a code); :func:`read_frame` decodes one live camera frame
on the short budget of a video stream and adds the quality report, whose
guidance ("too dark", "move closer") the cashier screen shows over the video.
Decoded texts are returned to the engine only; what goes back to the screen is
masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanpay.terminal.errors import TerminalError

__all__ = ["Reading", "read_frame", "read_image"]

# Payment codes first: the customer's code over a merchant sticker in the same picture.
_PREFERENCE = {"wallet": 0, "emv_cpm": 0, "emv_mpm": 1}


@dataclass(frozen=True, slots=True)
class Reading:
    """What a picture gave: the best text (if any) and JSON-ready details."""

    text: str | None
    detail: dict[str, Any]


def _best(result: Any) -> str | None:
    if not result.symbols:
        return None
    ranked = sorted(
        result.symbols,
        key=lambda s: _PREFERENCE.get(s.payment_kind or "", 2 if s.payment_problem is None else 3),
    )
    return str(ranked[0].text)


def read_image(data: bytes) -> Reading:
    """Decode a still image; ``image_unreadable`` if it is not an image."""
    from scanpay.vision import ImageError, scan

    try:
        result = scan(data)
    except (ImageError, ValueError) as exc:
        raise TerminalError("image_unreadable") from exc
    return Reading(_best(result), {"scan": result.to_dict(), "read": result.ok})


def read_frame(data: bytes) -> tuple[Reading, Any]:
    """Decode one live frame and assess it; returns the reading and the FrameQuality."""
    from scanpay.vision import ImageError, assess, load_image, scan

    try:
        image = load_image(data)
    except (ImageError, ValueError) as exc:
        raise TerminalError("image_unreadable") from exc
    result = scan(image, live=True)
    quality = assess(image, result)
    detail = {"read": result.ok, "quality": quality.to_dict(), "scan": result.to_dict()}
    return Reading(_best(result), detail), quality
