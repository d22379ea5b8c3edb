"""The gate reads the verdicts Waybill stored for real bundles of the shared fixtures."""

from __future__ import annotations

from pathlib import Path

from tests.admission.conftest import environment
from tests.attestations.test_create import body_of, load
from tests.harness import Harness

BUNDLE = "cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"
SUBJECT = "sha256:ae57936def59bc4c75edd3a837d89bcefc6d3a5e31d55a6fa7a71624f92c3c3b"
IMAGE = f"ghcr.io/actions/attest-demo@{SUBJECT}"


async def test_verified_real_provenance_admits_and_narrowing_refuses(api: Harness, shared_dir: Path) -> None:
    await api.user("owner")
    await api.org("actions", owner="owner")
    await api.repo("actions/attest-demo")
    token = await api.token("owner")
    stored = await api.post(
        "/repos/actions/attest-demo/attestations",
        token=token,
        content=body_of(load(shared_dir, BUNDLE)),
        headers={"Content-Type": "application/json"},
    )
    assert stored.status_code == 201, stored.text
    await api.app.worker.run_until_idle()

    async def check(**policy: object) -> dict[str, object]:
        body = {"environments": {"prod": environment(require_provenance=True, **policy)}}
        put = await api.request("PUT", "/waybill/orgs/actions/admission-policy", token=token, json=body)
        assert put.status_code == 200, put.text
        response = await api.post(
            "/waybill/orgs/actions/admission/check",
            token=token,
            json={"environment": "prod", "images": [IMAGE]},
        )
        assert response.status_code == 200, response.text
        image: dict[str, object] = response.json()["images"][0]
        return image

    admitted = await check(repositories=["attest-demo"])
    assert admitted["allowed"] is True, admitted
    assert admitted["digest"] == SUBJECT
    refused = await check(repositories=["other"])
    assert refused["allowed"] is False
    assert "repository actions/attest-demo is not one of other" in str(refused["reasons"])
    refused = await check(workflows=["https://github.com/actions/attest-demo/.github/workflows/none.yml"])
    assert refused["allowed"] is False
