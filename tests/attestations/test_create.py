"""Storing bundles: every real bundle is accepted, the broken ones and what is not an attestation
are refused with a 422 naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cramjam
import pytest

from tests.harness import Harness
from tests.spec import assert_conforms

FIXTURES = "fixtures/attestations"

VALID = [
    (
        "cli/custom-issuer.sigstore.json",
        0,
        "sha256:afa27b44d43b02a9fea41d13cedc2e4016cfcf87c5dbf990e593669aa8ce286d",
    ),
    (
        "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
        0,
        "sha256:ae57936def59bc4c75edd3a837d89bcefc6d3a5e31d55a6fa7a71624f92c3c3b",
    ),
    (
        "cli/reusable-workflow-attestation.sigstore.json",
        0,
        "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25",
    ),
    (
        "cli/sigstore-js-2.1.0-bundle-v0.1.json",
        0,
        "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f",
    ),
    (
        "cli/sigstore-js-2.1.0-bundle.json",
        0,
        "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f",
    ),
    (
        "cli/sigstore-js-2.1.0_with_2_bundles.jsonl",
        0,
        "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f",
    ),
    (
        "cli/sigstore-js-2.1.0_with_2_bundles.jsonl",
        1,
        "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f",
    ),
    (
        "sigstore-rust/conda-attestation.sigstore.json",
        0,
        "sha256:54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
    ),
    (
        "sigstore-rust/conda-attestation-rekor2.sigstore.json",
        0,
        "sha256:54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f",
    ),
    (
        "sigstore-rust/github-private-attestation.sigstore.json",
        0,
        "sha1:43d0bd191f16d1fe3484a4b58aa69118f7692442",
    ),
    (
        "sigstore-rust/sigstore.js@2.0.0-provenance.sigstore.json",
        0,
        "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
    ),
]


def load(shared_dir: Path, name: str, line: int = 0) -> bytes:
    """The bundle's bytes exactly as in the file (one line of a ``.jsonl``)."""
    data = (shared_dir / FIXTURES / name).read_bytes()
    if name.endswith(".jsonl"):
        return [raw for raw in data.splitlines() if raw.strip()][line]
    return data.strip()


def body_of(bundle: bytes) -> bytes:
    return b'{"bundle": ' + bundle + b"}"


@pytest.fixture
async def writer(api: Any) -> str:
    await api.user("alice")
    await api.org("acme", owner="alice")
    await api.repo("acme/web")
    return str(await api.token("alice"))


async def post_raw(api: Any, token: str, raw: bytes, repo: str = "acme/web") -> Any:
    return await api.post(
        f"/repos/{repo}/attestations", token=token, content=raw, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize(("name", "line", "digest"), VALID)
async def test_real_bundle_is_stored_and_served_unchanged(
    api: Harness, writer: str, shared_dir: Path, name: str, line: int, digest: str
) -> None:
    raw = load(shared_dir, name, line)
    r = await post_raw(api, writer, body_of(raw))
    assert r.status_code == 201, r.text
    assert_conforms(r, "repos/create-attestation")
    attestation_id = r.json()["id"]

    listed = await api.get(f"/repos/acme/web/attestations/{digest}", token=writer)
    assert listed.status_code == 200, listed.text
    assert_conforms(listed, "repos/list-attestations")
    [item] = listed.json()["attestations"]
    assert item["bundle"] == json.loads(raw)
    assert item["initiator"] == "user"
    fetched = await api.get(item["bundle_url"].removeprefix("http://waybill.test"))
    assert fetched.status_code == 200
    assert bytes(cramjam.snappy.decompress_raw(fetched.content)) == raw
    assert f"/waybill/attestations/{attestation_id}/bundle?" in item["bundle_url"]


async def test_github_release_attestation_indexes_every_subject(
    api: Harness, writer: str, shared_dir: Path
) -> None:
    r = await post_raw(
        api, writer, body_of(load(shared_dir, "sigstore-rust/github-private-attestation.sigstore.json"))
    )
    assert r.status_code == 201, r.text
    for digest in (
        "sha1:43d0bd191f16d1fe3484a4b58aa69118f7692442",
        "sha256:76f1fe8593bf227cca2c089e3c16dc95014a8d3e89c5dd220530469ca043c428",
        "sha256:827415b1df71c418ec467512c02a014b6ff3197f16ec723b8f624044ceff1dc0",
    ):
        listed = await api.get(f"/repos/acme/web/attestations/{digest}", token=writer)
        assert [a["repository_id"] for a in listed.json()["attestations"]] == [1], digest


async def test_same_bundle_twice_is_one_attestation(api: Harness, writer: str, shared_dir: Path) -> None:
    raw = load(shared_dir, "cli/reusable-workflow-attestation.sigstore.json")
    first = await post_raw(api, writer, body_of(raw))
    # Same bundle, other whitespace and key order: still the same attestation.
    reordered = json.dumps(dict(reversed(list(json.loads(raw).items()))), indent=2).encode()
    second = await post_raw(api, writer, body_of(reordered))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    listed = await api.get(
        "/repos/acme/web/attestations/sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25",
        token=writer,
    )
    assert len(listed.json()["attestations"]) == 1


def _error(field: str, code: str, message: str, value: Any = None) -> dict[str, Any]:
    error = {"resource": "Attestation", "field": field, "code": code, "message": message}
    if value is not None:
        error["value"] = value
    return error


async def _refused(api: Any, token: str, raw: bytes) -> list[dict[str, Any]]:
    r = await post_raw(api, token, raw)
    assert r.status_code == 422, r.text
    assert_conforms(r, "repos/create-attestation")
    body = r.json()
    assert body["message"] == "Validation Failed"
    return list(body["errors"])


async def test_bundle_without_verification_material_is_refused(
    api: Harness, writer: str, shared_dir: Path
) -> None:
    raw = load(
        shared_dir,
        "cli/github_provenance_demo-0.0.12-py3-none-any-bundle-missing-verification-material.jsonl",
    )
    assert await _refused(api, writer, body_of(raw)) == [
        _error("bundle.verificationMaterial", "missing_field", "bundle.verificationMaterial is missing")
    ]


async def test_bundle_without_certificate_is_refused(api: Harness, writer: str, shared_dir: Path) -> None:
    raw = load(shared_dir, "cli/github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl")
    assert await _refused(api, writer, body_of(raw)) == [
        _error(
            "bundle.verificationMaterial.certificate",
            "missing_field",
            "bundle.verificationMaterial must carry the signing certificate (certificate, or "
            "x509CertificateChain before bundle v0.3)",
        ),
        _error("bundle.dsseEnvelope", "missing_field", "bundle.dsseEnvelope is missing"),
    ]


async def test_message_signature_bundle_is_not_an_attestation(
    api: Harness, writer: str, shared_dir: Path
) -> None:
    raw = load(shared_dir, "sigstore-rust/bundle_v3_github.whl.sigstore")
    assert await _refused(api, writer, body_of(raw)) == [
        _error(
            "bundle.dsseEnvelope",
            "missing_field",
            "bundle.dsseEnvelope is missing: this bundle holds a messageSignature over a blob, "
            "not an attestation (a DSSE envelope with an in-toto statement)",
        )
    ]


async def test_envelope_of_plain_text_is_refused(api: Harness, writer: str, shared_dir: Path) -> None:
    raw = load(shared_dir, "cli/sigstoreBundle-invalid-signature.json")
    assert await _refused(api, writer, body_of(raw)) == [
        _error(
            "bundle.dsseEnvelope.payloadType",
            "invalid",
            "bundle.dsseEnvelope.payloadType must be application/vnd.in-toto+json: an attestation is an "
            "in-toto statement",
            "text/plain",
        )
    ]
