"""An artifact's deployment timeline: a lane per deployment its digest ran in, its runs only, each
ended by the change that ended it."""

from __future__ import annotations

import html
import re

from tests.web.helpers import sign_in
from tests.web.world import FRONTEND, VAULT, WORKER, World

TIMELINE = f"/ui/orgs/acme/artifacts/{FRONTEND}/timeline"
BAR = re.compile(r'<a class="bar" href="(/ui/orgs/acme/environments/[^/"]+/timeline\?[^"]*)">')
LANE = re.compile(r'<text class="lane-label"[^>]*><title>([^<]+)</title>')


async def moved(world: World) -> None:
    """FRONTEND also runs in staging; production's frontend changes to WORKER, then is decommissioned."""
    await world.deploy(FRONTEND, "web", "frontend-eu", logical_environment="staging", cluster="moda-2")
    await world.deploy(WORKER, "web", "frontend", artifact="worker")
    await world.deploy(WORKER, "web", "frontend", artifact="worker", status="decommissioned")


async def test_lanes_are_the_deployments_the_digest_ran_in_and_its_runs_end_where_it_was_replaced(
    world: World,
) -> None:
    await moved(world)
    await sign_in(world.api, world.alice)
    page = await world.api.get(TIMELINE)
    assert page.status_code == 200, page.text
    assert LANE.findall(page.text) == [
        "frontend · production · pacific-east · moda-1 (acme/web)",
        "frontend-eu · staging · pacific-east · moda-2 (acme/web)",
    ]
    bars = [html.unescape(b) for b in BAR.findall(page.text)]
    assert [b.split("?")[0] for b in bars] == [
        "/ui/orgs/acme/environments/production/timeline",
        "/ui/orgs/acme/environments/staging/timeline",
    ]
    # Production's run ended when WORKER replaced it; WORKER's decommissioning is none of its business.
    assert page.text.count('<g class="mark digest-changed">') == 1
    assert page.text.count('<g class="mark decommissioned">') == 0
    assert page.text.count('<g class="mark created">') == 2
    events = re.findall(r'<strong class="change">([^<]+)</strong>', page.text)
    assert events == ["digest changed", "created", "updated", "created"]
    assert "Ran in 2 deployments in" in page.text
    # A bar leads to its environment's timeline over the same window.
    followed = await world.api.get(bars[0])
    assert followed.status_code == 200
    assert 'Timeline <span class="muted">· production' in followed.text
    assert bars[0].split("?")[1] in followed.url.query.decode()


async def test_a_digest_that_comes_back_has_a_bar_for_each_run(world: World) -> None:
    await world.deploy(WORKER, "web", "frontend", artifact="worker")
    await world.deploy(WORKER, "web", "frontend", artifact="worker")
    await world.deploy(FRONTEND, "web", "frontend")
    await sign_in(world.api, world.alice)
    page = await world.api.get(TIMELINE)
    assert LANE.findall(page.text) == ["frontend · production · pacific-east · moda-1 (acme/web)"]
    assert len(BAR.findall(page.text)) == 2
    # WORKER's own update in between is left out; the changes to and from FRONTEND are not.
    events = re.findall(r'<strong class="change">([^<]+)</strong>', page.text)
    assert events == ["digest changed", "digest changed", "updated", "created"]


async def test_a_window_before_any_run_shows_none(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(TIMELINE + "?from=2000-01-01T00:00&to=2000-01-02T00:00")
    assert page.status_code == 200
    assert BAR.findall(page.text) == []
    assert "This digest ran nowhere you can read in this window." in page.text
    assert 'value="2000-01-01T00:00"' in page.text


async def test_a_viewer_without_access_sees_no_lane_or_change_of_a_private_repository(world: World) -> None:
    # A digest belongs to the repository that first recorded it: VAULT's runs are acme/secret's.
    private = f"/ui/orgs/acme/artifacts/{VAULT}/timeline"
    await world.deploy(VAULT, "secret", "vault", cluster="vault-1", status="decommissioned")
    await sign_in(world.api, world.alice)
    owner_view = await world.api.get(private)
    assert len(BAR.findall(owner_view.text)) == 1
    assert owner_view.text.count('<li class="event">') == 2
    assert "acme/secret" in owner_view.text
    await sign_in(world.api, world.sam)
    page = await world.api.get(private)
    assert page.status_code == 200
    assert BAR.findall(page.text) == []
    assert "This digest ran nowhere you can read in this window." in page.text
    for hidden in ("acme/secret", "vault-1", '<li class="event">'):
        assert hidden not in page.text
    assert len(BAR.findall((await world.api.get(TIMELINE)).text)) == 1


async def test_the_artifact_and_its_history_link_to_it(world: World) -> None:
    await sign_in(world.api, world.alice)
    for source in (f"/ui/orgs/acme/artifacts/{FRONTEND}", f"/ui/orgs/acme/artifacts/{FRONTEND}/history"):
        page = await world.api.get(source)
        assert f'href="{TIMELINE}"' in page.text, source
    followed = await world.api.get(TIMELINE)
    assert followed.status_code == 200
    assert len(BAR.findall(followed.text)) == 1


async def test_a_bad_digest_or_window_is_a_page_saying_so(world: World) -> None:
    await sign_in(world.api, world.alice)
    for digest in ("sha256:abc", "md5:" + "0" * 32, FRONTEND.upper()):
        missing = await world.api.get(f"/ui/orgs/acme/artifacts/{digest}/timeline")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
    assert (await world.api.get(TIMELINE + "?to=soon")).status_code == 400
    reversed_ = await world.api.get(TIMELINE + "?from=2026-01-02T00:00&to=2026-01-01T00:00")
    assert reversed_.status_code == 400
    assert "before the to time" in reversed_.text
