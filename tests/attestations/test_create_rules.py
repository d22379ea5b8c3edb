"""Creating attestations: who may, and bundles built here that break one rule each."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.attestations.bundles import bundle_for, envelope, random_digest, statement
from tests.attestations.conftest import World
from tests.spec import assert_conforms


def _error(field: str, code: str, message: str, value: Any = None) -> dict[str, Any]:
    error = {"resource": "Attestation", "field": field, "code": code, "message": message}
    if value is not None:
        error["value"] = value
    return error


async def _errors(world: Any, body: Any) -> list[dict[str, Any]]:
    r = await world.api.post("/repos/acme/public/attestations", token=world.owner, json=body)
    assert r.status_code == 422, r.text
    assert_conforms(r, "repos/create-attestation")
    assert r.json()["message"] == "Validation Failed"
    return list(r.json()["errors"])


def _with_statement(content: Any) -> dict[str, Any]:
    bundle = bundle_for()
    bundle["dsseEnvelope"] = envelope(json.dumps(content).encode())
    return bundle


async def test_statement_v01_and_other_media_types_are_accepted(world: World) -> None:
    digest = random_digest("sha512")
    for media_type in (
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
    ):
        await world.attest(
            digests=[digest], statement_type="https://in-toto.io/Statement/v0.1", media_type=media_type
        )
    r = await world.api.get(f"/repos/acme/public/attestations/{digest}", token=world.owner)
    assert len(r.json()["attestations"]) == 3


async def test_upper_case_digest_is_indexed_lower_case(world: World) -> None:
    digest = random_digest()
    value = digest.partition(":")[2]
    await world.attest(bundle=_with_statement(statement([f"SHA256:{value.upper()}"])))
    r = await world.api.get(f"/repos/acme/public/attestations/{digest}", token=world.owner)
    assert len(r.json()["attestations"]) == 1


async def test_bundle_must_be_an_object(world: World) -> None:
    assert await _errors(world, {"bundle": "text"}) == [
        _error("bundle", "invalid", "bundle: Expected `object`, got `str`")
    ]


async def test_bundle_is_required(world: World) -> None:
    assert await _errors(world, {}) == [_error("bundle", "missing_field", "bundle is missing")]


async def test_unknown_media_type(world: World) -> None:
    bundle = bundle_for(media_type="application/json")
    [error] = await _errors(world, {"bundle": bundle})
    assert (error["field"], error["code"], error["value"]) == (
        "bundle.mediaType",
        "invalid",
        "application/json",
    )


async def test_payload_must_be_base64(world: World) -> None:
    bundle = bundle_for()
    bundle["dsseEnvelope"]["payload"] = "not base64!"
    assert await _errors(world, {"bundle": bundle}) == [
        _error("bundle.dsseEnvelope.payload", "invalid", "bundle.dsseEnvelope.payload must be base64")
    ]


async def test_payload_must_be_json(world: World) -> None:
    bundle = bundle_for()
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(b"hello").decode()
    assert await _errors(world, {"bundle": bundle}) == [
        _error(
            "bundle.dsseEnvelope.payload",
            "invalid",
            "bundle.dsseEnvelope.payload must be a JSON in-toto statement",
        )
    ]


async def test_statement_type_is_checked(world: World) -> None:
    content = statement([random_digest()], statement_type="https://example.com/Statement")
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload._type",
            "invalid",
            "bundle.dsseEnvelope.payload._type must be https://in-toto.io/Statement/v0.1 or "
            "https://in-toto.io/Statement/v1",
            "https://example.com/Statement",
        )
    ]


async def test_statement_needs_a_subject(world: World) -> None:
    content = statement([random_digest()])
    content["subject"] = []
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload.subject",
            "missing_field",
            "bundle.dsseEnvelope.payload.subject must name at least one subject",
        )
    ]


async def test_subject_needs_a_digest(world: World) -> None:
    content = statement([random_digest()])
    content["subject"][0]["digest"] = {}
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload.subject[0].digest",
            "missing_field",
            "bundle.dsseEnvelope.payload.subject[0].digest must hold at least one digest",
        )
    ]


async def test_sha256_digest_must_be_64_hex(world: World) -> None:
    content = statement(["sha256:abc"])
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload.subject[0].digest.sha256",
            "invalid",
            "bundle.dsseEnvelope.payload.subject[0].digest.sha256 is not a valid digest",
            "abc",
        )
    ]


async def test_digest_values_must_be_strings(world: World) -> None:
    content = statement([random_digest()])
    content["subject"][0]["digest"] = {"sha256": 5}
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload.subject[0].digest.sha256",
            "invalid",
            "bundle.dsseEnvelope.payload.subject[0].digest.sha256 is not a valid digest",
            5,
        )
    ]


async def test_envelope_needs_signatures(world: World) -> None:
    bundle = bundle_for()
    bundle["dsseEnvelope"]["signatures"] = []
    assert await _errors(world, {"bundle": bundle}) == [
        _error(
            "bundle.dsseEnvelope.signatures",
            "missing_field",
            "bundle.dsseEnvelope.signatures must hold at least one signature",
        )
    ]


async def test_predicate_type_is_required(world: World) -> None:
    content = statement([random_digest()])
    del content["predicateType"]
    assert await _errors(world, {"bundle": _with_statement(content)}) == [
        _error(
            "bundle.dsseEnvelope.payload.predicateType",
            "missing_field",
            "bundle.dsseEnvelope.payload.predicateType is missing",
        )
    ]


async def test_bad_json_is_400(world: World) -> None:
    r = await world.api.post(
        "/repos/acme/public/attestations",
        token=world.owner,
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Problems parsing JSON"


async def test_anonymous_cannot_create(world: World) -> None:
    r = await world.api.post("/repos/acme/public/attestations", json={"bundle": bundle_for()})
    assert r.status_code == 401
    assert r.json()["message"] == "Requires authentication"


async def test_reader_cannot_create(world: World) -> None:
    r = await world.api.post(
        "/repos/acme/private/attestations", token=world.reader, json={"bundle": bundle_for()}
    )
    assert r.status_code == 403
    assert_conforms(r, "repos/create-attestation")
    assert r.json()["message"] == "Must have write access to repository acme/private."


async def test_stranger_does_not_see_private_repository(world: World) -> None:
    r = await world.api.post(
        "/repos/acme/private/attestations", token=world.stranger, json={"bundle": bundle_for()}
    )
    assert r.status_code == 404
    assert r.json()["message"] == "Not Found"


@pytest.mark.parametrize(
    ("permissions", "status"), [({"attestations": "read"}, 403), ({"attestations": "write"}, 201)]
)
async def test_fine_grained_token_needs_attestations_write(
    world: World, permissions: dict[str, str], status: int
) -> None:
    token = await world.api.fine_grained("alice", owner="acme", permissions=permissions)
    r = await world.api.post("/repos/acme/private/attestations", token=token, json={"bundle": bundle_for()})
    assert r.status_code == status, r.text
    assert_conforms(r, "repos/create-attestation")
    if status == 403:
        assert r.json()["message"] == (
            "Resource not accessible by personal access token (requires attestations:write)."
        )
