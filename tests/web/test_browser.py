"""End to end: a real server process and Debian's Chromium, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.attestations.bundles import bundle_for, random_digest
from tests.harness import Harness
from tests.web.browser import Screens, chromium, screenshot_dir, serving, sign_in
from waybill.config import Settings


async def test_sign_in_browse_and_sign_out(api: Harness, settings: Settings, tmp_path: Path) -> None:
    await api.user("alice")
    await api.user("sam")
    await api.org("acme", owner="alice")
    await api.repo("acme/web")
    await api.repo("acme/secret", private=True)
    token = await api.token("alice")
    stranger = await api.token("sam")
    digest = random_digest()
    for repo, predicate in (
        ("acme/web", "https://slsa.dev/provenance/v1"),
        ("acme/secret", "https://example.com/<script>alert(1)</script>"),
    ):
        bundle = bundle_for([digest], predicate_type=predicate)
        created = await api.post(f"/repos/{repo}/attestations", token=token, json={"bundle": bundle})
        assert created.status_code == 201, created.text
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
            await screens.take(page, "home")
            assert await page.inner_text(".who") == "Signed in as alice"
            assert await page.inner_text("main li") == "acme"
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{digest}")
            rows = page.locator("tr.attestation")
            assert await rows.count() == 2
            # A script in an attacker-controlled value is shown as text and never runs.
            assert await page.get_by_text("https://example.com/<script>alert(1)</script>").count() == 1
            await screens.take(page, "artifact")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "artifact-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})
            await page.goto(base + "/ui/no-such-page")
            assert await page.inner_text("h1") == "Not found"
            await page.goto(base + "/ui")
            await page.click("text=Sign out")
            await page.wait_for_url(base + "/ui/sign-in")
            await page.goto(base + "/ui")
            assert page.url.startswith(base + "/ui/sign-in?next=")
            assert errors == []
            # Another viewer, without access to the private repository, sees none of its attestations.
            await sign_in(page, base, stranger)
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{digest}")
            assert await rows.count() == 1
            assert await page.locator("text=acme/secret").count() == 0
