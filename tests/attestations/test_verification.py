"""Verification on upload, policies (off, record, enforce), the verification endpoints and the
``verified`` filter, with bundles from a test CA and TSA (``testkit.sigstore``) that the operator's
trust roots point at, and with the real bundles of the shared fixtures."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from testkit.sigstore import SigstoreDouble

from tests.attestations.test_create import body_of, load
from tests.harness import Harness, running
from tests.spec import assert_conforms
from waybill.accounts import service as accounts
from waybill.attestations import service
from waybill.config import Settings

INSTANCE = SigstoreDouble(name="test-instance")
WORKFLOW = "https://github.com/octo-org/builder/.github/workflows/build.yml"
SIGNER = f"{WORKFLOW}@refs/heads/main"
DIGEST = "sha256:" + "ab" * 32


def made(**kwargs: Any) -> dict[str, Any]:
    return INSTANCE.bundle(**kwargs)


def with_digest(digest_hex: str, **kwargs: Any) -> dict[str, Any]:
    payload = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app.tar.gz", "digest": {"sha256": digest_hex}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {},
        }
    ).encode()
    return INSTANCE.bundle(payload=payload, **kwargs)


def tampered_signature(bundle: dict[str, Any]) -> dict[str, Any]:
    signature = bundle["dsseEnvelope"]["signatures"][0]
    raw = bytearray(base64.b64decode(signature["sig"]))
    raw[10] ^= 1
    signature["sig"] = base64.b64encode(bytes(raw)).decode()
    return bundle


def tampered_payload(bundle: dict[str, Any]) -> dict[str, Any]:
    # One byte of the subject digest: still an in-toto statement, no longer what was signed.
    envelope = bundle["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"]).replace(b"abab", b"abac", 1)
    envelope["payload"] = base64.b64encode(payload).decode()
    return bundle


@pytest.fixture
def roots_dir(tmp_path: Path) -> Path:
    roots = tmp_path / "roots"
    roots.mkdir()
    (roots / "test-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    return roots


@pytest.fixture
async def vapi(settings: Settings, backend: str, roots_dir: Path) -> AsyncIterator[Harness]:
    async with running(replace(settings, trust_roots=roots_dir), backend) as harness:
        yield harness


class World:
    def __init__(self, api: Harness, owner: str, admin: str, stranger: str) -> None:
        self.api, self.owner, self.admin, self.stranger = api, owner, admin, stranger

    async def post(self, bundle: Any, repo: str = "octo-org/app") -> Any:
        return await self.api.post(f"/repos/{repo}/attestations", token=self.owner, json={"bundle": bundle})

    async def attest(self, bundle: Any, repo: str = "octo-org/app") -> int:
        """Post and let the queued verification run, as the server's worker would within a second."""
        r = await self.post(bundle, repo)
        assert r.status_code == 201, r.text
        await self.settle()
        return int(r.json()["id"])

    async def settle(self) -> int:
        """Run every queued job; how many ran."""
        return await self.api.app.worker.run_until_idle()

    async def verification(self, attestation_id: int, repo: str = "octo-org/app") -> dict[str, Any]:
        r = await self.api.get(
            f"/waybill/repos/{repo}/attestations/{attestation_id}/verification", token=self.owner
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def policy(self, target: str, mode: str, workflows: list[str] | None = None) -> Any:
        path = (
            f"/waybill/repos/{target}/attestation-policy"
            if "/" in target
            else f"/waybill/orgs/{target}/attestation-policy"
        )
        r = await self.api.request(
            "PUT", path, token=self.admin, json={"mode": mode, "allowed_workflows": workflows or []}
        )
        assert r.status_code == 200, r.text
        return r.json()


async def _world(api: Harness) -> World:
    await api.user("olga")
    await api.user("root", site_admin=True)
    await api.user("sam")
    await api.org("octo-org", owner="olga")
    await api.repo("octo-org/app")
    await api.repo("octo-org/secret", private=True)
    return World(
        api,
        owner=await api.token("olga"),
        admin=await api.token("root", "site_admin,repo"),
        stranger=await api.token("sam"),
    )


@pytest.fixture
async def world(vapi: Harness) -> World:
    return await _world(vapi)


def refusal(field: str, message: str) -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "errors": [{"resource": "Attestation", "field": field, "code": "invalid", "message": message}],
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
    }


# Record (the default).


async def test_record_stores_the_verdict_and_identity(world: World) -> None:
    attestation_id = await world.attest(made())
    body = await world.verification(attestation_id)
    assert body.pop("checked_at").endswith("Z")
    assert body.pop("created_at").endswith("Z")
    assert body == {
        "attestation_id": attestation_id,
        "repository_id": 1,
        "predicate_type": "https://slsa.dev/provenance/v1",
        "status": "verified",
        "verified": True,
        "cryptographically_verified": True,
        "failed_step": None,
        "reason": None,
        "trust_root": "test-instance",
        "time_source": "RFC 3161 timestamp",
        "signed_at": "2025-06-01T12:00:00Z",
        "signer": {
            "san": SIGNER,
            "issuer": "https://token.actions.githubusercontent.com",
            "build_signer_uri": SIGNER,
            "build_signer_digest": "a6c23b9806c593664f68637c8f9d45dfcf98b2db",
            "runner_environment": "github-hosted",
            "source_repository_uri": "https://github.com/octo-org/app",
            "source_repository_digest": "0123456789abcdef0123456789abcdef01234567",
            "source_repository_ref": "refs/heads/main",
        },
        "times": [
            {
                "source": "RFC 3161 timestamp",
                "time": "2025-06-01T12:00:00+00:00",
                "authority": "CN=test-instance tsa,O=Waybill tests",
            }
        ],
        "log_entries": [],
    }


async def test_record_stores_a_failure_and_accepts(world: World) -> None:
    r = await world.post(tampered_signature(made()))
    assert r.status_code == 201, r.text
    assert_conforms(r, "repos/create-attestation")
    await world.settle()
    body = await world.verification(r.json()["id"])
    assert (body["status"], body["verified"], body["failed_step"], body["reason"]) == (
        "failed",
        False,
        "signature",
        "signature: does not verify with the signing certificate's key",
    )
    assert body["cryptographically_verified"] is False


async def test_record_stores_a_signer_of_another_repository_as_an_identity_failure(world: World) -> None:
    attestation_id = await world.attest(
        made(identity={"source_repository_uri": "https://github.com/mallory/app"})
    )
    body = await world.verification(attestation_id)
    assert (body["status"], body["failed_step"], body["reason"]) == (
        "failed",
        "identity",
        "identity: source repository https://github.com/mallory/app is not octo-org/app, "
        "the repository it is posted to",
    )
    # The signature, chain and timestamp did verify.
    assert (body["cryptographically_verified"], body["trust_root"]) == (True, "test-instance")


async def test_off_stores_no_verdict(world: World) -> None:
    await world.policy("octo-org", "off")
    attestation_id = await world.attest(tampered_signature(made()))
    body = await world.verification(attestation_id)
    assert body["status"] == "unchecked"
    assert body["verified"] is None
    assert body["signer"] is None
    assert body["checked_at"] is None


# Enforce.


async def test_enforce_refuses_a_tampered_payload_naming_the_step(world: World) -> None:
    await world.policy("octo-org", "enforce")
    r = await world.post(tampered_payload(made()))
    assert r.status_code == 422
    assert_conforms(r, "repos/create-attestation")
    assert r.json() == refusal(
        "bundle",
        "bundle does not verify (failed step: signature): does not verify with the signing certificate's key",
    )


async def test_enforce_refuses_a_bundle_of_another_ca(world: World) -> None:
    await world.policy("octo-org/app", "enforce")
    r = await world.post(SigstoreDouble(name="other").bundle())
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "bundle"
    assert error["message"].startswith(
        "bundle does not verify (failed step: timestamp): not a valid timestamp over the signature from a "
        "timestamp authority of trust root"
    )


async def test_enforce_refuses_a_bundle_of_another_source_repository(world: World) -> None:
    await world.policy("octo-org", "enforce")
    r = await world.post(made(identity={"source_repository_uri": "https://github.com/mallory/app"}))
    assert r.status_code == 422
    assert_conforms(r, "repos/create-attestation")
    assert r.json() == refusal(
        "bundle.verificationMaterial.certificate",
        "octo-org/app enforces verification: source repository https://github.com/mallory/app is not "
        "octo-org/app, the repository it is posted to",
    )


async def test_enforce_refuses_a_workflow_outside_the_allowed_list(world: World) -> None:
    release = "https://github.com/octo-org/builder/.github/workflows/release.yml"
    await world.policy("octo-org", "enforce", [release])
    r = await world.post(made())
    assert r.status_code == 422
    assert r.json() == refusal(
        "bundle.verificationMaterial.certificate",
        f"octo-org/app enforces verification: signer workflow {SIGNER} is not one of the allowed workflows",
    )


async def test_enforce_accepts_a_bundle_that_verifies_from_an_allowed_workflow(world: World) -> None:
    await world.policy("octo-org", "enforce", [WORKFLOW])
    r = await world.post(made())
    assert r.status_code == 201, r.text
    assert_conforms(r, "repos/create-attestation")
    assert (await world.verification(r.json()["id"]))["status"] == "verified"


async def test_repository_policy_replaces_the_owners(world: World) -> None:
    await world.api.repo("octo-org/lab")
    await world.policy("octo-org", "enforce")
    await world.policy("octo-org/lab", "record")
    lab = made(identity={"source_repository_uri": "https://github.com/octo-org/lab"})
    assert (await world.post(tampered_signature(lab), "octo-org/lab")).status_code == 201
    assert (await world.post(tampered_signature(made()))).status_code == 422


# Lists: the extension list and its verified filter; GitHub's list is unchanged.


async def test_verified_filter(world: World) -> None:
    good = await world.attest(made())
    bad = await world.attest(tampered_signature(made()))
    await world.policy("octo-org", "off")
    unchecked = await world.attest(made())

    async def ids(query: str, base: str = "/waybill/repos/octo-org/app") -> list[int]:
        r = await world.api.get(f"{base}/attestations/{DIGEST}{query}", token=world.owner)
        assert r.status_code == 200, r.text
        return [item["id"] for item in r.json()["attestations"]]

    assert await ids("?verified=true") == [good]
    assert await ids("?verified=false") == [unchecked, bad]
    assert await ids("") == [unchecked, bad, good]
    assert await ids("?verified=true&predicate_type=provenance") == [good]
    assert await ids("?verified=true&predicate_type=sbom") == []
    assert await ids("?verified=true", "/waybill/orgs/octo-org") == [good]

    r = await world.api.get(
        f"/waybill/repos/octo-org/app/attestations/{DIGEST}?verified=true", token=world.owner
    )
    [item] = r.json()["attestations"]
    assert item["verification"]["status"] == "verified"
    assert item["verification"]["signer"]["source_repository_uri"] == "https://github.com/octo-org/app"
    assert set(item) == {
        "id",
        "repository_id",
        "bundle_url",
        "initiator",
        "predicate_type",
        "created_at",
        "verification",
    }

    # GitHub's list keeps its shape.
    listed = await world.api.get(f"/repos/octo-org/app/attestations/{DIGEST}", token=world.owner)
    assert_conforms(listed, "repos/list-attestations")
    assert {key for item in listed.json()["attestations"] for key in item} == {
        "repository_id",
        "bundle_url",
        "initiator",
        "bundle",
    }


async def test_verified_filter_must_be_a_boolean(world: World) -> None:
    r = await world.api.get(
        f"/waybill/repos/octo-org/app/attestations/{DIGEST}?verified=yes", token=world.owner
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "Query",
            "field": "verified",
            "code": "invalid",
            "message": "verified must be true or false",
            "value": "yes",
        }
    ]


async def test_visibility_follows_the_github_lists(world: World) -> None:
    secret = made(identity={"source_repository_uri": "https://github.com/octo-org/secret"})
    attestation_id = await world.attest(secret, "octo-org/secret")
    path = f"/waybill/repos/octo-org/secret/attestations/{attestation_id}/verification"
    assert (await world.api.get(path, token=world.stranger)).status_code == 404
    assert (await world.api.get(path)).status_code == 404
    assert (await world.api.get(path, token=world.owner)).status_code == 200
    # Another repository's id is not found here.
    assert (
        await world.api.get(
            f"/waybill/repos/octo-org/app/attestations/{attestation_id}/verification", token=world.owner
        )
    ).status_code == 404
    r = await world.api.get(f"/waybill/orgs/octo-org/attestations/{DIGEST}", token=world.stranger)
    assert r.json() == {"attestations": []}
    r = await world.api.get(f"/waybill/orgs/octo-org/attestations/{DIGEST}", token=world.owner)
    assert [item["id"] for item in r.json()["attestations"]] == [attestation_id]


# Policies over HTTP (site administrators).


async def test_policy_endpoints(world: World) -> None:
    body = await world.policy("octo-org", "enforce", [WORKFLOW, WORKFLOW])
    assert body == {
        "scope": "octo-org",
        "scope_type": "owner",
        "own": {"mode": "enforce", "allowed_workflows": [WORKFLOW]},
        "effective": {"mode": "enforce", "allowed_workflows": [WORKFLOW], "source": "owner"},
    }
    r = await world.api.get("/waybill/repos/octo-org/app/attestation-policy", token=world.admin)
    assert r.json() == {
        "scope": "octo-org/app",
        "scope_type": "repository",
        "own": None,
        "effective": {"mode": "enforce", "allowed_workflows": [WORKFLOW], "source": "owner"},
    }
    r = await world.api.delete("/waybill/orgs/octo-org/attestation-policy", token=world.admin)
    assert r.json()["effective"] == {"mode": "record", "allowed_workflows": [], "source": "default"}


async def test_policy_endpoints_are_for_site_administrators(world: World) -> None:
    r = await world.api.request(
        "PUT", "/waybill/orgs/octo-org/attestation-policy", token=world.owner, json={"mode": "off"}
    )
    assert r.status_code == 404
    assert (await world.api.get("/waybill/orgs/octo-org/attestation-policy")).status_code == 401


async def test_policy_body_is_checked(world: World) -> None:
    r = await world.api.request(
        "PUT",
        "/waybill/orgs/octo-org/attestation-policy",
        token=world.admin,
        json={"mode": "enforce", "allowed_workflows": ["build.yml"]},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "resource": "AttestationPolicy",
            "field": "allowed_workflows",
            "code": "invalid",
            "message": "an allowed workflow is a URI such as "
            "https://github.com/OWNER/REPO/.github/workflows/FILE.yml, optionally with @REF",
            "value": "build.yml",
            "index": 0,
        }
    ]
    r = await world.api.request(
        "PUT", "/waybill/orgs/octo-org/attestation-policy", token=world.admin, json={"mode": "strict"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "mode"


# Provenance for artifact metadata: under enforce, only verified provenance names the repository.


async def test_provenance_under_enforce_counts_only_verified(world: World) -> None:
    failing = await world.attest(tampered_signature(with_digest("cd" * 32)))
    owner_id = (await world.api.tx(lambda c: accounts.get_account(c, "octo-org"))).id
    digest = "sha256:" + "cd" * 32

    async def provenance() -> Any:
        return await world.api.tx(lambda c: service.provenance_for(c, owner_id, [digest]))

    assert (await provenance())[digest].attestation_id == failing
    await world.policy("octo-org", "enforce")
    assert await provenance() == {}
    verified = await world.attest(with_digest("cd" * 32))
    assert (await provenance())[digest].attestation_id == verified


# Real bundles: each posted to its own source repository records the verdict of tests/verification.

REAL = [
    # file, line, repository, status, failed step, trust root, time source
    (
        "cli/custom-issuer.sigstore.json",
        0,
        "too-legit/attest",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "cli/reusable-workflow-attestation.sigstore.json",
        0,
        "malancas/attest-demo",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "cli/sigstore-js-2.1.0-bundle.json",
        0,
        "sigstore/sigstore-js",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "cli/sigstore-js-2.1.0-bundle-v0.1.json",
        0,
        "sigstore/sigstore-js",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "cli/sigstore-js-2.1.0_with_2_bundles.jsonl",
        1,
        "sigstore/sigstore-js",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "sigstore-rust/sigstore.js@2.0.0-provenance.sigstore.json",
        0,
        "sigstore/sigstore-js",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "sigstore-rust/conda-attestation.sigstore.json",
        0,
        "prefix-dev/sigstore-example",
        "verified",
        None,
        "public-good",
        "transparency log integrated time",
    ),
    (
        "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl",
        0,
        "actions/attest-demo",
        "verified",
        None,
        "github",
        "RFC 3161 timestamp",
    ),
    # Verifies against GitHub's root, but a release attestation signed by GitHub itself names no
    # source repository: it cannot vouch for a repository.
    (
        "sigstore-rust/github-private-attestation.sigstore.json",
        0,
        "actions/attest-demo",
        "failed",
        "identity",
        "github",
        "RFC 3161 timestamp",
    ),
    # Its log entry is in a Rekor v2 log that no shipped root lists.
    (
        "sigstore-rust/conda-attestation-rekor2.sigstore.json",
        0,
        "prefix-dev/sigstore-example",
        "failed",
        "transparency log inclusion",
        "public-good",
        None,
    ),
]


@pytest.fixture
async def real_world(api: Harness) -> tuple[Harness, str]:
    await api.user("owner")
    for repo in sorted({row[2] for row in REAL}):
        owner, _, _ = repo.partition("/")
        if await api.tx(partial(accounts.find_account, login=owner)) is None:
            await api.org(owner, owner="owner")
        await api.repo(repo)
    return api, await api.token("owner")


@pytest.mark.parametrize(("name", "line", "repo", "status", "step", "root", "source"), REAL)
async def test_real_bundle_records_its_verdict(
    real_world: tuple[Harness, str],
    shared_dir: Path,
    name: str,
    line: int,
    repo: str,
    status: str,
    step: str | None,
    root: str,
    source: str | None,
) -> None:
    api, token = real_world
    r = await api.post(
        f"/repos/{repo}/attestations",
        token=token,
        content=body_of(load(shared_dir, name, line)),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    await api.app.worker.run_until_idle()
    v = await api.get(f"/waybill/repos/{repo}/attestations/{r.json()['id']}/verification", token=token)
    body = v.json()
    assert (body["status"], body["failed_step"], body["trust_root"], body["time_source"]) == (
        status,
        step,
        root,
        source,
    ), body["reason"]
