"""The organization's code scanning alerts: GitHub's filters and cursors, and Waybill's
production-context filters drawn from the repositories' storage and deployment records."""

from __future__ import annotations

from typing import Any

import pytest
from testkit import sarifs

from tests.artifacts.conftest import digest
from tests.codescanning.conftest import Org
from tests.contract.description import API_VERSIONS, check_response

ORG_LIST = "code-scanning/list-alerts-for-org"
ORG = "/orgs/acme/code-scanning/alerts"


async def _deploy(org: Org, repo: str, label: str, risks: list[str], status: str = "deployed") -> None:
    body = {
        "name": repo,
        "digest": digest(label),
        "status": status,
        "logical_environment": "prod",
        "physical_environment": "eu-west",
        "cluster": f"cluster-{label}",
        "deployment_name": label,
        "github_repository": repo,
        "runtime_risks": risks,
    }
    r = await org.api.post("/orgs/acme/artifacts/metadata/deployment-record", token=org.alice, json=body)
    assert r.status_code == 200, r.text


async def _store(org: Org, repo: str, registry_url: str) -> None:
    body = {
        "name": repo,
        "digest": digest(f"{repo}-stored"),
        "registry_url": registry_url,
        "repository": "images",
        "github_repository": repo,
        "status": "active",
    }
    r = await org.api.post("/orgs/acme/artifacts/metadata/storage-record", token=org.alice, json=body)
    assert r.status_code == 200, r.text


async def _repos(org: Org, **params: Any) -> list[str]:
    r = await org.api.get(ORG, token=org.alice, params={"per_page": 100, **params})
    assert r.status_code == 200, r.text
    return sorted({a["repository"]["full_name"] for a in r.json()})


@pytest.fixture
async def three(org: Org) -> Org:
    await org.api.repo("acme/api")
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    await org.uploaded(sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT), repo="api")
    await org.uploaded(sarifs.upload(sarifs.real("bandit")), repo="secret")
    return org


@pytest.mark.usefixtures("official_description")
@pytest.mark.parametrize("version", API_VERSIONS)
async def test_org_list_in_githubs_shape(three: Org, version: str) -> None:
    r = await three.api.get(ORG, token=three.alice, params={"per_page": 100}, version=version)
    assert r.status_code == 200, r.text
    check_response(r, ORG_LIST)
    assert len(r.json()) == 8 + 7 + 8
    assert await _repos(three) == ["acme/api", "acme/secret", "acme/web"]
    assert await _repos(three, tool_name="ruff") == ["acme/api"]
    r = await three.api.get(ORG, token=three.alice, params={"state": "sleepy"}, version=version)
    assert r.status_code == 422
    check_response(r, ORG_LIST)


async def test_production_context_filters(three: Org) -> None:
    await _deploy(three, "api", "api-prod", ["internet-exposed"])
    await _deploy(three, "secret", "secret-prod", ["critical-resource"], status="decommissioned")
    await _store(three, "web", "https://acme.jfrog.io/artifactory/")
    assert await _repos(three, has="deployment") == ["acme/api"]
    assert await _repos(three, runtime_risk="internet-exposed") == ["acme/api"]
    assert await _repos(three, runtime_risk="critical-resource") == []
    assert await _repos(three, artifact_registry="jfrog-artifactory") == ["acme/web"]
    assert await _repos(three, artifact_registry_url="https://acme.jfrog.io/artifactory") == ["acme/web"]
    assert await _repos(three, has="deployment", severity="error") == ["acme/api"]
    r = await three.api.get(ORG, token=three.alice, params={"runtime_risk": "on-fire"})
    assert r.status_code == 422


async def test_cursors(three: Org) -> None:
    seen: list[int] = []
    params: dict[str, Any] = {"per_page": 10, "sort": "created", "direction": "asc", "after": ""}
    for _ in range(5):
        r = await three.api.get(ORG, token=three.alice, params=params)
        assert r.status_code == 200, r.text
        seen += [
            a["number"] + 100 * ["web", "api", "secret"].index(a["repository"]["name"]) for a in r.json()
        ]
        link = r.headers.get("link", "")
        if 'rel="next"' not in link:
            break
        cursor = link.split("after=")[1].split(">")[0].split("&")[0]
        params["after"] = cursor
    assert len(seen) == 23
    assert len(set(seen)) == 23
    r = await three.api.get(ORG, token=three.alice, params={"after": "garbage"})
    assert r.status_code == 422
