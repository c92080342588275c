"""The payment-code error family.

Every problem the parsers can find has a stable ``code`` (listed in
:data:`CATALOG` with its message in zh-CN and en), the data object it is about
(``field``: an EMV ID such as ``"54"`` or ``"62.05"``, or a BER tag such as
``"9F26"``) and the character ``offset`` in the scanned text where it starts.
A problem is either an error (the code is rejected) or a warning (the code is
readable but breaks a strict rule, as many deployed codes do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scanpay.errors import ScanpayError
from scanpay.i18n import Text

__all__ = ["CATALOG", "CodeError", "Problem", "Severity"]

Severity = Literal["error", "warning"]

# code -> (zh-CN, en). Codes are API: add new ones, never rename.
CATALOG: dict[str, Text] = {
    "not_a_payment_code": Text("不是支付码", "not a payment code"),
    "crc_mismatch": Text("校验码（CRC）错误或缺失", "CRC missing or wrong"),
    "crc_lowercase": Text("校验码使用了小写字母", "CRC written in lower case"),
    "bad_tlv": Text("数据结构错误（ID-长度-值）", "broken ID-length-value structure"),
    "duplicate_id": Text("数据对象重复出现", "data object appears twice"),
    "empty_value": Text("数据对象长度为零", "data object has length zero"),
    "bad_payload_format": Text("载荷格式指示符不是 01", "payload format indicator is not 01"),
    "bad_point_of_initiation": Text("发起方式不是 11 或 12", "point of initiation is not 11 or 12"),
    "missing_merchant_account": Text("缺少商户账户信息", "no merchant account information"),
    "missing_field": Text("缺少必填数据对象", "mandatory data object missing"),
    "bad_mcc": Text("商户类别码必须是 4 位数字", "merchant category code must be 4 digits"),
    "bad_currency": Text("币种必须是 3 位数字", "currency must be 3 digits"),
    "unknown_currency": Text("未知的币种", "unknown currency"),
    "bad_country": Text("国家代码必须是 2 个字符", "country code must be 2 characters"),
    "too_long": Text("数据对象超过最大长度", "data object longer than allowed"),
    "bad_amount": Text("金额格式错误", "amount is not valid"),
    "bad_tip": Text("小费或服务费字段错误", "tip or convenience fee fields are inconsistent"),
    "bad_template": Text(
        "模板结构错误或缺少全局唯一标识", "template broken or lacks its identifier"
    ),
    "bad_additional_data": Text("附加数据字段错误", "additional data field is not valid"),
    "bad_language_template": Text("商户语言模板错误", "merchant language template is not valid"),
    "scheme_rule": Text("不符合该支付网络的规则", "breaks a rule of its payment scheme"),
    "bad_base64": Text("不是付款码的 Base64 格式", "not base64 of a consumer-presented code"),
    "bad_ber": Text("BER-TLV 结构错误", "broken BER-TLV structure"),
    "lenient_ber": Text("BER 长度编码不规范", "BER length not minimally encoded"),
    "bad_cpm_format": Text("付款码格式标识不是 CPV01", "consumer-presented format is not CPV01"),
    "missing_application": Text("付款码缺少有效的应用模板", "no valid application template"),
    "duplicate_tag": Text("同一标签出现两次", "the same tag appears twice"),
    "unknown_wallet_code": Text(
        "数字付款码不属于任何已知钱包", "digits that match no known wallet's payment code"
    ),
    "lenient_wallet_match": Text(
        "付款码只符合宽松规则", "payment code matches only the lenient rule"
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One rule a scanned code breaks."""

    code: str
    severity: Severity
    field: str | None = None
    offset: int | None = None
    detail: str = ""

    @property
    def text(self) -> Text:
        base = CATALOG[self.code]
        if not self.detail:
            return base
        return Text(f"{base.zh_cn}：{self.detail}", f"{base.en}: {self.detail}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "offset": self.offset,
            "message": self.text.as_dict(),
        }


class CodeError(ScanpayError):
    """A scanned text that cannot be used as a payment code.

    ``problems`` lists every error (and warning) found, the first error first;
    ``code``, ``field`` and ``offset`` are the first error's.
    """

    def __init__(self, problems: list[Problem] | Problem) -> None:
        found = [problems] if isinstance(problems, Problem) else list(problems)
        errors = [p for p in found if p.severity == "error"]
        first = errors[0] if errors else found[0]
        super().__init__(first.code, first.text, field=first.field)
        self.offset = first.offset
        self.problems: tuple[Problem, ...] = tuple(errors + [p for p in found if p not in errors])

    @classmethod
    def single(
        cls, code: str, *, field: str | None = None, offset: int | None = None, detail: str = ""
    ) -> CodeError:
        """An error with one problem."""
        return cls(Problem(code, "error", field, offset, detail))

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["offset"] = self.offset
        return data
