"""Octokit (@octokit/core with @octokit/plugin-rest-endpoint-methods), from a Node script, under both
API versions, against ``waybill serve`` at its GHES-style base URL. The plugin builds each request
from GitHub's own route table; the script reports what it sent and what came back."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from tests.clients.node import run_script
from tests.contract import description
from tests.live import LiveServer

_names = itertools.count()

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
}
STATUS = {"repos/create-in-org": 201, "repos/create-for-authenticated-user": 201}


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
