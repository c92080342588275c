"""What a unified social credit code (GB 32100-2015) says, for the operator's review.

Pure. Besides the check character (:mod:`scanpay.host.domain.uscc`), the code's
first character names the registration department, the second the kind of
organisation, and characters 3-8 the administrative division where it was
registered. The operator sees all of it beside an application.

>>> report = check_licence("91350100M000100Y43")
>>> report.valid, report.authority.en, report.kind.en, report.region
(True, 'market regulation (industry and commerce)', 'enterprise', '350100')
>>> check_licence("91350100M000100Y42").expected_check
'3'
"""

from __future__ import annotations

from dataclasses import dataclass

from scanpay.host.domain.uscc import USCC_ALPHABET, check_character, normalize_uscc
from scanpay.i18n import Text

__all__ = ["LicenceReport", "check_licence"]

_AUTHORITIES: dict[str, Text] = {
    "1": Text("机构编制", "institutional establishment"),
    "2": Text("外交", "foreign affairs"),
    "3": Text("司法行政", "justice"),
    "4": Text("文化", "culture"),
    "5": Text("民政", "civil affairs"),
    "6": Text("旅游", "tourism"),
    "7": Text("宗教", "religious affairs"),
    "8": Text("工会", "trade unions"),
    "9": Text("市场监管（工商）", "market regulation (industry and commerce)"),
    "A": Text("中央军委改革和编制办公室", "military establishment"),
    "N": Text("农业", "agriculture"),
    "Y": Text("其他", "other"),
}

_KINDS_9: dict[str, Text] = {
    "1": Text("企业", "enterprise"),
    "2": Text("个体工商户", "individual business"),
    "3": Text("农民专业合作社", "farmers' cooperative"),
}


@dataclass(frozen=True, slots=True)
class LicenceReport:
    """The check of one licence number: valid or not, why not, and what it says."""

    code: str
    valid: bool
    expected_check: str | None
    authority: Text | None
    kind: Text | None
    region: str | None
    problems: tuple[Text, ...]


def check_licence(text: str) -> LicenceReport:
    """Check ``text`` as a unified social credit code and describe it."""
    code = normalize_uscc(text)
    problems: list[Text] = []
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if len(code) != 18:
        problems.append(Text(f"长度为 {len(code)}，应为 18 位", f"{len(code)} characters, not 18"))
    if bad:
        shown = " ".join(bad)
        problems.append(Text(f"含有不允许的字符：{shown}", f"characters not allowed: {shown}"))
    expected = None
    if len(code) == 18 and not bad:
        expected = check_character(code[:17])
        if expected != code[17]:
            problems.append(
                Text(
                    f"校验位应为 {expected}，实为 {code[17]}",
                    f"the check character should be {expected}, not {code[17]}",
                )
            )
    authority = _AUTHORITIES.get(code[:1]) if code else None
    if code and authority is None:
        problems.append(Text("登记管理部门代码未知", "unknown registration department code"))
    kind = _KINDS_9.get(code[1:2]) if code[:1] == "9" else None
    region = code[2:8] if len(code) >= 8 and code[2:8].isdigit() else None
    if len(code) >= 8 and region is None:
        problems.append(Text("行政区划码应为 6 位数字", "the division code is not 6 digits"))
    return LicenceReport(code, not problems, expected, authority, kind, region, tuple(problems))
