"""The rules of a merchant channel's mode (issue 16, "Channels per merchant").

A ``service_provider`` channel is a sub-merchant under one of the acquirer's network
accounts: it pays with the account's app id, merchant id and secrets and takes its
own ``sub_mch_id`` (and maybe ``sub_app_id``). A ``direct`` channel is the merchant's
own account: its own app id, merchant id and secrets, no network account and no
sub-merchant ids. What a channel of one mode does not take is refused (30, naming the
field) before anything is written; :func:`check_channel` applies the network port's
own rules to a row.
"""

from __future__ import annotations

from scanpay.host.db.models import MerchantChannel, NetworkAccount
from scanpay.host.errors import HostError
from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Channel, ChannelMode

__all__ = ["channel_mode", "check_channel", "refuse_outside_mode"]


def _bad(field: str, zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field=field)


def check_channel(row: MerchantChannel, account: NetworkAccount | None) -> None:
    """The port's own rules for a channel (service provider: a sub-merchant id; direct:
    its own ids and no sub-merchant ids), as a 30 naming the field."""
    try:
        Channel(
            network=row.network,
            mode=ChannelMode(row.mode),
            app_id=account.app_id if account is not None else row.app_id or "",
            mch_id=account.mch_id if account is not None else row.mch_id or "",
            sub_mch_id=row.sub_mch_id,
            sub_app_id=row.sub_app_id,
        )
    except NetworkError as exc:
        raise HostError("30", exc.text, field=exc.field) from None


def channel_mode(mode: str) -> ChannelMode:
    """``mode`` as a :class:`~scanpay.networks.port.ChannelMode`, else a 30."""
    try:
        return ChannelMode(mode)
    except ValueError:
        raise _bad(
            "mode",
            "模式须为 service_provider（服务商）或 direct（直连）",
            "the mode is service_provider or direct",
        ) from None


def refuse_outside_mode(mode: ChannelMode, **given: object) -> None:
    """Refuse what a channel of ``mode`` does not take (given, not None or empty),
    naming the first."""
    for name, value in given.items():
        if value is None or value == {} or value == []:
            continue
        if mode is ChannelMode.SERVICE_PROVIDER:
            raise _bad(
                name,
                f"服务商模式的渠道使用其网络账户的 app_id、mch_id 和机密，不能设 {name}",
                f"a service-provider channel uses its account's app_id, mch_id and secrets: "
                f"it takes no {name}",
            )
        raise _bad(
            name,
            f"直连模式的渠道没有网络账户和子商户号，不能设 {name}",
            f"a direct channel has no network account and no sub-merchant ids: it takes no {name}",
        )
