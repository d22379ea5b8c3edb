"""Bundles signed in the test by a CA and timestamp authority of our own (``testkit.sigstore``)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from testkit.sigstore import DEFAULT_SIGNED_AT, SigstoreDouble

from waybill.attestations.verification import IdentityPolicy, Step, TimeSource, TrustRoot, TrustRoots, verify

REPO = "https://github.com/octo-org/app"
WORKFLOW = "https://github.com/octo-org/builder/.github/workflows/build.yml"


@pytest.fixture(scope="module")
def instance() -> SigstoreDouble:
    return SigstoreDouble()


@pytest.fixture(scope="module")
def roots(instance: SigstoreDouble) -> TrustRoots:
    return instance.trust_roots()


def test_a_timestamped_bundle_verifies_with_its_identity(instance: SigstoreDouble, roots: TrustRoots) -> None:
    verdict = verify(json.dumps(instance.bundle()).encode(), roots)
    assert verdict.verified, verdict.reason
    assert verdict.failed_step is None
    assert verdict.trust_root == "test-instance"
    assert verdict.time_source is TimeSource.RFC3161
    assert verdict.signed_at == DEFAULT_SIGNED_AT
    assert verdict.identity is not None
    assert verdict.identity.source_repository_uri == REPO
    assert verdict.identity.build_signer_uri == f"{WORKFLOW}@refs/heads/main"
    assert verdict.identity.issuer == "https://token.actions.githubusercontent.com"
    assert verdict.identity.runner_environment == "github-hosted"


def test_signed_before_the_certificate_was_valid(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle(valid_from=DEFAULT_SIGNED_AT + timedelta(seconds=1))
    verdict = verify(bundle, roots)
    assert not verdict.verified
    assert verdict.failed_step is Step.VALIDITY
    assert verdict.reason == (
        "certificate validity at signing time: signed at 2025-06-01T12:00:00+00:00 (RFC 3161 timestamp), "
        "outside the certificate's validity 2025-06-01T12:00:01+00:00 to 2025-06-01T12:10:01+00:00"
    )


def test_signed_after_the_certificate_expired(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle(valid_from=DEFAULT_SIGNED_AT - timedelta(minutes=11))
    verdict = verify(bundle, roots)
    assert verdict.failed_step is Step.VALIDITY
    assert verdict.reason == (
        "certificate validity at signing time: signed at 2025-06-01T12:00:00+00:00 (RFC 3161 timestamp), "
        "outside the certificate's validity 2025-06-01T11:49:00+00:00 to 2025-06-01T11:59:00+00:00"
    )


def test_signed_on_the_last_second_of_validity(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle(valid_from=DEFAULT_SIGNED_AT - timedelta(minutes=10))
    assert verify(bundle, roots).verified


def test_policy_that_matches(instance: SigstoreDouble, roots: TrustRoots) -> None:
    policy = IdentityPolicy(
        source_repository="https://github.com/Octo-Org/App",
        signer_workflows=(WORKFLOW,),
        issuer="https://token.actions.githubusercontent.com",
    )
    assert verify(instance.bundle(), roots, policy=policy).verified


def test_wrong_source_repository(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle(identity={"source_repository_uri": "https://github.com/mallory/app"})
    verdict = verify(bundle, roots, policy=IdentityPolicy(source_repository=REPO))
    assert not verdict.verified
    assert verdict.failed_step is Step.IDENTITY
    assert verdict.reason == (
        "identity: source repository is https://github.com/mallory/app, expected https://github.com/octo-org/app"
    )
    # The cryptographic checks passed: the time is known.
    assert verdict.time_source is TimeSource.RFC3161


def test_wrong_issuer(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle(identity={"issuer": "https://accounts.example.com"})
    verdict = verify(
        bundle, roots, policy=IdentityPolicy(issuer="https://token.actions.githubusercontent.com")
    )
    assert verdict.failed_step is Step.IDENTITY
    assert verdict.reason == (
        "identity: OIDC issuer is https://accounts.example.com, expected https://token.actions.githubusercontent.com"
    )


def test_signer_workflow_outside_the_allowed_list(instance: SigstoreDouble, roots: TrustRoots) -> None:
    signer = "https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main"
    bundle = instance.bundle(identity={"build_signer_uri": signer})
    verdict = verify(bundle, roots, policy=IdentityPolicy(signer_workflows=(WORKFLOW,)))
    assert verdict.failed_step is Step.IDENTITY
    assert verdict.reason == f"identity: signer workflow {signer} is not one of the allowed workflows"


def test_allowed_workflow_pinned_to_another_ref(instance: SigstoreDouble, roots: TrustRoots) -> None:
    verdict = verify(
        instance.bundle(), roots, policy=IdentityPolicy(signer_workflows=(f"{WORKFLOW}@refs/tags/v1",))
    )
    assert verdict.failed_step is Step.IDENTITY


def test_bundle_of_another_instance_fails_on_its_timestamp(
    instance: SigstoreDouble, roots: TrustRoots
) -> None:
    other = SigstoreDouble(name="other")
    verdict = verify(other.bundle(), roots)
    assert verdict.failed_step is Step.TIMESTAMP
    assert verdict.reason is not None
    assert verdict.reason.startswith(
        "timestamp: not a valid timestamp over the signature from a timestamp authority of trust root "
        "test-instance"
    )


def test_certificate_from_a_ca_outside_the_root(instance: SigstoreDouble) -> None:
    other = SigstoreDouble(name="other")
    # The other instance's timestamps are trusted, its CA is not.
    document = instance.trusted_root()
    document["timestampAuthorities"] = other.trusted_root()["timestampAuthorities"]
    roots = TrustRoots([TrustRoot.from_json("mixed", json.dumps(document))])
    verdict = verify(other.bundle(), roots)
    assert verdict.failed_step is Step.CHAIN
    assert verdict.reason is not None
    assert verdict.reason.startswith(
        "certificate chain: does not chain to a certificate authority of trust root mixed"
    )


def test_ca_not_yet_valid_at_signing_time(instance: SigstoreDouble) -> None:
    document = instance.trusted_root()
    document["certificateAuthorities"][0]["validFor"] = {"start": "2025-07-01T00:00:00Z"}
    roots = TrustRoots([TrustRoot.from_json("late", json.dumps(document))])
    verdict = verify(instance.bundle(), roots)
    assert verdict.failed_step is Step.CHAIN
    assert verdict.reason == (
        "certificate chain: no certificate authority of trust root late was valid at "
        "2025-06-01T12:00:00+00:00"
    )


def test_timestamp_outside_the_authority_validity(instance: SigstoreDouble) -> None:
    document = instance.trusted_root()
    document["timestampAuthorities"][0]["validFor"] = {
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-05-01T00:00:00Z",
    }
    roots = TrustRoots([TrustRoot.from_json("expired-tsa", json.dumps(document))])
    verdict = verify(instance.bundle(), roots)
    assert verdict.failed_step is Step.TIMESTAMP
    assert verdict.reason == (
        "timestamp: not a valid timestamp over the signature from a timestamp authority of trust root "
        "expired-tsa (generated at 2025-06-01T12:00:00+00:00, outside the authority's validity)"
    )


def test_no_trusted_time(instance: SigstoreDouble, roots: TrustRoots) -> None:
    bundle = instance.bundle()
    bundle["verificationMaterial"]["timestampVerificationData"] = {"rfc3161Timestamps": []}
    verdict = verify(bundle, roots)
    assert verdict.failed_step is Step.TRUSTED_TIME
    assert verdict.reason == (
        "trusted time: no transparency log entry with a signed entry timestamp and no RFC 3161 timestamp"
    )
