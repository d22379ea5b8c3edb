"""End to end: a real server process and Debian's Chromium, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from tests.harness import Harness
from tests.web.browser import Screens, chromium, screenshot_dir, serving, sign_in, watched_page
from tests.web.world import FRONTEND, SCRIPT_SUMMARY, SCRIPT_TAG, VAULT, WORKER, World
from waybill.config import Settings


async def test_the_pages_from_sign_in_to_sbom(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors, accept_downloads=True)

            await page.goto(base + "/ui/sign-in")
            await screens.take(page, "sign-in")
            await page.fill("#token", "wbp_wrong")
            await page.click("button[type=submit]")
            assert await page.inner_text("[role=alert]") == "✗ That token is not valid."
            await sign_in(page, base, world.alice)
            assert await page.inner_text(".who") == "Signed in as alice"
            await screens.take(page, "home")

            # The linked artifacts page, then the runtime-risk filter (applied on change by the script).
            await page.click("text=linked artifacts")
            await page.wait_for_url(base + "/ui/orgs/acme/artifacts")
            rows = page.locator("tr.artifact")
            assert await rows.count() == 3
            assert await page.locator("tr.artifact .provenance", has_text="✓ verified").count() == 1
            await screens.take(page, "artifacts")
            await page.select_option("select[name=risk]", "sensitive-data")
            await page.wait_for_url("**risk=sensitive-data**")
            assert await rows.count() == 1
            assert await page.locator("tr.artifact a.name").inner_text() == "frontend"
            await screens.take(page, "artifacts-filtered")

            # The artifact, its history and its attestation.
            await page.click("tr.artifact a.name")
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{FRONTEND}")
            assert await page.locator("tr.deployment").count() == 1
            assert await page.locator("tr.package").count() == 2
            # The tag holding a script is shown as text, and never runs.
            assert await page.get_by_text(SCRIPT_TAG).count() >= 1
            await screens.take(page, "artifact")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "artifact-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})
            await page.click("text=Full history")
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{FRONTEND}/history")
            assert await page.locator("li.event").count() == 2
            await screens.take(page, "history")
            await page.go_back()
            await page.click("tr.attestation td a")
            await page.wait_for_url("**/ui/repos/acme/web/attestations/*")
            assert (await page.inner_text("dd.verdict")).strip() == "✓ verified"
            await screens.take(page, "attestation")

            await page.click("nav >> text=Environments")
            await page.wait_for_url(base + "/ui/orgs/acme/environments")
            assert await page.locator("tr.place").count() == 3
            await screens.take(page, "environments")

            # The organization's alerts, filtered by a runtime risk of where they are deployed.
            await page.click("nav >> text=Alerts")
            await page.wait_for_url(base + "/ui/orgs/acme/alerts")
            alerts = page.locator("tr.alert")
            assert await alerts.count() == 3
            assert await page.get_by_text(SCRIPT_SUMMARY).count() == 1
            await page.select_option("select[name=runtime_risk]", "sensitive-data")
            await page.wait_for_url("**runtime_risk=sensitive-data**")
            assert await alerts.count() == 2
            assert await page.locator("tr.alert td.repository a", has_text="acme/secret").count() == 0
            await screens.take(page, "alerts")

            # The dependency graph and its SBOM.
            await page.goto(base + "/ui/repos/acme/web/dependencies")
            assert await page.locator("tr.package").count() == 2
            await screens.take(page, "dependencies")
            async with page.expect_download() as waiting:
                await page.click("a.download")
            download = await waiting.value
            assert download.suggested_filename == "web-sbom.spdx.json"
            saved = tmp_path / download.suggested_filename
            await download.save_as(saved)
            document = json.loads(saved.read_text())
            assert document["spdxVersion"] == "SPDX-2.3"

            await page.goto(base + "/ui/no-such-page")
            assert await page.inner_text("h1") == "Not found"
            await page.goto(base + "/ui")
            await page.click("text=Sign out")
            await page.wait_for_url(base + "/ui/sign-in")
            await page.goto(base + "/ui")
            assert page.url.startswith(base + "/ui/sign-in?next=")

            # A viewer without access to the private repository sees none of its artifacts.
            await sign_in(page, base, world.sam)
            await page.goto(base + "/ui/orgs/acme/artifacts")
            assert await rows.count() == 2
            assert await page.locator("text=acme/secret").count() == 0
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{VAULT}")
            assert await page.locator("text=vault").count() == 0
            assert await page.locator("tr.storage, tr.deployment, tr.attestation").count() == 0
            assert errors == []


async def test_the_blast_radius_picture(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    await wapi.member("acme", "sam")
    await wapi.collaborator("acme/web", "sam")
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors)
            await sign_in(page, base, world.alice)

            # From the alerts page to the advisory's picture, drawn and laid out by the browser.
            await page.goto(base + "/ui/orgs/acme/alerts")
            row = page.locator("tr.alert", has_text="GHSA-vault-critical")
            await row.locator("a.blast-link").click()
            await page.wait_for_url(base + "/ui/orgs/acme/blast-radius?advisory=GHSA-vault-critical")
            nodes = page.locator("svg.graph a.node")
            assert await nodes.count() == 5
            box = await page.locator("svg.graph").bounding_box()
            assert box is not None
            assert box["width"] > 1000
            assert await page.locator("svg.graph path.edge.internet-exposed").count() == 4
            await screens.take(page, "blast-radius")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "blast-radius-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})

            # Each node leads to its page.
            await page.click("svg.graph a.node[data-key^='artifact:']")
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{VAULT}")
            await page.go_back()
            await page.click("svg.graph a.node[data-key^='place:']")
            await page.wait_for_url(base + "/ui/orgs/acme/artifacts?environment=production&cluster=vault-1")
            assert await page.locator("tr.artifact").count() == 1
            await page.go_back()
            await page.click("svg.graph a.node[data-key^='repository:']")
            await page.wait_for_url(base + "/ui/repos/acme/secret/dependencies")

            # A member who cannot read acme/secret sees neither its nodes nor its counts.
            await page.goto(base + "/ui/sign-out")
            await page.click("text=Sign out")
            await sign_in(page, base, world.sam)
            await page.goto(base + "/ui/orgs/acme/blast-radius?advisory=GHSA-vault-critical")
            assert await page.locator("svg.graph").count() == 0
            assert await page.locator("text=acme/secret").count() == 0
            await page.goto(base + "/ui/orgs/acme/blast-radius?package_url=pkg:npm/left-pad")
            assert await page.locator("svg.graph a.node[data-key^='repository:']").count() == 1
            assert await page.locator("text=acme/secret").count() == 0
            assert await page.locator(f"svg.graph a.node[data-key='artifact:{VAULT}']").count() == 0
            assert errors == []


async def test_the_deployment_timeline(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    await world.deploy(WORKER, "web", "frontend", artifact="worker", runtime_risks=["internet-exposed"])
    await world.deploy(VAULT, "secret", "vault", cluster="vault-1", status="decommissioned")
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors)
            await sign_in(page, base, world.alice)
            await page.goto(base + "/ui/orgs/acme/environments")
            await page.click("section.environment h2 a.timeline-link >> nth=0")
            await page.wait_for_url("**/environments/production/timeline")
            # A window of a few minutes around the changes, so each bar is wide enough to click.
            now = datetime.now(UTC)
            window = {
                "from": f"{now - timedelta(minutes=3):%Y-%m-%dT%H:%M}",
                "to": f"{now + timedelta(minutes=2):%Y-%m-%dT%H:%M}",
            }
            await page.goto(page.url + "?" + urlencode(window))
            bars = page.locator("svg.timeline-chart a.bar")
            assert await bars.count() == 3
            assert await page.locator("svg.timeline-chart g.mark.decommissioned").count() == 1
            assert await page.locator("svg.timeline-chart g.mark.digest-changed").count() == 1
            await screens.take(page, "timeline")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "timeline-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})
            await page.locator(f"svg.timeline-chart a.bar[href$='{WORKER}']").click()
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{WORKER}")
            await page.go_back()

            # The window is a plain form: an earlier one holds nothing.
            await page.fill("input[name=from]", "2000-01-01T00:00")
            await page.fill("input[name=to]", "2000-01-02T00:00")
            await page.click("text=Show what changed")
            await page.wait_for_url("**from=2000-01-01T00%3A00**")
            assert await bars.count() == 0

            await page.goto(base + "/ui/sign-out")
            await page.click("text=Sign out")
            await sign_in(page, base, world.sam)
            await page.goto(base + "/ui/orgs/acme/environments/production/timeline")
            assert await bars.count() == 2
            assert await page.locator("text=vault").count() == 0
            assert errors == []


async def test_the_artifact_timeline(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    await world.deploy(FRONTEND, "web", "frontend-eu", logical_environment="staging", cluster="moda-2")
    await world.deploy(WORKER, "web", "frontend", artifact="worker")
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors)
            await sign_in(page, base, world.alice)
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{FRONTEND}")
            await page.click("text=Timeline: where it ran")
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{FRONTEND}/timeline")
            # A window of a few minutes around the changes, so each bar is wide enough to click.
            now = datetime.now(UTC)
            window = {
                "from": f"{now - timedelta(minutes=3):%Y-%m-%dT%H:%M}",
                "to": f"{now + timedelta(minutes=2):%Y-%m-%dT%H:%M}",
            }
            await page.goto(page.url + "?" + urlencode(window))
            bars = page.locator("svg.timeline-chart a.bar")
            assert await bars.count() == 2
            assert await page.locator("svg.timeline-chart g.mark.digest-changed").count() == 1
            assert await page.locator("svg.timeline-chart g.mark.decommissioned").count() == 0
            assert await page.locator("li.event").count() == 4
            await screens.take(page, "artifact-timeline")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "artifact-timeline-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})
            # A bar leads to the timeline of its environment, over the same window.
            await page.locator("svg.timeline-chart a.bar[href*='/environments/staging/']").click()
            await page.wait_for_url("**/ui/orgs/acme/environments/staging/timeline?from=**")
            assert await page.locator("svg.timeline-chart a.bar").count() == 2
            await page.go_back()

            # The window is a plain form: an earlier one holds nothing.
            await page.fill("input[name=from]", "2000-01-01T00:00")
            await page.fill("input[name=to]", "2000-01-02T00:00")
            await page.click("text=Show what changed")
            await page.wait_for_url("**from=2000-01-01T00%3A00**")
            assert await bars.count() == 0

            # VAULT is acme/secret's: a viewer who cannot read it sees no lane of it.
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{VAULT}/timeline")
            assert await bars.count() == 1
            await page.goto(base + "/ui/sign-out")
            await page.click("text=Sign out")
            await sign_in(page, base, world.sam)
            await page.goto(f"{base}/ui/orgs/acme/artifacts/{VAULT}/timeline")
            assert await bars.count() == 0
            assert await page.locator("text=vault-1").count() == 0
            assert errors == []


async def test_the_advisory_page(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    await wapi.member("acme", "sam")
    await wapi.collaborator("acme/web", "sam")
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors)
            await sign_in(page, base, world.alice)

            # From the blast radius's advisory node to the advisory, and on to its alerts.
            await page.goto(base + "/ui/orgs/acme/blast-radius?advisory=GHSA-vault-critical")
            await page.click("svg.graph a.node[data-key='advisory:GHSA-vault-critical']")
            await page.wait_for_url(base + "/ui/orgs/acme/advisories/GHSA-vault-critical")
            assert await page.inner_text("strong.open-alerts") == "1"
            assert await page.locator("tr.affected-package").count() == 1
            assert "critical severity" in await page.inner_text(".advisory-actions")
            await screens.take(page, "advisory")
            await page.set_viewport_size({"width": 390, "height": 844})
            await screens.take(page, "advisory-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})
            await page.click("tr.affected-package >> text=1 open")
            await page.wait_for_url("**/ui/orgs/acme/alerts?state=open&ecosystem=npm&package=evil-pkg")
            assert await page.locator("tr.alert").count() == 1
            await page.go_back()
            await page.click("a.action >> text=Blast radius")
            await page.wait_for_url(base + "/ui/orgs/acme/blast-radius?advisory=GHSA-vault-critical")
            assert await page.locator("svg.graph a.node").count() == 5

            # The summary holding a script is shown as text, and never runs.
            await page.goto(base + "/ui/orgs/acme/advisories/GHSA-express-medium")
            assert await page.get_by_text(SCRIPT_SUMMARY).count() == 1

            # A member who may not read the organization's alerts sees the advisory, no count.
            await page.goto(base + "/ui/sign-out")
            await page.click("text=Sign out")
            await sign_in(page, base, world.sam)
            await page.goto(base + "/ui/orgs/acme/advisories/GHSA-vault-critical")
            assert await page.locator("tr.affected-package").count() == 1
            assert await page.locator("strong.open-alerts").count() == 0
            assert await page.locator("text=acme/secret").count() == 0
            await page.goto(base + "/ui/orgs/acme/advisories/GHSA-none-0000-0000")
            assert await page.inner_text("h1") == "Not found"
            assert errors == []


async def test_the_alert_trends(
    world: World, wapi: Harness, trusted_settings: Settings, tmp_path: Path
) -> None:
    screens = Screens(screenshot_dir(tmp_path), wapi.backend)
    public_only = await wapi.token("alice", "public_repo")
    with serving(trusted_settings) as base:
        async with chromium() as browser:
            errors: list[str] = []
            page = await watched_page(browser, errors)
            await sign_in(page, base, world.alice)
            await page.goto(base + "/ui/orgs/acme/alerts")

            # Both pictures are laid out by the browser, styled by the stylesheet (the lines'
            # patterns), and fill their column.
            lines = page.locator("svg.open-trend polyline.trend-line")
            assert await lines.count() == 4
            assert await page.locator("svg.open-trend path.trend-marker").count() == 4 * 13
            assert await page.locator("svg.flow-trend rect.trend-bar").count() == 2 * 12
            dashes = await lines.evaluate_all("ls => ls.map(l => getComputedStyle(l).strokeDasharray)")
            assert dashes[0] == "none"
            assert len(set(dashes)) == 4
            chart = await page.locator("svg.open-trend").bounding_box()
            assert chart is not None
            assert chart["width"] > 300
            assert chart["height"] > 100
            assert (
                await page.locator("#open-trend-title").text_content()
                == "Open alerts by severity, week by week"
            )
            critical = page.locator("svg.open-trend g.series.critical path.trend-marker").last
            assert await critical.locator("title").text_content() == f"critical: 1 open on {_today()}"
            await screens.take(page, "alerts-trends")

            # On a narrow screen the pictures shrink to the screen instead of scrolling it.
            await page.set_viewport_size({"width": 390, "height": 844})
            narrow = await page.locator("svg.flow-trend").bounding_box()
            assert narrow is not None
            assert narrow["width"] < 390
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await screens.take(page, "alerts-trends-narrow")
            await page.set_viewport_size({"width": 1280, "height": 800})

            # The numbers in words, one click away.
            await page.click("details.trend-numbers summary")
            assert await page.locator("tr.trend-week").first.locator("td.open-critical").inner_text() == "1"

            # A token that reaches only public repositories counts none of acme/secret's alerts.
            await page.goto(base + "/ui/sign-out")
            await page.click("text=Sign out")
            await sign_in(page, base, public_only)
            await page.goto(base + "/ui/orgs/acme/alerts")
            await page.click("details.trend-numbers summary")
            assert await page.locator("tr.trend-week").first.locator("td.open-critical").inner_text() == "0"
            assert errors == []


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")
