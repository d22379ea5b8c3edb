"""githubkit (Python), under both API versions, against ``waybill serve`` at its GHES-style base URL.

githubkit validates each body with the pydantic model of the API version it was asked for when
``parsed_data`` is read, so a wrong shape fails here. Keys are the operations' ids (the
compatibility table is read off them)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from tests.contract import description
from tests.live import LiveServer

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


OPERATIONS: dict[str, Exercise] = {
    "meta/root": _root,
    "users/get-authenticated": _me,
    "users/get-by-username": _user,
    "orgs/get": _org,
    "repos/get": _repo,
    "repos/create-in-org": _create_in_org,
    "repos/create-for-authenticated-user": _create_for_user,
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
        github.rest(version).repos.get(server.world.org, server.world.private_repo)
    assert failed.value.response.status_code == 404
    assert failed.value.response.json()["message"] == "Not Found"
