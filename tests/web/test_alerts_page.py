"""The organization's alerts page and the open alerts on the artifact page."""

from __future__ import annotations

import re

import pytest
from testkit import sarifs

from tests.web.helpers import sign_in
from tests.web.world import FRONTEND, SCRIPT_SUMMARY, VAULT, World

ALERTS = "/ui/orgs/acme/alerts"
ROW = re.compile(r'<span class="package">([^<]+)</span>.*?<a href="[^"]+">(acme/[a-z]+)</a>', re.S)
LEFT_PAD = ("acme/web", "left-pad")
EXPRESS = ("acme/web", "express")
EVIL = ("acme/secret", "evil-pkg")


def _rows(text: str) -> set[tuple[str, str]]:
    return {(repo, package) for package, repo in ROW.findall(text)}


async def _listed(world: World, query: str = "") -> set[tuple[str, str]]:
    await sign_in(world.api, world.alice)
    page = await world.api.get(ALERTS + query)
    assert page.status_code == 200, page.text
    return _rows(page.text)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {LEFT_PAD, EXPRESS, EVIL}),
        ("?runtime_risk=sensitive-data", {LEFT_PAD, EXPRESS}),
        ("?runtime_risk=internet-exposed", {LEFT_PAD, EXPRESS, EVIL}),
        ("?runtime_risk=lateral-movement", set()),
        ("?artifact_registry_url=https://registry.example.com", {LEFT_PAD, EXPRESS}),
        ("?artifact_registry_url=https://nowhere.example.com", set()),
        ("?has=deployment", {LEFT_PAD, EXPRESS, EVIL}),
        ("?severity=critical", {EVIL}),
        ("?severity=high", {LEFT_PAD}),
        ("?package=left-pad", {LEFT_PAD}),
        ("?ecosystem=pip", set()),
        ("?state=fixed", set()),
        ("?state=open&severity=medium&runtime_risk=sensitive-data&has=deployment", {EXPRESS}),
        ("?state=&severity=&runtime_risk=", {LEFT_PAD, EXPRESS, EVIL}),
    ],
)
async def test_filters(world: World, query: str, expected: set[tuple[str, str]]) -> None:
    assert await _listed(world, query) == expected


async def test_alerts_are_escaped_and_linked_from_the_header(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = (await world.api.get(ALERTS)).text
    assert SCRIPT_SUMMARY not in page
    assert "&lt;script&gt;alert(&#39;advisory&#39;)&lt;/script&gt; in express" in page
    assert '<a href="/ui/orgs/acme/alerts" aria-current="page">Alerts</a>' in page
    artifacts = (await world.api.get("/ui/orgs/acme/artifacts")).text
    assert '<a href="/ui/orgs/acme/alerts">Alerts</a>' in artifacts


async def test_pages_follow_keyset_cursors(world: World) -> None:
    await sign_in(world.api, world.alice)
    seen: list[set[tuple[str, str]]] = []
    path = ALERTS + "?per_page=1"
    while True:
        page = await world.api.get(path)
        assert page.status_code == 200, page.text
        seen.append(_rows(page.text))
        older = re.search(r'<a rel="next" href="\?([^"]+)">', page.text)
        if older is None:
            break
        path = ALERTS + "?" + older.group(1).replace("&amp;", "&")
    assert seen[0]
    assert all(len(rows) == 1 for rows in seen)
    assert set().union(*seen) == {LEFT_PAD, EXPRESS, EVIL}
    assert len(seen) == 3
    newer = re.search(r'<a rel="prev" href="\?([^"]+)">', page.text)
    assert newer is not None
    back = await world.api.get(ALERTS + "?" + newer.group(1).replace("&amp;", "&"))
    assert _rows(back.text) == seen[1]


async def test_a_bad_filter_is_a_bad_request_page(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(ALERTS + "?runtime_risk=on-fire")
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "runtime_risk must be a comma-separated list of:" in page.text


async def test_only_owners_see_the_organizations_alerts(world: World) -> None:
    await sign_in(world.api, world.sam)
    stranger = await world.api.get(ALERTS)
    assert stranger.status_code == 404
    assert "acme/" not in stranger.text
    assert "left-pad" not in stranger.text

    await world.api.user("bob")
    await world.api.member("acme", "bob")
    await sign_in(world.api, await world.api.token("bob"))
    member = await world.api.get(ALERTS + "?runtime_risk=internet-exposed")
    assert member.status_code == 403
    assert member.headers["content-type"].startswith("text/html")
    assert "Must be an owner or security manager of the organization." in member.text
    assert "left-pad" not in member.text
    assert "evil-pkg" not in member.text

    world.api.client.cookies.clear()
    signed_out = await world.api.get(ALERTS)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/ui/sign-in?next=")


async def test_the_artifact_page_shows_its_repositorys_open_alerts(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = (await world.api.get(f"/ui/orgs/acme/artifacts/{FRONTEND}")).text
    assert '<h2 id="alerts">Open alerts</h2>' in page
    assert sorted(re.findall(r'<span class="package">([^<]+)</span>', page)) == ["express", "left-pad"]
    assert "&lt;script&gt;alert(&#39;advisory&#39;)&lt;/script&gt;" in page
    vault = (await world.api.get(f"/ui/orgs/acme/artifacts/{VAULT}")).text
    assert re.findall(r'<span class="package">([^<]+)</span>', vault) == ["evil-pkg"]


async def test_the_artifact_page_hides_alerts_from_a_viewer_who_may_not_read_them(world: World) -> None:
    # A member reads the public repository (so its artifact) but may not read its alerts.
    await world.api.user("bob")
    await world.api.member("acme", "bob")
    await sign_in(world.api, await world.api.token("bob"))
    page = await world.api.get(f"/ui/orgs/acme/artifacts/{FRONTEND}")
    assert page.status_code == 200
    assert "frontend" in page.text
    assert "Open alerts" not in page.text
    assert "left-pad" not in page.text.split('id="dependencies"')[0]
    assert "in express" not in page.text


CODE_ROW = re.compile(
    r'<tr class="code-scanning-alert">.*?<code class="muted">([^<]+)</code>'
    r'.*?<a href="[^"]+">(acme/[a-z]+)</a>',
    re.S,
)


async def _scanned(world: World, query: str = "") -> set[tuple[str, str]]:
    for repo, name in (("web", "bandit"), ("secret", "ruff")):
        r = await world.api.post(
            f"/repos/acme/{repo}/code-scanning/sarifs",
            token=world.alice,
            json=sarifs.upload(sarifs.real(name)),
        )
        assert r.status_code == 202, r.text
    await world.api.app.worker.run_until_idle()
    await sign_in(world.api, world.alice)
    page = await world.api.get(ALERTS + query)
    assert page.status_code == 200, page.text
    assert '<h2 id="code-scanning">Code scanning alerts</h2>' in page.text
    return {(repo, rule) for rule, repo in CODE_ROW.findall(page.text)}


@pytest.mark.parametrize(
    ("query", "repositories"),
    [
        ("", {"acme/web", "acme/secret"}),
        ("?runtime_risk=sensitive-data", {"acme/web"}),
        ("?runtime_risk=lateral-movement", set()),
        ("?has=deployment&state=open", {"acme/web", "acme/secret"}),
        ("?state=fixed", set()),
    ],
)
async def test_code_scanning_alerts_beside_dependabots_with_the_same_filters(
    world: World, query: str, repositories: set[str]
) -> None:
    rows = await _scanned(world, query)
    assert {repo for repo, _ in rows} == repositories
    if "acme/web" in repositories:
        assert ("acme/web", "B602") in rows


async def test_code_scanning_alerts_page_newest_first(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("waybill.web.alerts.CODE_SCANNING_SHOWN", 4)
    first = await _scanned(world)
    second = await world.api.get(ALERTS + "?code_scanning_page=2")
    assert second.status_code == 200, second.text
    later = {(repo, rule) for rule, repo in CODE_ROW.findall(second.text)}
    assert len(first) == 4
    assert later
    assert not later & first
    assert 'href="?code_scanning_page=1#code-scanning">← Newer</a>' in second.text
    bad = await world.api.get(ALERTS + "?code_scanning_page=0")
    assert bad.status_code == 400
