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

from tests.attestations.bundles import bundle_for, random_digest
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
