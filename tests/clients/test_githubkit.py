"""githubkit (Python), under both API versions, against ``waybill serve`` at its GHES-style base URL.

githubkit validates each body with the pydantic model of the API version it was asked for when
``parsed_data`` is read, so a wrong shape fails here. Keys are the operations' ids (the
compatibility table is read off them)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed
from testkit import sarifs

from tests.attestations.bundles import bundle_for, random_digest
from tests.contract import description
from tests.live import LiveServer

# One worker runs the whole module, so each backend's server starts once (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_githubkit")

_names = itertools.count()

Exercise = Callable[[Any, LiveServer], None]


def _root(rest: Any, s: LiveServer) -> None:
    root = rest.meta.root().parsed_data
    assert root.repository_url == f"{s.api_v3}/repos/{{owner}}/{{repo}}"


def _me(rest: Any, s: LiveServer) -> None:
    assert rest.users.get_authenticated().parsed_data.login == s.world.owner


def _user(rest: Any, s: LiveServer) -> None:
    user = rest.users.get_by_username(s.world.owner.upper()).parsed_data
    assert (user.login, user.type) == (s.world.owner, "User")


def _org(rest: Any, s: LiveServer) -> None:
    org = rest.orgs.get(s.world.org).parsed_data
    assert (org.login, org.type) == (s.world.org, "Organization")


def _repo(rest: Any, s: LiveServer) -> None:
    repo = rest.repos.get(s.world.org, s.world.private_repo).parsed_data
    assert (repo.full_name, repo.private, repo.owner.login) == (
        f"{s.world.org}/{s.world.private_repo}",
        True,
        s.world.org,
    )


def _create_in_org(rest: Any, s: LiveServer) -> None:
    name = f"kit-{next(_names)}"
    repo = rest.repos.create_in_org(s.world.org, name=name, private=True).parsed_data
    assert (repo.full_name, repo.private) == (f"{s.world.org}/{name}", True)


def _create_for_user(rest: Any, s: LiveServer) -> None:
    name = f"kit-{next(_names)}"
    repo = rest.repos.create_for_authenticated_user(name=name, description="d").parsed_data
    assert (repo.full_name, repo.description) == (f"{s.world.owner}/{name}", "d")


def _create_attestation(rest: Any, s: LiveServer) -> None:
    digest = random_digest()
    created = rest.repos.create_attestation(s.world.owner, s.world.user_repo, bundle=bundle_for([digest]))
    assert created.parsed_data.id > 0


def _check_listed(items: Any, s: LiveServer, repository: str, with_bundle: bool) -> None:
    assert items, "nothing listed"
    for item in items:
        assert item.repository_id > 0
        assert item.bundle_url.startswith(s.url)
        # githubkit's 2026-03-10 models have no ``bundle``; its 2022-11-28 ones do.
        assert (getattr(item, "bundle", None) is not None) is with_bundle, repository


def _list_repo(rest: Any, s: LiveServer) -> None:
    data = rest.repos.list_attestations(s.world.org, s.world.public_repo, s.world.extra["digest"]).parsed_data
    _check_listed(data.attestations, s, "repo", _version(rest) == "2022-11-28")


def _list_org(rest: Any, s: LiveServer) -> None:
    data = rest.orgs.list_attestations(s.world.org, s.world.extra["digest"], per_page=1).parsed_data
    _check_listed(data.attestations, s, "org", _version(rest) == "2022-11-28")


def _list_user(rest: Any, s: LiveServer) -> None:
    data = rest.users.list_attestations(s.world.owner, s.world.extra["user_digest"]).parsed_data
    _check_listed(data.attestations, s, "user", _version(rest) == "2022-11-28")


def _bulk_org(rest: Any, s: LiveServer) -> None:
    unknown = random_digest()
    data = rest.orgs.list_attestations_bulk(
        s.world.org, subject_digests=[s.world.extra["digest"], unknown]
    ).parsed_data
    by_digest = data.attestations_subject_digests.model_dump()
    assert by_digest[unknown] is None
    assert len(by_digest[s.world.extra["digest"]]) == 2
    assert data.page_info.has_next is False


def _bulk_user(rest: Any, s: LiveServer) -> None:
    data = rest.users.list_attestations_bulk(
        s.world.owner, subject_digests=[s.world.extra["user_digest"]]
    ).parsed_data
    assert len(data.attestations_subject_digests.model_dump()[s.world.extra["user_digest"]]) == 1


def _repositories(rest: Any, s: LiveServer) -> None:
    names = [r.name for r in rest.orgs.list_attestation_repositories(s.world.org).parsed_data]
    assert names == [s.world.public_repo, s.world.private_repo]


def _delete_id_org(rest: Any, s: LiveServer) -> None:
    attestation_id = s.attest(f"{s.world.org}/{s.world.public_repo}", [random_digest()])
    assert rest.orgs.delete_attestations_by_id(s.world.org, attestation_id).status_code == 204


def _delete_id_user(rest: Any, s: LiveServer) -> None:
    attestation_id = s.attest(f"{s.world.owner}/{s.world.user_repo}", [random_digest()])
    assert rest.users.delete_attestations_by_id(s.world.owner, attestation_id).status_code == 204


def _delete_digest_org(rest: Any, s: LiveServer) -> None:
    digest = random_digest()
    s.attest(f"{s.world.org}/{s.world.public_repo}", [digest])
    assert rest.orgs.delete_attestations_by_subject_digest(s.world.org, digest).status_code == 204


def _delete_digest_user(rest: Any, s: LiveServer) -> None:
    digest = random_digest()
    s.attest(f"{s.world.owner}/{s.world.user_repo}", [digest])
    assert rest.users.delete_attestations_by_subject_digest(s.world.owner, digest).status_code == 204


def _delete_bulk_org(rest: Any, s: LiveServer) -> None:
    ids = [s.attest(f"{s.world.org}/{s.world.public_repo}", [random_digest()]) for _ in range(2)]
    assert rest.orgs.delete_attestations_bulk(s.world.org, attestation_ids=ids).status_code == 200


def _delete_bulk_user(rest: Any, s: LiveServer) -> None:
    digest = random_digest()
    s.attest(f"{s.world.owner}/{s.world.user_repo}", [digest])
    assert rest.users.delete_attestations_bulk(s.world.owner, subject_digests=[digest]).status_code == 200


def _digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(f"githubkit-{label}-{next(_names)}".encode()).hexdigest()


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
        "runtime_risks": ["internet-exposed"],
        "tags": {"team": "web"},
    }


def _cluster_body(s: LiveServer, digest: str) -> dict[str, Any]:
    deployment = {
        "name": "web-image",
        "digest": digest,
        "deployment_name": f"web-{next(_names)}",
        "github_repository": s.world.public_repo,
    }
    return {"logical_environment": "prod", "physical_environment": "eu-west", "deployments": [deployment]}


def _storage(s: LiveServer, digest: str) -> dict[str, Any]:
    return {
        "name": "web-image",
        "digest": digest,
        "registry_url": "https://registry.example.com",
        "artifact_url": "https://registry.example.com/acme/web-image",
        "github_repository": s.world.public_repo,
    }


def _create_record(rest: Any, s: LiveServer) -> None:
    digest = _digest("record")
    data = rest.orgs.create_artifact_deployment_record(s.world.org, data=_record(s, digest)).parsed_data
    assert data.total_count == 1
    assert data.deployment_records[0].digest == digest


def _list_records(rest: Any, s: LiveServer) -> None:
    digest = _digest("records")
    rest.orgs.create_artifact_deployment_record(s.world.org, data=_record(s, digest))
    data = rest.orgs.list_artifact_deployment_records(s.world.org, digest).parsed_data
    assert [r.digest for r in data.deployment_records] == [digest]
    assert data.deployment_records[0].runtime_risks == ["internet-exposed"]


def _set_cluster(rest: Any, s: LiveServer) -> None:
    digest = _digest("cluster")
    data = rest.orgs.set_cluster_deployment_records(
        s.world.org, "moda-2", data=_cluster_body(s, digest)
    ).parsed_data
    assert [r.cluster for r in data.deployment_records] == ["moda-2"]


def _create_job(rest: Any, s: LiveServer) -> None:
    cluster = f"kit-{next(_names)}"
    job = rest.orgs.create_cluster_deployment_records_job(
        s.world.org, cluster, data=_cluster_body(s, _digest("job"))
    ).parsed_data
    assert job.job_id > 0


def _get_job(rest: Any, s: LiveServer) -> None:
    cluster = f"kit-{next(_names)}"
    created = rest.orgs.create_cluster_deployment_records_job(
        s.world.org, cluster, data=_cluster_body(s, _digest("job"))
    ).parsed_data
    job = rest.orgs.get_cluster_deployment_records_job(s.world.org, cluster, created.job_id).parsed_data
    assert job.job_id == created.job_id
    assert job.status in ("pending", "processing", "completed")


def _create_storage(rest: Any, s: LiveServer) -> None:
    digest = _digest("storage")
    data = rest.orgs.create_artifact_storage_record(s.world.org, data=_storage(s, digest)).parsed_data
    assert [r.digest for r in data.storage_records] == [digest]


def _list_storage(rest: Any, s: LiveServer) -> None:
    digest = _digest("storages")
    rest.orgs.create_artifact_storage_record(s.world.org, data=_storage(s, digest))
    data = rest.orgs.list_artifact_storage_records(s.world.org, digest).parsed_data
    assert [r.registry_url for r in data.storage_records] == ["https://registry.example.com"]


def _snapshot_body(sha: str, version: str) -> dict[str, Any]:
    purl = f"pkg:npm/left-pad@{version}"
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": "githubkit", "id": "1"},
        "detector": {"name": "githubkit", "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {
            "package-lock.json": {
                "name": "package-lock.json",
                "resolved": {"left-pad": {"package_url": purl, "relationship": "direct", "scope": "runtime"}},
            }
        },
    }


def _snapshot(rest: Any, s: LiveServer) -> None:
    created = rest.dependency_graph.create_repository_snapshot(
        s.world.org, s.world.public_repo, data=_snapshot_body("d" * 40, "1.3.0")
    ).parsed_data
    assert created.result in ("SUCCESS", "ACCEPTED")


def _export_sbom(rest: Any, s: LiveServer) -> None:
    rest.dependency_graph.create_repository_snapshot(
        s.world.org, s.world.public_repo, data=_snapshot_body("d" * 40, "1.3.0")
    )
    sbom = rest.dependency_graph.export_sbom(s.world.org, s.world.public_repo).parsed_data.sbom
    assert "left-pad" in {p.name for p in sbom.packages}


def _generate_report(rest: Any, s: LiveServer) -> None:
    url = rest.dependency_graph.generate_sbom_report(s.world.org, s.world.public_repo).parsed_data.sbom_url
    assert url.startswith(
        f"{s.api_v3}/repos/{s.world.org}/{s.world.public_repo}/dependency-graph/sbom/fetch-report/"
    )


def _fetch_report(rest: Any, s: LiveServer) -> None:
    url = rest.dependency_graph.generate_sbom_report(s.world.org, s.world.public_repo).parsed_data.sbom_url
    uuid = url.rsplit("/", 1)[1]
    response = rest.dependency_graph.fetch_sbom_report(s.world.org, s.world.public_repo, uuid)
    # 202 while the report is prepared; githubkit follows the 302 to the finished document.
    assert response.status_code in (200, 202)


def _diff(rest: Any, s: LiveServer) -> None:
    base, head = "e" * 40, "f" * 40
    rest.dependency_graph.create_repository_snapshot(
        s.world.org, s.world.public_repo, data=_snapshot_body(base, "1.3.0")
    )
    rest.dependency_graph.create_repository_snapshot(
        s.world.org, s.world.public_repo, data=_snapshot_body(head, "1.3.1")
    )
    changes = rest.dependency_graph.diff_range(
        s.world.org, s.world.public_repo, f"{base}...{head}"
    ).parsed_data
    assert sorted((c.change_type, c.version) for c in changes) == [("added", "1.3.1"), ("removed", "1.3.0")]


def _advisories(rest: Any, s: LiveServer) -> None:
    advisories = rest.security_advisories.list_global_advisories(ecosystem="npm").parsed_data
    assert s.world.extra["ghsa_id"] in {a.ghsa_id for a in advisories}


def _advisory(rest: Any, s: LiveServer) -> None:
    advisory = rest.security_advisories.get_global_advisory(s.world.extra["ghsa_id"]).parsed_data
    assert advisory.ghsa_id == s.world.extra["ghsa_id"]


def _repo_alerts(rest: Any, s: LiveServer) -> None:
    owner, name = s.vulnerable_repository().split("/")
    alerts = rest.dependabot.list_alerts_for_repo(owner, name, state="open").parsed_data
    assert [(a.number, a.dependency.package.name, a.security_advisory.ghsa_id) for a in alerts] == [
        (1, "left-pad", s.world.extra["ghsa_id"])
    ]


def _alert(rest: Any, s: LiveServer) -> None:
    owner, name = s.vulnerable_repository().split("/")
    alert = rest.dependabot.get_alert(owner, name, 1).parsed_data
    assert (alert.number, alert.state, alert.dependency.manifest_path) == (1, "open", "package-lock.json")
    assert alert.security_vulnerability.first_patched_version.identifier == "1.3.1"


def _update_alert(rest: Any, s: LiveServer) -> None:
    owner, name = s.vulnerable_repository().split("/")
    dismissed = rest.dependabot.update_alert(
        owner,
        name,
        1,
        state="dismissed",
        dismissed_reason="tolerable_risk",
        dismissed_comment="not reachable",
    ).parsed_data
    assert (dismissed.state, dismissed.dismissed_reason, dismissed.dismissed_comment) == (
        "dismissed",
        "tolerable_risk",
        "not reachable",
    )
    assert dismissed.dismissed_by.login == s.world.owner
    reopened = rest.dependabot.update_alert(owner, name, 1, state="open").parsed_data
    assert (reopened.state, reopened.dismissed_reason, reopened.dismissed_by) == ("open", None, None)


def _org_alerts(rest: Any, s: LiveServer) -> None:
    full_name = s.vulnerable_repository()
    alerts = rest.dependabot.list_alerts_for_org(s.world.org, package="left-pad").parsed_data
    by_repository = {a.repository.full_name: a for a in alerts}
    assert by_repository[full_name].number == 1
    assert by_repository[full_name].repository.owner.login == s.world.org


def _upload_sarif(rest: Any, s: LiveServer) -> None:
    body = sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT)
    receipt = rest.code_scanning.upload_sarif(s.world.org, s.world.public_repo, data=body).parsed_data
    assert receipt.url.endswith(f"/code-scanning/sarifs/{receipt.id}")


def _get_sarif(rest: Any, s: LiveServer) -> None:
    full_name, sarif_id = s.scanned_repository()
    status = rest.code_scanning.get_sarif(*full_name.split("/"), sarif_id).parsed_data
    assert (status.processing_status, status.errors) == ("complete", None)


def _analyses(rest: Any, s: LiveServer) -> None:
    full_name, sarif_id = s.scanned_repository()
    owner, name = full_name.split("/")
    [analysis] = rest.code_scanning.list_recent_analyses(owner, name, sarif_id=sarif_id).parsed_data
    assert (analysis.tool.name, analysis.results_count, analysis.deletable) == ("Bandit", 8, True)


def _analysis(rest: Any, s: LiveServer) -> None:
    full_name, _ = s.scanned_repository()
    owner, name = full_name.split("/")
    [listed] = rest.code_scanning.list_recent_analyses(owner, name).parsed_data
    analysis = rest.code_scanning.get_analysis(owner, name, listed.id).parsed_data
    assert analysis.sarif_id == listed.sarif_id


def _delete_analysis(rest: Any, s: LiveServer) -> None:
    full_name, _ = s.scanned_repository()
    owner, name = full_name.split("/")
    [listed] = rest.code_scanning.list_recent_analyses(owner, name).parsed_data
    done = rest.code_scanning.delete_analysis(owner, name, listed.id, confirm_delete="true").parsed_data
    assert (done.next_analysis_url, done.confirm_delete_url) == (None, None)
    assert rest.code_scanning.list_recent_analyses(owner, name).parsed_data == []


def _alert_instances(rest: Any, s: LiveServer) -> None:
    owner, name = s.scanned_repository()[0].split("/")
    instances = rest.code_scanning.list_alert_instances(owner, name, 1).parsed_data
    assert [(i.ref, i.state) for i in instances] == [("refs/heads/main", "open")]


def _code_scanning_alerts(rest: Any, s: LiveServer) -> None:
    owner, name = s.scanned_repository()[0].split("/")
    alerts = rest.code_scanning.list_alerts_for_repo(owner, name, sort="number", direction="asc").parsed_data
    assert [(a.number, a.state) for a in alerts][:2] == [(1, "open"), (2, "open")]
    assert alerts[0].most_recent_instance.location.path == "app/handlers.py"


def _code_scanning_alert(rest: Any, s: LiveServer) -> None:
    owner, name = s.scanned_repository()[0].split("/")
    alert = rest.code_scanning.get_alert(owner, name, 1).parsed_data
    assert (alert.rule.id, alert.tool.name) == ("B403", "Bandit")
    dismissed = rest.code_scanning.update_alert(
        owner, name, 1, state="dismissed", dismissed_reason="false positive"
    ).parsed_data
    assert (dismissed.state, dismissed.dismissed_reason) == ("dismissed", "false positive")


def _code_scanning_org_alerts(rest: Any, s: LiveServer) -> None:
    full_name, _ = s.scanned_repository()
    alerts = rest.code_scanning.list_alerts_for_org(s.world.org, per_page=100).parsed_data
    assert full_name in {a.repository.full_name for a in alerts}


def _version(rest: Any) -> str:
    return "2022-11-28" if "v2022_11_28" in type(rest).__module__ else "2026-03-10"


OPERATIONS: dict[str, Exercise] = {
    "meta/root": _root,
    "users/get-authenticated": _me,
    "users/get-by-username": _user,
    "orgs/get": _org,
    "repos/get": _repo,
    "repos/create-in-org": _create_in_org,
    "repos/create-for-authenticated-user": _create_for_user,
    "repos/create-attestation": _create_attestation,
    "repos/list-attestations": _list_repo,
    "orgs/list-attestations": _list_org,
    "users/list-attestations": _list_user,
    "orgs/list-attestations-bulk": _bulk_org,
    "users/list-attestations-bulk": _bulk_user,
    "orgs/list-attestation-repositories": _repositories,
    "orgs/delete-attestations-by-id": _delete_id_org,
    "users/delete-attestations-by-id": _delete_id_user,
    "orgs/delete-attestations-by-subject-digest": _delete_digest_org,
    "users/delete-attestations-by-subject-digest": _delete_digest_user,
    "orgs/delete-attestations-bulk": _delete_bulk_org,
    "users/delete-attestations-bulk": _delete_bulk_user,
    "orgs/create-artifact-deployment-record": _create_record,
    "orgs/list-artifact-deployment-records": _list_records,
    "orgs/set-cluster-deployment-records": _set_cluster,
    "orgs/create-cluster-deployment-records-job": _create_job,
    "orgs/get-cluster-deployment-records-job": _get_job,
    "orgs/create-artifact-storage-record": _create_storage,
    "orgs/list-artifact-storage-records": _list_storage,
    "dependency-graph/create-repository-snapshot": _snapshot,
    "dependency-graph/export-sbom": _export_sbom,
    "dependency-graph/generate-sbom-report": _generate_report,
    "dependency-graph/fetch-sbom-report": _fetch_report,
    "dependency-graph/diff-range": _diff,
    "security-advisories/list-global-advisories": _advisories,
    "security-advisories/get-global-advisory": _advisory,
    "dependabot/list-alerts-for-repo": _repo_alerts,
    "dependabot/get-alert": _alert,
    "dependabot/update-alert": _update_alert,
    "dependabot/list-alerts-for-org": _org_alerts,
    "code-scanning/upload-sarif": _upload_sarif,
    "code-scanning/get-sarif": _get_sarif,
    "code-scanning/list-recent-analyses": _analyses,
    "code-scanning/get-analysis": _analysis,
    "code-scanning/delete-analysis": _delete_analysis,
    "code-scanning/list-alert-instances": _alert_instances,
    "code-scanning/list-alerts-for-repo": _code_scanning_alerts,
    "code-scanning/get-alert": _code_scanning_alert,
    "code-scanning/update-alert": _code_scanning_alert,
    "code-scanning/list-alerts-for-org": _code_scanning_org_alerts,
}


@pytest.mark.parametrize("version", description.API_VERSIONS)
@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_operation(server: LiveServer, version: str, operation_id: str) -> None:
    with GitHub(server.world.owner_token, base_url=server.api_v3 + "/", http_cache=False) as github:
        OPERATIONS[operation_id](github.rest(version), server)


@pytest.mark.parametrize("version", description.API_VERSIONS)
def test_not_found_is_an_error_the_client_understands(server: LiveServer, version: str) -> None:
    github = GitHub(server.world.outsider_token, base_url=server.api_v3 + "/", http_cache=False)
    with github, pytest.raises(RequestFailed) as failed:
        github.rest(version).repos.get(server.world.org, server.world.private_repo)  # type: ignore[call-overload]
    assert failed.value.response.status_code == 404
    assert failed.value.response.json()["message"] == "Not Found"
