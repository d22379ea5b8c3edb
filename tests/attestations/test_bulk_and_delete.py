"""Bulk list, the repositories list, every delete form, and the provenance lookup used by the
artifact metadata domain."""

from __future__ import annotations

from typing import Any

import pytest

from tests.attestations.bundles import random_digest
from tests.attestations.conftest import World
from tests.spec import assert_conforms
from waybill.accounts import service as accounts
from waybill.attestations import service


def _ids(items: list[dict[str, Any]] | None) -> list[int]:
    return [int(item["bundle_url"].split("/attestations/")[1].split("/")[0]) for item in items or []]


@pytest.mark.parametrize("version", ["2022-11-28", "2026-03-10"])
@pytest.mark.parametrize("owner", ["orgs/acme", "users/acme"])
async def test_bulk_list(world: World, version: str, owner: str) -> None:
    one, two, absent = random_digest(), random_digest("sha512"), random_digest()
    both = await world.attest(digests=[one, two])
    only_one = await world.attest(digests=[one])
    hidden = await world.attest("acme/private", digests=[two])
    r = await world.api.post(
        f"/{owner}/attestations/bulk-list",
        json={"subject_digests": [one, two.upper(), absent]},
        version=version,
    )
    assert r.status_code == 200, r.text
    assert_conforms(r, f"{owner.split('/')[0]}/list-attestations-bulk")
    body = r.json()
    mapping = body["attestations_subject_digests"]
    assert list(mapping) == [one, two.upper(), absent]
    assert _ids(mapping[one]) == [only_one, both]
    assert _ids(mapping[two.upper()]) == [both]
    assert mapping[absent] is None
    assert ("bundle" in mapping[one][0]) is (version == "2022-11-28")
    assert body["page_info"] == {"has_next": False, "has_previous": False, "next": "", "previous": ""}
    r = await world.api.post(
        f"/{owner}/attestations/bulk-list", token=world.reader, json={"subject_digests": [two]}
    )
    assert _ids(r.json()["attestations_subject_digests"][two]) == [hidden, both]


async def test_bulk_list_pages(world: World) -> None:
    digests = [random_digest() for _ in range(3)]
    created = [await world.attest(digests=[digest]) for digest in digests for _ in range(2)]
    seen: list[int] = []
    query = "?per_page=4"
    while True:
        r = await world.api.post(
            f"/orgs/acme/attestations/bulk-list{query}", json={"subject_digests": digests}
        )
        body = r.json()
        seen += sorted(
            (i for items in body["attestations_subject_digests"].values() for i in _ids(items)), reverse=True
        )
        if not body["page_info"]["has_next"]:
            break
        query = f"?per_page=4&after={body['page_info']['next']}"
    assert seen == sorted(created, reverse=True)
    assert body["page_info"]["has_previous"] is True
    back = await world.api.post(
        f"/orgs/acme/attestations/bulk-list?per_page=4&before={body['page_info']['previous']}",
        json={"subject_digests": digests},
    )
    found = sorted(
        (i for items in back.json()["attestations_subject_digests"].values() for i in _ids(items)),
        reverse=True,
    )
    assert found == sorted(created, reverse=True)[:4]


async def test_bulk_list_predicate_filter(world: World) -> None:
    digest = random_digest()
    await world.attest(digests=[digest], predicate_type="https://spdx.dev/Document/v2.3")
    provenance = await world.attest(digests=[digest])
    r = await world.api.post(
        "/orgs/acme/attestations/bulk-list",
        json={"subject_digests": [digest], "predicate_type": "provenance"},
    )
    assert _ids(r.json()["attestations_subject_digests"][digest]) == [provenance]


async def test_bulk_list_limits(world: World) -> None:
    digests = [random_digest() for _ in range(1025)]
    r = await world.api.post("/orgs/acme/attestations/bulk-list", json={"subject_digests": digests[:1024]})
    assert r.status_code == 200
    assert len(r.json()["attestations_subject_digests"]) == 1024
    r = await world.api.post("/orgs/acme/attestations/bulk-list", json={"subject_digests": digests})
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Attestation",
            "field": "subject_digests",
            "code": "invalid",
            "message": "subject_digests: Expected `array` of length <= 1024",
        }
    ]
    r = await world.api.post("/orgs/acme/attestations/bulk-list", json={"subject_digests": []})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "subject_digests"
    r = await world.api.post(
        "/orgs/acme/attestations/bulk-list", json={"subject_digests": [digests[0], "sha256"]}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Attestation",
            "field": "subject_digests",
            "code": "invalid",
            "message": "subject_digests must be algorithm:hex, e.g. sha256:<64 hex digits>",
            "value": "sha256",
            "index": 1,
        }
    ]


# Deletes.


async def _listed(world: Any, digest: str) -> list[int]:
    r = await world.api.get(f"/orgs/acme/attestations/{digest}", token=world.owner)
    return _ids(r.json()["attestations"])


@pytest.mark.parametrize("owner", ["orgs", "users"])
async def test_delete_by_id(world: World, owner: str) -> None:
    digest = random_digest()
    keep, gone = await world.attest(digests=[digest]), await world.attest(digests=[digest])
    r = await world.api.delete(f"/{owner}/acme/attestations/{gone}", token=world.owner)
    assert r.status_code == 204
    assert_conforms(r, f"{owner}/delete-attestations-by-id")
    assert await _listed(world, digest) == [keep]
    r = await world.api.delete(f"/{owner}/acme/attestations/{gone}", token=world.owner)
    assert r.status_code == 404
    assert_conforms(r, f"{owner}/delete-attestations-by-id")


async def test_delete_by_id_of_another_owner_is_404(world: World) -> None:
    attestation_id = await world.attest()
    await world.api.org("other", owner="sam")
    r = await world.api.delete(f"/orgs/other/attestations/{attestation_id}", token=world.stranger)
    assert r.status_code == 404


async def test_delete_needs_write(world: World) -> None:
    private = await world.attest("acme/private")
    public = await world.attest("acme/public")
    r = await world.api.delete(f"/orgs/acme/attestations/{private}", token=world.stranger)
    assert r.status_code == 404
    assert r.json()["message"] == "Not Found"
    r = await world.api.delete(f"/orgs/acme/attestations/{private}", token=world.reader)
    assert r.status_code == 403
    assert_conforms(r, "orgs/delete-attestations-by-id")
    assert r.json()["message"] == "Must have write access to repository acme/private."
    r = await world.api.delete(f"/orgs/acme/attestations/{public}")
    assert r.status_code == 401
    read_only = await world.api.fine_grained("alice", owner="acme", permissions={"attestations": "read"})
    r = await world.api.delete(f"/orgs/acme/attestations/{public}", token=read_only)
    assert r.status_code == 403
    assert (
        r.json()["message"]
        == "Resource not accessible by personal access token (requires attestations:write)."
    )
    writer = await world.api.fine_grained("alice", owner="acme", permissions={"attestations": "write"})
    assert (await world.api.delete(f"/orgs/acme/attestations/{public}", token=writer)).status_code == 204


@pytest.mark.parametrize("owner", ["orgs", "users"])
async def test_delete_by_digest(world: World, owner: str) -> None:
    digest, other = random_digest(), random_digest()
    await world.attest(digests=[digest])
    await world.attest("acme/private", digests=[digest])
    keep = await world.attest(digests=[other])
    r = await world.api.delete(f"/{owner}/acme/attestations/digest/{digest}", token=world.owner)
    assert r.status_code == 204
    assert_conforms(r, f"{owner}/delete-attestations-by-subject-digest")
    assert await _listed(world, digest) == []
    assert await _listed(world, other) == [keep]
    r = await world.api.delete(f"/{owner}/acme/attestations/digest/{digest}", token=world.owner)
    assert r.status_code == 404
    assert_conforms(r, f"{owner}/delete-attestations-by-subject-digest")


async def test_delete_by_digest_leaves_invisible_repositories_alone(world: World) -> None:
    digest = random_digest()
    await world.api.repo("sam/tool")
    await world.api.collaborator("acme/public", "sam", "write")
    public = await world.attest("acme/public", digests=[digest])
    private = await world.attest("acme/private", digests=[digest])
    r = await world.api.delete(f"/orgs/acme/attestations/digest/{digest}", token=world.stranger)
    assert r.status_code == 204
    assert public not in await _listed(world, digest)
    assert await _listed(world, digest) == [private]


async def test_delete_by_digest_refuses_whole_request_without_write(world: World) -> None:
    digest = random_digest()
    await world.attest("acme/public", digests=[digest])
    await world.attest("acme/private", digests=[digest])
    r = await world.api.delete(f"/orgs/acme/attestations/digest/{digest}", token=world.reader)
    assert r.status_code == 403
    assert len(await _listed(world, digest)) == 2


@pytest.mark.parametrize("owner", ["orgs", "users"])
async def test_bulk_delete_by_ids_and_by_digests(world: World, owner: str) -> None:
    digest = random_digest()
    a = await world.attest(digests=[digest])
    b = await world.attest(digests=[digest])
    c = await world.attest(digests=[digest])
    r = await world.api.post(
        f"/{owner}/acme/attestations/delete-request", token=world.owner, json={"attestation_ids": [a, c]}
    )
    assert r.status_code == 200
    assert r.content == b""
    assert_conforms(r, f"{owner}/delete-attestations-bulk")
    assert await _listed(world, digest) == [b]
    r = await world.api.post(
        f"/{owner}/acme/attestations/delete-request", token=world.owner, json={"subject_digests": [digest]}
    )
    assert r.status_code == 200
    assert await _listed(world, digest) == []
    r = await world.api.post(
        f"/{owner}/acme/attestations/delete-request", token=world.owner, json={"attestation_ids": [b]}
    )
    assert r.status_code == 404
    assert_conforms(r, f"{owner}/delete-attestations-bulk")


@pytest.mark.parametrize(
    "body",
    [{}, {"subject_digests": ["sha256:" + "a" * 64], "attestation_ids": [1]}],
)
async def test_bulk_delete_needs_exactly_one_selector(world: World, body: Any) -> None:
    r = await world.api.post("/orgs/acme/attestations/delete-request", token=world.owner, json=body)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Attestation",
            "field": "subject_digests",
            "code": "invalid",
            "message": "the body must include either subject_digests or attestation_ids, but not both",
        }
    ]


async def test_bulk_delete_limits(world: World) -> None:
    r = await world.api.post(
        "/orgs/acme/attestations/delete-request",
        token=world.owner,
        json={"attestation_ids": list(range(1, 1026))},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "attestation_ids"


@pytest.mark.parametrize("ids", [[2**63], [-(2**70), 0, -1], [10**40, 2**63 - 1]])
async def test_bulk_delete_of_ids_beyond_bigint_finds_nothing(world: World, ids: list[Any]) -> None:
    r = await world.api.post(
        "/orgs/acme/attestations/delete-request", token=world.owner, json={"attestation_ids": ids}
    )
    assert r.status_code == 404
    assert_conforms(r, "orgs/delete-attestations-bulk")


# Repositories with attestations.


async def test_attestation_repositories(world: World) -> None:
    for name in ("zeta", "alpha", "empty", "secret"):
        await world.api.repo(f"acme/{name}", private=name == "secret")
    await world.attest("acme/zeta")
    await world.attest("acme/alpha", predicate_type="https://spdx.dev/Document")
    await world.attest("acme/secret")
    await world.attest("acme/public")
    r = await world.api.get("/orgs/acme/attestations/repositories")
    assert r.status_code == 200
    assert_conforms(r, "orgs/list-attestation-repositories")
    names = [repo["name"] for repo in r.json()]
    assert names == ["public", "zeta", "alpha"]
    ids = [repo["id"] for repo in r.json()]
    assert ids == sorted(ids)
    r = await world.api.get("/orgs/acme/attestations/repositories", token=world.owner)
    assert [repo["name"] for repo in r.json()] == ["public", "zeta", "alpha", "secret"]
    r = await world.api.get("/orgs/acme/attestations/repositories?predicate_type=sbom", token=world.owner)
    assert [repo["name"] for repo in r.json()] == ["alpha"]
    r = await world.api.get("/orgs/acme/attestations/repositories?per_page=2", token=world.owner)
    assert [repo["name"] for repo in r.json()] == ["public", "zeta"]
    next_url = r.headers["Link"].split(">")[0].removeprefix("<http://waybill.test")
    r = await world.api.get(next_url, token=world.owner)
    assert [repo["name"] for repo in r.json()] == ["alpha", "secret"]
    assert 'rel="next"' not in r.headers.get("Link", "")
    assert 'rel="prev"' in r.headers["Link"]


# The link the artifact metadata domain follows.


async def test_provenance_for(world: World) -> None:
    digest, sbom_only, absent = random_digest(), random_digest(), random_digest()
    await world.attest("acme/public", digests=[digest])
    newest = await world.attest(
        "acme/private", digests=[digest], predicate_type="https://slsa.dev/provenance/v0.2"
    )
    await world.attest("acme/public", digests=[digest], predicate_type="https://spdx.dev/Document")
    await world.attest("acme/public", digests=[sbom_only], predicate_type="https://spdx.dev/Document")
    acme = await world.api.tx(lambda c: accounts.get_account(c, "acme"))
    found = await world.api.tx(lambda c: service.provenance_for(c, acme.id, [digest, sbom_only, absent]))
    assert found == {digest: service.Provenance(newest, world.private_id)}
    other = await world.api.tx(lambda c: accounts.get_account(c, "sam"))
    assert await world.api.tx(lambda c: service.provenance_for(c, other.id, [digest])) == {}
