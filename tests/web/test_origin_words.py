"""A request from another site's page is refused, and the refusal is written for the
person who reaches it (the same sentence in zh-CN and en), not for a developer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from web.world import World

JARGON = ("cross-site", "cross site", "origin", "csrf", "跨站", "来源")


def _for_a_person(message: dict[str, Any]) -> None:
    assert set(message) == {"zh-CN", "en"}
    assert all(message.values()), message
    for text in message.values():
        assert not any(word in text.lower() for word in JARGON), text
    # Both say what to do about it.
    assert "reload" in message["en"] and "刷新" in message["zh-CN"]


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
def test_a_login_from_another_site_is_refused_in_words(
    world: World, headers: dict[str, str]
) -> None:
    account, pin = world.account("Alice")
    with httpx.Client(base_url=world.host, timeout=30, trust_env=False) as client:
        answer = client.post(
            "/wallet/v1/session", json={"account": account, "pin": pin}, headers=headers
        )
        assert (answer.status_code, answer.json()["code"]) == (403, "63")
        assert "set-cookie" not in answer.headers
    _for_a_person(answer.json()["message"])


def test_a_change_from_another_site_is_refused_by_the_agent_in_words(world: World) -> None:
    with httpx.Client(base_url=world.agent, timeout=30, trust_env=False) as client:
        answer = client.post(
            "/api/session",
            json={"operator_id": "c01", "pin": "1234"},
            headers={"Origin": "http://evil.example"},
        )
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("bad_request", "origin")  # stable, for scripts
    _for_a_person(error["message"])
