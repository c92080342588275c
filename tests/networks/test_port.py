"""The network port's values: channels, requests and answers check themselves and keep secrets."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from scanpay.networks import (
    NETWORK_ERRORS,
    Channel,
    ChannelMode,
    NetworkError,
    Outcome,
    PayAnswer,
    PayRequest,
    RefundRequest,
    ReverseAnswer,
    ReverseOutcome,
)

SECRET = "a-very-secret-api-key-0123456789ab"
CODE = "134567890123456789"


def _channel(**changes: object) -> Channel:
    values: dict[str, object] = {
        "network": "wechat_pay",
        "mode": ChannelMode.SERVICE_PROVIDER,
        "app_id": "wx8888888888888888",
        "mch_id": "1900000109",
        "sub_mch_id": "1900000110",
        "secrets": {"api_key": SECRET, "cert_serial": "5157F09EFDC096DE15EBE81A47057A72"},
    }
    values.update(changes)
    return Channel(**values)  # type: ignore[arg-type]


def _pay(**changes: object) -> PayRequest:
    values: dict[str, object] = {
        "channel": _channel(),
        "trade_no": "T1-20250101-0001",
        "auth_code": CODE,
        "amount": 2372,
        "currency": "CNY",
        "description": "Shop 1 - groceries",
    }
    values.update(changes)
    return PayRequest(**values)  # type: ignore[arg-type]


def _refused(make: object, **changes: object) -> NetworkError:
    with pytest.raises(NetworkError) as err:
        make(**changes)  # type: ignore[operator]
    assert err.value.code in NETWORK_ERRORS
    return err.value


def test_a_channels_repr_names_its_secrets_but_never_shows_them() -> None:
    channel = _channel()
    text = repr(channel) + str(channel)
    assert SECRET not in text and "5157F09E" not in text
    assert "api_key" in text and "1900000110" in text
    assert channel.secret("api_key") == SECRET


def test_a_channels_secrets_are_a_read_only_copy() -> None:
    given = {"api_key": SECRET}
    channel = _channel(secrets=given)
    given["api_key"] = "changed"
    assert channel.secret("api_key") == SECRET
    with pytest.raises(TypeError):
        channel.secrets["api_key"] = "x"  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        channel.mch_id = "1"  # type: ignore[misc]
    # A rotated key makes another channel; the hash never reads a secret.
    assert channel != _channel(secrets={"api_key": "rotated"})
    assert channel == _channel(secrets={"api_key": SECRET})
    assert hash(channel) == hash(_channel(secrets={}))


def test_a_missing_secret_names_itself() -> None:
    err = _refused(_channel().secret, name="apiv3_key")
    assert (err.code, err.field) == ("channel_secret_missing", "apiv3_key")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"network": "WeChat Pay"}, "bad_network_name", "network"),
        ({"mch_id": ""}, "channel_incomplete", "mch_id"),
        ({"app_id": ""}, "channel_incomplete", "app_id"),
        ({"sub_mch_id": None}, "channel_incomplete", "sub_mch_id"),
        ({"mode": "direct"}, "channel_mode", "mode"),
        ({"mode": "partner"}, "channel_mode", "mode"),
    ],
)
def test_channels_that_cannot_work_are_refused(
    changes: dict[str, object], code: str, field: str
) -> None:
    err = _refused(_channel, **changes)
    assert (err.code, err.field) == (code, field)
    assert err.text.zh_cn and err.text.en


def test_a_direct_channel_has_no_sub_merchant() -> None:
    channel = _channel(mode="direct", sub_mch_id=None)
    assert channel.mode is ChannelMode.DIRECT


def test_a_pay_requests_repr_masks_the_code() -> None:
    text = repr(_pay())
    assert CODE not in text and "134567********6789" in text
    assert SECRET not in text


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"trade_no": "T" * 33}, "bad_trade_no", "trade_no"),
        ({"trade_no": ""}, "bad_trade_no", "trade_no"),
        ({"trade_no": "T1 0001"}, "bad_trade_no", "trade_no"),
        ({"auth_code": ""}, "bad_auth_code", "auth_code"),
        ({"auth_code": "1345 678"}, "bad_auth_code", "auth_code"),
        ({"amount": 0}, "bad_amount", "amount"),
        ({"amount": True}, "bad_amount", "amount"),
        ({"amount": 23.72}, "bad_amount", "amount"),
        ({"currency": "cny"}, "bad_currency", "currency"),
        ({"currency": "XXY"}, "bad_currency", "currency"),
        ({"description": "  "}, "bad_description", "description"),
    ],
)
def test_pay_requests_the_network_cannot_take_are_refused(
    changes: dict[str, object], code: str, field: str
) -> None:
    err = _refused(_pay, **changes)
    assert (err.code, err.field) == (code, field)


def test_a_trade_number_of_32_characters_is_taken() -> None:
    assert _pay(trade_no="A" * 32).trade_no == "A" * 32


def test_refund_requests_check_amount_and_number() -> None:
    ok = RefundRequest(_channel(), "T1-0001", "R1-0001", 100, 2372, "CNY")
    assert ok.amount == 100
    err = _refused(RefundRequest, **{**_refund_args(), "amount": 2373})
    assert (err.code, err.field) == ("bad_amount", "amount")
    err = _refused(RefundRequest, **{**_refund_args(), "refund_no": "R" * 65})
    assert (err.code, err.field) == ("bad_refund_no", "refund_no")


def _refund_args() -> dict[str, object]:
    return {
        "channel": _channel(),
        "trade_no": "T1-0001",
        "refund_no": "R1-0001",
        "amount": 100,
        "total": 2372,
        "currency": "CNY",
    }


def test_an_unknown_pay_answer_is_code_91() -> None:
    answer = PayAnswer.unknown("SYSTEMERROR")
    assert (answer.outcome, answer.result_code, answer.network_code) == (
        Outcome.UNKNOWN,
        "91",
        "SYSTEMERROR",
    )


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Outcome.APPROVED, "51"),
        (Outcome.DECLINED, "00"),
        (Outcome.DECLINED, "91"),
        (Outcome.DECLINED, "09"),
        (Outcome.USER_PAYING, "00"),
        (Outcome.UNKNOWN, "51"),
    ],
)
def test_an_answer_whose_code_contradicts_its_outcome_is_refused(
    outcome: Outcome, code: str
) -> None:
    err = _refused(
        PayAnswer, outcome=outcome, result_code=code, message=NETWORK_ERRORS["bad_answer"]
    )
    assert (err.code, err.field) == ("bad_answer", "result_code")


def test_reverse_answers_say_done_again_or_unknown() -> None:
    assert ReverseAnswer(ReverseOutcome.DONE).done
    assert ReverseAnswer(ReverseOutcome.AGAIN, "SYSTEMERROR").again
    assert ReverseAnswer(ReverseOutcome.UNKNOWN).unknown
    refused = ReverseAnswer(ReverseOutcome.REFUSED, "REVERSE_EXPIRE")
    assert not (refused.done or refused.again or refused.unknown)


def test_every_error_code_has_both_languages() -> None:
    for code, text in NETWORK_ERRORS.items():
        assert code == code.lower() and text.zh_cn and text.en
