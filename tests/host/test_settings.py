"""Settings from the environment, and the package's public surface."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

from scanpay.host import HostSettings


def test_defaults_and_overrides() -> None:
    default = HostSettings.from_env({"SCANPAY_DATA_DIR": "/srv/scanpay"})
    assert default.database_url == "sqlite:////srv/scanpay/host.db"
    assert (default.timezone, default.min_terminal_version, default.code_lifetime) == (
        "Asia/Shanghai",
        "0.1.0",
        60,
    )
    custom = HostSettings.from_env(
        {
            "SCANPAY_DATABASE_URL": "postgresql://scanpay@db/scanpay",
            "SCANPAY_MIN_TERMINAL_VERSION": "2.1",
            "SCANPAY_WALLET_PREFIX": "9",
            "SCANPAY_PIN_TRIES": "5",
        }
    )
    assert custom.database_url == "postgresql+psycopg://scanpay@db/scanpay"
    assert custom.min_terminal_version == "2.1" and custom.pin_policy.max_tries == 5
    assert custom.code_format.prefix == "9" and custom.code_format.otp_digits == 7


def test_issue_5_settings() -> None:
    key = "ab" * 32
    custom = HostSettings.from_env(
        {
            "SCANPAY_DATA_DIR": "/srv/scanpay",
            "SCANPAY_MASTER_KEY": key,
            "SCANPAY_COUNTRY": "SG",
            "SCANPAY_SWEEP_INTERVAL": "2.5",
        }
    )
    assert (custom.data_dir, custom.master_key, custom.country, custom.sweep_interval) == (
        "/srv/scanpay",
        key,
        "SG",
        2.5,
    )
    assert key not in repr(custom)  # the master key never reaches a log through a repr
    default = HostSettings.from_env({})
    assert (default.master_key, default.country, default.sweep_interval) == (None, "CN", 5.0)


@pytest.mark.parametrize(
    "env",
    [
        {"SCANPAY_MASTER_KEY": "abc"},
        {"SCANPAY_COUNTRY": "china"},
        {"SCANPAY_SWEEP_INTERVAL": "soon"},
        {"SCANPAY_SWEEP_INTERVAL": "0"},
        {"SCANPAY_TIMEZONE": "Mars/Olympus"},
        {"SCANPAY_MIN_TERMINAL_VERSION": "latest"},
        {"SCANPAY_PIN_TRIES": "three"},
        {"SCANPAY_WALLET_PREFIX": "8888"},
        {"SCANPAY_PIN_LOCK": "0"},
        {"SCANPAY_NETWORK_REFUND_RETRY_MAX": "0"},
        {"SCANPAY_NETWORK_REFUND_RETRY_MAX": "soon"},
    ],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        HostSettings.from_env(env)


@pytest.mark.parametrize(
    "module",
    [
        "scanpay.host",
        "scanpay.host.domain.uscc",
        "scanpay.host.domain.ledger",
        "scanpay.host.domain.payment_state",
        "scanpay.host.domain.wallet_codes",
        "scanpay.host.services.payments",
        "scanpay.host.services.ledger",
        "scanpay.host.domain.risk",
        "scanpay.host.domain.audit",
        "scanpay.host.domain.orders",
        "scanpay.host.domain.refunds",
        "scanpay.host.domain.settlement",
        "scanpay.host.domain.batch",
        "scanpay.host.domain.sealing",
        "scanpay.host.services.audit",
        "scanpay.host.services.risk",
        "scanpay.host.services.refunds",
        "scanpay.host.services.orders",
        "scanpay.host.services.settlement",
        "scanpay.host.services.batches",
        "scanpay.host.services.stickers",
        "scanpay.host.services.operations",
        "scanpay.host.services.secrets",
        "scanpay.host.api.events",
        "scanpay.host.api.waiters",
        "scanpay.host.api.observability",
        "scanpay.host.logs",
        "scanpay.host.metrics",
    ],
)
def test_all_lists_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    public = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module
    }
    assert public <= set(mod.__all__), public - set(mod.__all__)
    assert all(hasattr(mod, name) for name in mod.__all__)


def test_domain_doctests() -> None:
    result = doctest.testmod(importlib.import_module("scanpay.host.domain.uscc"))
    assert result.attempted >= 2 and result.failed == 0


def test_the_network_refund_retry_cap() -> None:
    assert HostSettings.from_env({}).network_refund_retry_max == 300.0
    given = HostSettings.from_env({"SCANPAY_NETWORK_REFUND_RETRY_MAX": "5"})
    assert given.network_refund_retry_max == 5.0
