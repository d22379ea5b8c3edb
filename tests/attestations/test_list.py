"""Listing by subject digest: shapes per API version, pagination, predicate filters, visibility,
and the signed bundle_url."""

from __future__ import annotations

import json
import re
from typing import Any

import cramjam
import pytest

from tests.attestations.bundles import bundle_for, random_digest
from tests.attestations.conftest import World
from tests.spec import assert_conforms

BASE = "http://waybill.test"


def _next(response: Any) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return None if match is None else match.group(1).removeprefix(BASE)


def _prev(response: Any) -> str | None:
    match = re.search(r'<([^>]+)>; rel="prev"', response.headers.get("Link", ""))
    return None if match is None else match.group(1).removeprefix(BASE)


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/repos/acme/public/attestations/{digest}", "repos/list-attestations"),
        ("/orgs/acme/attestations/{digest}", "orgs/list-attestations"),
        ("/users/acme/attestations/{digest}", "users/list-attestations"),
    ],
)
@pytest.mark.parametrize("version", ["2022-11-28", "2026-03-10"])
async def test_shape_per_version(world: World, path: str, operation: str, version: str) -> None:
    digest = random_digest()
    bundle = bundle_for([digest])
    await world.attest(bundle=bundle)
    r = await world.api.get(path.format(digest=digest), token=world.owner, version=version)
    assert r.status_code == 200, r.text
    assert_conforms(r, operation)
    [item] = r.json()["attestations"]
    assert item["repository_id"] == world.public_id
    assert item["initiator"] == "user"
    if version == "2022-11-28":
        assert item["bundle"] == bundle
    else:
        assert "bundle" not in item
    fetched = await world.api.get(item["bundle_url"].removeprefix(BASE))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert json.loads(bytes(cramjam.snappy.decompress_raw(fetched.content))) == bundle


async def test_bundle_url_serves_snappy_of_the_bytes_received(world: World) -> None:
    digest = random_digest()
    raw = b'{"bundle":  ' + json.dumps(bundle_for([digest]), indent=1).encode() + b"}"
    r = await world.api.post(
        "/repos/acme/public/attestations",
        token=world.owner,
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201
    listed = await world.api.get(f"/repos/acme/public/attestations/{digest}", version="2026-03-10")
    url = listed.json()["attestations"][0]["bundle_url"].removeprefix(BASE)
    fetched = await world.api.get(url)
    assert bytes(cramjam.snappy.decompress_raw(fetched.content)) == raw[len(b'{"bundle":  ') : -1]


async def test_bundle_url_refuses_bad_or_expired_signatures(world: World) -> None:
    attestation_id = await world.attest()
    path = f"/waybill/attestations/{attestation_id}/bundle"
    assert (await world.api.get(path)).status_code == 404
    signer = world.api.app.litestar.state.signer
    good = signer.sign("bundle", str(attestation_id), 60)
    assert (await world.api.get(path, params=good)).status_code == 200
    tampered = {**good, "signature": "0" * 64}
    r = await world.api.get(path, params=tampered)
    assert r.status_code == 404
    assert r.json()["message"] == "Not Found"
    other = signer.sign("bundle", str(attestation_id + 1), 60)
    assert (await world.api.get(path, params=other)).status_code == 404
    expired = signer.sign("bundle", str(attestation_id), -1)
    assert (await world.api.get(path, params=expired)).status_code == 404


async def test_deleted_attestation_bundle_is_gone(world: World) -> None:
    digest = random_digest()
    await world.attest(digests=[digest])
    listed = await world.api.get(f"/orgs/acme/attestations/{digest}")
    url = listed.json()["attestations"][0]["bundle_url"].removeprefix(BASE)
    assert (
        await world.api.delete(f"/orgs/acme/attestations/digest/{digest}", token=world.owner)
    ).status_code == 204
    assert (await world.api.get(url)).status_code == 404


async def test_pagination_walk_is_stable_across_inserts(world: World) -> None:
    digest = random_digest()
    created = [await world.attest(digests=[digest]) for _ in range(250)]
    seen: list[int] = []
    path: str | None = f"/orgs/acme/attestations/{digest}?per_page=100&predicate_type=provenance"
    pages = 0
    while path is not None:
        r = await world.api.get(path, version="2026-03-10")
        assert r.status_code == 200, r.text
        assert_conforms(r, "orgs/list-attestations")
        seen += [
            int(item["bundle_url"].split("/attestations/")[1].split("/")[0])
            for item in r.json()["attestations"]
        ]
        pages += 1
        # Newer attestations arrive while the client walks: they belong before the first page.
        await world.attest(digests=[digest])
        path = _next(r)
    assert pages == 3
    assert seen == sorted(created, reverse=True)


async def test_prev_link_walks_back(world: World) -> None:
    digest = random_digest()
    created = [await world.attest(digests=[digest]) for _ in range(5)]
    first = await world.api.get(f"/repos/acme/public/attestations/{digest}?per_page=2")
    assert _prev(first) is None
    second = await world.api.get(_next(first))
    third = await world.api.get(_next(second))
    assert _next(third) is None
    back = await world.api.get(_prev(third))
    ids = [
        int(item["bundle_url"].split("/attestations/")[1].split("/")[0])
        for item in back.json()["attestations"]
    ]
    assert ids == sorted(created, reverse=True)[2:4]


async def test_per_page_default_and_cap(world: World) -> None:
    digest = random_digest()
    for _ in range(31):
        await world.attest(digests=[digest])
    r = await world.api.get(f"/orgs/acme/attestations/{digest}")
    assert len(r.json()["attestations"]) == 30
    r = await world.api.get(f"/orgs/acme/attestations/{digest}?per_page=500")
    assert len(r.json()["attestations"]) == 31


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (None, {"slsa1", "slsa02", "spdx", "spdx23", "cdx", "release", "custom"}),
        ("provenance", {"slsa1", "slsa02"}),
        ("sbom", {"spdx", "spdx23", "cdx"}),
        ("release", {"release"}),
        ("https://example.com/custom/v1", {"custom"}),
        ("https://spdx.dev/Document/v2.3", {"spdx23"}),
        ("https://example.com/none", set()),
    ],
)
async def test_predicate_type_filters(world: World, filter_: str, expected: Any) -> None:
    digest = random_digest()
    kinds = {
        "slsa1": "https://slsa.dev/provenance/v1",
        "slsa02": "https://slsa.dev/provenance/v0.2",
        "spdx": "https://spdx.dev/Document",
        "spdx23": "https://spdx.dev/Document/v2.3",
        "cdx": "https://cyclonedx.org/bom",
        "release": "https://in-toto.io/attestation/release/v0.1",
        "custom": "https://example.com/custom/v1",
    }
    ids = {await world.attest(digests=[digest], predicate_type=uri): kind for kind, uri in kinds.items()}
    query = "" if filter_ is None else f"?predicate_type={filter_}"
    for path in (
        f"/orgs/acme/attestations/{digest}{query}",
        f"/repos/acme/public/attestations/{digest}{query}",
    ):
        r = await world.api.get(path)
        found = {
            ids[int(item["bundle_url"].split("/attestations/")[1].split("/")[0])]
            for item in r.json()["attestations"]
        }
        assert found == expected, path


async def test_malformed_digest_is_422(world: World) -> None:
    r = await world.api.get("/orgs/acme/attestations/not-a-digest")
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Attestation",
            "field": "subject_digest",
            "code": "invalid",
            "message": "subject_digest must be algorithm:hex, e.g. sha256:<64 hex digits>",
            "value": "not-a-digest",
        }
    ]


async def test_digest_lookup_ignores_case(world: World) -> None:
    digest = random_digest()
    await world.attest(digests=[digest])
    r = await world.api.get(f"/orgs/acme/attestations/{digest.upper()}")
    assert len(r.json()["attestations"]) == 1


async def _visible_repos(world: Any, digest: str, token: str | None, path: str = "/orgs/acme") -> list[int]:
    r = await world.api.get(f"{path}/attestations/{digest}", token=token)
    assert r.status_code == 200, r.text
    return sorted(item["repository_id"] for item in r.json()["attestations"])


async def test_owner_list_visibility(world: World) -> None:
    digest = random_digest()
    await world.attest("acme/public", digests=[digest])
    await world.attest("acme/private", digests=[digest])
    both = sorted([world.public_id, world.private_id])
    assert await _visible_repos(world, digest, None) == [world.public_id]
    assert await _visible_repos(world, digest, world.stranger) == [world.public_id]
    assert await _visible_repos(world, digest, world.reader) == both
    assert await _visible_repos(world, digest, world.owner) == both
    assert await _visible_repos(world, digest, world.owner, "/users/acme") == both
    with_read = await world.api.fine_grained("alice", owner="acme", permissions={"attestations": "read"})
    assert await _visible_repos(world, digest, with_read) == both
    other_permission = await world.api.fine_grained("alice", owner="acme", permissions={"contents": "read"})
    assert await _visible_repos(world, digest, other_permission) == [world.public_id]
    only_public = await world.api.fine_grained(
        "alice", owner="acme", permissions={"attestations": "read"}, repositories=["public"]
    )
    assert await _visible_repos(world, digest, only_public) == [world.public_id]


async def test_repository_list_visibility(world: World) -> None:
    digest = random_digest()
    await world.attest("acme/private", digests=[digest])
    path = f"/repos/acme/private/attestations/{digest}"
    for token in (None, world.stranger):
        r = await world.api.get(path, token=token)
        assert r.status_code == 404
        assert r.json()["message"] == "Not Found"
    r = await world.api.get(path, token=world.reader)
    assert r.status_code == 200
    assert_conforms(r, "repos/list-attestations")
    assert len(r.json()["attestations"]) == 1
    no_permission = await world.api.fine_grained("alice", owner="acme", permissions={"contents": "read"})
    r = await world.api.get(path, token=no_permission)
    assert r.status_code == 403
    assert (
        r.json()["message"]
        == "Resource not accessible by personal access token (requires attestations:read)."
    )


async def test_unknown_owner_is_404(world: World) -> None:
    r = await world.api.get(f"/users/nobody/attestations/{random_digest()}")
    assert r.status_code == 404
    assert_conforms(r, "users/list-attestations")


async def test_other_owners_attestations_are_not_listed(world: World) -> None:
    digest = random_digest()
    await world.api.repo("sam/tool")
    r = await world.api.post(
        "/repos/sam/tool/attestations", token=world.stranger, json={"bundle": bundle_for([digest])}
    )
    assert r.status_code == 201
    assert await _visible_repos(world, digest, world.owner) == []
    assert len(await _visible_repos(world, digest, None, "/users/sam")) == 1
