"""The blast radius page: the advisory's packages, repositories, digests and places, as a graph."""

from __future__ import annotations

import re

from tests.dependencies.helpers import snapshot
from tests.web.helpers import sign_in
from tests.web.world import COMMIT, FRONTEND, VAULT, World, digest

BLAST = "/ui/orgs/acme/blast-radius"
NODE = re.compile(r'<a class="node ([a-z-]+)[^"]*" href="([^"]+)" data-key="([^"]+)">')


def _nodes(text: str) -> dict[str, tuple[str, str]]:
    return {key: (level, href.replace("&amp;", "&")) for level, href, key in NODE.findall(text)}


async def test_an_advisory_draws_its_package_repository_digests_and_places(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(BLAST + "?advisory=GHSA-leftpad-high")
    assert page.status_code == 200, page.text
    nodes = _nodes(page.text)
    assert nodes["advisory:GHSA-leftpad-high"][0] == "internet-exposed"
    assert nodes["package:pkg:npm/left-pad@1.3.0"] == (
        "internet-exposed",
        "/ui/orgs/acme/alerts?ecosystem=npm&package=left-pad",
    )
    repository = next(v for k, v in nodes.items() if k.startswith("repository:"))
    assert repository == ("internet-exposed", "/ui/repos/acme/web/dependencies")
    assert nodes[f"artifact:{FRONTEND}"] == ("internet-exposed", f"/ui/orgs/acme/artifacts/{FRONTEND}")
    assert nodes["place:production · moda-1"] == (
        "internet-exposed",
        "/ui/orgs/acme/artifacts?environment=production&cluster=moda-1",
    )
    assert nodes["place:staging · moda-2"][0] == "deployed"
    # Not colour alone: the exposed nodes carry a mark, and every edge says its level in words.
    assert "⚠ production · moda-1" in page.text
    assert "internet-exposed</title>" in page.text
    assert '<tr class="exposed-repository">' in page.text
    assert "1 repositories, 2 artifact digests and 2 deployments in 2 places" in page.text


async def test_a_viewer_never_sees_a_private_repositorys_nodes_or_counts(world: World) -> None:
    await world.api.member("acme", "sam")
    await world.api.collaborator("acme/web", "sam")
    await sign_in(world.api, world.sam)
    page = await world.api.get(BLAST + "?advisory=GHSA-vault-critical")
    assert page.status_code == 200, page.text
    assert _nodes(page.text) == {}
    assert "acme/secret" not in page.text
    assert "vault" not in page.text.replace("GHSA-vault-critical", "")
    assert "No repository you can read in acme holds an affected version." in page.text
    page = await world.api.get(BLAST + "?package_url=pkg:npm/left-pad")
    nodes = _nodes(page.text)
    assert f"artifact:{VAULT}" not in nodes
    assert any(k.startswith("repository:") for k in nodes)
    assert "acme/secret" not in page.text

    await sign_in(world.api, world.alice)
    nodes = _nodes((await world.api.get(BLAST + "?advisory=GHSA-vault-critical")).text)
    assert f"artifact:{VAULT}" in nodes
    assert nodes["place:production · vault-1"][0] == "internet-exposed"


async def test_beyond_a_column_of_artifacts_the_rest_is_one_counted_node_with_exact_totals(
    world: World,
) -> None:
    # 20 more digests of acme/web, stored only; the last one runs internet-exposed in a new place.
    extra = [digest(f"batch-{n}") for n in range(20)]
    for n, subject in enumerate(extra):
        await world.store(subject, "web", f"batch-{n}", "1.0.0", "https://ghcr.io")
    await world.deploy(extra[-1], "web", "batch-19", cluster="edge-9", runtime_risks=["internet-exposed"])
    await sign_in(world.api, world.alice)
    page = await world.api.get(BLAST + "?advisory=GHSA-leftpad-high")
    nodes = _nodes(page.text)
    shown = [k for k in nodes if k.startswith("artifact:")]
    # The most exposed first: both internet-exposed digests are shown, the rest fold into one node.
    assert len(shown) == 12
    assert f"artifact:{FRONTEND}" in nodes
    assert f"artifact:{extra[-1]}" in nodes
    assert nodes["more:Artifacts"][0] == "not-deployed"
    assert "+ 10 more" in page.text
    assert "Artifacts (22)" in page.text
    assert nodes["place:production · edge-9"][0] == "internet-exposed"
    assert "1 repositories, 22 artifact digests and 3 deployments in 3 places" in page.text


async def test_the_alerts_page_links_each_advisory_to_its_blast_radius(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get("/ui/orgs/acme/alerts")
    assert f'href="{BLAST}?advisory=GHSA-leftpad-high"' in page.text


async def test_a_bad_address_is_a_page_saying_so(world: World) -> None:
    await sign_in(world.api, world.alice)
    both = await world.api.get(BLAST + "?advisory=GHSA-leftpad-high&package_url=pkg:npm/x")
    assert both.status_code == 400
    assert "exactly one of advisory or package_url" in both.text
    assert (await world.api.get(BLAST)).status_code == 400
    assert (await world.api.get(BLAST + "?advisory=GHSA-none-such")).status_code == 404
    assert (await world.api.get("/ui/orgs/nobody/blast-radius?advisory=GHSA-leftpad-high")).status_code == 404


async def test_a_repository_names_every_runtime_risk_its_deployments_carry(world: World) -> None:
    quiet = digest("quiet")
    await world.store(quiet, "web", "quiet", "1.0.0", "https://ghcr.io")
    await world.deploy(
        quiet, "web", "quiet", cluster="edge-1", runtime_risks=["sensitive-data", "lateral-movement"]
    )
    await sign_in(world.api, world.alice)
    page = await world.api.get(BLAST + "?advisory=GHSA-leftpad-high")
    cells = re.findall(r'<td data-label="Runtime risks">(.*?)</td>', page.text)
    assert [re.findall(r"(?:⚠ )?([a-z-]+)</span>", cell) for cell in cells] == [
        ["internet-exposed", "lateral-movement", "sensitive-data"]
    ]


async def test_fifty_repositories_and_500_deployments_stay_one_readable_picture(world: World) -> None:
    # 50 more repositories holding left-pad, each with one digest running in 10 of 25 places.
    environments = ("production", "staging", "test", "canary", "development")
    for n in range(50):
        await world.api.repo(f"acme/svc-{n}")
        await world.post(
            f"/repos/acme/svc-{n}/dependency-graph/snapshots",
            snapshot({"left-pad": "pkg:npm/left-pad@1.3.0"}, sha=COMMIT),
        )
        subject = digest(f"svc-{n}")
        await world.store(subject, f"svc-{n}", f"svc-{n}", "1.0.0", "https://ghcr.io")
        for k in range(10):
            await world.deploy(
                subject,
                f"svc-{n}",
                f"svc-{n}-{k}",
                logical_environment=environments[k % 5],
                cluster=f"cell-{(n + k) % 5}",
                runtime_risks=["internet-exposed"] if n == 49 and k == 0 else [],
            )
    await world.api.app.worker.run_until_idle()
    await sign_in(world.api, world.alice)
    page = await world.api.get(BLAST + "?advisory=GHSA-leftpad-high")
    assert page.status_code == 200, page.text
    nodes = _nodes(page.text)
    for column in ("repository", "artifact", "place"):
        drawn = [k for k in nodes if k.startswith(column + ":")]
        assert len(drawn) == 12, column
    assert {k for k in nodes if k.startswith("more:")} == {
        "more:Repositories",
        "more:Artifacts",
        "more:Running in",
    }
    # The one internet-exposed deployment is drawn, and marks its digest and its place.
    assert nodes[f"artifact:{digest('svc-49')}"][0] == "internet-exposed"
    assert nodes["place:production · cell-4"][0] == "internet-exposed"
    summary = re.search(r"\d+ repositories, [^.]*places", page.text)
    assert summary is not None
    assert summary.group(0) == "51 repositories, 52 artifact digests and 502 deployments in 27 places"
    height = re.search(r'<svg class="graph" viewBox="[^"]*" width="\d+" height="(\d+)"', page.text)
    assert height is not None
    assert int(height.group(1)) < 1000
