"""Real bundles (shared fixtures), each with the verdict ``gh attestation verify`` gives it offline with
the matching trust root, and tampered copies of them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from waybill.attestations.verification import (
    GITHUB,
    PUBLIC_GOOD,
    ContentKind,
    Step,
    TimeSource,
    TrustRoots,
    verify,
)

pytestmark = pytest.mark.shared

BUILTIN = TrustRoots.builtin()


def _bundles(shared_dir: Path, name: str) -> list[bytes]:
    raw = (shared_dir / "fixtures" / "attestations" / name).read_bytes()
    if name.endswith(".jsonl"):
        return [line for line in raw.splitlines() if line.strip()]
    return [raw]


def _bundle(shared_dir: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_bundles(shared_dir, name)[0])
    return document


VALID = [
    # file, trust root, time source
    ("cli/reusable-workflow-attestation.sigstore.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("cli/custom-issuer.sigstore.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("cli/sigstore-js-2.1.0-bundle.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("cli/sigstore-js-2.1.0-bundle-v0.1.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("cli/sigstore-js-2.1.0_with_2_bundles.jsonl", PUBLIC_GOOD, TimeSource.TLOG),
    ("sigstore-rust/sigstore.js@2.0.0-provenance.sigstore.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("sigstore-rust/conda-attestation.sigstore.json", PUBLIC_GOOD, TimeSource.TLOG),
    ("sigstore-rust/bundle_v3_github.whl.sigstore", PUBLIC_GOOD, TimeSource.TLOG),
    ("cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", GITHUB, TimeSource.RFC3161),
    ("sigstore-rust/github-private-attestation.sigstore.json", GITHUB, TimeSource.RFC3161),
]


@pytest.mark.parametrize(("name", "root", "source"), VALID)
def test_valid_bundle_verifies_with_its_root(
    shared_dir: Path, name: str, root: str, source: TimeSource
) -> None:
    for bundle in _bundles(shared_dir, name):
        verdict = verify(bundle, BUILTIN.only(root))
        assert verdict.verified, verdict.reason
        assert verdict.trust_root == root
        assert verdict.time_source is source
        # Against both shipped roots, the matching one is found.
        assert verify(bundle, BUILTIN).trust_root == root


@pytest.mark.parametrize(
    "name",
    [
        "cli/sigstore-js-2.1.0-bundle.json",
        "sigstore-rust/sigstore.js@2.0.0-provenance.sigstore.json",
    ],
)
def test_rekor_intoto_entries_give_their_integrated_time(shared_dir: Path, name: str) -> None:
    verdict = verify(_bundles(shared_dir, name)[0], BUILTIN)
    assert [(e.kind, e.version, e.log_url) for e in verdict.log_entries] == [
        ("intoto", "0.0.2", "https://rekor.sigstore.dev")
    ]
    assert verdict.times[0].authority == "https://rekor.sigstore.dev"


def test_identity_of_a_reusable_workflow_attestation(shared_dir: Path) -> None:
    verdict = verify(_bundles(shared_dir, "cli/reusable-workflow-attestation.sigstore.json")[0], BUILTIN)
    assert verdict.identity is not None
    assert verdict.identity.san == (
        "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml"
        "@09b495c3f12c7881b3cc17209a327792065c1a1d"
    )
    assert verdict.identity.issuer == "https://token.actions.githubusercontent.com"
    assert verdict.content is ContentKind.DSSE
    assert verdict.payload_type == "application/vnd.in-toto+json"


def test_identity_of_a_github_instance_attestation(shared_dir: Path) -> None:
    name = "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"
    verdict = verify(_bundles(shared_dir, name)[0], BUILTIN)
    assert verdict.identity is not None
    assert verdict.identity.as_dict() == {
        "san": "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
        "issuer": "https://token.actions.githubusercontent.com",
        "build_signer_uri": "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
        "build_signer_digest": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
        "runner_environment": "github-hosted",
        "source_repository_uri": "https://github.com/actions/attest-demo",
        "source_repository_digest": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
        "source_repository_ref": "refs/heads/main",
        "source_repository_identifier": "763287532",
        "source_repository_owner_uri": "https://github.com/actions",
        "source_repository_owner_identifier": "44036562",
        "build_config_uri": "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
        "build_config_digest": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
        "build_trigger": "workflow_dispatch",
        "run_invocation_uri": "https://github.com/actions/attest-demo/actions/runs/8788389601/attempts/1",
        "source_repository_visibility_at_signing": "private",
        "github_workflow_trigger": "workflow_dispatch",
        "github_workflow_sha": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
        "github_workflow_name": "Build package and publish to PyPI",
        "github_workflow_repository": "actions/attest-demo",
        "github_workflow_ref": "refs/heads/main",
    }


def test_custom_issuer_is_reported(shared_dir: Path) -> None:
    verdict = verify(_bundles(shared_dir, "cli/custom-issuer.sigstore.json")[0], BUILTIN)
    assert verdict.identity is not None
    assert verdict.identity.issuer == "https://token.actions.githubusercontent.com/hammer-time"


def test_invalid_signature_fixture(shared_dir: Path) -> None:
    verdict = verify(_bundles(shared_dir, "cli/sigstoreBundle-invalid-signature.json")[0], BUILTIN)
    assert not verdict.verified
    assert verdict.failed_step is Step.SIGNATURE
    assert verdict.reason == "signature: does not verify with the signing certificate's key"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "cli/github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl",
            "bundle: not a Sigstore bundle (verificationMaterial.publicKey.hint: Field required)",
        ),
        (
            "cli/github_provenance_demo-0.0.12-py3-none-any-bundle-missing-verification-material.jsonl",
            "bundle: not a Sigstore bundle (verificationMaterial: Field required)",
        ),
    ],
)
def test_broken_bundles(shared_dir: Path, name: str, reason: str) -> None:
    verdict = verify(_bundles(shared_dir, name)[0], BUILTIN)
    assert (verdict.verified, verdict.failed_step, verdict.reason) == (False, Step.BUNDLE, reason)


def test_rekor_v2_entry_of_a_log_outside_the_public_good_root(shared_dir: Path) -> None:
    # This bundle's entry is in a Rekor v2 log that the public-good root does not list (its checkpoint
    # is signed by a staging log), so no shipped root can establish its inclusion.
    verdict = verify(_bundles(shared_dir, "sigstore-rust/conda-attestation-rekor2.sigstore.json")[0], BUILTIN)
    assert verdict.failed_step is Step.TLOG_INCLUSION
    assert verdict.reason == (
        "transparency log inclusion: log 09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY= "
        "is not a log of trust root public-good"
    )


# Tampering: one byte changed in the payload, the signature or the certificate.


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def _tamper_payload(bundle: dict[str, Any]) -> None:
    envelope = bundle["dsseEnvelope"]
    envelope["payload"] = base64.b64encode(_flip(base64.b64decode(envelope["payload"]), 20)).decode()


def _tamper_signature(bundle: dict[str, Any]) -> None:
    signature = bundle["dsseEnvelope"]["signatures"][0]
    signature["sig"] = base64.b64encode(_flip(base64.b64decode(signature["sig"]), 10)).decode()


def _tamper_certificate(bundle: dict[str, Any]) -> None:
    # The last byte belongs to the CA's signature over the certificate: the key stays intact.
    holder = bundle["verificationMaterial"]["certificate"]
    raw = base64.b64decode(holder["rawBytes"])
    holder["rawBytes"] = base64.b64encode(_flip(raw, len(raw) - 1)).decode()


TAMPERED_BUNDLES = [
    "cli/reusable-workflow-attestation.sigstore.json",
    "cli/sigstore-js-2.1.0-bundle.json",
    "sigstore-rust/conda-attestation.sigstore.json",
    "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
    "sigstore-rust/github-private-attestation.sigstore.json",
]


@pytest.mark.parametrize("name", TAMPERED_BUNDLES)
@pytest.mark.parametrize(
    ("tamper", "step"),
    [
        (_tamper_payload, Step.SIGNATURE),
        (_tamper_signature, Step.SIGNATURE),
        (_tamper_certificate, Step.CHAIN),
    ],
)
def test_tampered_copy_fails_at_the_step_it_breaks(
    shared_dir: Path, name: str, tamper: Any, step: Step
) -> None:
    bundle = _bundle(shared_dir, name)
    tamper(bundle)
    verdict = verify(bundle, BUILTIN)
    assert not verdict.verified
    assert verdict.failed_step is step
    assert verdict.reason is not None
    assert verdict.reason.startswith(f"{step.value}: ")


def test_log_entry_that_records_another_payload(shared_dir: Path) -> None:
    other = _bundle(shared_dir, "sigstore-rust/conda-attestation.sigstore.json")
    bundle = _bundle(shared_dir, "cli/reusable-workflow-attestation.sigstore.json")
    bundle["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    verdict = verify(bundle, BUILTIN)
    # The entry is genuinely in the log, but was integrated long after this certificate expired.
    assert verdict.failed_step is Step.VALIDITY
    assert verdict.reason is not None
    assert verdict.reason.startswith(
        "certificate validity at signing time: signed at 2025-09-01T12:13:59+00:00 "
        "(transparency log integrated time)"
    )


@pytest.mark.parametrize(
    ("name", "root", "step"),
    [
        ("cli/reusable-workflow-attestation.sigstore.json", GITHUB, Step.TLOG_INCLUSION),
        ("cli/sigstore-js-2.1.0-bundle.json", GITHUB, Step.TLOG_INCLUSION),
        ("cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", PUBLIC_GOOD, Step.TIMESTAMP),
        ("sigstore-rust/github-private-attestation.sigstore.json", PUBLIC_GOOD, Step.TIMESTAMP),
    ],
)
def test_wrong_root(shared_dir: Path, name: str, root: str, step: Step) -> None:
    verdict = verify(_bundles(shared_dir, name)[0], BUILTIN.only(root))
    assert not verdict.verified
    assert verdict.failed_step is step
    assert verdict.trust_root == root


def test_older_public_good_root_without_timestamp_authorities(shared_dir: Path) -> None:
    roots = TrustRoots.from_path(shared_dir / "fixtures" / "attestations" / "cli" / "trusted_root.json")
    name = "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"
    verdict = verify(_bundles(shared_dir, name)[0], roots)
    assert verdict.reason == "timestamp: trust root trusted_root has no timestamp authority"
    assert verify(_bundles(shared_dir, "cli/reusable-workflow-attestation.sigstore.json")[0], roots).verified
