"""Network channels (issue 16, "Channels per merchant"): the acquirer's network accounts
and each merchant's channel, on SQLite and PostgreSQL, through ``scanpay host channel``.

What is checked beside the commands themselves: :func:`channels.channel_for` hands back
the port's ``Channel`` with its secrets opened; the secrets are sealed at rest (``enc2``,
the plain value nowhere in the database) and never in an output, a JSON answer, a log
record or an audit row; bad input is a typed refusal (exit 1) that changes nothing; and
``key rotate`` re-seals them, after which they still open.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from host.kit import LICENCE, postgres_available, postgres_database, remember
from scanpay.cli import app
from scanpay.host import HostSettings
from scanpay.host.domain.sealing import SealError, SecretBox
from scanpay.host.services import channels
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import CHANNEL_SECRETS, NETWORK_ACCOUNT_SECRETS
from scanpay.networks.port import Channel, ChannelMode
from support import require

runner = CliRunner()

#: Where a host finds its key: unset unless given (another suite's session fixture may
#: have set SCANPAY_DATA_DIR for its own host).
_KEY_PLACES: dict[str, str | None] = dict.fromkeys(
    ("SCANPAY_DATA_DIR", "SCANPAY_MASTER_KEY", "SCANPAY_MASTER_KEY_FILE")
)
WECHAT = "wechat_pay"


@dataclass
class Installation:
    """A fresh, initialised database of one backend and its data folder (master key)."""

    url: str
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {"SCANPAY_DATABASE_URL": self.url, "SCANPAY_DATA_DIR": str(self.home)}

    def invoke(self, *args: str, code: int = 0, stdin: str | None = None) -> Any:
        result = runner.invoke(app, ["host", *args], env={**_KEY_PLACES, **self.env}, input=stdin)
        assert result.exit_code == code, result.output
        return result

    def cli(self, *args: str, code: int = 0, stdin: str | None = None) -> str:
        return str(self.invoke(*args, code=code, stdin=stdin).output)

    def json(self, *args: str, code: int = 0, stdin: str | None = None) -> Any:
        return json.loads(self.invoke(*args, "--json", code=code, stdin=stdin).stdout)

    @contextmanager
    def context(self) -> Iterator[HostContext]:
        ctx = HostContext.open(HostSettings(database_url=self.url, data_dir=str(self.home)))
        try:
            yield ctx
        finally:
            ctx.close()

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with self.context() as ctx, ctx.db.read() as session:
            return [tuple(row) for row in session.execute(text(query))]

    def everything(self) -> str:
        """All the database holds, as text: the files (SQLite, with its WAL) or every row of
        every table (PostgreSQL)."""
        if self.url.startswith("sqlite"):
            return "".join(
                p.read_bytes().decode("latin-1") for p in sorted(self.home.glob("host.db*"))
            )
        with self.context() as ctx, ctx.db.read() as session:
            tables = inspect(session.connection()).get_table_names()
            return "\n".join(
                str(value)
                for table in tables
                # Our own table names from the catalogue: nothing to inject.
                for (value,) in session.execute(text(f"SELECT CAST(t AS text) FROM {table} t"))
            )

    def merchant(self) -> str:
        made = self.json(
            "merchant", "add", "--name", "Tea House", "--city", "Xiamen", "--mcc", "5814",
            "--license", LICENCE,
        )  # fmt: skip
        return str(made["merchant_id"])

    def counts(self) -> tuple[Any, ...]:
        """What a refused command must leave as it was: the two tables and the audit trail."""
        return (
            self.rows("SELECT * FROM network_accounts ORDER BY id"),
            self.rows("SELECT * FROM merchant_channels ORDER BY id"),
            self.rows("SELECT count(*) FROM audit_log"),
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    home = tmp_path / "data"
    with ExitStack() as stack:
        if request.param == "postgresql":
            require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{home / 'host.db'}"
        made = Installation(url, home)
        made.cli("init")
        yield made


def _secret_file(folder: Path, name: str, value: str) -> str:
    """``NAME=@FILE`` for a file holding ``value`` and a line break, as editors leave it."""
    path = folder / f"{name}-{secrets.token_hex(4)}.txt"
    path.write_text(value + "\n")
    return f"{name}=@{path}"


def _values(prefix: str, *names: str) -> dict[str, str]:
    """A random secret per name, registered for the suite's log scan."""
    made = {name: f"{prefix}-{name}-{secrets.token_hex(16)}" for name in names}
    remember(*made.values())
    return made


def _assert_nowhere(values: dict[str, str], *places: str) -> None:
    for value in values.values():
        for place in places:
            assert value not in place


def _audit_data(inst: Installation) -> str:
    return "\n".join(str(row) for row in inst.rows("SELECT action, data FROM audit_log"))


def test_service_provider_channels_under_an_account(
    fresh: Installation, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = _values("sp", "api_v3_key", "private_key")
    specs = [f"--secret={_secret_file(tmp_path, n, v)}" for n, v in keys.items()]
    prints = {name: channels.fingerprint(value) for name, value in keys.items()}
    said = [
        fresh.cli(
            "channel", "account", "add", "--network", WECHAT, "--label", "sp-main",
            "--app-id", "wx8888888888888888", "--mch-id", "1900000109", *specs,
        )
    ]  # fmt: skip
    account = fresh.json("channel", "account", "list")
    assert account == [
        {
            "label": "sp-main",
            "network": WECHAT,
            "app_id": "wx8888888888888888",
            "mch_id": "1900000109",
            "secrets": prints,
            "channels": 0,
            "created_at": account[0]["created_at"],
            "updated_at": account[0]["updated_at"],
        }
    ]
    shop, other = fresh.merchant(), fresh.merchant()
    added = fresh.json(
        "channel", "add", "--merchant", shop, "--network", WECHAT, "--mode", "service_provider",
        "--account", "sp-main", "--sub-mch-id", "1900000110", "--sub-app-id", "wx1234",
    )  # fmt: skip
    assert added["mode"] == "service_provider" and added["account"] == "sp-main"
    assert (added["app_id"], added["mch_id"]) == ("wx8888888888888888", "1900000109")
    assert (added["sub_mch_id"], added["sub_app_id"]) == ("1900000110", "wx1234")
    assert added["secrets"] == prints and added["secrets_from"] == "account"
    assert added["enabled"] is True
    fresh.cli(
        "channel", "add", "--merchant", other, "--network", WECHAT, "--mode", "service_provider",
        "--account", "sp-main", "--sub-mch-id", "1900000111",
    )  # fmt: skip
    listed = fresh.json("channel", "list")
    assert [(c["merchant_id"], c["sub_mch_id"]) for c in listed] == [
        (shop, "1900000110"),
        (other, "1900000111"),
    ]
    assert fresh.json("channel", "list", "--merchant", other) == [listed[1]]
    assert fresh.json("channel", "show", "--merchant", shop, "--network", WECHAT) == added
    said += [
        fresh.cli("channel", "list"),
        fresh.cli("channel", "show", "--merchant", shop, "--network", WECHAT),
        fresh.cli("channel", "account", "list"),
    ]
    assert "1900000110" in said[1] and prints["private_key"] in said[2]
    assert fresh.json("channel", "account", "list")[0]["channels"] == 2

    with fresh.context() as ctx:
        channel = channels.channel_for(ctx, shop, WECHAT)
        by_pk = channels.channel_for(ctx, int(shop[1:]), WECHAT)
        assert channels.channel_for(ctx, shop, "alipay") is None
        assert channels.channel_for(ctx, "M999999", WECHAT) is None
    expected = Channel(
        network=WECHAT,
        mode=ChannelMode.SERVICE_PROVIDER,
        app_id="wx8888888888888888",
        mch_id="1900000109",
        sub_mch_id="1900000110",
        sub_app_id="wx1234",
        secrets=keys,
    )
    assert channel == by_pk == expected
    assert channel is not None and dict(channel.secrets) == keys

    # A new API key for the account: every channel under it pays with it from now on.
    newer = _values("sp2", "api_v3_key")
    fresh.cli(
        "channel", "account", "update", "sp-main",
        "--secret", _secret_file(tmp_path, "api_v3_key", newer["api_v3_key"]),
    )  # fmt: skip
    with fresh.context() as ctx:
        channel = channels.channel_for(ctx, other, WECHAT)
    assert channel is not None and channel.secret("api_v3_key") == newer["api_v3_key"]
    assert channel.secret("private_key") == keys["private_key"]

    # At rest: one sealed value for the account, none for its channels.
    [(sealed,)] = fresh.rows("SELECT secrets_sealed FROM network_accounts")
    assert sealed.startswith("enc2:")
    assert fresh.rows("SELECT secrets_sealed FROM merchant_channels") == [(None,), (None,)]
    everything = fresh.everything()
    assert sealed in everything  # the dump does show the database's contents
    audit_rows = _audit_data(fresh)
    assert "network_account.update" in audit_rows and prints["private_key"] in audit_rows
    _assert_nowhere({**keys, **newer}, everything, audit_rows, caplog.text, *said)

    # An account with channels under it stays; without them it goes.
    before = fresh.counts()
    refused = fresh.json("channel", "account", "remove", "sp-main", code=1)
    assert refused["error"]["code"] == "30" and refused["error"]["field"] == "account"
    assert fresh.counts() == before
    for merchant in (shop, other):
        gone = fresh.json("channel", "remove", "--merchant", merchant, "--network", WECHAT)
        assert gone["merchant_id"] == merchant
    with fresh.context() as ctx:
        assert channels.channel_for(ctx, shop, WECHAT) is None
    assert fresh.json("channel", "list") == []
    assert fresh.json("channel", "account", "remove", "sp-main")["label"] == "sp-main"
    assert fresh.json("channel", "account", "list") == []
    actions = [a for (a,) in fresh.rows("SELECT action FROM audit_log ORDER BY seq")]
    assert [a for a in actions if not a.startswith("merchant.")] == [
        "network_account.add",
        "channel.add",
        "channel.add",
        "network_account.update",
        "channel.remove",
        "channel.remove",
        "network_account.remove",
    ]
    assert fresh.json("audit", "verify")["ok"] is True


def test_direct_channels_with_their_own_secrets(
    fresh: Installation, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = _values("direct", "api_key", "api_v3_key")
    shop = fresh.merchant()
    said = [
        fresh.cli(
            "channel", "add", "--merchant", shop, "--network", WECHAT, "--mode", "direct",
            "--app-id", "wx5555", "--mch-id", "1230000109",
            f"--secret={_secret_file(tmp_path, 'api_key', keys['api_key'])}",
            "--secret", "api_v3_key=-",
            stdin=keys["api_v3_key"] + "\n",
        )
    ]  # fmt: skip
    shown = fresh.json("channel", "show", "--merchant", shop, "--network", WECHAT)
    assert shown["mode"] == "direct" and shown["account"] is None
    assert (shown["app_id"], shown["mch_id"]) == ("wx5555", "1230000109")
    assert shown["sub_mch_id"] is None and shown["secrets_from"] == "channel"
    assert shown["secrets"] == {n: channels.fingerprint(v) for n, v in keys.items()}
    said.append(fresh.cli("channel", "show", "--merchant", shop, "--network", WECHAT))
    with fresh.context() as ctx:
        channel = channels.channel_for(ctx, shop, WECHAT)
    assert channel == Channel(
        network=WECHAT,
        mode=ChannelMode.DIRECT,
        app_id="wx5555",
        mch_id="1230000109",
        secrets=keys,
    )
    assert channel is not None and dict(channel.secrets) == keys
    assert keys["api_key"] not in repr(channel)

    # Replace one secret, drop the other, switch it off: no channel to pay with.
    newer = _values("direct2", "api_key")
    changed = fresh.json(
        "channel", "update", "--merchant", shop, "--network", WECHAT,
        "--secret", _secret_file(tmp_path, "api_key", newer["api_key"]),
        "--drop-secret", "api_v3_key", "--mch-id", "1230000110", "--disable",
    )  # fmt: skip
    assert changed["secrets"] == {"api_key": channels.fingerprint(newer["api_key"])}
    assert changed["enabled"] is False and changed["mch_id"] == "1230000110"
    with fresh.context() as ctx:
        assert channels.channel_for(ctx, shop, WECHAT) is None
    fresh.cli("channel", "update", "--merchant", shop, "--network", WECHAT, "--enable")
    with fresh.context() as ctx:
        channel = channels.channel_for(ctx, shop, WECHAT)
    assert channel is not None and dict(channel.secrets) == newer
    [(update,)] = fresh.rows(
        "SELECT data FROM audit_log WHERE action = 'channel.update' ORDER BY seq LIMIT 1"
    )
    assert json.loads(update)["changed"] == ["mch_id", "secrets", "enabled"]

    [(sealed,)] = fresh.rows("SELECT secrets_sealed FROM merchant_channels")
    assert sealed.startswith("enc2:")
    with fresh.context() as ctx:  # bound to its column: it does not open as another's
        with pytest.raises(SealError):
            ctx.secret_box.open(sealed, NETWORK_ACCOUNT_SECRETS)
        assert json.loads(ctx.secret_box.open(sealed, CHANNEL_SECRETS)) == newer
    _assert_nowhere({**keys, **newer}, fresh.everything(), _audit_data(fresh), caplog.text, *said)
    assert fresh.json("channel", "remove", "--merchant", shop, "--network", WECHAT)["mode"] == (
        "direct"
    )
    assert fresh.rows("SELECT count(*) FROM merchant_channels") == [(0,)]


def test_bad_input_is_refused_with_its_code_and_changes_nothing(
    fresh: Installation, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = _values("bad", "api_v3_key", "typed")
    good = _secret_file(tmp_path, "api_v3_key", keys["api_v3_key"])
    fresh.cli(
        "channel", "account", "add", "--network", WECHAT, "--label", "sp-main",
        "--app-id", "wx8888", "--mch-id", "1900000109", "--secret", good,
    )  # fmt: skip
    shop = fresh.merchant()
    fresh.cli(
        "channel", "add", "--merchant", shop, "--network", WECHAT, "--mode", "service_provider",
        "--account", "sp-main", "--sub-mch-id", "1900000110",
    )  # fmt: skip
    other = fresh.merchant()
    sp = ["--network", WECHAT, "--mode", "service_provider", "--account", "sp-main"]
    direct = ["--network", WECHAT, "--mode", "direct", "--app-id", "wx1", "--mch-id", "19"]
    missing = f"api_key=@{tmp_path / 'no-such-file'}"
    cases: list[tuple[list[str], str, str]] = [
        (["channel", "add", "--merchant", "M999999", *sp, "--sub-mch-id", "1"], "25", "merchant"),
        (["channel", "add", "--merchant", "X1", *direct], "25", "merchant"),
        (["channel", "add", "--merchant", other, *sp], "30", "sub_mch_id"),
        (["channel", "add", "--merchant", other, *direct, "--sub-mch-id", "1"], "30", "sub_mch_id"),
        (["channel", "add", "--merchant", other, *direct, "--sub-app-id", "wx2"],
         "30", "sub_app_id"),
        (["channel", "add", "--merchant", other, *direct, "--account", "sp-main"], "30", "account"),
        (["channel", "add", "--merchant", other, "--network", "paypal", "--mode", "direct",
          "--app-id", "a", "--mch-id", "b"], "30", "network"),
        (["channel", "add", "--merchant", other, "--network", "paypal", *sp[2:],
          "--sub-mch-id", "1"], "30", "network"),
        (["channel", "add", "--merchant", other, *sp[:2], "--mode", "sp"], "30", "mode"),
        (["channel", "add", "--merchant", other, *direct[:4]], "30", "app_id"),
        (["channel", "add", "--merchant", other, *direct, "--secret", missing], "30", "secret"),
        (["channel", "add", "--merchant", other, *sp, "--sub-mch-id", "1", "--secret", good],
         "30", "secret"),
        (["channel", "add", "--merchant", other, *sp[:5], "nobody", "--sub-mch-id", "1"],
         "25", "account"),
        (["channel", "add", "--merchant", shop, *sp, "--sub-mch-id", "2"], "30", "network"),
        (["channel", "add", "--merchant", other, *direct, "--app-id", "wx 1"], "30", "app_id"),
        (["channel", "add", "--merchant", other, *direct, "--secret", "api_key=@"], "30", "secret"),
        (["channel", "add", "--merchant", other, *direct, "--secret", "a=-", "--secret", "b=-"],
         "30", "secret"),
        (["channel", "update", "--merchant", shop, "--network", WECHAT, "--app-id", "wx9"],
         "30", "app_id"),
        (["channel", "update", "--merchant", shop, "--network", WECHAT, "--sub-mch-id", ""],
         "30", "sub_mch_id"),
        (["channel", "update", "--merchant", shop, "--network", WECHAT], "30", "network"),
        (["channel", "update", "--merchant", other, "--network", WECHAT, "--enable"],
         "25", "network"),
        (["channel", "remove", "--merchant", other, "--network", WECHAT], "25", "network"),
        (["channel", "show", "--merchant", other, "--network", WECHAT], "25", "network"),
        (["channel", "account", "add", "--network", WECHAT, "--label", "sp-main",
          "--app-id", "wx1", "--mch-id", "1"], "30", "label"),
        (["channel", "account", "add", "--network", "paypal", "--label", "up",
          "--app-id", "wx1", "--mch-id", "1"], "30", "network"),
        (["channel", "account", "add", "--network", WECHAT, "--label", "new", "--app-id", "wx1",
          "--mch-id", "1", "--secret", missing], "30", "secret"),
        (["channel", "account", "update", "sp-main", "--drop-secret", "private_key"],
         "30", "secret"),
        (["channel", "account", "update", "nobody", "--mch-id", "2"], "25", "account"),
        (["channel", "account", "remove", "sp-main"], "30", "account"),
    ]  # fmt: skip
    before = fresh.counts()
    for args, code, field in cases:
        refused = fresh.json(*args, code=1)
        assert (refused["error"]["code"], refused["error"]["field"]) == (code, field), args
        assert refused["error"]["message"]["zh-CN"] and refused["error"]["message"]["en"]
        assert fresh.counts() == before, args
    # In words too, in the locale's language, on stderr; exit 1.
    said = fresh.cli("channel", "add", "--merchant", other, *direct, "--secret", missing, code=1)
    assert "refused: 30 FORMAT (secret)" in said and "no-such-file" in said

    # A value typed on the command line is refused, and never repeated back.
    typed = keys["typed"]
    for spec in (f"api_key={typed}", typed, f"{typed}=@x"):
        for args in (
            ["channel", "add", "--merchant", other, *direct, "--secret", spec],
            ["channel", "account", "update", "sp-main", "--secret", spec],
        ):
            said = fresh.cli(*args, code=1)
            assert "refused: 30 FORMAT (secret)" in said and typed not in said
            assert typed not in fresh.invoke(*args, "--json", code=1).stdout
    said = fresh.cli(
        "channel", "add", "--merchant", other, *direct, "--secret", f"k={typed}", code=1
    )
    assert "k=@FILE" in said and "shell" in said
    assert fresh.counts() == before
    _assert_nowhere(keys, fresh.everything(), caplog.text)


def test_key_rotation_reseals_channel_secrets_and_they_still_open(
    fresh: Installation, tmp_path: Path
) -> None:
    account_keys = _values("rot", "api_v3_key")
    own_keys = _values("rot-own", "api_key")
    fresh.cli(
        "channel", "account", "add", "--network", WECHAT, "--label", "sp-main",
        "--app-id", "wx8888", "--mch-id", "1900000109",
        "--secret", _secret_file(tmp_path, "api_v3_key", account_keys["api_v3_key"]),
    )  # fmt: skip
    sp_shop, direct_shop = fresh.merchant(), fresh.merchant()
    fresh.cli(
        "channel", "add", "--merchant", sp_shop, "--network", WECHAT,
        "--mode", "service_provider", "--account", "sp-main", "--sub-mch-id", "1900000110",
    )  # fmt: skip
    fresh.cli(
        "channel", "add", "--merchant", direct_shop, "--network", WECHAT, "--mode", "direct",
        "--app-id", "wx5555", "--mch-id", "1230000109",
        "--secret", _secret_file(tmp_path, "api_key", own_keys["api_key"]),
    )  # fmt: skip
    query = (
        "SELECT secrets_sealed FROM network_accounts UNION ALL "
        "SELECT secrets_sealed FROM merchant_channels WHERE secrets_sealed IS NOT NULL"
    )
    before = sorted(v for (v,) in fresh.rows(query))
    old_key = bytes.fromhex((fresh.home / "master.key").read_text().strip())
    prints = fresh.json("channel", "list")

    rotated = fresh.json("key", "rotate")
    # The database has no terminal key, wallet or application: the two channel values.
    assert rotated["resealed"] == 2
    after = sorted(v for (v,) in fresh.rows(query))
    assert len(after) == 2 and all(v.startswith("enc2:") for v in after)
    assert not set(before) & set(after)
    old = SecretBox(old_key)
    for value in after:
        with pytest.raises(SealError):
            old.open(value, CHANNEL_SECRETS)
        with pytest.raises(SealError):
            old.open(value, NETWORK_ACCOUNT_SECRETS)
    with fresh.context() as ctx:  # the new key, read from the rotated key file
        sp = channels.channel_for(ctx, sp_shop, WECHAT)
        direct = channels.channel_for(ctx, direct_shop, WECHAT)
    assert sp is not None and dict(sp.secrets) == account_keys
    assert direct is not None and dict(direct.secrets) == own_keys
    assert fresh.json("channel", "list") == prints  # the same fingerprints
    assert fresh.json("init")["sealed_secrets"] == 0  # nothing left in an older form
    assert fresh.json("audit", "verify")["ok"] is True
