"""``scanpay host serve`` writes JSON lines only, from its first line, with no colour
escapes; ``HEAD /metrics`` answers like GET (issue 15 item 7)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx

from host.kit import World
from host.served import served
from scanpay.host.logs import JsonFormatter


def test_the_formatter_drops_uvicorns_colour_copy() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, "", 0, "Uvicorn running on %s",
                               ("http://x",), None)  # fmt: skip
    record.color_message = "Uvicorn running on \x1b[1m%s\x1b[0m"
    line = JsonFormatter().format(record)
    assert "\x1b" not in line and "\\u001b" not in line
    assert json.loads(line)["message"] == "Uvicorn running on http://x"


def test_every_line_of_serve_is_json_the_key_warning_included(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SCANPAY_MASTER_KEY"}
    env["FORCE_COLOR"] = "1"  # a terminal that asks for colours gets none in JSON lines
    data = tmp_path / "data"
    with served(f"sqlite:///{data / 'host.db'}", data, env=env, log_level="info") as host:
        head = httpx.head(host.url + "/metrics", timeout=10)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith("text/plain")
    text = host.stdout + host.stderr
    assert "\x1b" not in text and "\\u001b" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    loggers = {r["logger"] for r in records}
    assert any("created a new master key" in r["message"] for r in records), loggers
    assert "uvicorn.error" in loggers  # uvicorn's own lines are JSON too


def test_head_metrics_answers_like_get(world: World) -> None:
    got = httpx.get(world.host.url + "/metrics", timeout=10)
    head = httpx.head(world.host.url + "/metrics", timeout=10)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]
