"""Contract cases of the artifact attestation operations (repository, organization and user forms)."""

from __future__ import annotations

import httpx

from tests.attestations.bundles import bundle_for, random_digest
from tests.contract.registry import case
from tests.contract.world import Http, World, attest

UNKNOWN_ORG = "no-such-org"


def _public(w: World) -> str:
    return f"{w.org}/{w.public_repo}"


def _user_repo(w: World) -> str:
    return f"{w.owner}/{w.user_repo}"


# repos/create-attestation


@case("repos/create-attestation", "signed bundle", 201)
async def _create(http: Http, w: World, v: str) -> httpx.Response:
    body = {"bundle": bundle_for([random_digest()])}
    return await http.request(
        "POST", f"/repos/{_public(w)}/attestations", token=w.owner_token, version=v, json=body
    )


@case("repos/create-attestation", "bundle missing", 422, message="Validation Failed")
async def _create_no_bundle(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "POST", f"/repos/{_public(w)}/attestations", token=w.owner_token, version=v, json={}
    )


@case("repos/create-attestation", "no write access", 403)
async def _create_outsider(http: Http, w: World, v: str) -> httpx.Response:
    body = {"bundle": bundle_for([random_digest()])}
    return await http.request(
        "POST", f"/repos/{_public(w)}/attestations", token=w.outsider_token, version=v, json=body
    )


# repos/list-attestations


@case("repos/list-attestations", "seeded digest", 200)
async def _list_repo(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/repos/{_public(w)}/attestations/{w.extra['digest']}"
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("repos/list-attestations", "private repository, outsider", 404, message="Not Found")
async def _list_repo_hidden(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/repos/{w.org}/{w.private_repo}/attestations/{w.extra['digest']}"
    return await http.request("GET", path, token=w.outsider_token, version=v)


# orgs/list-attestations, users/list-attestations


@case("orgs/list-attestations", "seeded digest", 200)
async def _list_org(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/orgs/{w.org}/attestations/{w.extra['digest']}?per_page=1"
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("orgs/list-attestations", "unknown organization", 404, message="Not Found")
async def _list_org_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/orgs/{UNKNOWN_ORG}/attestations/{w.extra['digest']}"
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("users/list-attestations", "seeded digest", 200)
async def _list_user(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/users/{w.owner}/attestations/{w.extra['user_digest']}"
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("users/list-attestations", "unknown user", 404, message="Not Found")
async def _list_user_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/users/nobody-here/attestations/{w.extra['user_digest']}"
    return await http.request("GET", path, token=w.owner_token, version=v)


# orgs/list-attestations-bulk, users/list-attestations-bulk


@case("orgs/list-attestations-bulk", "seeded and unknown digests", 200)
async def _bulk_org(http: Http, w: World, v: str) -> httpx.Response:
    body = {"subject_digests": [w.extra["digest"], random_digest()]}
    return await http.request(
        "POST", f"/orgs/{w.org}/attestations/bulk-list", token=w.owner_token, version=v, json=body
    )


@case("orgs/list-attestations-bulk", "no digests", 422, message="Validation Failed")
async def _bulk_org_empty(http: Http, w: World, v: str) -> httpx.Response:
    body: dict[str, list[str]] = {"subject_digests": []}
    return await http.request(
        "POST", f"/orgs/{w.org}/attestations/bulk-list", token=w.owner_token, version=v, json=body
    )


@case("users/list-attestations-bulk", "seeded digest", 200)
async def _bulk_user(http: Http, w: World, v: str) -> httpx.Response:
    body = {"subject_digests": [w.extra["user_digest"]], "predicate_type": "provenance"}
    path = f"/users/{w.owner}/attestations/bulk-list"
    return await http.request("POST", path, token=w.owner_token, version=v, json=body)


@case("users/list-attestations-bulk", "not JSON", 400, message="Problems parsing JSON")
async def _bulk_user_not_json(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/users/{w.owner}/attestations/bulk-list"
    return await http.request("POST", path, token=w.owner_token, version=v, content=b"{subject")


# orgs/list-attestation-repositories


@case("orgs/list-attestation-repositories", "attested repositories", 200)
async def _repositories(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "GET", f"/orgs/{w.org}/attestations/repositories", token=w.owner_token, version=v
    )


@case("orgs/list-attestation-repositories", "unknown organization", 404, message="Not Found")
async def _repositories_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/orgs/{UNKNOWN_ORG}/attestations/repositories"
    return await http.request("GET", path, token=w.owner_token, version=v)


# Deletes: organization and user forms, by id, by digest, in bulk.


@case("orgs/delete-attestations-by-id", "own attestation", 204)
async def _delete_id_org(http: Http, w: World, v: str) -> httpx.Response:
    attestation_id = await attest(http, w, _public(w), [random_digest()])
    return await http.request(
        "DELETE", f"/orgs/{w.org}/attestations/{attestation_id}", token=w.owner_token, version=v
    )


@case("orgs/delete-attestations-by-id", "unknown id", 404, message="Not Found")
async def _delete_id_org_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("DELETE", f"/orgs/{w.org}/attestations/999999", token=w.owner_token, version=v)


@case("users/delete-attestations-by-id", "own attestation", 204)
async def _delete_id_user(http: Http, w: World, v: str) -> httpx.Response:
    attestation_id = await attest(http, w, _user_repo(w), [random_digest()])
    path = f"/users/{w.owner}/attestations/{attestation_id}"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("users/delete-attestations-by-id", "another owner's attestation", 404, message="Not Found")
async def _delete_id_user_other(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/users/{w.owner}/attestations/{w.extra['attestation_id']}"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("orgs/delete-attestations-by-subject-digest", "own digest", 204)
async def _delete_digest_org(http: Http, w: World, v: str) -> httpx.Response:
    digest = random_digest()
    await attest(http, w, _public(w), [digest])
    return await http.request(
        "DELETE", f"/orgs/{w.org}/attestations/digest/{digest}", token=w.owner_token, version=v
    )


@case("orgs/delete-attestations-by-subject-digest", "unknown organization", 404, message="Not Found")
async def _delete_digest_org_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/orgs/{UNKNOWN_ORG}/attestations/digest/{random_digest()}"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("users/delete-attestations-by-subject-digest", "own digest", 204)
async def _delete_digest_user(http: Http, w: World, v: str) -> httpx.Response:
    digest = random_digest()
    await attest(http, w, _user_repo(w), [digest])
    path = f"/users/{w.owner}/attestations/digest/{digest}"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("users/delete-attestations-by-subject-digest", "unknown user", 404, message="Not Found")
async def _delete_digest_user_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/users/nobody-here/attestations/digest/{random_digest()}"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("orgs/delete-attestations-bulk", "by ids", 200)
async def _delete_bulk_org(http: Http, w: World, v: str) -> httpx.Response:
    ids = [await attest(http, w, _public(w), [random_digest()]) for _ in range(2)]
    path = f"/orgs/{w.org}/attestations/delete-request"
    return await http.request("POST", path, token=w.owner_token, version=v, json={"attestation_ids": ids})


@case("orgs/delete-attestations-bulk", "both selectors", 422, message="Validation Failed")
async def _delete_bulk_org_both(http: Http, w: World, v: str) -> httpx.Response:
    body = {"attestation_ids": [1], "subject_digests": [random_digest()]}
    path = f"/orgs/{w.org}/attestations/delete-request"
    return await http.request("POST", path, token=w.owner_token, version=v, json=body)


@case("users/delete-attestations-bulk", "by digests", 200)
async def _delete_bulk_user(http: Http, w: World, v: str) -> httpx.Response:
    digest = random_digest()
    await attest(http, w, _user_repo(w), [digest])
    path = f"/users/{w.owner}/attestations/delete-request"
    return await http.request(
        "POST", path, token=w.owner_token, version=v, json={"subject_digests": [digest]}
    )


@case("users/delete-attestations-bulk", "unknown user", 404, message="Not Found")
async def _delete_bulk_user_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = "/users/nobody-here/attestations/delete-request"
    body = {"subject_digests": [random_digest()]}
    return await http.request("POST", path, token=w.owner_token, version=v, json=body)
