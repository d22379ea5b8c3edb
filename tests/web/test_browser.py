"""End to end: a real server process and Debian's Chromium, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Harness
from tests.web.browser import Screens, chromium, screenshot_dir, serving, sign_in
from waybill.config import Settings


async def test_sign_in_browse_and_sign_out(api: Harness, settings: Settings, tmp_path: Path) -> None:
    await api.user("alice")
    await api.org("acme", owner="alice")
    token = await api.token("alice")
    screens = Screens(screenshot_dir(tmp_path), api.backend)
    with serving(settings) as base:
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            # The browser reports every refusal by the Content-Security-Policy on the console.
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
            await page.goto(base + "/ui/sign-in")
            await screens.take(page, "sign-in")
            await page.fill("#token", "wbp_wrong")
            await page.click("button[type=submit]")
            assert await page.inner_text("[role=alert]") == "✗ That token is not valid."
            await sign_in(page, base, token)
            assert await page.inner_text(".who") == "Signed in as alice"
            assert await page.get_attribute("a[href='/ui/orgs/acme/artifacts']", "href") is not None
            await page.goto(base + "/ui/no-such-page")
            assert await page.inner_text("h1") == "Not found"
            await page.goto(base + "/ui")
            await page.click("text=Sign out")
            await page.wait_for_url(base + "/ui/sign-in")
            await page.goto(base + "/ui")
            assert page.url.startswith(base + "/ui/sign-in?next=")
            assert errors == []
