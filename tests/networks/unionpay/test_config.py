"""Options, settings and a channel's keys: what the adapter refuses before sending."""

from __future__ import annotations

import pytest

from networks.unionpay.kit import MER_ID, channel, key_pem, pem, pki, secrets
from scanpay.networks import Channel, ChannelMode, NetworkError, registry
from scanpay.networks.unionpay import LEG_RULES, UnionPayNetwork, from_options
from scanpay.networks.unionpay.config import UNIONPAY_CN, UnionPaySettings, keys_of

GOOD = {"gateway": "https://gateway.95516.com", "back_url": "https://shop.example.com/back"}


def test_from_options_and_the_registry() -> None:
    created = registry.create("unionpay", {**GOOD, "timeout": "7", "query_timeout": "2"})
    assert isinstance(created, UnionPayNetwork) and created.name == "unionpay"
    made = created
    try:
        t = made.settings.timeouts
        assert (t.pay, t.query, t.connect) == (7.0, 2.0, 3.0)
        assert made.settings.expected_cn == UNIONPAY_CN
        assert made.leg_rules is LEG_RULES
        assert made.settings.url("/gateway/api/queryTrans.do") == (
            "https://gateway.95516.com/gateway/api/queryTrans.do"
        )
    finally:
        made.close()
    assert "unionpay" in registry.names()
    with from_options({**GOOD, "expected_cn": "00040000:SIGN"}) as sim:
        assert sim.settings.expected_cn == "00040000:SIGN"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"back_url": GOOD["back_url"]}, "gateway"),
        ({"gateway": GOOD["gateway"]}, "back_url"),
        ({**GOOD, "gateway": "http://gateway.95516.com"}, "gateway"),  # plain http, not here
        ({**GOOD, "gateway": "ftp://x"}, "gateway"),
        ({**GOOD, "back_url": "not a url"}, "back_url"),
        ({**GOOD, "timeout": "soon"}, "timeout"),
        ({**GOOD, "pay_timeout": "0"}, "pay_timeout"),
        ({**GOOD, "colour": "red"}, "colour"),
        ({**GOOD, "expected_cn": " "}, "expected_cn"),
    ],
)
def test_bad_options(options: dict[str, str], field: str) -> None:
    with pytest.raises(NetworkError) as caught:
        from_options(options)
    assert (caught.value.code, caught.value.field) == ("bad_network_option", field)


def test_plain_http_on_loopback_only() -> None:
    UnionPaySettings("http://127.0.0.1:8080", "http://127.0.0.1:9/back")
    with pytest.raises(NetworkError):
        UnionPaySettings("http://10.0.0.1:8080", GOOD["back_url"])


def test_the_keys() -> None:
    keys = keys_of(channel())
    assert keys.mer_id == MER_ID and keys.cert_id == "68759529225"  # the serial, decimal
    assert "PRIVATE" not in repr(keys) and "68759529225" in repr(keys)


@pytest.mark.parametrize("name", ["sign_key", "sign_cert", "root_cert", "middle_cert"])
def test_a_missing_secret_is_named(name: str) -> None:
    with pytest.raises(NetworkError) as caught:
        keys_of(channel(**{name: None}))
    assert (caught.value.code, caught.value.field) == ("channel_secret_missing", name)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sign_key": "not a key"}, "sign_key"),
        ({"sign_cert": "not a cert"}, "sign_cert"),
        ({"root_cert": "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----"}, "root_cert"),
        # The certificate of another key: certId would name the wrong certificate.
        ({"sign_cert": "UNIONPAY"}, "sign_cert"),
        ({"sign_key": "STRANGER"}, "sign_cert"),
        ({"middle_cert": "TWO"}, "middle_cert"),
    ],
)
def test_an_unusable_secret_is_named(overrides: dict[str, str], field: str) -> None:
    p = pki()
    swap = {
        "UNIONPAY": pem(p.unionpay_cert),
        "STRANGER": key_pem(p.stranger_key),
        "TWO": pem(p.middle) + pem(p.root),
    }
    with pytest.raises(NetworkError) as caught:
        keys_of(channel(**{k: swap.get(v, v) for k, v in overrides.items()}))
    assert (caught.value.code, caught.value.field) == ("channel_secret_bad", field)
    assert "BEGIN" not in str(caught.value)


@pytest.mark.parametrize(
    ("made", "code", "field"),
    [
        (
            lambda: Channel("alipay", ChannelMode.DIRECT, MER_ID, MER_ID, secrets=secrets()),
            "channel_network_mismatch",
            "network",
        ),
        (
            lambda: Channel("unionpay", ChannelMode.DIRECT, "APP", MER_ID, secrets=secrets()),
            "channel_incomplete",
            "app_id",
        ),
        (
            lambda: Channel("unionpay", ChannelMode.DIRECT, "12345", "12345", secrets=secrets()),
            "channel_incomplete",
            "mch_id",
        ),
        (
            lambda: Channel(
                "unionpay",
                ChannelMode.SERVICE_PROVIDER,
                MER_ID,
                MER_ID,
                sub_mch_id="777290058110049",
                secrets=secrets(),
            ),
            "channel_mode",
            "mode",
        ),
    ],
)
def test_a_channel_it_cannot_use(made: object, code: str, field: str) -> None:
    with pytest.raises(NetworkError) as caught:
        keys_of(made())  # type: ignore[operator]
    assert (caught.value.code, caught.value.field) == (code, field)


def test_the_memory_of_orders() -> None:
    from scanpay.networks.unionpay.memory import Book, embedded_txn_time

    assert embedded_txn_time("20261208101500T0001") == "20261208101500"
    for none in ("T20261208101500", "2026120810150", "20261399101500AB", "20261208256000AB"):
        assert embedded_txn_time(none) is None
    book = Book("trade_no", limit=2)
    first = book.sending(MER_ID, "T0000001", 5)
    assert book.sending(MER_ID, "T0000001", 5) == first  # a retry: the same txnTime
    book.learn(MER_ID, "T0000001", first, "Q1", None)
    assert book.query_ids(MER_ID) == {"Q1": "T0000001"} and book.query_ids("other") == {}
    book.sending(MER_ID, "T0000002", 1)
    book.sending(MER_ID, "T0000003", 1)  # the oldest is forgotten
    assert book.get(MER_ID, "T0000001") is None
    with pytest.raises(NetworkError) as caught:
        book.txn_time(MER_ID, "T0000001")
    assert (caught.value.code, caught.value.field) == ("bad_trade_no", "trade_no")
    with pytest.raises(NetworkError) as refund:
        Book("refund_no").txn_time(MER_ID, "R0000001")
    assert refund.value.code == "bad_refund_no"
