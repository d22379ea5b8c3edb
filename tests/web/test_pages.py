"""The organization's pages (linked artifacts, artifact, history, attestation, environments) and a
repository's dependency graph, read with the test client."""

from __future__ import annotations

import json
import re

import pytest

from tests.web.helpers import sign_in
from tests.web.world import COMMIT, FRONTEND, SCRIPT_TAG, VAULT, WORKER, World

ARTIFACTS = "/ui/orgs/acme/artifacts"
ROW = re.compile(r'<a class="name" href="/ui/orgs/acme/artifacts/(sha256:[0-9a-f]{64})">')


async def _listed(world: World, token: str, query: str = "") -> list[str]:
    await sign_in(world.api, token)
    page = await world.api.get(ARTIFACTS + query)
    assert page.status_code == 200, page.text
    return ROW.findall(page.text)


async def test_the_linked_artifacts_page_lists_every_readable_artifact_newest_first(world: World) -> None:
    assert await _listed(world, world.alice) == [VAULT, WORKER, FRONTEND]
    page = (await world.api.get(ARTIFACTS)).text
    assert "acme/secret" in page
    assert "1.4.0" in page
    assert "https://ghcr.io / frontend" in page
    assert "production · pacific-east · moda-1" in page
    assert '<span aria-hidden="true">✓</span> verified' in page


async def test_a_viewer_without_access_sees_none_of_a_private_repositorys_artifacts(world: World) -> None:
    assert await _listed(world, world.sam) == [WORKER, FRONTEND]
    page = (await world.api.get(ARTIFACTS + "?repository=secret")).text
    assert "acme/secret" not in page
    assert "vault" not in page
    assert "No artifact you can read matches these filters." in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?risk=internet-exposed", [VAULT, FRONTEND]),
        ("?risk=sensitive-data", [FRONTEND]),
        ("?risk=lateral-movement", []),
        ("?risk=internet-exposed&cluster=vault-1", [VAULT]),
        ("?risk=internet-exposed&environment=pacific-east", [VAULT, FRONTEND]),
        ("?risk=sensitive-data&environment=staging", []),
        ("?cluster=moda-2", [WORKER]),
        ("?environment=production", [VAULT, FRONTEND]),
        ("?environment=pacific-east&cluster=vault-1", [VAULT]),
        ("?registry=https://ghcr.io", [VAULT, FRONTEND]),
        ("?repository=web", [WORKER, FRONTEND]),
        ("?repository=no-such-repo", []),
        ("?q=WORK", [WORKER]),
        (f"?q={FRONTEND[:15]}", [FRONTEND]),
        (f"?q={FRONTEND[7:20]}", [FRONTEND]),
        ("?q=%25", []),
    ],
)
async def test_filters(world: World, query: str, expected: list[str]) -> None:
    assert await _listed(world, world.alice, query) == expected


async def test_the_risk_filter_follows_each_change_to_a_deployment(world: World) -> None:
    await world.deploy(VAULT, "secret", "vault", cluster="vault-1", status="decommissioned")
    assert await _listed(world, world.alice, "?risk=internet-exposed") == [FRONTEND]
    await world.deploy(FRONTEND, "web", "frontend", runtime_risks=["lateral-movement"])
    assert await _listed(world, world.alice, "?risk=internet-exposed") == []
    assert await _listed(world, world.alice, "?risk=sensitive-data") == []
    assert await _listed(world, world.alice, "?risk=lateral-movement") == [FRONTEND]
    # The same deployment now runs another artifact: the filter finds the new one only.
    await world.deploy(WORKER, "web", "frontend", runtime_risks=["lateral-movement"])
    assert await _listed(world, world.alice, "?risk=lateral-movement") == [WORKER]
    # Deployed again through a cluster set, with its risks.
    body = {
        "logical_environment": "production",
        "physical_environment": "pacific-east",
        "deployments": [
            {
                "name": "vault",
                "digest": VAULT,
                "deployment_name": "vault",
                "github_repository": "secret",
                "runtime_risks": ["critical-resource"],
            }
        ],
    }
    await world.post("/orgs/acme/artifacts/metadata/deployment-record/cluster/vault-1", body)
    assert await _listed(world, world.alice, "?risk=critical-resource") == [VAULT]
    assert await _listed(world, world.alice, "?risk=critical-resource&cluster=vault-1") == [VAULT]


async def test_pages_of_artifacts_follow_keyset_cursors(world: World) -> None:
    deployments = [
        {
            "name": f"svc-{i}",
            "digest": f"sha256:{i:064x}",
            "deployment_name": f"svc-{i}",
            "github_repository": "web",
        }
        for i in range(60)
    ]
    body = {"logical_environment": "test", "deployments": deployments}
    created = await world.api.post(
        "/orgs/acme/artifacts/metadata/deployment-record/cluster/bulk", token=world.alice, json=body
    )
    assert created.status_code == 200, created.text
    await sign_in(world.api, world.alice)
    first = await world.api.get(ARTIFACTS + "?environment=test")
    rows = ROW.findall(first.text)
    assert len(rows) == 50
    older = re.search(r'<a rel="next" href="([^"]+)"', first.text)
    assert older is not None
    assert 'rel="prev"' not in first.text
    second = await world.api.get(ARTIFACTS + older.group(1).replace("&amp;", "&"))
    rest = ROW.findall(second.text)
    assert len(rest) == 10
    assert not set(rest) & set(rows)
    assert 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text


async def test_an_unknown_runtime_risk_is_a_bad_request(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(ARTIFACTS + "?risk=everything")
    assert page.status_code == 400
    assert "Unknown runtime risk &#39;everything&#39;" in page.text


async def test_the_artifact_page_shows_storage_deployments_history_attestations_and_build(
    world: World,
) -> None:
    await sign_in(world.api, world.alice)
    page = (await world.api.get(f"{ARTIFACTS}/{FRONTEND}")).text
    assert page.count('<tr class="storage">') == 1
    assert page.count('<tr class="deployment">') == 1
    # Created, then the risks changed: two entries, newest first.
    assert re.findall(r'<strong class="change">([a-z ]+)</strong>', page) == ["updated", "created"]
    assert page.count('<tr class="attestation">') == 1
    assert "https://github.com/acme/web/.github/workflows/build.yml@refs/heads/main" in page
    assert f"built from commit <code>{COMMIT}</code>" in page
    assert page.count('<tr class="package">') == 2
    assert "left-pad" in page
    assert "indirect" in page


async def test_a_tag_value_with_a_script_is_shown_as_text(world: World) -> None:
    await sign_in(world.api, world.alice)
    for path in (f"{ARTIFACTS}/{FRONTEND}", f"{ARTIFACTS}/{FRONTEND}/history", "/ui/orgs/acme/environments"):
        page = (await world.api.get(path)).text
        assert SCRIPT_TAG not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


async def test_the_artifact_page_of_a_private_artifact_shows_a_stranger_nothing(world: World) -> None:
    await sign_in(world.api, world.sam)
    page = (await world.api.get(f"{ARTIFACTS}/{VAULT}")).text
    assert "vault" not in page
    assert "acme/secret" not in page
    assert "Not deployed anywhere now." in page
    assert "Never deployed." in page


async def test_the_history_page(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(f"{ARTIFACTS}/{FRONTEND}/history")
    assert page.status_code == 200
    assert page.text.count('<li class="event">') == 2


async def test_the_attestation_page_shows_the_verdict_identity_and_statement(world: World) -> None:
    await sign_in(world.api, world.alice)
    artifact = (await world.api.get(f"{ARTIFACTS}/{FRONTEND}")).text
    link = re.search(r'href="(/ui/repos/acme/web/attestations/\d+)"', artifact)
    assert link is not None
    page = (await world.api.get(link.group(1))).text
    assert '<span aria-hidden="true">✓</span> verified' in page
    assert "source repository digest" in page
    assert COMMIT in page
    assert FRONTEND in page
    assert "resolvedDependencies" in page
    await sign_in(world.api, world.sam)
    hidden = await world.api.get(link.group(1).replace("/web/", "/secret/"))
    assert hidden.status_code == 404


async def test_the_environments_page_summarises_what_runs_where(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = (await world.api.get("/ui/orgs/acme/environments")).text
    assert page.count('<tr class="place">') == 3
    assert page.count('<li class="event">') == 4
    await sign_in(world.api, world.sam)
    page = (await world.api.get("/ui/orgs/acme/environments")).text
    assert page.count('<tr class="place">') == 2
    assert "vault" not in page


async def test_the_dependency_graph_page_filters_packages(world: World) -> None:
    await sign_in(world.api, world.alice)
    base = "/ui/repos/acme/web/dependencies"
    page = (await world.api.get(base)).text
    assert page.count('<tr class="package">') == 2
    assert "2 packages in the current graph, 1 direct." in page
    for query, count in (("?relationship=indirect", 1), ("?q=express", 1), ("?scope=development", 0)):
        assert (await world.api.get(base + query)).text.count('<tr class="package">') == count, query
    assert (await world.api.get(base + "?relationship=sideways")).status_code == 400


async def test_the_sbom_download_is_the_spdx_export(world: World) -> None:
    await sign_in(world.api, world.alice)
    response = await world.api.get("/ui/repos/acme/web/dependencies/sbom")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="web-sbom.spdx.json"'
    document = json.loads(response.content)
    assert document["spdxVersion"] == "SPDX-2.3"
    assert {p["name"] for p in document["packages"]} >= {"express", "left-pad"}


async def test_a_private_repositorys_dependencies_are_not_found_for_a_stranger(world: World) -> None:
    await sign_in(world.api, world.sam)
    for path in ("/ui/repos/acme/secret/dependencies", "/ui/repos/acme/secret/dependencies/sbom"):
        response = await world.api.get(path)
        assert response.status_code == 404, path
        assert "<h1>Not found</h1>" in response.text
