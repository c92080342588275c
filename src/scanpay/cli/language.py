"""The language of the command line's messages: the one asked for, else the locale's.

A command with ``--lang`` uses it; everything else speaks the language of the
locale, chosen the way a Unix tool chooses it: the first of ``LC_ALL``,
``LC_MESSAGES`` and ``LANG`` that is set and not empty decides, a Chinese
locale (``zh_CN.UTF-8``, ``zh_TW``...) gets zh-CN, any other (``C``, ``POSIX``,
``en_US.UTF-8``...) or none at all gets English.

>>> cli_language({"LANG": "zh_CN.UTF-8"})
'zh-CN'
>>> cli_language({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"})
'en'
>>> choose_language(None, {})
'en'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from scanpay.i18n import Language, normalize_language

__all__ = ["LOCALE_VARIABLES", "choose_language", "cli_language"]

#: The variables that name the messages' locale, strongest first (POSIX).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def cli_language(environ: Mapping[str, str] | None = None) -> Language:
    """The locale's language in ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        # An empty variable is as good as unset: the next one decides.
        value = env.get(name)
        if value:
            return normalize_language(value)
    return "en"


def choose_language(asked: str | None, environ: Mapping[str, str] | None = None) -> Language:
    """``asked`` (a command's ``--lang``) when given, otherwise the locale's language."""
    return normalize_language(asked) if asked else cli_language(environ)
