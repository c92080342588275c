"""The scanner: payment codes from images and camera frames, and what to fix when
they do not read.

Example (``till.jpg`` being a photo of a code)::

    from scanpay.vision import assess, scan

    result = scan("till.jpg")  # a path, encoded bytes or a numpy array
    for symbol in result.symbols:
        print(symbol.format, symbol.payment_kind, symbol.display_text())
    if not result.ok:
        print(assess("till.jpg", result).messages("zh-CN"))

* :func:`scan` / :class:`Scanner`: every QR and Code 128 code in an image,
  zxing-cpp first and measured fallbacks after (:mod:`.strategies`);
* :func:`assess`: brightness, contrast, sharpness, glare, code size and
  position, tilt, and guidance codes with zh-CN/en messages (:mod:`.quality`);
* :func:`grade`: ISO/IEC 15415-style print grade of a decoded QR (:mod:`.grade`);
* :class:`ContinuousScanner` and the frame sources: camera, video, folder
  (:mod:`.stream`);
* :mod:`.synth`: rendered and degraded codes and frames for tests and demos.
"""

from __future__ import annotations

from scanpay.vision._images import Image, ImageError, ImageSource, load_image, to_gray
from scanpay.vision.grade import Grade, Parameter, grade
from scanpay.vision.quality import MESSAGES, FrameQuality, Guidance, assess
from scanpay.vision.scan import (
    DEFAULT_FORMATS,
    LIVE_BUDGET_MS,
    STILL_BUDGET_MS,
    Scanner,
    scan,
)
from scanpay.vision.stream import (
    Analysis,
    CameraSource,
    ContinuousScanner,
    Detection,
    FolderSource,
    Frame,
    GuidanceChange,
    Source,
    VideoSource,
    analyze,
    open_source,
)
from scanpay.vision.structured import read_structured_append
from scanpay.vision.symbols import (
    Point,
    Quad,
    ScanResult,
    StructuredAppend,
    Symbol,
    join_structured_append,
    mask_text,
)

__all__ = [
    "DEFAULT_FORMATS",
    "LIVE_BUDGET_MS",
    "MESSAGES",
    "STILL_BUDGET_MS",
    "Analysis",
    "CameraSource",
    "ContinuousScanner",
    "Detection",
    "FolderSource",
    "Frame",
    "FrameQuality",
    "Grade",
    "Guidance",
    "GuidanceChange",
    "Image",
    "ImageError",
    "ImageSource",
    "Parameter",
    "Point",
    "Quad",
    "ScanResult",
    "Scanner",
    "Source",
    "StructuredAppend",
    "Symbol",
    "VideoSource",
    "analyze",
    "assess",
    "grade",
    "join_structured_append",
    "load_image",
    "mask_text",
    "open_source",
    "read_structured_append",
    "scan",
    "to_gray",
]
