"""The operator's channel forms, read: what the portal's channel pages post, as the
arguments of :mod:`scanpay.host.services.channels` and
:mod:`scanpay.host.services.network_accounts` (issue 16). Pure.

Secrets are write-only fields (``secret.<name>``, and one ``other_name`` /
``other_value`` pair for a name the form does not list): an empty one keeps what is
set. A value is taken as the command line takes a file's: a textarea's line breaks
(which browsers send as CRLF) as LF, trailing line breaks dropped, so a PEM pasted
here has the fingerprint ``printf %s "$(cat FILE)" | sha256sum`` shows. Nothing here
keeps, shows or logs a value; :func:`echoed` says which fields a re-rendered form may
show again (never a secret's).

The services check everything again (ids, names, modes); a refusal here is the same
:class:`~scanpay.host.errors.HostError` (30, naming the field) they raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from scanpay.host.errors import HostError
from scanpay.host.services.channel_secrets import NETWORKS, is_secret_name
from scanpay.host.services.channels import ChannelInfo
from scanpay.host.services.network_accounts import AccountInfo
from scanpay.i18n import Text

__all__ = [
    "ID_FIELDS",
    "SECRET_FIELDS",
    "SecretField",
    "account_changes",
    "channel_changes",
    "echoed",
    "new_channel",
    "read_enabled",
    "read_secrets",
    "secret_fields",
    "secret_text",
]


@dataclass(frozen=True, slots=True)
class SecretField:
    """A secret the form offers: its name, and whether it is a PEM (a textarea)."""

    name: str
    multiline: bool = False


#: The secrets each network's adapter reads (docs/networks.md, "A channel's secrets").
SECRET_FIELDS: dict[str, tuple[SecretField, ...]] = {
    "wechat_pay": (
        SecretField("api"),
        SecretField("private_key", multiline=True),
        SecretField("cert_serial"),
        SecretField("api_v3_key"),
        SecretField("wechatpay_public_key", multiline=True),
        SecretField("wechatpay_public_key_id"),
        SecretField("platform_certificate", multiline=True),
        SecretField("api_key"),
        SecretField("sign_type"),
        SecretField("client_cert", multiline=True),
        SecretField("client_key", multiline=True),
    ),
}

#: The id fields of channels and accounts (not secret: shown, and kept in a form
#: re-rendered after an error).
ID_FIELDS: tuple[str, ...] = ("account", "app_id", "mch_id", "sub_mch_id", "sub_app_id")
_ECHOED = frozenset({"network", "mode", "label", "enabled", *ID_FIELDS})
_PREFIX = "secret."
_MAX_ID = 128  # longer than any id (64): the service names the field, the page keeps it


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def secret_fields() -> list[SecretField]:
    """The secret fields of every network's forms, each name once."""
    seen: dict[str, SecretField] = {}
    for network in NETWORKS:
        for item in SECRET_FIELDS.get(network, ()):
            seen.setdefault(item.name, item)
    return list(seen.values())


def secret_text(raw: str) -> str:
    """A typed or pasted secret as the command line reads it from a file: line breaks
    as LF, the trailing ones dropped."""
    return raw.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def read_secrets(fields: Mapping[str, str]) -> dict[str, str]:
    """The secrets given (non-empty ``secret.<name>`` fields and the ``other`` pair).

    >>> read_secrets({"secret.api_key": "k" * 32 + "\\r\\n", "secret.api": ""})
    {'api_key': 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'}
    """
    found: dict[str, str] = {}
    for key, raw in fields.items():
        if not key.startswith(_PREFIX):
            continue
        name, value = key[len(_PREFIX) :], secret_text(raw)
        if not value.strip():
            continue  # empty: keep what is set
        if not is_secret_name(name):
            raise _bad(
                "secret",
                "机密名称为小写字母、数字或 _（至多 32 个）",
                "a secret's name is lower-case letters, digits or _ (at most 32)",
            )
        found[name] = value
    name = fields.get("other_name", "").strip()
    value = secret_text(fields.get("other_value", ""))
    if name or value.strip():
        if not is_secret_name(name):
            # The message never repeats what was typed: it may be a value without a name.
            raise _bad(
                "other_name",
                "其他机密须有名称：小写字母、数字或 _（至多 32 个）",
                "the other secret needs a name: lower-case letters, digits or _ (at most 32)",
            )
        if not value.strip():
            raise _bad("other_value", f"机密 {name} 为空", f"the secret {name} is empty")
        if name in found:
            raise _bad("other_name", f"机密 {name} 给了两次", f"the secret {name} is given twice")
        found[name] = value
    return found


def read_enabled(text: str | None) -> bool | None:
    """The ``enabled`` field: ``1``/``on`` (a checkbox) or ``0``; None when absent."""
    if text is None:
        return None
    if text in ("1", "on", "true"):
        return True
    if text in ("0", "off", "false"):
        return False
    raise _bad("enabled", "启用状态须为 1 或 0", "enabled is 1 or 0")


def _id(fields: Mapping[str, str], name: str) -> str | None:
    """An id field as typed (None when absent or blank)."""
    value = fields.get(name, "").strip()[:_MAX_ID]
    return value or None


def new_channel(fields: Mapping[str, str]) -> dict[str, Any]:
    """The keyword arguments of :func:`~scanpay.host.services.channels.add_channel`
    (beside the merchant): what the form gave, blanks as None (the service refuses
    what the mode does not take, naming the field)."""
    return {
        "network": fields.get("network", "").strip()[:32],
        "mode": fields.get("mode", "").strip()[:32],
        **{name: _id(fields, name) for name in ID_FIELDS},
        "secrets": read_secrets(fields),
        # A form without the box unticked sends nothing: disabled.
        "enabled": bool(read_enabled(fields.get("enabled", "0"))),
    }


def _changed(fields: Mapping[str, str], name: str, current: str | None) -> str | None:
    """The field ``name`` when the form has it and it differs from ``current`` (``""``
    for a cleared one), else None (left as it is)."""
    if name not in fields:
        return None
    value = fields[name].strip()[:_MAX_ID]
    return value if value != (current or "") else None


def channel_changes(
    current: ChannelInfo, fields: Mapping[str, str], drop: Iterable[str] = ()
) -> dict[str, Any]:
    """The keyword arguments of :func:`~scanpay.host.services.channels.update_channel`
    for what the form changes: id fields that differ from ``current`` (so the audit
    names only those), the secrets given, those to ``drop``, ``enabled`` when posted.
    A service-provider channel's own ``app_id`` and ``mch_id`` are its account's: the
    form has none, and one posted all the same is passed on for the service to refuse."""
    changes: dict[str, Any] = {
        name: _changed(fields, name, getattr(current, name)) for name in ID_FIELDS
    }
    if current.secrets_from == "account":
        for name in ("app_id", "mch_id"):
            if name in fields and fields[name].strip():
                changes[name] = fields[name].strip()[:_MAX_ID]
    changes["secrets"] = read_secrets(fields)
    changes["drop"] = [name[:64] for name in drop]
    changes["enabled"] = read_enabled(fields.get("enabled"))
    return changes


def account_changes(
    current: AccountInfo, fields: Mapping[str, str], drop: Iterable[str] = ()
) -> dict[str, Any]:
    """The keyword arguments of
    :func:`~scanpay.host.services.network_accounts.update_account`: ids that differ from
    ``current``, the secrets given, those to ``drop``."""
    changes: dict[str, Any] = {
        name: _changed(fields, name, getattr(current, name)) for name in ("app_id", "mch_id")
    }
    changes["secrets"] = read_secrets(fields)
    changes["drop"] = [name[:64] for name in drop]
    return changes


def echoed(fields: Mapping[str, str]) -> dict[str, str]:
    """What a form re-rendered after an error shows again: its ids, network, mode and
    label as typed, and the other secret's name when it is one (typed in the wrong box
    it may be a value). Never a secret's value."""
    kept = {k: v[:_MAX_ID] for k, v in fields.items() if k in _ECHOED}
    name = fields.get("other_name", "").strip()
    if is_secret_name(name):
        kept["other_name"] = name
    return kept
