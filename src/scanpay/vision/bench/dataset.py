"""Reading a benchmark folder: images plus a ``manifest.json`` with expected texts.

The manifest format is the one of ``shared/datasets/qr-real`` (its ``schema``
field documents it): ``entries`` with ``file`` (or ``files`` for the parts of
a structured-append message, in sequence order), ``expected_text`` (or
``expected_bytes_b64``) and ``category``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from scanpay.vision._images import Image, load_image

__all__ = ["Dataset", "Entry", "load_dataset"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One expected message and the image(s) that carry it."""

    name: str
    files: tuple[Path, ...]
    category: str
    expected_text: str | None
    expected_bytes: bytes | None

    @property
    def is_ascii(self) -> bool:
        """Payment payloads are ASCII; report those separately from Shift-JIS and friends."""
        return self.expected_text is not None and self.expected_text.isascii()

    def images(self) -> list[Image]:
        """The entry's images, decoded (several for structured append)."""
        return [load_image(path) for path in self.files]

    def matches(self, texts: list[str], raws: list[bytes] | None = None) -> bool:
        """Whether any decoded text (or raw payload) is exactly the expected one."""
        if self.expected_text is not None:
            return self.expected_text in texts
        return raws is not None and self.expected_bytes in raws


@dataclass(frozen=True, slots=True)
class Dataset:
    """A folder of images with expected payloads."""

    root: Path
    name: str
    entries: tuple[Entry, ...]

    @property
    def categories(self) -> list[str]:
        return sorted({entry.category for entry in self.entries})


def load_dataset(root: Path) -> Dataset:
    """Read ``root/manifest.json``; raises ``FileNotFoundError``/``ValueError`` on bad input."""
    manifest_path = root / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    entries: list[Entry] = []
    for item in manifest.get("entries", []):
        files = item.get("files") or [item["file"]]
        expected_bytes = None
        if "expected_bytes_b64" in item and "expected_text" not in item:
            expected_bytes = base64.b64decode(item["expected_bytes_b64"])
        expected_text = item.get("expected_text")
        if expected_text is None and expected_bytes is None:
            raise ValueError(f"{manifest_path}: entry {item.get('file')} has no expected payload")
        entries.append(
            Entry(
                name=str(item.get("file") or files[0]),
                files=tuple(root / f for f in files),
                category=str(item.get("category", "all")),
                expected_text=expected_text,
                expected_bytes=expected_bytes,
            )
        )
    return Dataset(root=root, name=str(manifest.get("name", root.name)), entries=tuple(entries))
