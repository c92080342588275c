"""EMV consumer-presented QR codes (EMVCo QRCPS-CPM): read, check, write.

The text is base64 of BER-TLV: ``85`` "CPV01", one or more application
templates ``61`` (AID, label, track 2 or PAN, an application-specific
transparent template ``63`` with the cryptogram), and an optional common data
template ``62``. Because of the fixed first bytes the text always starts
``hQVDUFY``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from scanpay.codes import ber
from scanpay.codes.ber import Node
from scanpay.codes.errors import CodeError, Problem
from scanpay.codes.mask import mask_text

__all__ = [
    "CPM_PREFIX",
    "ApplicationSpec",
    "ConsumerPresentedCode",
    "CpmApplication",
    "build_cpm",
    "parse_cpm",
]

CPM_PREFIX = "hQVDUFY"
_FORMAT = b"CPV01"

# Tags that hold text (ans/an) rather than binary or BCD.
_TEXT_TAGS = frozenset({"50", "5F20", "5F2D", "5F50", "9F24"})


def _text(value: bytes) -> str:
    return value.decode("latin-1")


def _bcd(value: bytes) -> str:
    return value.hex().upper().rstrip("F")


@dataclass(frozen=True, slots=True)
class CpmApplication:
    """One application template (61): the account the customer pays with."""

    nodes: tuple[Node, ...]
    offset: int = 0

    def tag(self, tag: str) -> bytes | None:
        """A primitive by tag, looked up in the template and its transparent template 63."""
        for node in self.nodes:
            if node.tag == tag:
                return node.value
        transparent = self.transparent
        for node in transparent or ():
            if node.tag == tag:
                return node.value
        return None

    @property
    def aid(self) -> str | None:
        value = self.tag("4F")
        return value.hex().upper() if value is not None else None

    @property
    def label(self) -> str | None:
        value = self.tag("50")
        return _text(value) if value is not None else None

    @property
    def track2(self) -> str | None:
        """Track 2 equivalent data as text ("6263...D2312201..."), padding removed."""
        value = self.tag("57")
        return _bcd(value) if value is not None else None

    @property
    def pan(self) -> str | None:
        """The PAN or token: tag 5A, else the digits of track 2 before the separator."""
        value = self.tag("5A")
        if value is not None:
            return _bcd(value)
        track2 = self.track2
        return track2.split("D", 1)[0] if track2 else None

    @property
    def transparent(self) -> tuple[Node, ...] | None:
        """The parsed contents of the application-specific transparent template (63)."""
        for node in self.nodes:
            if node.tag == "63":
                return node.children
        return None

    @property
    def eligible(self) -> bool:
        """EMVCo CPM 5.1.1.4: an application needs an AID (4F) of 5-16 bytes."""
        aid = next((n.value for n in self.nodes if n.tag == "4F"), None)
        return aid is not None and 5 <= len(aid) <= 16

    def to_dict(self) -> dict[str, Any]:
        return {
            "aid": self.aid,
            "label": self.label,
            "pan": mask_text(self.pan) if self.pan else None,
            "tags": sorted(n.tag for n in self.nodes),
            "transparent_tags": sorted(n.tag for n in self.transparent or ()),
        }


@dataclass(frozen=True, slots=True)
class ConsumerPresentedCode:
    """A parsed consumer-presented code."""

    kind: ClassVar[Literal["emv_cpm"]] = "emv_cpm"

    payload: str
    nodes: tuple[Node, ...]
    applications: tuple[CpmApplication, ...]
    common: tuple[Node, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def payload_format(self) -> str:
        return _FORMAT.decode()

    @property
    def aids(self) -> tuple[str, ...]:
        return tuple(a.aid for a in self.applications if a.aid)

    @property
    def application(self) -> CpmApplication:
        """The application to pay with: the first eligible one."""
        return next(a for a in self.applications if a.eligible)

    def tag(self, tag: str) -> bytes | None:
        """A primitive from the chosen application, else from the common data template."""
        value = self.application.tag(tag)
        if value is not None:
            return value
        for node in self.common:
            if node.tag == tag:
                return node.value
            if node.tag == "64":
                for inner in node.children or ():
                    if inner.tag == tag:
                        return inner.value
        return None

    @property
    def pan(self) -> str | None:
        value = self.tag("5A")
        if value is not None:
            return _bcd(value)
        track2 = self.track2
        return track2.split("D", 1)[0] if track2 else None

    @property
    def track2(self) -> str | None:
        value = self.tag("57")
        return _bcd(value) if value is not None else None

    @property
    def scheme(self) -> str:
        aid = self.application.aid or ""
        return "unionpay" if aid.startswith("A000000333") else "emvco"

    def mask(self) -> str:
        """What may be shown or logged: the scheme, the AID and the masked PAN or token."""
        pan = self.pan
        return f"cpm {self.application.aid} {mask_text(pan) if pan else ''}".strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scheme": self.scheme,
            "payload_format": self.payload_format,
            "aids": list(self.aids),
            "pan": mask_text(self.pan) if self.pan else None,
            "applications": [a.to_dict() for a in self.applications],
            "common_tags": sorted(n.tag for n in self.common),
            "warnings": [w.to_dict() for w in self.warnings],
        }


def _duplicates(nodes: Sequence[Node], seen: dict[str, Node], problems: list[Problem]) -> None:
    for node in nodes:
        if node.children is not None:
            continue
        if node.tag in seen:
            problems.append(
                Problem("duplicate_tag", "error", node.tag, node.offset, "tag appears twice")
            )
        seen[node.tag] = node


def parse_cpm(text: str) -> ConsumerPresentedCode:
    """Parse and check a consumer-presented payload (base64 text).

    Byte offsets inside the decoded data are reported in ``Problem.offset``
    for BER problems; base64 problems have the character offset.
    """
    if not isinstance(text, str) or not text.startswith(CPM_PREFIX):
        raise CodeError.single("bad_base64", offset=0, detail=f"must start {CPM_PREFIX}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CodeError.single("bad_base64", offset=0, detail="not valid base64") from None
    nodes, problems = ber.decode(data)
    if not nodes or nodes[0].tag != "85" or nodes[0].value != _FORMAT:
        problems.append(Problem("bad_cpm_format", "error", "85", 0, "must start 85 'CPV01'"))
    applications = [CpmApplication(n.children or (), n.offset) for n in nodes if n.tag == "61"]
    common_node = next((n for n in nodes if n.tag == "62"), None)
    common = common_node.children or () if common_node else ()
    eligible = [a for a in applications if a.eligible]
    if not eligible:
        problems.append(
            Problem("missing_application", "error", "61", None, "no template 61 with a 4F AID")
        )
    elif len(eligible) < len(applications):
        problems.append(
            Problem("missing_application", "warning", "61", None, "a template 61 has no AID")
        )
    for app in applications:
        seen: dict[str, Node] = {}
        _duplicates(app.nodes, seen, problems)
        _duplicates(common, seen, problems)
    if not applications:
        _duplicates(common, {}, problems)
    problems = list(dict.fromkeys(problems))
    if any(p.severity == "error" for p in problems):
        raise CodeError(problems)
    return ConsumerPresentedCode(
        payload=text,
        nodes=tuple(nodes),
        applications=tuple(applications),
        common=tuple(common),
        warnings=tuple(problems),
    )


@dataclass(frozen=True, slots=True)
class ApplicationSpec:
    """One application for :func:`build_cpm`.

    ``pan`` and ``track2`` are digit text (track 2 with its "D" separator);
    ``transparent`` goes into template 63 (cryptogram 9F26, counter 9F36, ...);
    ``extra`` holds further primitives of template 61 as ``(tag, value)``.
    """

    aid: str
    label: str | None = None
    pan: str | None = None
    track2: str | None = None
    cardholder_name: str | None = None
    transparent: Sequence[tuple[str, bytes]] = ()
    extra: Sequence[tuple[str, bytes]] = ()

    def encode(self) -> bytes:
        parts: list[tuple[str, bytes]] = [("4F", bytes.fromhex(self.aid))]
        if self.label is not None:
            parts.append(("50", self.label.encode("ascii")))
        if self.track2 is not None:
            parts.append(("57", _pack_bcd(self.track2)))
        if self.pan is not None:
            parts.append(("5A", _pack_bcd(self.pan)))
        if self.cardholder_name is not None:
            parts.append(("5F20", self.cardholder_name.encode("ascii")))
        parts.extend(self.extra)
        if self.transparent:
            parts.append(("63", ber.encode(self.transparent)))
        return ber.encode(parts)


def _pack_bcd(digits: str) -> bytes:
    text = digits.upper()
    if len(text) % 2:
        text += "F"
    return bytes.fromhex(text)


def build_cpm(
    applications: Sequence[ApplicationSpec], *, common: Sequence[tuple[str, bytes]] = ()
) -> str:
    """Write a consumer-presented payload (base64 text) and check it parses back."""
    try:
        parts: list[tuple[str, bytes]] = [("85", _FORMAT)]
        parts += [("61", app.encode()) for app in applications]
        if common:
            parts.append(("62", ber.encode(common)))
        payload = base64.b64encode(ber.encode(parts)).decode("ascii")
    except (ValueError, UnicodeEncodeError) as exc:
        raise CodeError.single("bad_ber", detail=str(exc)) from None
    parse_cpm(payload)
    return payload
