"""Headless Chromium for the web-page tests: Debian's /usr/bin/chromium driven by Playwright.

Never downloads a browser. Locally a missing Chromium skips the test with a
reason; in CI (``CI=true``) it fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support import require

CHROMIUM = "/usr/bin/chromium"

# Flags a closed network and a root sandbox need (see the machine notes):
# no background traffic to Google, no sandbox as root, no GPU.
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def fake_camera_args(video: Path) -> list[str]:
    """Chromium flags that make getUserMedia play ``video`` (a .y4m file) as the camera."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]


@contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[object]:
    """A launched headless Chromium (a Playwright ``Browser``)."""
    require(
        Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
        f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BASE_ARGS + (extra_args or [])
        )
        try:
            yield browser
        finally:
            browser.close()
