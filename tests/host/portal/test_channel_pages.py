"""The operator's channel pages (issue 16: "Set with ``scanpay host channel …`` and in
the operator portal"), over HTTP on SQLite and PostgreSQL.

An operator adds a merchant's direct channel with its secrets and the host pays with
them (:func:`channels.channel_for`); rotates one secret and the others stay; adds a
network account and a service-provider channel under it, disables, enables and
removes it. The secrets go in POST bodies only: no page shows one (a form re-rendered
after an error has its secret fields empty), no log line holds one. A merchant's own
users get 404 and change nothing; a bad field is refused beside the field, in the
viewer's language, and changes nothing. Every change is in the audit trail with the
operator as its actor.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from host.kit import CAPTURE, RunningHost, leaks, make_merchant, remember
from host.portal.portal_kit import PortalClient, add_user, logged_in
from scanpay.host.db.models import AuditLog, MerchantChannel, NetworkAccount
from scanpay.host.services import audit, channels, network_accounts
from scanpay.host.services.channel_secrets import fingerprints
from scanpay.networks.port import ChannelMode

WECHAT = "wechat_pay"


def _pem(kind: str) -> tuple[str, str]:
    """A PEM-looking secret (as its file reads, trailing line break dropped) and its body."""
    body = base64.b64encode(secrets.token_bytes(96)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    remember(body, *lines)
    return f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----", body


def _as_browser_sends(value: str) -> str:
    """A textarea's value as a browser posts it: CRLF line breaks, a trailing one too."""
    return value.replace("\n", "\r\n") + "\r\n"


@dataclass
class Scene:
    host: RunningHost
    operator: PortalClient
    operator_email: str
    #: Every secret value the operator typed in this module.
    typed: list[str] = field(default_factory=list)
    #: Every page the portal answered in this module.
    pages: list[str] = field(default_factory=list)

    def secret(self, value: str | None = None) -> str:
        value = value or secrets.token_hex(16)
        remember(value)
        self.typed.append(value)
        return value

    def pem(self, kind: str = "PRIVATE KEY") -> str:
        value, body = _pem(kind)
        self.typed.extend([value, body])
        return value

    def get(self, path: str, client: PortalClient | None = None) -> httpx.Response:
        answer = (client or self.operator).get(path)
        self.pages.append(answer.text)
        return answer

    def post(
        self, path: str, data: dict[str, str], token_from: str, client: PortalClient | None = None
    ) -> httpx.Response:
        answer = (client or self.operator).post(path, data, token_from=token_from)
        self.pages.append(answer.text)
        return answer

    def assert_no_secret_in_pages(self) -> None:
        assert self.typed and self.pages
        for html in self.pages:
            for value in self.typed:
                assert value not in html
            lines = (v for text in self.typed for v in text.splitlines())
            for line in (v for v in lines if len(v) >= 16 and not v.startswith("-----")):
                assert line not in html


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    email = add_user(host, "operator")
    operator = logged_in(host, email)
    made = Scene(host, operator, email)
    yield made
    operator.close()
    assert audit.verify(host.ctx).ok


def _page(merchant_id: str) -> str:
    return f"/portal/operator/merchants/{merchant_id}/channels"


def _state(host: RunningHost) -> tuple[Any, ...]:
    """What a refused form must not change: the channels, the accounts, the audit trail."""
    with host.ctx.db.read() as session:
        return (
            sorted(
                session.execute(
                    select(
                        MerchantChannel.merchant_id,
                        MerchantChannel.network,
                        MerchantChannel.app_id,
                        MerchantChannel.mch_id,
                        MerchantChannel.secrets_sealed,
                        MerchantChannel.enabled,
                    )
                ).all()
            ),
            sorted(
                session.execute(
                    select(
                        NetworkAccount.label, NetworkAccount.secrets_sealed, NetworkAccount.app_id
                    )
                ).all()
            ),
            session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.subject_kind.in_(("channel", "network_account")))
            ),
        )


def _secret_fields_are_empty(html: str) -> None:
    """Every secret field of the page is empty: no value attribute, no textarea text."""
    inputs = re.findall(r'<input[^>]*name="secret\.[a-z0-9_]+"[^>]*>', html)
    areas = re.findall(
        r'<textarea[^>]*name="(?:secret\.[a-z0-9_]+|other_value)"[^>]*>(.*?)</textarea>',
        html,
        re.S,
    )
    assert inputs and areas
    assert all("value=" not in tag for tag in inputs), inputs
    assert all(text == "" for text in areas)


def _direct_form(scene: Scene, **changes: str) -> dict[str, str]:
    form = {
        "mode": "direct",
        "network": WECHAT,
        "enabled": "1",
        "app_id": "wx5555555555555555",
        "mch_id": "1230000109",
        "secret.api_v3_key": scene.secret(),
        "secret.cert_serial": scene.secret(secrets.token_hex(20).upper()),
        "secret.private_key": _as_browser_sends(scene.pem()),
        "secret.api_key": "",  # empty: not set
        "other_name": "api",
        "other_value": "v3",
    }
    form.update(changes)
    return form


def _add_direct(scene: Scene, merchant_id: str, **changes: str) -> dict[str, str]:
    form = _direct_form(scene, **changes)
    answer = scene.post(_page(merchant_id), form, token_from=_page(merchant_id))
    assert answer.status_code == 200, answer.text[:2000]
    assert 'id="notice"' in answer.text and "channel added" in answer.text
    return form


def test_an_operator_adds_a_direct_channel_the_host_pays_with(scene: Scene) -> None:
    merchant = make_merchant(scene.host.ctx)
    empty = scene.get(_page(merchant))
    assert empty.status_code == 200 and 'id="no-channels"' in empty.text
    assert 'id="add-direct"' in empty.text and 'id="add-service-provider"' in empty.text
    form = _add_direct(scene, merchant)

    found = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert found is not None and found.mode is ChannelMode.DIRECT
    assert (found.app_id, found.mch_id) == ("wx5555555555555555", "1230000109")
    # The PEM as its file reads: LF line breaks, no trailing one (the CLI's fingerprint).
    pem = form["secret.private_key"].replace("\r\n", "\n").rstrip("\n")
    assert dict(found.secrets) == {
        "api": "v3",
        "api_v3_key": form["secret.api_v3_key"],
        "cert_serial": form["secret.cert_serial"],
        "private_key": pem,
    }

    page = scene.get(_page(merchant)).text
    card = page[page.index('id="channel-wechat_pay"') :]
    for name, value in found.secrets.items():
        assert f'data-secret="{name}"' in card and channels.fingerprint(value) in card
    assert 'id="update-wechat_pay"' in card
    _secret_fields_are_empty(page)
    listing = scene.get("/portal/operator/channels").text
    assert f'data-merchant="{merchant}" data-network="wechat_pay"' in listing
    assert channels.fingerprint(form["secret.api_v3_key"]) in listing

    (entry,) = audit.history(scene.host.ctx, subject=("channel", f"{merchant}/{WECHAT}"))
    assert entry.action == "channel.add" and entry.actor == f"operator:{scene.operator_email}"
    assert entry.data["secrets"] == fingerprints(found.secrets)
    scene.assert_no_secret_in_pages()


def test_rotating_one_secret_keeps_the_others(scene: Scene) -> None:
    merchant = make_merchant(scene.host.ctx)
    _add_direct(scene, merchant)
    before = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert before is not None
    page = scene.get(_page(merchant)).text
    # What the update form posts: its ids as shown (unchanged), one secret typed.
    app_id = re.search(r'id="update-wechat_pay".*?name="app_id" value="([^"]*)"', page, re.S)
    mch_id = re.search(r'id="update-wechat_pay".*?name="mch_id" value="([^"]*)"', page, re.S)
    assert app_id and mch_id
    rotated = scene.secret()
    form = {
        "network": WECHAT,
        "app_id": app_id.group(1),
        "mch_id": mch_id.group(1),
        "secret.api_v3_key": rotated,
        "secret.private_key": "",
        "secret.cert_serial": "",
        "other_name": "",
        "other_value": "",
    }
    answer = scene.post(_page(merchant) + "/update", form, token_from=_page(merchant))
    assert answer.status_code == 200 and "channel changed" in answer.text, answer.text[:2000]

    after = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert after is not None
    assert after.secrets["api_v3_key"] == rotated != before.secrets["api_v3_key"]
    assert {k: v for k, v in after.secrets.items() if k != "api_v3_key"} == {
        k: v for k, v in before.secrets.items() if k != "api_v3_key"
    }
    assert (after.app_id, after.mch_id) == (before.app_id, before.mch_id)
    assert channels.fingerprint(rotated) in answer.text
    latest = audit.history(scene.host.ctx, subject=("channel", f"{merchant}/{WECHAT}"), limit=1)
    assert latest[0].action == "channel.update" and latest[0].data["changed"] == ["secrets"]

    # Dropping one by its box: the others stay.
    dropped = scene.post(
        _page(merchant) + "/update",
        {"network": WECHAT, "drop": "cert_serial"},
        token_from=_page(merchant),
    )
    assert dropped.status_code == 200, dropped.text[:2000]
    final = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert final is not None
    assert set(final.secrets) == {"api", "api_v3_key", "private_key"}
    assert final.secrets["api_v3_key"] == rotated
    scene.assert_no_secret_in_pages()


def test_a_bad_field_is_a_typed_form_error_and_changes_nothing(scene: Scene) -> None:
    merchant = make_merchant(scene.host.ctx)
    before = _state(scene.host)
    form = _direct_form(scene, app_id="wx 55!", mch_id="1230000109")
    bad = scene.post(_page(merchant), form, token_from=_page(merchant))
    assert bad.status_code == 400
    assert 'id="error-app_id"' in bad.text and "app_id is 1-64 letters" in bad.text
    assert "Not saved (App id)" in bad.text
    # What was typed is kept, except the secrets: their fields are empty again.
    assert 'name="mch_id" value="1230000109"' in bad.text and 'value="wx 55!"' in bad.text
    assert 'name="other_name" value="api"' in bad.text
    _secret_fields_are_empty(bad.text)
    assert _state(scene.host) == before

    # In the viewer's language.
    assert scene.operator.get("/portal/lang/zh-CN?next=/portal/").status_code == 303
    try:
        chinese = scene.post(_page(merchant), form, token_from=_page(merchant))
    finally:
        assert scene.operator.get("/portal/lang/en?next=/portal/").status_code == 303
    assert chinese.status_code == 400
    assert 'id="error-app_id"' in chinese.text and "app_id 须为 1-64 个字母" in chinese.text

    # A service-provider channel without its account; a secret without a name; a
    # second channel to the same network; an account that does not exist.
    no_account = scene.post(
        _page(merchant),
        {"mode": "service_provider", "network": WECHAT, "sub_mch_id": "1900000110"},
        token_from=_page(merchant),
    )
    assert no_account.status_code == 400 and 'id="error-account"' in no_account.text
    nameless = scene.post(
        _page(merchant),
        _direct_form(scene, other_name="", other_value=scene.secret()),
        token_from=_page(merchant),
    )
    assert nameless.status_code == 400 and 'id="error-other_name"' in nameless.text
    _secret_fields_are_empty(nameless.text)
    unknown = scene.post(
        _page(merchant),
        {"mode": "service_provider", "network": WECHAT, "account": "no-such", "sub_mch_id": "1"},
        token_from=_page(merchant),
    )
    assert unknown.status_code == 404 and 'id="error-account"' in unknown.text
    assert _state(scene.host) == before

    _add_direct(scene, merchant)
    before = _state(scene.host)
    again = scene.post(_page(merchant), _direct_form(scene), token_from=_page(merchant))
    assert again.status_code == 400 and 'id="error-network"' in again.text
    bad_update = scene.post(
        _page(merchant) + "/update",
        {"network": WECHAT, "sub_mch_id": "1900000110", "secret.api_v3_key": scene.secret()},
        token_from=_page(merchant),
    )
    assert bad_update.status_code == 400 and 'id="error-sub_mch_id"' in bad_update.text
    assert "<details open>" in bad_update.text  # the refused form is the one open
    _secret_fields_are_empty(bad_update.text)
    assert _state(scene.host) == before
    # A merchant that does not exist: 404, as its page.
    assert (
        scene.post("/portal/operator/merchants/M999999/channels", form, _page(merchant)).status_code
        == 404
    )
    assert _state(scene.host) == before
    scene.assert_no_secret_in_pages()


def test_accounts_and_a_service_provider_channel(scene: Scene) -> None:
    merchant = make_merchant(scene.host.ctx)
    label = f"sp-{uuid.uuid4().hex[:8]}"
    overview = "/portal/operator/channels"
    key, pem = scene.secret(), scene.pem()
    added = scene.post(
        overview + "/accounts",
        {
            "network": WECHAT,
            "label": label,
            "app_id": "wx8888888888888888",
            "mch_id": "1900000109",
            "secret.api_v3_key": key,
            "secret.private_key": _as_browser_sends(pem),
        },
        token_from=overview,
    )
    assert added.status_code == 200 and f"Network account {label} added" in added.text
    assert f'id="account-{label}"' in added.text and channels.fingerprint(key) in added.text

    answer = scene.post(
        _page(merchant),
        {
            "mode": "service_provider",
            "network": WECHAT,
            "account": label,
            "sub_mch_id": "1900000110",
            "sub_app_id": "",
            "enabled": "1",
        },
        token_from=_page(merchant),
    )
    assert answer.status_code == 200, answer.text[:2000]
    found = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert found is not None and found.mode is ChannelMode.SERVICE_PROVIDER
    assert (found.app_id, found.mch_id, found.sub_mch_id) == (
        "wx8888888888888888",
        "1900000109",
        "1900000110",
    )
    assert dict(found.secrets) == {"api_v3_key": key, "private_key": pem}

    # The account's key rotated: the channel pays with the new one, its PEM stays.
    rotated = scene.secret()
    updated = scene.post(
        overview + "/accounts/update",
        {
            "label": label,
            "app_id": "wx8888888888888888",
            "mch_id": "1900000109",
            "secret.api_v3_key": rotated,
        },
        token_from=overview,
    )
    assert updated.status_code == 200 and f"Network account {label} changed" in updated.text
    found = channels.channel_for(scene.host.ctx, merchant, WECHAT)
    assert found is not None and dict(found.secrets) == {"api_v3_key": rotated, "private_key": pem}
    in_use = scene.post(overview + "/accounts/remove", {"label": label}, token_from=overview)
    assert in_use.status_code == 400 and 'id="error-account"' in in_use.text

    # Disabled: kept, not used; enabled again; removed.
    off = scene.post(
        _page(merchant) + "/update", {"network": WECHAT, "enabled": "0"}, _page(merchant)
    )
    assert off.status_code == 200 and "channel disabled" in off.text
    assert channels.channel_for(scene.host.ctx, merchant, WECHAT) is None
    assert channels.channel_for(scene.host.ctx, merchant, WECHAT, disabled=True) is not None
    on = scene.post(
        _page(merchant) + "/update", {"network": WECHAT, "enabled": "1"}, _page(merchant)
    )
    assert on.status_code == 200 and "channel enabled" in on.text
    assert channels.channel_for(scene.host.ctx, merchant, WECHAT) is not None
    gone = scene.post(_page(merchant) + "/remove", {"network": WECHAT}, _page(merchant))
    assert gone.status_code == 200 and 'id="no-channels"' in gone.text
    assert channels.channel_for(scene.host.ctx, merchant, WECHAT, disabled=True) is None
    removed = scene.post(overview + "/accounts/remove", {"label": label}, token_from=overview)
    assert removed.status_code == 200 and f'id="account-{label}"' not in removed.text
    assert label not in {a.label for a in network_accounts.list_accounts(scene.host.ctx)}

    actions = [
        e.action for e in audit.history(scene.host.ctx, subject=("channel", f"{merchant}/{WECHAT}"))
    ]
    assert actions == ["channel.remove", "channel.update", "channel.update", "channel.add"]
    who = audit.history(scene.host.ctx, subject=("network_account", label))
    assert [e.action for e in who] == [
        "network_account.remove",
        "network_account.update",
        "network_account.add",
    ]
    assert all(e.actor == f"operator:{scene.operator_email}" for e in who)
    # The audit page says what happened in words.
    assert "network account removed" in scene.get("/portal/operator/audit").text
    scene.assert_no_secret_in_pages()


def test_merchant_users_never_see_or_change_channels(scene: Scene) -> None:
    merchant = make_merchant(scene.host.ctx)
    _add_direct(scene, merchant)
    before = _state(scene.host)
    for role in ("owner", "accountant", "read_only"):
        user = logged_in(scene.host, add_user(scene.host, role, merchant))
        try:
            home = scene.get("/portal/today", user)
            assert home.status_code == 200 and "/portal/operator/channels" not in home.text
            for path in ("/portal/operator/channels", _page(merchant)):
                answer = scene.get(path, user)
                assert answer.status_code == 404 and "No such page or record" in answer.text
                assert "1230000109" not in answer.text
            attempts = {
                _page(merchant): _direct_form(scene),
                _page(merchant) + "/update": {"network": WECHAT, "enabled": "0"},
                _page(merchant) + "/remove": {"network": WECHAT},
                "/portal/operator/channels/accounts": {
                    "network": WECHAT,
                    "label": "mine",
                    "app_id": "wx1",
                    "mch_id": "1",
                },
            }
            for path, form in attempts.items():
                answer = scene.post(path, form, token_from="/portal/today", client=user)
                assert answer.status_code == 404, (role, path, answer.status_code)
        finally:
            user.close()
    assert _state(scene.host) == before
    assert channels.channel_for(scene.host.ctx, merchant, WECHAT) is not None
    scene.assert_no_secret_in_pages()


def test_no_secret_in_the_logs(scene: Scene) -> None:
    """Runs after the others of the module: every secret they typed, against every log
    record of the session so far (the session's own scan checks again at its end)."""
    merchant = make_merchant(scene.host.ctx)
    _add_direct(scene, merchant)
    routes = [line for line in CAPTURE.lines if "/channels" in line and "POST" in line]
    assert routes, "the host's access log did not reach the capture"
    assert not leaks(CAPTURE.lines + CAPTURE.raw, scene.typed)
