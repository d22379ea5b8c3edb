"""Organization alerts with production context, permissions, re-matching after an import, dependency
review's vulnerabilities, and the blast radius."""

from __future__ import annotations

from typing import Any

import pytest

from tests.advisories.osv_docs import as_file, osv_document
from tests.alerts.conftest import Org
from tests.artifacts.conftest import digest
from tests.attestations.bundles import bundle_for
from tests.spec import VERSIONS, assert_conforms
from waybill.alerts import service as alerts
from waybill.core import jobs

ORG_LIST = "dependabot/list-alerts-for-org"
LIST = "dependabot/list-alerts-for-repo"
ORG = "/orgs/acme/dependabot/alerts"


async def _store(org: Org, repo: str, registry_url: str, status: str = "active") -> None:
    body = {
        "name": repo,
        "digest": digest(f"{repo}-stored"),
        "registry_url": registry_url,
        "repository": "images",
        "github_repository": repo,
        "status": status,
    }
    r = await org.api.post("/orgs/acme/artifacts/metadata/storage-record", token=org.alice, json=body)
    assert r.status_code == 200, r.text


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


async def _repos(org: Org, token: str | None = None, **params: Any) -> list[str]:
    r = await org.api.get(ORG, token=token or org.alice, params={"per_page": 100, **params})
    assert r.status_code == 200, r.text
    assert_conforms(r, ORG_LIST)
    return sorted({a["repository"]["full_name"] for a in r.json()})


@pytest.mark.parametrize("version", VERSIONS)
async def test_org_list_in_githubs_shape(org: Org, version: str) -> None:
    r = await org.api.get(ORG, token=org.alice, version=version)
    assert r.status_code == 200, r.text
    assert_conforms(r, ORG_LIST)
    assert len(r.json()) == 5
    assert await _repos(org, package="left-pad") == ["acme/api", "acme/web"]


async def test_production_context_filters(org: Org) -> None:
    await _store(org, "web", "https://acme.jfrog.io/artifactory/")
    await _store(org, "api", "https://ghcr.io/")
    await _store(org, "secret", "https://registry.acme.example/artifactory/", status="deleted")
    await _deploy(org, "api", "api-prod", ["internet-exposed", "sensitive-data"])
    await _deploy(org, "secret", "secret-prod", ["critical-resource"], status="decommissioned")
    await _deploy(org, "web", "web-prod", [])

    assert await _repos(org, artifact_registry="jfrog-artifactory") == ["acme/web"]
    assert await _repos(org, artifact_registry_url="https://ghcr.io") == ["acme/api"]
    assert await _repos(org, artifact_registry_url="https://acme.jfrog.io/artifactory/,https://ghcr.io/") == [
        "acme/api",
        "acme/web",
    ]
    assert await _repos(org, runtime_risk="internet-exposed") == ["acme/api"]
    assert await _repos(org, runtime_risk="sensitive-data,lateral-movement") == ["acme/api"]
    # A decommissioned deployment and a deleted stored artifact put no repository in production.
    assert await _repos(org, runtime_risk="critical-resource") == []
    assert await _repos(org, has="deployment") == ["acme/api", "acme/web"]
    assert await _repos(org, has="deployment", runtime_risk="internet-exposed", severity="high") == [
        "acme/api"
    ]
    r = await org.api.get(ORG, token=org.alice, params={"runtime_risk": "on-fire"})
    assert r.status_code == 422
    assert_conforms(r, ORG_LIST)


async def test_production_context_follows_each_change_to_a_deployment(org: Org) -> None:
    await _deploy(org, "api", "svc", ["internet-exposed"])
    assert await _repos(org, runtime_risk="internet-exposed") == ["acme/api"]
    await _deploy(org, "api", "svc", ["lateral-movement"])
    assert await _repos(org, runtime_risk="internet-exposed") == []
    assert await _repos(org, runtime_risk="lateral-movement") == ["acme/api"]
    await _deploy(org, "api", "svc", ["lateral-movement"], status="decommissioned")
    assert await _repos(org, runtime_risk="lateral-movement") == []
    assert await _repos(org, has="deployment") == []
    await _deploy(org, "api", "svc", ["lateral-movement"])
    assert await _repos(org, runtime_risk="lateral-movement") == ["acme/api"]
    # The same deployment now runs an artifact of another repository.
    await _deploy(org, "web", "svc", ["lateral-movement"])
    assert await _repos(org, runtime_risk="lateral-movement") == ["acme/web"]
    assert await _repos(org, has="deployment") == ["acme/web"]


async def test_registry_filters_each_hold_on_their_own(org: Org) -> None:
    await _store(org, "api", "https://ghcr.io/")
    await _store(org, "api", "https://acme.jfrog.io/")
    await _store(org, "web", "https://ghcr.io")
    # Each filter may be met by a different record of the repository.
    both = {"artifact_registry_url": "HTTPS://GHCR.IO", "artifact_registry": "jfrog-artifactory"}
    assert await _repos(org, **both) == ["acme/api"]
    assert await _repos(org, artifact_registry_url="https://quay.io") == []


async def test_repository_permissions(org: Org, api: Any) -> None:
    path = "/repos/acme/web/dependabot/alerts"
    r = await api.get(path)
    assert r.status_code == 401
    assert_conforms(r, LIST)
    r = await api.get(path, token=org.bob)
    assert r.status_code == 403
    assert r.json()["message"] == "Must have write access to repository acme/web."
    assert_conforms(r, LIST)
    r = await api.get("/repos/acme/secret/dependabot/alerts", token=org.carol)
    assert r.status_code == 404
    assert_conforms(r, LIST)
    assert (await api.get(path, token=org.dave)).status_code == 200

    public_only = await api.token("alice", "public_repo")
    assert (await api.get(path, token=public_only)).status_code == 200
    assert (await api.get("/repos/acme/secret/dependabot/alerts", token=public_only)).status_code == 404
    events = await api.token("alice", "security_events")
    assert (await api.get("/repos/acme/secret/dependabot/alerts", token=events)).status_code == 200
    no_scope = await api.token("alice", "read:org")
    r = await api.get(path, token=no_scope)
    assert r.status_code == 403
    assert r.json()["message"] == (
        "Resource not accessible by personal access token (requires the security_events scope)."
    )

    reader = await api.fine_grained("alice", owner="acme", permissions={"vulnerability_alerts": "read"})
    assert (await api.get(path, token=reader)).status_code == 200
    r = await api.patch(
        f"{path}/1", token=reader, json={"state": "dismissed", "dismissed_reason": "inaccurate"}
    )
    assert r.status_code == 403
    assert r.json()["message"] == (
        "Resource not accessible by personal access token (requires vulnerability_alerts:write)."
    )
    assert_conforms(r, "dependabot/update-alert")
    writer = await api.fine_grained("alice", owner="acme", permissions={"vulnerability_alerts": "write"})
    r = await api.patch(
        f"{path}/1", token=writer, json={"state": "dismissed", "dismissed_reason": "inaccurate"}
    )
    assert r.status_code == 200, r.text
    contents = await api.fine_grained("alice", owner="acme", permissions={"contents": "write"})
    r = await api.get(path, token=contents)
    assert r.status_code == 403
    assert r.json()["message"] == (
        "Resource not accessible by personal access token (requires vulnerability_alerts:read)."
    )


async def test_organization_permissions(org: Org, api: Any) -> None:
    r = await api.get(ORG, token=org.bob)
    assert r.status_code == 403
    assert_conforms(r, ORG_LIST)
    r = await api.get(ORG, token=org.carol)
    assert r.status_code == 404
    assert_conforms(r, ORG_LIST)
    public_only = await api.token("alice", "public_repo")
    assert await _repos(org, public_only) == ["acme/api", "acme/web"]
    assert await _repos(org) == ["acme/api", "acme/secret", "acme/web"]
    granted = await api.fine_grained(
        "alice", owner="acme", permissions={"vulnerability_alerts": "read"}, repositories=["api"]
    )
    assert await _repos(org, granted) == ["acme/api"]
    elsewhere = await api.fine_grained("alice", owner="alice", permissions={"vulnerability_alerts": "read"})
    r = await api.get(ORG, token=elsewhere)
    assert r.status_code == 403


async def test_rematch_job_after_import(org: Org, api: Any) -> None:
    newer = osv_document(
        "GHSA-eeee-eeee-eeee", "npm", "left-pad", [{"introduced": "1.0.1"}, {"fixed": "1.0.5"}]
    )
    withdrawn = {**osv_document("GHSA-cccc-cccc-cccc", "PyPI", "requests", [{"introduced": "0"}])}
    withdrawn.update(modified="2024-06-01T00:00:00Z", withdrawn="2024-06-01T00:00:00Z")
    await api.tx(lambda c: alerts.import_advisories(c, [as_file(newer), as_file(withdrawn)]))
    job_id = await api.tx(alerts.request_rematch)
    # A second request while the first waits is the same job.
    assert await api.tx(alerts.request_rematch) == job_id
    assert await org.api.app.worker.run_until_idle() == 1
    job = await api.tx(lambda c: jobs.get(c, job_id))
    assert job is not None
    assert job.status is jobs.JobStatus.COMPLETED
    assert (job.result["opened"], job.result["auto_dismissed"]) == (1, 1)

    r = await api.get("/repos/acme/api/dependabot/alerts", token=org.alice)
    assert sorted(a["security_advisory"]["ghsa_id"] for a in r.json()) == [
        "GHSA-aaaa-aaaa-aaaa",
        "GHSA-eeee-eeee-eeee",
    ]
    r = await api.get(
        "/repos/acme/web/dependabot/alerts", token=org.alice, params={"state": "auto_dismissed"}
    )
    assert_conforms(r, LIST)
    [dismissed] = r.json()
    assert dismissed["dependency"]["package"]["name"] == "requests"
    assert dismissed["auto_dismissed_at"] is not None


async def test_compare_fills_vulnerabilities(org: Org, api: Any) -> None:
    upgraded = {
        "package-lock.json": {
            "pkg:npm/left-pad@1.0.3": ("left-pad", "runtime", "direct"),
            "pkg:npm/lodash@4.17.0": ("lodash", "development", "indirect"),
        }
    }
    await org.submit("web", upgraded, 2)
    r = await api.get(f"/repos/acme/web/dependency-graph/compare/{1:040x}...{2:040x}", token=org.alice)
    assert r.status_code == 200, r.text
    assert_conforms(r, "dependency-graph/diff-range")
    by = {(c["change_type"], c["name"], c["version"]): c["vulnerabilities"] for c in r.json()}
    assert by[("removed", "left-pad", "1.0.0")] == [
        {
            "severity": "high",
            "advisory_ghsa_id": "GHSA-aaaa-aaaa-aaaa",
            "advisory_summary": "left-pad is vulnerable",
            "advisory_url": "http://waybill.test/advisories/GHSA-aaaa-aaaa-aaaa",
        }
    ]
    assert by[("added", "left-pad", "1.0.3")] == []


async def test_blast_radius(org: Org, api: Any) -> None:
    attested = digest("web-build")
    r = await api.post(
        "/repos/acme/web/attestations", token=org.alice, json={"bundle": bundle_for([attested])}
    )
    assert r.status_code == 201, r.text
    await _store(org, "api", "https://ghcr.io/")
    await _deploy(org, "api", "api-stored", [])
    # The API's deployment runs its stored digest; web's runs its attested digest, internet-exposed.
    web_deploy = {
        "name": "web",
        "digest": attested,
        "status": "deployed",
        "logical_environment": "prod",
        "cluster": "edge",
        "deployment_name": "web-prod",
        "github_repository": "web",
        "runtime_risks": ["internet-exposed"],
    }
    r = await api.post("/orgs/acme/artifacts/metadata/deployment-record", token=org.alice, json=web_deploy)
    assert r.status_code == 200, r.text

    r = await api.get("/waybill/blast-radius", token=org.alice, params={"advisory": "GHSA-aaaa-aaaa-aaaa"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["advisories"] == ["GHSA-aaaa-aaaa-aaaa"]
    assert [e["repository"]["full_name"] for e in report["repositories"]] == ["acme/web", "acme/api"]
    web, api_entry = report["repositories"]
    assert web["exposure"] == {
        "score": 17,
        "highest": 17,
        "deployments": 1,
        "runtime_risks": ["internet-exposed"],
    }
    [artifact] = web["artifacts"]
    assert (artifact["digest"], artifact["attested"]) == (attested, True)
    assert [(d["cluster"], d["deployment_name"]) for d in artifact["deployments"]] == [("edge", "web-prod")]
    assert [d["version"] for d in web["dependencies"]] == ["1.0.0"]
    stored = [a for a in api_entry["artifacts"] if a["storage_records"]]
    assert [s["registry_url"] for a in stored for s in a["storage_records"]] == ["https://ghcr.io/"]
    assert [d["deployment_name"] for a in stored for d in a["deployments"]] == ["api-stored"]

    r = await api.get(
        "/waybill/blast-radius", token=org.alice, params={"package_url": "pkg:npm/left-pad@1.0.2"}
    )
    assert r.status_code == 200
    assert [e["repository"]["full_name"] for e in r.json()["repositories"]] == ["acme/api"]
    assert r.json()["advisories"] == ["GHSA-aaaa-aaaa-aaaa"]
    r = await api.get("/waybill/blast-radius", token=org.alice, params={"package_url": "pkg:npm/evil-pkg"})
    assert [e["repository"]["full_name"] for e in r.json()["repositories"]] == ["acme/secret"]
    # Only repositories whose alerts the caller may read.
    r = await api.get("/waybill/blast-radius", token=org.carol, params={"package_url": "pkg:npm/evil-pkg"})
    assert r.json()["repositories"] == []
    r = await api.get("/waybill/blast-radius", token=org.alice)
    assert r.status_code == 422
    r = await api.get("/waybill/blast-radius", token=org.alice, params={"advisory": "GHSA-none-none-none"})
    assert r.status_code == 404
