"""An environment's deployment timeline: a bar per digest each deployment ran, changes marked."""

from __future__ import annotations

import re

from tests.web.helpers import sign_in
from tests.web.world import FRONTEND, VAULT, WORKER, World

TIMELINE = "/ui/orgs/acme/environments/production/timeline"
BAR = re.compile(r'<a class="bar" href="/ui/orgs/acme/artifacts/(sha256:[0-9a-f]+)">')


async def changed(world: World) -> None:
    """frontend's digest changes to WORKER's; vault is decommissioned."""
    await world.deploy(WORKER, "web", "frontend", artifact="worker", runtime_risks=["internet-exposed"])
    await world.deploy(VAULT, "secret", "vault", cluster="vault-1", status="decommissioned")


async def test_bars_and_marks_show_digest_changes_and_decommissions(world: World) -> None:
    await changed(world)
    await sign_in(world.api, world.alice)
    page = await world.api.get(TIMELINE)
    assert page.status_code == 200, page.text
    assert BAR.findall(page.text) == [FRONTEND, WORKER, VAULT]
    assert page.text.count('<g class="mark digest-changed">') == 1
    assert page.text.count('<g class="mark decommissioned">') == 1
    assert page.text.count('<g class="mark created">') == 2
    assert page.text.count('<li class="event">') == 5
    assert (
        'href="/ui/orgs/acme/environments/production/timeline"'
        in (await world.api.get("/ui/orgs/acme/environments")).text
    )


async def test_a_window_before_the_changes_shows_what_ran_then(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(TIMELINE + "?from=2000-01-01T00:00&to=2000-01-02T00:00")
    assert page.status_code == 200
    assert BAR.findall(page.text) == []
    assert "Nothing you can read ran in production in this window." in page.text
    assert 'value="2000-01-01T00:00"' in page.text


async def test_a_viewer_without_access_sees_no_bar_or_change_of_a_private_repository(world: World) -> None:
    await changed(world)
    await sign_in(world.api, world.sam)
    page = await world.api.get(TIMELINE)
    assert page.status_code == 200
    assert BAR.findall(page.text) == [FRONTEND, WORKER]
    assert "vault" not in page.text
    assert "secret" not in page.text
    assert page.text.count('<li class="event">') == 3


async def test_a_bad_window_is_a_page_saying_so(world: World) -> None:
    await sign_in(world.api, world.alice)
    assert (await world.api.get(TIMELINE + "?from=yesterday")).status_code == 400
    reversed_ = await world.api.get(TIMELINE + "?from=2026-01-02T00:00&to=2026-01-01T00:00")
    assert reversed_.status_code == 400
    assert "before the to time" in reversed_.text
