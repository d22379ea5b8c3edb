"""Blast radius by code scanning rule: the repositories with open alerts of ``TOOL/RULE_ID``, the
digests they built, and where those run now, most exposed first, in the advisory form's shape."""

from __future__ import annotations

from testkit import sarifs

from tests.artifacts.conftest import digest
from tests.codescanning.conftest import Org

BLAST = "/waybill/blast-radius"


async def _deploy(org: Org, repo: str, label: str, risks: list[str]) -> None:
    """A digest the repository stored in a registry, deployed."""
    stored = {
        "name": repo,
        "digest": digest(label),
        "registry_url": "https://ghcr.io/",
        "repository": "images",
        "github_repository": repo,
        "status": "active",
    }
    r = await org.api.post("/orgs/acme/artifacts/metadata/storage-record", token=org.alice, json=stored)
    assert r.status_code == 200, r.text
    body = {
        "name": repo,
        "digest": digest(label),
        "status": "deployed",
        "logical_environment": "prod",
        "cluster": f"cluster-{label}",
        "deployment_name": label,
        "github_repository": repo,
        "runtime_risks": risks,
    }
    r = await org.api.post("/orgs/acme/artifacts/metadata/deployment-record", token=org.alice, json=body)
    assert r.status_code == 200, r.text


async def test_repositories_running_a_rules_findings(org: Org) -> None:
    await org.api.repo("acme/api")
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    await org.uploaded(sarifs.upload(sarifs.real("bandit")), repo="api")
    await org.uploaded(sarifs.upload(sarifs.real("bandit")), repo="secret")
    await _deploy(org, "api", "api-prod", ["internet-exposed"])
    await _deploy(org, "web", "web-prod", [])

    r = await org.api.get(BLAST, token=org.alice, params={"code_scanning_rule": "Bandit/B602"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["code_scanning_rule"], report["advisory"], report["advisories"]) == (
        "Bandit/B602",
        None,
        [],
    )
    ranked = [(e["repository"]["full_name"], e["code_scanning_alerts"]) for e in report["repositories"]]
    assert ranked == [("acme/api", 1), ("acme/web", 1), ("acme/secret", 1)]
    api_entry = report["repositories"][0]
    assert api_entry["exposure"]["runtime_risks"] == ["internet-exposed"]
    assert [d["deployment_name"] for a in api_entry["artifacts"] for d in a["deployments"]] == ["api-prod"]

    # Fixed alerts are no longer in the radius; nor are repositories the caller may not read.
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([], tool="Bandit"))), repo="api")
    r = await org.api.get(BLAST, token=org.alice, params={"code_scanning_rule": "Bandit/B602"})
    assert [e["repository"]["full_name"] for e in r.json()["repositories"]] == ["acme/web", "acme/secret"]
    r = await org.api.get(BLAST, token=org.dave, params={"code_scanning_rule": "Bandit/B602"})
    assert [e["repository"]["full_name"] for e in r.json()["repositories"]] == ["acme/web"]


async def test_bad_rules_are_422(org: Org) -> None:
    for params in ({"code_scanning_rule": "Bandit"}, {"code_scanning_rule": "B/1", "advisory": "GHSA-x"}):
        r = await org.api.get(BLAST, token=org.alice, params=params)
        assert r.status_code == 422, r.text
