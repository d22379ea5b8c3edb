"""POST /repos/{owner}/{repo}/dependency-graph/snapshots: validation, results, the current graph."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import SHA_A, SHA_B, example_snapshot, snapshot
from tests.harness import Harness
from tests.spec import assert_conforms
from waybill.dependencies import service
from waybill.dependencies.types import Dependency

OP = "dependency-graph/create-repository-snapshot"
URL = "/repos/alice/web/dependency-graph/snapshots"


def failed(field: str, message: str, code: str = "invalid", **extra: Any) -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
        "errors": [{"resource": "Snapshot", "field": field, "code": code, "message": message, **extra}],
    }


async def current(api: Harness, full_name: str = "alice/web") -> set[tuple[str, str]]:
    async def read(conn: AsyncConnection) -> list[Dependency]:
        from waybill.accounts import service as accounts

        repo = await accounts.get_repository(conn, full_name)
        return await service.current_dependencies(conn, repo.id)

    return {(d.manifest, d.package_url) for d in await api.tx(read)}


async def test_documented_example_is_accepted_and_updates_the_graph(alice: Setup) -> None:
    r = await alice.api.post(URL, token=alice.token, json=example_snapshot())
    assert r.status_code == 201, r.text
    assert_conforms(r, OP)
    body = r.json()
    assert body["result"] == "SUCCESS"
    assert body["message"] == "Dependency results for the repo have been successfully updated."
    assert body["created_at"].endswith("Z")
    deps = await alice.api.tx(lambda c: _deps(c))
    assert {(d.name, d.version, d.ecosystem, d.manifest) for d in deps} == {
        ("@actions/core", "1.1.9", "npm", "src/package-lock.json"),
        ("@actions/http-client", "1.0.7", "npm", "src/package-lock.json"),
        ("tunnel", "0.0.6", "npm", "src/package-lock.json"),
    }


async def _deps(conn: AsyncConnection) -> list[Dependency]:
    from waybill.accounts import service as accounts

    repo = await accounts.get_repository(conn, "alice/web")
    return await service.current_dependencies(conn, repo.id)


@pytest.mark.parametrize(
    "accept",
    [
        "application/vnd.github+json",
        "application/vnd.github.v3+json",
        "application/vnd.github.hawkgirl-preview+json",
        "application/vnd.github.machine-man-preview+json, application/json",
    ],
)
async def test_preview_media_types_are_accepted(alice: Setup, accept: str) -> None:
    r = await alice.api.post(URL, token=alice.token, json=example_snapshot(), headers={"Accept": accept})
    assert r.status_code == 201, r.text
    assert_conforms(r, OP)


def _set(body: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


MANIFEST = ["manifests", "package-lock.json"]
DEPENDENCY = [*MANIFEST, "resolved", "tunnel"]
NINE = {f"k{i}": i for i in range(9)}


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        (["extra"], 1, "extra", "extra is not a permitted key"),
        (["job", "extra"], 1, "job.extra", "job.extra is not a permitted key"),
        (["detector", "extra"], 1, "detector.extra", "detector.extra is not a permitted key"),
        (
            [*MANIFEST, "extra"],
            1,
            "manifests.package-lock.json.extra",
            "manifests.package-lock.json.extra is not a permitted key",
        ),
        (
            [*MANIFEST, "file", "extra"],
            1,
            "manifests.package-lock.json.file.extra",
            "manifests.package-lock.json.file.extra is not a permitted key",
        ),
        (
            [*DEPENDENCY, "extra"],
            1,
            "manifests.package-lock.json.resolved.tunnel.extra",
            "manifests.package-lock.json.resolved.tunnel.extra is not a permitted key",
        ),
        (["metadata"], NINE, "metadata", "metadata: Expected `object` of length <= 8"),
        (
            [*MANIFEST, "metadata"],
            NINE,
            "manifests.package-lock.json.metadata",
            "manifests.package-lock.json.metadata: Expected `object` of length <= 8",
        ),
        (
            [*DEPENDENCY, "metadata"],
            NINE,
            "manifests.package-lock.json.resolved.tunnel.metadata",
            "manifests.package-lock.json.resolved.tunnel.metadata: Expected `object` of length <= 8",
        ),
        (
            ["metadata"],
            {"nested": {"a": 1}},
            "metadata[...]",
            "metadata[...]: Expected `bool | int | float | str | null`, got `object`",
        ),
        (["sha"], "a" * 39, "sha", "sha: Expected `str` of length >= 40"),
        (["sha"], "a" * 65, "sha", "sha: Expected `str` of length <= 64"),
        (["ref"], "heads/main", "ref", "ref: Expected `str` matching regex '^refs/'"),
        (["scanned"], "yesterday", "scanned", "scanned: Invalid RFC3339 encoded datetime"),
        (
            ["scanned"],
            "2022-06-14T20:25:00",
            "scanned",
            "scanned: Expected `datetime` with a timezone component",
        ),
        (
            [*DEPENDENCY, "relationship"],
            "transitive",
            "manifests.package-lock.json.resolved.tunnel.relationship",
            "manifests.package-lock.json.resolved.tunnel.relationship: Invalid enum value 'transitive'",
        ),
        (
            [*DEPENDENCY, "scope"],
            "test",
            "manifests.package-lock.json.resolved.tunnel.scope",
            "manifests.package-lock.json.resolved.tunnel.scope: Invalid enum value 'test'",
        ),
    ],
)
async def test_schema_violations_name_the_field(
    alice: Setup, path: list[str], value: Any, field: str, message: str
) -> None:
    r = await alice.api.post(URL, token=alice.token, json=_set(example_snapshot(), path, value))
    assert r.status_code == 422, r.text
    assert_conforms(r, OP)
    assert r.json() == failed(field, message)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (["version"], "version"),
        (["job", "correlator"], "job.correlator"),
        (["detector", "url"], "detector.url"),
    ],
)
async def test_missing_required_fields(alice: Setup, path: list[str], field: str) -> None:
    body = example_snapshot()
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    r = await alice.api.post(URL, token=alice.token, json=body)
    assert r.status_code == 422, r.text
    assert r.json() == failed(field, f"{field} is missing", code="missing_field")


@pytest.mark.parametrize(
    ("purl", "message"),
    [
        (
            "npm/tunnel@0.0.6",
            "manifests.package-lock.json.resolved.tunnel.package_url must match the pattern ^pkg",
        ),
        (
            "pkg:npm",
            "manifests.package-lock.json.resolved.tunnel.package_url is not a valid package URL: "
            "purl is missing the required type component: 'pkg:npm'.",
        ),
        (
            "pkg:npm/",
            "manifests.package-lock.json.resolved.tunnel.package_url is not a valid package URL: "
            "purl is missing the required name component: 'pkg:npm/'",
        ),
    ],
)
async def test_malformed_package_url_names_manifest_and_key(alice: Setup, purl: str, message: str) -> None:
    body = _set(example_snapshot(), [*DEPENDENCY, "package_url"], purl)
    r = await alice.api.post(URL, token=alice.token, json=body)
    assert r.status_code == 422, r.text
    assert_conforms(r, OP)
    assert r.json() == failed("manifests.package-lock.json.resolved.tunnel.package_url", message, value=purl)


async def test_malformed_package_url_in_dependencies(alice: Setup) -> None:
    body = _set(example_snapshot(), [*DEPENDENCY, "dependencies"], ["pkg:npm/"])
    r = await alice.api.post(URL, token=alice.token, json=body)
    assert r.status_code == 422, r.text
    field = "manifests.package-lock.json.resolved.tunnel.dependencies[0]"
    assert r.json() == failed(
        field,
        f"{field} is not a valid package URL: purl is missing the required name component: 'pkg:npm/'",
        value="pkg:npm/",
    )


async def test_bad_json_is_400(alice: Setup) -> None:
    r = await alice.api.post(
        URL, token=alice.token, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Problems parsing JSON"


async def test_same_correlator_and_detector_replaces_the_dependencies(alice: Setup) -> None:
    first = snapshot({"a": "pkg:npm/a@1.0.0", "b": "pkg:npm/b@1.0.0"}, sha=SHA_A)
    second = snapshot({"c": "pkg:npm/c@1.0.0"}, sha=SHA_B, scanned="2026-01-02T00:00:00Z")
    assert (await alice.api.post(URL, token=alice.token, json=first)).json()["result"] == "SUCCESS"
    r = await alice.api.post(URL, token=alice.token, json=second)
    assert r.json()["result"] == "SUCCESS"
    assert await current(alice.api) == {("package-lock.json", "pkg:npm/c@1.0.0")}


async def test_other_correlator_or_detector_adds_dependencies(alice: Setup) -> None:
    await alice.api.post(URL, token=alice.token, json=snapshot({"a": "pkg:npm/a@1.0.0"}))
    await alice.api.post(
        URL, token=alice.token, json=snapshot({"b": "pkg:pypi/b@2.0"}, correlator="other", manifest="req.txt")
    )
    r = await alice.api.post(
        URL, token=alice.token, json=snapshot({"c": "pkg:gem/c@3.0"}, detector="other", manifest="Gemfile")
    )
    assert r.json()["result"] == "SUCCESS"
    assert await current(alice.api) == {
        ("package-lock.json", "pkg:npm/a@1.0.0"),
        ("req.txt", "pkg:pypi/b@2.0"),
        ("Gemfile", "pkg:gem/c@3.0"),
    }


async def test_other_ref_is_accepted_without_changing_the_graph(alice: Setup) -> None:
    await alice.api.post(URL, token=alice.token, json=snapshot({"a": "pkg:npm/a@1.0.0"}))
    r = await alice.api.post(
        URL, token=alice.token, json=snapshot({"a": "pkg:npm/a@2.0.0"}, sha=SHA_B, ref="refs/heads/feature")
    )
    assert r.status_code == 201
    assert_conforms(r, OP)
    assert r.json()["result"] == "ACCEPTED"
    assert r.json()["message"] == (
        "Snapshot stored. The repository's dependencies were not updated: refs/heads/feature is not "
        "the default branch (refs/heads/main)."
    )
    assert await current(alice.api) == {("package-lock.json", "pkg:npm/a@1.0.0")}


async def test_an_older_scan_for_the_same_pair_is_accepted_without_changing_the_graph(alice: Setup) -> None:
    newer = snapshot({"a": "pkg:npm/a@2.0.0"}, sha=SHA_B, scanned="2026-01-02T00:00:00Z")
    older = snapshot({"a": "pkg:npm/a@1.0.0"}, sha=SHA_A, scanned="2026-01-01T00:00:00Z")
    await alice.api.post(URL, token=alice.token, json=newer)
    r = await alice.api.post(URL, token=alice.token, json=older)
    assert r.json()["result"] == "ACCEPTED"
    assert await current(alice.api) == {("package-lock.json", "pkg:npm/a@2.0.0")}


async def test_dependents_of_a_package(alice: Setup) -> None:
    api = alice.api
    await api.repo("alice/api")
    await api.post(URL, token=alice.token, json=snapshot({"a": "pkg:npm/lodash@4.17.20"}))
    await api.post(
        "/repos/alice/api/dependency-graph/snapshots",
        token=alice.token,
        json=snapshot({"a": "pkg:npm/lodash@4.17.21", "b": "pkg:npm/left-pad@1.0.0"}),
    )

    async def names(purl: str) -> list[tuple[int, str | None]]:
        found = await api.tx(lambda c: service.dependents(c, purl))
        return sorted((d.repository_id, d.dependency.version) for d in found)

    web, other = 1, 2
    assert await names("pkg:npm/lodash") == [(web, "4.17.20"), (other, "4.17.21")]
    assert await names("pkg:npm/lodash@4.17.21") == [(other, "4.17.21")]
    assert await names("pkg:npm/express") == []


# Permissions.


async def test_private_repository_without_access_is_404(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/secret", private=True)
    r = await api.post(
        "/repos/alice/secret/dependency-graph/snapshots",
        token=await api.token("bob"),
        json=example_snapshot(),
    )
    assert r.status_code == 404
    assert_conforms(r, OP)
    assert r.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


async def test_read_only_collaborator_is_403(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/secret", private=True)
    await api.collaborator("alice/secret", "bob", "read")
    r = await api.post(
        "/repos/alice/secret/dependency-graph/snapshots",
        token=await api.token("bob"),
        json=example_snapshot(),
    )
    assert r.status_code == 403
    assert_conforms(r, OP)
    assert r.json()["message"] == "Must have write access to repository alice/secret."


async def test_fine_grained_token_needs_contents_write(api: Harness) -> None:
    await api.user("alice")
    await api.repo("alice/web")
    reader = await api.fine_grained("alice", owner="alice", permissions={"contents": "read"})
    writer = await api.fine_grained("alice", owner="alice", permissions={"contents": "write"})
    r = await api.post(URL, token=reader, json=example_snapshot())
    assert r.status_code == 403
    assert (
        r.json()["message"] == "Resource not accessible by personal access token (requires contents:write)."
    )
    r = await api.post(URL, token=writer, json=example_snapshot())
    assert r.status_code == 201


async def test_classic_token_without_repo_scope_on_private_repository(api: Harness) -> None:
    await api.user("alice")
    await api.repo("alice/secret", private=True)
    r = await api.post(
        "/repos/alice/secret/dependency-graph/snapshots",
        token=await api.token("alice", "read:org"),
        json=example_snapshot(),
    )
    assert r.status_code == 404


async def test_anonymous_is_401(alice: Setup) -> None:
    r = await alice.api.post(URL, json=example_snapshot())
    assert r.status_code == 401
    assert r.json()["message"] == "Requires authentication"
