"""What the acquirer's network accounts and the merchants' channels share: the networks
a channel may be for, what an id looks like, and their write-only secrets.

A row's secrets are one JSON object sealed under the master key, as terminal keys are
(purposes ``NETWORK_ACCOUNT_SECRETS`` and ``CHANNEL_SECRETS``: ``scanpay host key
rotate`` re-seals them with the rest). Outside the row they are shown by name and
:func:`fingerprint`, never by value, and nothing here logs.

Used by :mod:`~scanpay.host.services.network_accounts`,
:mod:`~scanpay.host.services.channels` and the command line's secret input; it
imports neither of them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from scanpay.host.domain.sealing import short_fingerprint
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import seal
from scanpay.i18n import Text

__all__ = [
    "MAX_SECRET_CHARS",
    "NETWORKS",
    "checked_id",
    "checked_network",
    "checked_secret",
    "checked_secrets",
    "fingerprint",
    "fingerprints",
    "is_secret_name",
    "merged_secrets",
    "open_secrets",
    "seal_secrets",
]

#: The networks a channel may be for: those the host has (or is getting) an adapter for.
#: A channel for any other would never be used, so it is refused; add one with its adapter.
NETWORKS: tuple[str, ...] = ("wechat_pay", "alipay", "unionpay")
#: The longest secret value taken (a PEM private key with its certificate chain fits).
MAX_SECRET_CHARS = 32_768

# App ids (wx8888888888888888), merchant ids (1900000109): letters, digits, a few marks.
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_SECRET_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def fingerprint(value: str) -> str:
    """A secret value's short fingerprint (``3f2a-09c1-77de-b410``), to tell which one is
    set: the first 64 bits of its SHA-256, which ``printf %s "$(cat FILE)" | sha256sum``
    begins with. A plain hash, so the operator can compute it from the file without the
    host: the values are random keys (API keys, private keys) or public ones (serials,
    the network's public key), and 64 bits of a hash give nothing to guess a random
    key from."""
    return short_fingerprint(hashlib.sha256(value.encode()).hexdigest())


def fingerprints(values: Mapping[str, str]) -> dict[str, str]:
    """Secret name -> :func:`fingerprint` of its value, by name."""
    return {name: fingerprint(values[name]) for name in sorted(values)}


def is_secret_name(name: str) -> bool:
    """Whether ``name`` may name a secret: lower-case letters, digits or _ (at most 32)."""
    return _SECRET_NAME.fullmatch(name) is not None


def checked_secret(name: str, value: str) -> str:
    """``value`` of the secret ``name``, refused (30) when blank or too long."""
    if not value.strip():
        raise _bad("secret", f"机密 {name} 为空", f"the secret {name} is empty")
    if len(value) > MAX_SECRET_CHARS:
        raise _bad(
            "secret",
            f"机密 {name} 超过 {MAX_SECRET_CHARS} 个字符",
            f"the secret {name} is longer than {MAX_SECRET_CHARS} characters",
        )
    return value


def checked_secrets(values: Mapping[str, str]) -> dict[str, str]:
    """``values`` checked: names, and values neither empty nor too long."""
    for name, value in values.items():
        if not is_secret_name(name):
            raise _bad(
                "secret",
                "机密名称为小写字母、数字或 _（至多 32 个）",
                "a secret's name is lower-case letters, digits or _ (at most 32)",
            )
        checked_secret(name, value)
    return dict(values)


def merged_secrets(
    current: Mapping[str, str], given: Mapping[str, str], drop: Iterable[str]
) -> dict[str, str]:
    """``current`` with ``given`` set (replacing those of the same name) and ``drop`` gone."""
    merged = dict(current)
    merged.update(checked_secrets(given))
    for name in drop:
        if name in given or name not in current:
            raise _bad(
                "secret", f"没有可删除的机密 {name[:32]!r}", f"no secret {name[:32]!r} to drop"
            )
        del merged[name]
    return merged


def seal_secrets(ctx: HostContext, values: Mapping[str, str], purpose: str) -> str | None:
    """``values`` as one sealed JSON object (None for none), for a row's ``secrets_sealed``."""
    if not values:
        return None
    return seal(ctx, json.dumps(dict(sorted(values.items())), separators=(",", ":")), purpose)


def open_secrets(ctx: HostContext, sealed: str | None, purpose: str) -> dict[str, str]:
    """The secrets :func:`seal_secrets` sealed (none for None)."""
    if not sealed:
        return {}
    opened = json.loads(ctx.secret_box.open(sealed, purpose))
    return {str(k): str(v) for k, v in opened.items()}


def checked_network(name: str) -> str:
    """``name`` if it is one of :data:`NETWORKS`, else a 30."""
    if name not in NETWORKS:
        known = ", ".join(NETWORKS)
        shown = name[:40]
        raise _bad(
            "network",
            f"未知的支付网络 {shown!r}（可用：{known}）",
            f"unknown payment network {shown!r} (known: {known})",
        )
    return name


def checked_id(value: str, field: str) -> str:
    """An app or merchant id, stripped; a 30 naming ``field`` if it is not one."""
    value = value.strip()
    if not _ID.fullmatch(value):
        raise _bad(
            field,
            f"{field} 须为 1-64 个字母、数字或 _ . -",
            f"{field} is 1-64 letters, digits or _ . -",
        )
    return value
