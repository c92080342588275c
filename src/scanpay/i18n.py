"""User-facing text in the two languages scanpay speaks: zh-CN and en.

Every message a cashier, merchant or customer can see is a :class:`Text`,
which always carries both languages, so no screen can show a message that
exists in one language only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["LANGUAGES", "Language", "Text", "normalize_language"]

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")


@dataclass(frozen=True, slots=True)
class Text:
    """A message in both languages."""

    zh_cn: str
    en: str

    def get(self, language: str) -> str:
        """The message in ``language`` (anything that is not Chinese gets English)."""
        return self.zh_cn if normalize_language(language) == "zh-CN" else self.en

    def format(self, **values: object) -> Text:
        """Both languages with ``{name}`` placeholders filled in."""
        return Text(self.zh_cn.format(**values), self.en.format(**values))

    def as_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh_cn, "en": self.en}


def normalize_language(language: str | None) -> Language:
    """Map an Accept-Language style tag to one of :data:`LANGUAGES`."""
    if language and language.strip().lower().startswith("zh"):
        return "zh-CN"
    return "en"
