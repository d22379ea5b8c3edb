"""Who may write and read artifact metadata: classic and fine-grained tokens, members, outsiders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.artifacts.conftest import RECORD, STORAGE, World, cluster_path, digest, entry, record_body
from tests.spec import assert_conforms

DOCS = "https://docs.github.com/rest"
FINE_GRAINED_WRITE = (
    "Resource not accessible by personal access token (requires contents:write or artifact_metadata:write)."
)


def _error(message: str, status: int) -> dict[str, str]:
    return {"message": message, "documentation_url": DOCS, "status": str(status)}


async def _token(world: World, who: str) -> str | None:
    api = world.api
    match who:
        case "none":
            return None
        case "classic-owner":
            return world.alice
        case "classic-member-read":
            return world.bob
        case "classic-outsider":
            return world.carol
        case "classic-collaborator-write":
            return world.dave
        case "classic-public-repo-scope":
            return await api.token("alice", "public_repo")
        case "classic-no-repo-scope":
            return await api.token("alice", "read:org")
        case "fine-grained-artifact-metadata-write":
            return await api.fine_grained("alice", owner="acme", permissions={"artifact_metadata": "write"})
        case "fine-grained-contents-write":
            return await api.fine_grained("alice", owner="acme", permissions={"contents": "write"})
        case "fine-grained-artifact-metadata-read":
            return await api.fine_grained("alice", owner="acme", permissions={"artifact_metadata": "read"})
        case "fine-grained-other-repository":
            return await api.fine_grained(
                "alice", owner="acme", repositories=["secret"], permissions={"artifact_metadata": "write"}
            )
        case "fine-grained-other-owner":
            return await api.fine_grained("alice", owner="other", permissions={"artifact_metadata": "write"})
    raise AssertionError(who)


WRITE_MATRIX = [
    # (caller, repository, status, message)
    ("none", "web", 401, "Requires authentication"),
    ("classic-owner", "web", 200, None),
    ("classic-owner", "secret", 200, None),
    ("classic-member-read", "web", 403, "Must have write access to repository acme/web."),
    ("classic-member-read", "secret", 403, "Must have write access to repository acme/secret."),
    ("classic-outsider", "web", 403, "Must have write access to repository acme/web."),
    ("classic-outsider", "secret", 404, "Not Found"),
    ("classic-collaborator-write", "web", 200, None),
    ("classic-collaborator-write", "secret", 404, "Not Found"),
    ("classic-public-repo-scope", "web", 200, None),
    ("classic-public-repo-scope", "secret", 404, "Not Found"),
    (
        "classic-no-repo-scope",
        "web",
        403,
        "Resource not accessible by personal access token (requires the repo scope).",
    ),
    ("fine-grained-artifact-metadata-write", "secret", 200, None),
    ("fine-grained-contents-write", "web", 200, None),
    ("fine-grained-artifact-metadata-read", "web", 403, FINE_GRAINED_WRITE),
    ("fine-grained-other-repository", "web", 403, FINE_GRAINED_WRITE),
    ("fine-grained-other-repository", "secret", 200, None),
    ("fine-grained-other-owner", "web", 403, FINE_GRAINED_WRITE),
    ("fine-grained-other-owner", "secret", 404, "Not Found"),
]


@pytest.mark.parametrize(("who", "repo", "status", "message"), WRITE_MATRIX)
async def test_deployment_record_write(world: World, who: str, repo: str, status: int, message: str) -> None:
    token = await _token(world, who)
    r = await world.api.post(RECORD, token=token, json=record_body(github_repository=repo))
    assert_conforms(r, "orgs/create-artifact-deployment-record")
    assert r.status_code == status, r.text
    if message is not None:
        assert r.json() == _error(message, status)


@pytest.mark.parametrize(("who", "repo", "status", "message"), WRITE_MATRIX)
async def test_storage_record_write(world: World, who: str, repo: str, status: int, message: str) -> None:
    token = await _token(world, who)
    body = {
        "name": "lib",
        "digest": digest(1),
        "registry_url": "https://r.example/",
        "github_repository": repo,
    }
    r = await world.api.post(STORAGE, token=token, json=body)
    assert_conforms(r, "orgs/create-artifact-storage-record")
    assert r.status_code == status, r.text
    if message is not None:
        assert r.json() == _error(message, status)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("none", {"web"}),
        ("classic-owner", {"web", "secret"}),
        ("classic-member-read", {"web", "secret"}),
        ("classic-outsider", {"web"}),
        ("classic-collaborator-write", {"web"}),
        ("classic-no-repo-scope", {"web"}),
        ("fine-grained-artifact-metadata-read", {"web", "secret"}),
        ("fine-grained-contents-write", {"web", "secret"}),
        ("fine-grained-other-repository", {"web", "secret"}),
        ("fine-grained-other-owner", {"web"}),
    ],
)
async def test_lists_leave_out_unreadable_repositories(world: World, who: str, expected: Any) -> None:
    for repo in ("web", "secret"):
        r = await world.api.post(
            RECORD, token=world.alice, json=record_body(github_repository=repo, deployment_name=repo)
        )
        assert r.status_code == 200
        body = {"name": "lib", "digest": digest("awesome"), "registry_url": f"https://{repo}.example/"}
        r = await world.api.post(STORAGE, token=world.alice, json={**body, "github_repository": repo})
        assert r.status_code == 200
    token = await _token(world, who)
    base = f"/orgs/acme/artifacts/{digest('awesome')}/metadata"

    deployments = await world.api.get(base + "/deployment-records", token=token)
    assert deployments.status_code == 200
    assert_conforms(deployments, "orgs/list-artifact-deployment-records")
    assert {d["deployment_name"] for d in deployments.json()["deployment_records"]} == expected
    assert deployments.json()["total_count"] == len(expected)

    storage = await world.api.get(base + "/storage-records", token=token)
    assert storage.status_code == 200
    assert_conforms(storage, "orgs/list-artifact-storage-records")
    assert {s["registry_url"] for s in storage.json()["storage_records"]} == {
        f"https://{repo}.example/" for repo in expected
    }

    history = await world.api.get("/waybill/orgs/acme/deployments/history", token=token)
    assert {h["deployment_name"] for h in history.json()["history"]} == expected
    where = await world.api.get(f"/waybill/orgs/acme/artifacts/{digest('awesome')}/deployments", token=token)
    assert {d["deployment_name"] for d in where.json()["deployments"]} == expected


async def test_cluster_write_without_token_is_unauthenticated(world: World) -> None:
    body = {"logical_environment": "prod", "deployments": [entry("a")]}
    for path in (cluster_path(), cluster_path() + "/jobs"):
        r = await world.api.post(path, json=body)
        assert r.status_code == 401
        assert r.json() == _error("Requires authentication", 401)
