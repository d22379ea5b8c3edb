"""Octokit (@octokit/core with @octokit/plugin-rest-endpoint-methods), from a Node script, under both
API versions, against ``waybill serve`` at its GHES-style base URL. The plugin builds each request
from GitHub's own route table; the script reports what it sent and what came back."""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from testkit import sarifs

from tests.attestations.bundles import bundle_for, random_digest
from tests.clients.node import run_script
from tests.contract import description
from tests.live import LiveServer, storage_record

# One worker runs the whole module, so each backend's server starts once (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_octokit")

_names = itertools.count()


def _org_repo(s: LiveServer) -> str:
    return f"{s.world.org}/{s.world.public_repo}"


def _user_repo(s: LiveServer) -> str:
    return f"{s.world.owner}/{s.world.user_repo}"


def _digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(f"octokit-{label}-{next(_names)}".encode()).hexdigest()


def _record(s: LiveServer, digest: str) -> dict[str, Any]:
    return {
        "name": "web-image",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "eu-west",
        "cluster": "moda-1",
        "deployment_name": f"web-{next(_names)}",
        "github_repository": s.world.public_repo,
    }


def _cluster(s: LiveServer) -> dict[str, Any]:
    deployment = {
        "name": "web-image",
        "digest": _digest("cluster"),
        "deployment_name": "web",
        "github_repository": s.world.public_repo,
    }
    return {"logical_environment": "prod", "deployments": [deployment]}


def _post(s: LiveServer, path: str, body: dict[str, Any]) -> None:
    response = s.post(path, body)
    assert response.status_code in (200, 201), response.text


def _recorded(s: LiveServer) -> str:
    digest = _digest("records")
    _post(s, f"/orgs/{s.world.org}/artifacts/metadata/deployment-record", _record(s, digest))
    return digest


def _stored(s: LiveServer) -> str:
    digest = _digest("stored")
    _post(s, f"/orgs/{s.world.org}/artifacts/metadata/storage-record", storage_record(s.world, digest))
    return digest


def _snapshot(sha: str, version: str) -> dict[str, Any]:
    resolved = {"left-pad": {"package_url": f"pkg:npm/left-pad@{version}", "relationship": "direct"}}
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": "octokit", "id": "1"},
        "detector": {"name": "octokit", "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


def _two_snapshots(s: LiveServer) -> str:
    base, head = "2" * 40, "3" * 40
    for sha, version in ((base, "1.3.0"), (head, "1.3.1")):
        _post(
            s,
            f"/repos/{s.world.org}/{s.world.public_repo}/dependency-graph/snapshots",
            _snapshot(sha, version),
        )
    return f"{base}...{head}"


# The repositories made with an open alert, by server: the organization's listing must show each.
_alerting: dict[str, list[str]] = defaultdict(list)


def _alerting_repo(s: LiveServer) -> dict[str, Any]:
    full_name = s.vulnerable_repository()
    _alerting[s.url].append(full_name)
    owner, repo = full_name.split("/")
    return {"owner": owner, "repo": repo}


def _dismissed(d: Any, s: LiveServer) -> bool:
    return (d["state"], d["dismissed_reason"], d["dismissed_comment"], d["dismissed_by"]["login"]) == (
        "dismissed",
        "tolerable_risk",
        "not reachable",
        s.world.owner,
    )


def _scanned(s: LiveServer, **params: Any) -> dict[str, Any]:
    """A new repository with bandit's SARIF processed, as Octokit names it, with ``params``."""
    full_name, sarif_id = s.scanned_repository()
    owner, repo = full_name.split("/")
    return {"owner": owner, "repo": repo, "sarif_id": sarif_id, **params}


def _scanned_analysis(s: LiveServer, **params: Any) -> dict[str, Any]:
    scanned = _scanned(s, **params)
    del scanned["sarif_id"]
    listed = s.get(f"/repos/{scanned['owner']}/{scanned['repo']}/code-scanning/analyses").json()
    return {**scanned, "analysis_id": listed[0]["id"]}


def _scanned_alert(s: LiveServer, **params: Any) -> dict[str, Any]:
    scanned = _scanned(s, alert_number=1, **params)
    del scanned["sarif_id"]
    return scanned


# operationId -> (parameters, check of the response data)
Plan = tuple[Callable[[LiveServer], dict[str, Any]], Callable[[Any, LiveServer], bool]]

OPERATIONS: dict[str, Plan] = {
    "meta/root": (
        lambda s: {},
        lambda d, s: d["user_url"] == f"{s.api_v3}/users/{{user}}",
    ),
    "users/get-authenticated": (lambda s: {}, lambda d, s: d["login"] == s.world.owner),
    "users/get-by-username": (
        lambda s: {"username": s.world.org},
        lambda d, s: (d["login"], d["type"]) == (s.world.org, "Organization"),
    ),
    "orgs/get": (lambda s: {"org": s.world.org}, lambda d, s: d["login"] == s.world.org),
    "repos/get": (
        lambda s: {"owner": s.world.org, "repo": s.world.private_repo},
        lambda d, s: (d["full_name"], d["private"]) == (f"{s.world.org}/{s.world.private_repo}", True),
    ),
    "repos/create-in-org": (
        lambda s: {"org": s.world.org, "name": f"octo-{next(_names)}", "visibility": "private"},
        lambda d, s: d["private"] is True and d["owner"]["login"] == s.world.org,
    ),
    "repos/create-for-authenticated-user": (
        lambda s: {"name": f"octo-{next(_names)}"},
        lambda d, s: d["owner"]["login"] == s.world.owner,
    ),
    "repos/create-attestation": (
        lambda s: {
            "owner": s.world.owner,
            "repo": s.world.user_repo,
            "bundle": bundle_for([random_digest()]),
        },
        lambda d, s: d["id"] > 0,
    ),
    "repos/list-attestations": (
        lambda s: {
            "owner": s.world.org,
            "repo": s.world.public_repo,
            "subject_digest": s.world.extra["digest"],
        },
        lambda d, s: len(d["attestations"]) == 1,
    ),
    "orgs/list-attestations": (
        lambda s: {"org": s.world.org, "subject_digest": s.world.extra["digest"]},
        lambda d, s: len(d["attestations"]) == 2,
    ),
    "users/list-attestations": (
        lambda s: {"username": s.world.owner, "subject_digest": s.world.extra["user_digest"]},
        lambda d, s: len(d["attestations"]) == 1,
    ),
    "orgs/list-attestations-bulk": (
        lambda s: {"org": s.world.org, "subject_digests": [s.world.extra["digest"]]},
        lambda d, s: len(d["attestations_subject_digests"][s.world.extra["digest"]]) == 2,
    ),
    "users/list-attestations-bulk": (
        lambda s: {"username": s.world.owner, "subject_digests": [s.world.extra["user_digest"]]},
        lambda d, s: len(d["attestations_subject_digests"][s.world.extra["user_digest"]]) == 1,
    ),
    "orgs/list-attestation-repositories": (
        lambda s: {"org": s.world.org},
        lambda d, s: [r["name"] for r in d] == [s.world.public_repo, s.world.private_repo],
    ),
    "orgs/delete-attestations-by-id": (
        lambda s: {"org": s.world.org, "attestation_id": s.attest(_org_repo(s), [random_digest()])},
        lambda d, s: True,
    ),
    "users/delete-attestations-by-id": (
        lambda s: {"username": s.world.owner, "attestation_id": s.attest(_user_repo(s), [random_digest()])},
        lambda d, s: True,
    ),
    "orgs/delete-attestations-by-subject-digest": (
        lambda s: {"org": s.world.org, "subject_digest": s.attested(_org_repo(s))},
        lambda d, s: True,
    ),
    "users/delete-attestations-by-subject-digest": (
        lambda s: {"username": s.world.owner, "subject_digest": s.attested(_user_repo(s))},
        lambda d, s: True,
    ),
    "orgs/delete-attestations-bulk": (
        lambda s: {"org": s.world.org, "attestation_ids": [s.attest(_org_repo(s), [random_digest()])]},
        lambda d, s: True,
    ),
    "users/delete-attestations-bulk": (
        lambda s: {"username": s.world.owner, "subject_digests": [s.attested(_user_repo(s))]},
        lambda d, s: True,
    ),
    "orgs/create-artifact-deployment-record": (
        lambda s: {"org": s.world.org, **_record(s, _digest("record"))},
        lambda d, s: d["total_count"] == 1,
    ),
    "orgs/list-artifact-deployment-records": (
        lambda s: {"org": s.world.org, "subject_digest": _recorded(s)},
        lambda d, s: len(d["deployment_records"]) == 1,
    ),
    "orgs/set-cluster-deployment-records": (
        lambda s: {"org": s.world.org, "cluster": "octo-1", **_cluster(s)},
        lambda d, s: [r["cluster"] for r in d["deployment_records"]] == ["octo-1"],
    ),
    "orgs/create-artifact-storage-record": (
        lambda s: {"org": s.world.org, **storage_record(s.world, _digest("storage"))},
        lambda d, s: len(d["storage_records"]) == 1,
    ),
    "orgs/list-artifact-storage-records": (
        lambda s: {"org": s.world.org, "subject_digest": _stored(s)},
        lambda d, s: len(d["storage_records"]) == 1,
    ),
    "dependency-graph/create-repository-snapshot": (
        lambda s: {"owner": s.world.org, "repo": s.world.public_repo, **_snapshot("1" * 40, "1.3.0")},
        lambda d, s: d["result"] in ("SUCCESS", "ACCEPTED"),
    ),
    "dependency-graph/export-sbom": (
        lambda s: {"owner": s.world.org, "repo": s.world.public_repo},
        lambda d, s: "left-pad" in {p["name"] for p in d["sbom"]["packages"]},
    ),
    "dependency-graph/diff-range": (
        lambda s: {"owner": s.world.org, "repo": s.world.public_repo, "basehead": _two_snapshots(s)},
        lambda d, s: sorted(c["change_type"] for c in d) == ["added", "removed"],
    ),
    "security-advisories/list-global-advisories": (
        lambda s: {"ecosystem": "npm"},
        lambda d, s: s.world.extra["ghsa_id"] in {a["ghsa_id"] for a in d},
    ),
    "security-advisories/get-global-advisory": (
        lambda s: {"ghsa_id": s.world.extra["ghsa_id"]},
        lambda d, s: d["ghsa_id"] == s.world.extra["ghsa_id"],
    ),
    "dependabot/list-alerts-for-repo": (
        lambda s: {**_alerting_repo(s), "state": "open"},
        lambda d, s: [(a["number"], a["dependency"]["package"]["name"]) for a in d] == [(1, "left-pad")],
    ),
    "dependabot/get-alert": (
        lambda s: {**_alerting_repo(s), "alert_number": 1},
        lambda d, s: (
            (d["number"], d["state"], d["security_advisory"]["ghsa_id"])
            == (1, "open", s.world.extra["ghsa_id"])
        ),
    ),
    "dependabot/update-alert": (
        lambda s: {
            **_alerting_repo(s),
            "alert_number": 1,
            "state": "dismissed",
            "dismissed_reason": "tolerable_risk",
            "dismissed_comment": "not reachable",
        },
        _dismissed,
    ),
    "dependabot/list-alerts-for-org": (
        lambda s: {"org": s.world.org, "package": "left-pad", "per_page": 100},
        lambda d, s: set(_alerting[s.url]) <= {a["repository"]["full_name"] for a in d if a["number"] == 1},
    ),
    "code-scanning/upload-sarif": (
        lambda s: {
            "owner": s.world.org,
            "repo": s.world.public_repo,
            **sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT),
        },
        lambda d, s: d["url"].endswith(f"/code-scanning/sarifs/{d['id']}"),
    ),
    "code-scanning/get-sarif": (
        lambda s: _scanned(s),
        lambda d, s: (d["processing_status"], d["errors"]) == ("complete", None),
    ),
    "code-scanning/list-recent-analyses": (
        lambda s: {k: v for k, v in _scanned(s).items() if k != "sarif_id"},
        lambda d, s: [(a["tool"]["name"], a["results_count"]) for a in d] == [("Bandit", 8)],
    ),
    "code-scanning/get-analysis": (
        lambda s: _scanned_analysis(s),
        lambda d, s: (d["tool"]["name"], d["deletable"]) == ("Bandit", True),
    ),
    "code-scanning/delete-analysis": (
        lambda s: _scanned_analysis(s, confirm_delete="true"),
        lambda d, s: d == {"next_analysis_url": None, "confirm_delete_url": None},
    ),
    "code-scanning/list-alerts-for-repo": (
        lambda s: {**_scanned_alert(s), "state": "open", "sort": "number", "direction": "asc"},
        lambda d, s: [a["number"] for a in d] == list(range(1, 9)),
    ),
    "code-scanning/get-alert": (
        lambda s: _scanned_alert(s),
        lambda d, s: (
            (d["rule"]["id"], d["most_recent_instance"]["location"]["path"]) == ("B403", "app/handlers.py")
        ),
    ),
    "code-scanning/update-alert": (
        lambda s: _scanned_alert(s, state="dismissed", dismissed_reason="used in tests"),
        lambda d, s: (
            (d["state"], d["dismissed_reason"], d["dismissed_by"]["login"])
            == ("dismissed", "used in tests", s.world.owner)
        ),
    ),
    "code-scanning/list-alert-instances": (
        lambda s: _scanned_alert(s),
        lambda d, s: [(i["ref"], i["state"]) for i in d] == [("refs/heads/main", "open")],
    ),
    "code-scanning/list-alerts-for-org": (
        lambda s: {"org": s.world.org, "tool_name": "Bandit", "per_page": 100},
        lambda d, s: {a["rule"]["id"] for a in d} >= {"B403", "B602"},
    ),
}
STATUS = {
    "dependency-graph/create-repository-snapshot": 201,
    "repos/create-in-org": 201,
    "repos/create-for-authenticated-user": 201,
    "repos/create-attestation": 201,
    "orgs/delete-attestations-by-id": 204,
    "users/delete-attestations-by-id": 204,
    "orgs/delete-attestations-by-subject-digest": 204,
    "users/delete-attestations-by-subject-digest": 204,
    "code-scanning/upload-sarif": 202,
}


@pytest.mark.usefixtures("js_clients")
@pytest.mark.parametrize("version", description.API_VERSIONS)
def test_operations(server: LiveServer, version: str) -> None:
    params = {op: plan[0](server) for op, plan in OPERATIONS.items()}
    results = run_script(
        "octokit.mjs",
        {
            "baseUrl": server.api_v3,
            "token": server.world.owner_token,
            "version": version,
            "calls": [{"operationId": op, "params": p} for op, p in params.items()],
        },
    )
    assert [r["operationId"] for r in results] == list(OPERATIONS)
    for result in results:
        op = result["operationId"]
        assert "error" not in result, result
        assert result["status"] == STATUS.get(op, 200), result
        assert OPERATIONS[op][1](result["data"], server), result


@pytest.mark.usefixtures("js_clients")
def test_errors_reach_the_caller_as_octokit_request_errors(server: LiveServer) -> None:
    [result] = run_script(
        "octokit.mjs",
        {
            "baseUrl": server.api_v3,
            "token": server.world.outsider_token,
            "version": description.DEFAULT_VERSION,
            "calls": [{"operationId": "repos/get", "params": {"owner": "acme", "repo": "secret"}}],
        },
    )
    assert (result["status"], result["error"].split(" - ")[0]) == (404, "Not Found"), result


@pytest.mark.usefixtures("js_clients")
@pytest.mark.parametrize("version", description.API_VERSIONS)
def test_a_dismissed_alert_is_reopened(server: LiveServer, version: str) -> None:
    alert = {**_alerting_repo(server), "alert_number": 1}
    dismiss = {
        **alert,
        "state": "dismissed",
        "dismissed_reason": "no_bandwidth",
        "dismissed_comment": "later",
    }
    results = run_script(
        "octokit.mjs",
        {
            "baseUrl": server.api_v3,
            "token": server.world.owner_token,
            "version": version,
            "calls": [
                {"operationId": "dependabot/update-alert", "params": dismiss},
                {"operationId": "dependabot/update-alert", "params": {**alert, "state": "open"}},
            ],
        },
    )
    assert [(r["status"], r["data"]["state"], r["data"]["dismissed_reason"]) for r in results] == [
        (200, "dismissed", "no_bandwidth"),
        (200, "open", None),
    ], results


# Operations the pinned plugin has no method for (measured here, so the table says so; a plugin version
# that adds one fails this test, and the operation moves into OPERATIONS).
WITHOUT_METHOD = (
    "orgs/create-cluster-deployment-records-job",
    "orgs/get-cluster-deployment-records-job",
    "dependency-graph/generate-sbom-report",
    "dependency-graph/fetch-sbom-report",
    "enterprise-admin/create-user",
    "enterprise-admin/create-org",
)


@pytest.mark.usefixtures("js_clients")
def test_operations_without_a_method(server: LiveServer) -> None:
    results = run_script(
        "octokit.mjs",
        {
            "baseUrl": server.api_v3,
            "token": server.world.owner_token,
            "version": description.DEFAULT_VERSION,
            "calls": [{"operationId": op, "params": {}} for op in WITHOUT_METHOD],
        },
    )
    assert [r.get("error") for r in results] == [f"Octokit has no method for {op}" for op in WITHOUT_METHOD]
