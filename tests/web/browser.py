"""A real ``waybill serve`` process on a random port, and Debian's Chromium driven by Playwright.

The browser is the system's (``make browser`` installs it): Playwright cannot download one here.
Screenshots go to ``$WAYBILL_SCREENSHOTS`` when set (``make screenshots`` points it at
``docs/screenshots``), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from waybill.config import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """``waybill serve`` on the test's database; yields its base URL once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "WAYBILL_DATA_DIR": str(settings.data_dir),
        "WAYBILL_DATABASE_URL": settings.database_url,
        "WAYBILL_WORKER": "false",
    }
    if settings.trust_roots is not None:
        env["WAYBILL_TRUST_ROOTS"] = str(settings.trust_roots)
    server = subprocess.Popen(
        [sys.executable, "-m", "waybill", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/ui/sign-in"):  # noqa: S310 (a local URL)
                    break
            except (OSError, urllib.error.URLError):
                if server.poll() is not None:
                    assert server.stderr is not None
                    raise RuntimeError("waybill serve exited: " + server.stderr.read().decode()) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("WAYBILL_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Screens:
    """Takes each page's picture once per run (on SQLite: the pictures do not depend on the backend)."""

    def __init__(self, folder: Path, backend: str) -> None:
        self.folder = folder
        self.enabled = backend == "sqlite"

    async def take(self, page: Page, name: str) -> None:
        if self.enabled:
            await page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


async def watched_page(browser: Browser, errors: list[str], **options: Any) -> Page:
    """A 1280 by 800 page that adds to ``errors`` every refusal by the Content-Security-Policy
    (the browser reports each on the console) and every dialog (a script that ran would open one)."""
    page = await browser.new_page(viewport={"width": 1280, "height": 800}, **options)
    page.set_default_timeout(10_000)
    page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
    page.on("dialog", lambda d: errors.append("dialog: " + d.message))
    return page


async def sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(base + "/ui")
    assert page.url.startswith(base + "/ui/sign-in")
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + "/ui")
