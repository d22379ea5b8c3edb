"""The trends on the organization's alerts page: both pictures and the table of their numbers,
counting only the repositories whose alerts the viewer may read."""

from __future__ import annotations

import re

from tests.dependencies.helpers import snapshot
from tests.web.helpers import sign_in
from tests.web.world import COMMIT, World

ALERTS = "/ui/orgs/acme/alerts"


def _newest_week(page: str) -> dict[str, int]:
    """The numbers of the table's first row: the week that ends now."""
    row = re.search(r'<tr class="trend-week">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="([a-z-]+)" data-label="[^"]+">(\d+)</td>', row.group(1))
    return {name: int(value) for name, value in cells}


async def _page(world: World, token: str, query: str = "") -> str:
    world.api.client.cookies.clear()
    await sign_in(world.api, token)
    page = await world.api.get(ALERTS + query)
    assert page.status_code == 200, page.text
    return page.text


async def test_the_page_draws_the_trends_and_their_numbers(world: World) -> None:
    # left-pad leaves acme/web's graph: fixed in the same week it opened.
    await world.post(
        "/repos/acme/web/dependency-graph/snapshots",
        snapshot({"express": "pkg:npm/express@4.18.2"}, sha=COMMIT),
    )
    await world.api.app.worker.run_until_idle()
    page = await _page(world, world.alice)
    assert '<svg class="trend-chart open-trend"' in page
    assert '<svg class="trend-chart flow-trend"' in page
    assert re.findall(r'<g class="series ([a-z]+)"', page) == ["critical", "high", "medium", "low"]
    # Thirteen points a line; two bars a week.
    assert page.count('<path class="trend-marker critical"') == 13 + 1
    assert page.count('<rect class="trend-bar opened"') == 12 + 1
    assert page.count('<tr class="trend-week">') == 12
    assert _newest_week(page) == {
        "open-critical": 1,
        "open-high": 0,
        "open-medium": 1,
        "open-low": 0,
        "opened": 3,
        "fixed": 1,
    }
    assert "2 open now, 0 twelve weeks ago; 3 opened or reopened and 1 fixed since." in page
    assert '<strong class="median">under a minute</strong> over 1 fix.' in page
    assert "critical: 1 open on " in page


async def test_a_viewer_who_cannot_read_the_private_repository_counts_none_of_it(world: World) -> None:
    everything = _newest_week(await _page(world, world.alice))
    public_only = _newest_week(await _page(world, await world.api.token("alice", "public_repo")))
    # evil-pkg, acme/secret's critical alert, is the difference.
    assert everything["open-critical"] == 1
    assert public_only == {**everything, "open-critical": 0, "opened": everything["opened"] - 1}


async def test_the_trends_follow_the_severity_filter(world: World) -> None:
    page = await _page(world, world.alice, "?severity=medium")
    assert re.findall(r'<g class="series ([a-z]+)"', page) == ["medium"]
    assert _newest_week(page) == {"open-medium": 1, "opened": 1, "fixed": 0}
    # A state filter narrows the list, not the trends.
    assert _newest_week(await _page(world, world.alice, "?state=fixed"))["opened"] == 3
