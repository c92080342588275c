"""The adapter's configuration: which API a channel speaks, the secrets each needs (a
channel it cannot use raises before anything is sent), its settings and options, the
registry, the client cache, and the trade bill's reading."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from networks.wechat.kit import adapter, make_shop, pay_request
from scanpay.networks import Channel, ChannelMode, NetworkError, Outcome, StatementKind, registry
from scanpay.networks.port import Network
from scanpay.networks.wechat import (
    Timeouts,
    WeChatPayNetwork,
    WeChatSettings,
    from_options,
)
from scanpay.networks.wechat.bill import BillError, parse_bill
from scanpay.networks.wechat.config import api_of
from sim.kit import RunningSim, free_socket

KEY = "0123456789abcdefghijABCDEFGHIJ01"
CODE = "134567890123456789"


def _channel(network: str = "wechat_pay", **secrets: str) -> Channel:
    return Channel(network, ChannelMode.DIRECT, "wx0000000000000001", "1900000001", secrets=secrets)


def _refused(call: object, *args: object) -> NetworkError:
    with pytest.raises(NetworkError) as err:
        call(*args)  # type: ignore[operator]
    return err.value


def test_the_api_a_channel_speaks() -> None:
    assert api_of(_channel(api="v2", private_key="x", api_key=KEY)) == "v2"
    assert api_of(_channel(api=" V3 ")) == "v3"
    assert api_of(_channel(private_key="x", api_key=KEY)) == "v3"  # both: the newer
    assert api_of(_channel(api_key=KEY)) == "v2"
    err = _refused(api_of, _channel())
    assert (err.code, err.field) == ("channel_secret_missing", "api")
    err = _refused(api_of, _channel(api="v4"))
    assert (err.code, err.field) == ("channel_secret_bad", "api")
    err = _refused(api_of, _channel("alipay", api="v3"))
    assert err.code == "channel_network_mismatch"


def _pay_refused(network: WeChatPayNetwork, channel: Channel) -> NetworkError:
    return _refused(network.pay, pay_request(channel, CODE, 100))


def test_a_channel_the_adapter_cannot_use_raises_before_anything_is_sent(
    sim: RunningSim,
) -> None:
    good = make_shop(sim, "v3-public_key-direct").channel
    closed = free_socket()  # nothing listens: had anything been sent, it would be UNKNOWN
    try:
        with adapter(f"http://127.0.0.1:{closed.getsockname()[1]}") as network:
            for dropped in ("private_key", "cert_serial", "api_v3_key", "wechatpay_public_key_id"):
                secrets = {k: v for k, v in good.secrets.items() if k != dropped}
                err = _pay_refused(network, replace(good, secrets=secrets))
                assert (err.code, err.field) == ("channel_secret_missing", dropped)
            for name, value in (
                (
                    "private_key",
                    "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
                ),
                ("api_v3_key", "short"),
                ("cert_serial", "not hex"),
                ("wechatpay_public_key_id", "KEY_1"),
            ):
                err = _pay_refused(network, replace(good, secrets={**good.secrets, name: value}))
                assert (err.code, err.field) == ("channel_secret_bad", name)
                assert value not in str(err)  # the message names the secret, never its value
            v2 = {"api": "v2", "api_key": KEY, "sign_type": "SHA1"}
            err = _pay_refused(network, replace(good, secrets=v2))
            assert (err.code, err.field) == ("channel_secret_bad", "sign_type")
            err = _pay_refused(network, replace(good, secrets={**v2, "api_key": "short"}))
            assert (err.code, err.field) == ("channel_secret_bad", "api_key")
    finally:
        closed.close()


def _self_signed() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "1900000001")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), pem_key.decode()


def test_v2_over_tls_needs_the_client_certificate() -> None:
    closed = free_socket()
    port = closed.getsockname()[1]
    secrets = {"api": "v2", "api_key": KEY}
    try:
        with WeChatPayNetwork(WeChatSettings(gateway=f"https://127.0.0.1:{port}")) as network:
            channel = _channel(**secrets)
            err = _pay_refused(network, channel)
            assert (err.code, err.field) == ("channel_secret_missing", "client_cert")
            cert, key = _self_signed()
            with_cert = _channel(**secrets, client_cert=cert, client_key=key)
            # The TLS context with the certificate is made; nothing answers: UNKNOWN.
            assert network.pay(pay_request(with_cert, CODE, 100)).outcome is Outcome.UNKNOWN
            other_cert, _ = _self_signed()
            mismatched = _channel(**secrets, client_cert=other_cert, client_key=key)
            err = _pay_refused(network, mismatched)
            assert (err.code, err.field) == ("channel_secret_bad", "client_cert")
    finally:
        closed.close()


def test_settings_and_options() -> None:
    assert WeChatSettings().gateway == "https://api.mch.weixin.qq.com"
    for gateway in ("http://api.mch.weixin.qq.com", "ftp://127.0.0.1", "https://x/path"):
        err = _refused(WeChatSettings, gateway)
        assert (err.code, err.field) == ("bad_network_option", "gateway")
    assert WeChatSettings("http://127.0.0.1:8700/").gateway == "http://127.0.0.1:8700"
    assert _refused(Timeouts, 0).field == "pay_timeout"

    network = from_options(
        {"gateway": "http://localhost:8700", "pay_timeout": "8", "query_timeout": "3.5"}
    )
    with network:
        assert network.settings.timeouts.pay == 8 and network.settings.timeouts.query == 3.5
        assert network.settings.timeouts.reverse == Timeouts().reverse
    for options in ({"colour": "red"}, {"pay_timeout": "soon"}, {"device_ip": "till 1"}):
        assert _refused(from_options, options).code == "bad_network_option"


def test_the_registry() -> None:
    assert "wechat_pay" in registry.names()
    made = registry.create("wechat_pay", {"gateway": "http://127.0.0.1:8700"})
    assert isinstance(made, Network) and made.name == "wechat_pay"
    made.close()  # type: ignore[attr-defined]
    assert _refused(registry.create, "nopay").code == "network_unknown"
    assert _refused(registry.register, "Bad Name", from_options).code == "bad_network_name"


def test_one_client_per_credentials(sim: RunningSim, network: WeChatPayNetwork) -> None:
    """A service provider's sub-merchants share its client; a rotated key gets a new one."""
    shop = make_shop(sim, "v3-certificate-partner")
    sub = sim.admin("POST", f"/sim/merchants/{shop.top.mchid}/sub-merchants", json={})
    other = replace(shop.channel, sub_mch_id=sub["mchid"])
    assert network._v3(shop.channel) is network._v3(other)
    rotated = replace(other, secrets={**other.secrets, "api_v3_key": KEY})
    assert network._v3(rotated) is not network._v3(shop.channel)


HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率"
)


def test_reading_an_older_bill_and_refusing_what_is_not_one() -> None:
    payment = (
        "`2031-05-01 12:00:01,`wx1,`1900000001,`0,`,`4200001,`T1,`o1,`MICROPAY,`SUCCESS,"
        "`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,`0.00,`,`,`tea,`,`0.07404,`0.60%"
    )
    refund = (
        "`2031-05-01 12:05:00,`wx1,`1900000001,`0,`,`4200001,`T1,`o1,`MICROPAY,`REFUND,"
        "`OTHERS,`CNY,`0.00,`0.00,`5030001,`R1,`2.30,`0.00,`ORIGINAL,`SUCCESS,`tea,`,`-0.01380,`0.60%"
    )
    summary = "总交易单数,应结订单总金额,退款总金额\r\n`2,`12.34,`2.30"
    lines = parse_bill("\r\n".join([HEADER, payment, refund, summary]) + "\r\n")
    assert [(x.kind, x.amount, x.refund_no) for x in lines] == [
        (StatementKind.PAYMENT, 1234, None),
        (StatementKind.REFUND, 230, "R1"),
    ]
    assert lines[0].time == dt.datetime(2031, 5, 1, 4, 0, 1, tzinfo=dt.UTC)
    # 手续费 to five decimals, half up to the fen; given back with the refund.
    assert [x.fee for x in lines] == [7, -1]
    for bad in (
        "",
        "a,b,c\r\n",
        HEADER + "\r\n`2031-05-01,`x\r\n",
        HEADER + "\r\n" + payment.replace("12.34", "12.345"),
    ):
        with pytest.raises(BillError):
            parse_bill(bad)
