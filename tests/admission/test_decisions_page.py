"""The decision log's page: what each decision judged and why, filtered as the API filters, and the
deployment record that followed; once in Debian's Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.admission.conftest import KUBERNETES, World, digest, image
from tests.admission.reviews import pod, review
from tests.web.browser import Screens, chromium, screenshot_dir, serving
from tests.web.browser import sign_in as browser_sign_in
from tests.web.helpers import sign_in
from waybill.config import Settings

PAGE = "/ui/orgs/acme/admission"
ROW = re.compile(r'<tr class="decision">')


async def _decide(world: World, body: dict[str, Any]) -> None:
    response = await world.api.post(KUBERNETES, token=world.alice, json=body)
    assert response.status_code == 200, response.text


async def _two_decisions(world: World) -> None:
    """An allowed Pod in shop, then a denied one in batch."""
    await world.policy(require_provenance=True)
    await world.provenance(digest("good"))
    await _decide(world, review("Pod", pod(image("good"))))
    await _decide(world, review("Pod", pod(image("bad")), namespace="batch"))


async def test_the_page_shows_each_decision_and_why(world: World) -> None:
    await sign_in(world.api, world.alice)
    empty = await world.api.get(PAGE)
    assert empty.status_code == 200, empty.text
    assert "No decisions yet" in empty.text
    await _two_decisions(world)
    page = await world.api.get(PAGE)
    assert len(ROW.findall(page.text)) == 2
    denied, allowed = page.text.split('<tr class="decision">')[1:]
    assert "✗</span> denied" in denied
    assert "batch" in denied
    assert "provenance: no provenance attestation of this digest in a repository of acme" in denied
    assert f'href="/ui/orgs/acme/artifacts/{digest("bad")}"' in denied
    assert "✓</span> allowed" in allowed
    assert '<ul class="reasons">' not in allowed
    assert 'aria-current="page">Admission</a>' in page.text


async def test_filters_narrow_the_page_as_they_narrow_the_api(world: World) -> None:
    await _two_decisions(world)
    await sign_in(world.api, world.alice)
    denied = await world.api.get(PAGE, params={"verdict": "denied"})
    assert len(ROW.findall(denied.text)) == 1
    assert "batch" in denied.text
    shop = await world.api.get(PAGE, params={"namespace": "shop", "environment": "prod"})
    assert len(ROW.findall(shop.text)) == 1
    none = await world.api.get(PAGE, params={"environment": "staging"})
    assert "No decision matches these filters." in none.text
    wrong = await world.api.get(PAGE, params={"verdict": "maybe"})
    assert wrong.status_code == 400
    assert "The verdict filter must be allowed, denied or warned." in wrong.text


async def test_a_decision_links_to_the_deployment_record_that_followed(world: World) -> None:
    await _two_decisions(world)
    record = {
        "name": "web",
        "digest": digest("good"),
        "status": "deployed",
        "logical_environment": "prod",
        "cluster": "moda-1",
        "deployment_name": "storefront",
        "github_repository": "web",
    }
    created = await world.api.post(
        "/orgs/acme/artifacts/metadata/deployment-record", token=world.alice, json=record
    )
    assert created.status_code == 200, created.text
    await sign_in(world.api, world.alice)
    page = await world.api.get(PAGE)
    denied, allowed = page.text.split('<tr class="decision">')[1:]
    assert f'<a class="deployment" href="/ui/orgs/acme/artifacts/{digest("good")}">storefront</a>' in allowed
    assert "no record yet" in denied


async def test_only_readers_of_the_organization_see_its_decisions(world: World) -> None:
    await _two_decisions(world)
    signed_out = await world.api.get(PAGE)
    assert signed_out.status_code in (302, 303)
    assert signed_out.headers["location"].startswith("/ui/sign-in")
    await sign_in(world.api, world.carol)
    refused = await world.api.get(PAGE)
    assert refused.status_code == 404
    assert "batch" not in refused.text


async def test_the_verdict_filter_applies_on_change_in_chromium(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    await _two_decisions(world)
    screens = Screens(screenshot_dir(tmp_path), world.api.backend)
    with serving(settings) as base:
        async with chromium() as browser:
            page = await browser.new_page()
            page.set_default_timeout(10_000)
            await browser_sign_in(page, base, world.alice)
            await page.goto(base + PAGE)
            rows = page.locator("tr.decision")
            assert await rows.count() == 2
            await screens.take(page, "admission-decisions")
            await page.select_option("select[name=verdict]", "denied")
            await page.wait_for_url("**verdict=denied**")
            assert await rows.count() == 1
            assert "batch" in await rows.first.inner_text()
            await page.click("tr.decision td[data-label=Images] a")
            await page.wait_for_url(f"{base}/ui/orgs/acme/artifacts/{digest('bad')}")
