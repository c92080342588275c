"""The adapter's configuration: the secrets each mode needs (a channel it cannot use
raises before anything is sent, naming the secret), its options, the registry."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from networks.alipay.kit import APP_ID, PID, SUB_PID, channel, gateway, network, pki
from scanpay.networks import Channel, ChannelMode, NetworkError, PayRequest, registry
from scanpay.networks.alipay import LEG_RULES, AlipayNetwork, AlipaySettings, from_options
from scanpay.networks.alipay.config import keys_of
from scanpay.networks.leg import LegRules
from scanpay.networks.port import Network

GATEWAY = "https://openapi.alipay.com/gateway.do"


def _refused(call: object, *args: object) -> NetworkError:
    with pytest.raises(NetworkError) as err:
        call(*args)  # type: ignore[operator]
    return err.value


def test_both_modes_load() -> None:
    public = keys_of(channel("public_key"))
    assert not public.certificate_mode and public.seller_id == PID
    assert public.app_auth_token is None
    cert = keys_of(channel("certificate", partner=True))
    assert cert.certificate_mode and cert.seller_id == SUB_PID
    assert cert.app_auth_token == "202512BBtoken0000000000000000001"
    assert "PRIVATE" not in repr(cert) and "token" not in repr(cert)


BAD_PUBLIC = "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----"
BAD_CERT = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
MISSING, BAD = "channel_secret_missing", "channel_secret_bad"
PK, CERT = "public_key", "certificate"


@pytest.mark.parametrize(
    ("mode", "partner", "overrides", "code", "field"),
    [
        (PK, False, {"app_private_key": None}, MISSING, "app_private_key"),
        (PK, False, {"app_private_key": "not a key"}, BAD, "app_private_key"),
        (PK, False, {"alipay_public_key": BAD_PUBLIC}, BAD, "alipay_public_key"),
        (PK, False, {"alipay_public_key": None}, MISSING, "app_cert"),
        (CERT, False, {"alipay_cert": None}, MISSING, "alipay_cert"),
        (CERT, False, {"alipay_root_cert": None}, MISSING, "alipay_root_cert"),
        (CERT, False, {"app_cert": BAD_CERT}, BAD, "app_cert"),
        (CERT, False, {"alipay_cert": "hello"}, BAD, "alipay_cert"),
        (PK, True, {"app_auth_token": None}, MISSING, "app_auth_token"),
        (PK, True, {"app_auth_token": "two words"}, BAD, "app_auth_token"),
        (PK, False, {"app_auth_token": "202512BBtoken"}, "channel_mode", "mode"),
    ],
)
def test_a_channel_it_cannot_use(
    mode: str, partner: bool, overrides: dict[str, str | None], code: str, field: str
) -> None:
    err = _refused(keys_of, channel(mode, partner=partner, **overrides))
    assert (err.code, err.field) == (code, field)
    assert err.text.zh_cn and err.text.en


def test_the_root_chain_needs_an_rsa_certificate_it_can_read() -> None:
    p = pki()
    chain = p.root_cert.strip() + "\n" + p.alipay_cert  # no blank line between: still read
    assert keys_of(channel("certificate", alipay_root_cert=chain)).alipay_root_cert
    with gateway() as gw, network(gw.url) as made:
        made.client(channel("certificate", alipay_root_cert=chain))  # the package reads it


@pytest.mark.parametrize(
    ("app_id", "mch_id", "field"),
    [("wx123", PID, "app_id"), (APP_ID, "1900000001", "mch_id")],
)
def test_accounts(app_id: str, mch_id: str, field: str) -> None:
    secrets = dict(channel().secrets)
    bad = Channel("alipay", ChannelMode.DIRECT, app_id, mch_id, secrets=secrets)
    err = _refused(keys_of, bad)
    assert (err.code, err.field) == ("channel_incomplete", field)
    other = Channel("wechat_pay", ChannelMode.DIRECT, APP_ID, PID, secrets=secrets)
    assert _refused(keys_of, other).code == "channel_network_mismatch"
    provider = Channel(
        "alipay", ChannelMode.SERVICE_PROVIDER, APP_ID, PID, sub_mch_id="1", secrets=secrets
    )
    assert _refused(keys_of, provider).field in ("app_auth_token", "sub_mch_id")


def test_nothing_is_sent_for_a_channel_it_cannot_use() -> None:
    with gateway() as gw, network(gw.url) as made:
        bad = channel(app_private_key=None)
        request = PayRequest(bad, "T1", "281234567890123456", 100, "CNY", "tea")
        assert _refused(made.pay, request).field == "app_private_key"
        assert _refused(made.query, bad, "T1").field == "app_private_key"
        good = channel()
        dollars = PayRequest(good, "T1", "281234567890123456", 100, "USD", "tea")
        assert _refused(made.pay, dollars).code == "bad_currency"
        dashed = PayRequest(good, "T-1", "281234567890123456", 100, "CNY", "tea")
        assert _refused(made.pay, dashed).code == "bad_trade_no"  # Alipay: [A-Za-z0-9_]
        assert _refused(made.refund_query, good, "R-never-made").field == "trade_no"
        assert gw.received == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({}, "gateway"),
        ({"gateway": "http://example.com/gateway.do"}, "gateway"),  # plain HTTP off loopback
        ({"gateway": "ftp://127.0.0.1/gateway.do"}, "gateway"),
        ({"gateway": GATEWAY, "pay_timeout": "soon"}, "pay_timeout"),
        ({"gateway": GATEWAY, "query_timeout": "0"}, "query_timeout"),
        ({"gateway": GATEWAY, "timeout": "-1"}, "pay_timeout"),
        ({"gateway": GATEWAY, "notify_url": "mailto:x@example.com"}, "notify_url"),
        ({"gateway": GATEWAY, "colour": "red"}, "colour"),
    ],
)
def test_options_refused(options: dict[str, str], field: str) -> None:
    err = _refused(from_options, options)
    assert (err.code, err.field) == ("bad_network_option", field)


def test_options_and_the_registry() -> None:
    made = from_options(
        {"gateway": GATEWAY, "timeout": "7", "pay_timeout": "12", "notify_url": "https://x.cn/n"}
    )
    with made:
        t = made.settings.timeouts
        assert (t.pay, t.query, t.refund, t.statement, t.connect) == (12, 7, 7, 7, 3)
        assert made.settings.notify_url == "https://x.cn/n"
        assert isinstance(made, Network) and made.name == "alipay"
    assert "alipay" in registry.names()
    # What the host passes (its pay timeout) plus the configured options.
    with registry.create("alipay", {"pay_timeout": "20", "gateway": GATEWAY}) as created:
        assert isinstance(created, AlipayNetwork)
        assert created.settings.timeouts.pay == 20
    assert AlipaySettings(gateway="http://localhost:8620/gateway.do").gateway


def test_the_legs_timing() -> None:
    assert isinstance(LEG_RULES, LegRules)
    assert LEG_RULES.reverse_after == 0  # Alipay lets a trade be cancelled at once
    assert 3 <= LEG_RULES.poll_interval <= 5 and LEG_RULES.first_query_after <= 5
    with network(GATEWAY) as made:
        assert made.leg_rules is LEG_RULES


def test_a_root_chain_without_an_rsa_certificate() -> None:
    # The package numbers a chain by its RSA certificates only (Alipay's file carries
    # others too): a chain of none cannot name Alipay's root.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EC root")])
    now = dt.datetime.now(dt.UTC)
    only_ec = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    with gateway() as gw, network(gw.url) as made:
        err = _refused(made.client, channel("certificate", alipay_root_cert=only_ec))
        assert (err.code, err.field) == ("channel_secret_bad", "alipay_root_cert")
        assert gw.received == []
