"""Octokit (@octokit/core with @octokit/plugin-rest-endpoint-methods), from a Node script, under both
API versions, against ``waybill serve`` at its GHES-style base URL. The plugin builds each request
from GitHub's own route table; the script reports what it sent and what came back."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.attestations.bundles import bundle_for, random_digest
from tests.clients.node import run_script
from tests.contract import description
from tests.live import LiveServer

_names = itertools.count()


def _org_repo(s: LiveServer) -> str:
    return f"{s.world.org}/{s.world.public_repo}"


def _user_repo(s: LiveServer) -> str:
    return f"{s.world.owner}/{s.world.user_repo}"


def _attested(s: LiveServer, repo: str) -> str:
    digest = random_digest()
    s.attest(repo, [digest])
    return digest


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
        lambda s: {"org": s.world.org, "subject_digest": _attested(s, _org_repo(s))},
        lambda d, s: True,
    ),
    "users/delete-attestations-by-subject-digest": (
        lambda s: {"username": s.world.owner, "subject_digest": _attested(s, _user_repo(s))},
        lambda d, s: True,
    ),
    "orgs/delete-attestations-bulk": (
        lambda s: {"org": s.world.org, "attestation_ids": [s.attest(_org_repo(s), [random_digest()])]},
        lambda d, s: True,
    ),
    "users/delete-attestations-bulk": (
        lambda s: {"username": s.world.owner, "subject_digests": [_attested(s, _user_repo(s))]},
        lambda d, s: True,
    ),
}
STATUS = {
    "repos/create-in-org": 201,
    "repos/create-for-authenticated-user": 201,
    "repos/create-attestation": 201,
    "orgs/delete-attestations-by-id": 204,
    "users/delete-attestations-by-id": 204,
    "orgs/delete-attestations-by-subject-digest": 204,
    "users/delete-attestations-by-subject-digest": 204,
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
