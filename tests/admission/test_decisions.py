"""The policy API, the one decision behind the three entry points, and the decision log."""

from __future__ import annotations

from typing import Any

import pytest

from tests.admission.conftest import (
    CHECK,
    DECISIONS,
    GATEKEEPER,
    KUBERNETES,
    POLICY,
    REGISTRY,
    World,
    digest,
    environment,
    image,
)
from tests.admission.reviews import cronjob, deployment, pod, review


async def _check(world: World, *images: str) -> dict[str, Any]:
    response = await world.api.post(
        CHECK, token=world.alice, json={"environment": "prod", "images": list(images)}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def _review(world: World, body: dict[str, Any]) -> dict[str, Any]:
    response = await world.api.post(KUBERNETES, token=world.alice, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["apiVersion"] == "admission.k8s.io/v1"
    assert data["kind"] == "AdmissionReview"
    assert data["response"]["uid"] == body["request"]["uid"]
    value: dict[str, Any] = data["response"]
    return value


async def _gatekeeper(world: World, *keys: str) -> dict[str, Any]:
    body = {
        "apiVersion": "externaldata.gatekeeper.sh/v1beta1",
        "kind": "ProviderRequest",
        "request": {"keys": list(keys)},
    }
    response = await world.api.post(GATEKEEPER, token=world.alice, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["kind"] == "ProviderResponse"
    value: dict[str, Any] = data["response"]
    return value


async def test_policy_round_trip_and_validation(world: World) -> None:
    body = {"environments": {"prod": environment(max_open_alert_severity="high", registries=[REGISTRY])}}
    put = await world.api.request("PUT", POLICY, token=world.alice, json=body)
    assert put.status_code == 200, put.text
    got = await world.api.get(POLICY, token=world.alice)
    assert got.json() == body
    bad = await world.api.request(
        "PUT", POLICY, token=world.alice, json={"environments": {"prod": environment(mode="block")}}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "environments.prod.mode"
    bad = await world.api.request(
        "PUT",
        POLICY,
        token=world.alice,
        json={"environments": {"prod": environment(max_open_alert_severity="severe")}},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "environments.prod.max_open_alert_severity"
    assert (await world.api.get(POLICY, token=world.alice)).json() == body


async def test_no_policy_allows_with_a_warning(world: World) -> None:
    data = await _check(world, image("a"))
    assert data["allowed"] is True
    assert data["mode"] is None
    assert "no admission policy" in data["warnings"][0]
    response = await _review(world, review("Pod", pod(image("a"))))
    assert response["allowed"] is True
    assert response["warnings"]


async def test_other_organizations_token_is_404(world: World) -> None:
    await world.policy(require_provenance=True)
    for method, path, body in (
        ("POST", CHECK, {"environment": "prod", "images": [image("a")]}),
        ("POST", KUBERNETES, review("Pod", pod(image("a")))),
        ("GET", POLICY, None),
        ("GET", DECISIONS, None),
    ):
        response = await world.api.request(method, path, token=world.carol, json=body)
        assert response.status_code == 404, (path, response.text)


@pytest.mark.parametrize("mode", ["enforce", "audit"])
async def test_provenance_rule(world: World, mode: str) -> None:
    await world.policy(
        mode=mode,
        require_provenance=True,
        workflows=["https://github.com/acme/web/.github/workflows/build.yml"],
        refs=["refs/heads/main"],
    )
    await world.provenance(digest("good"))
    await world.provenance(digest("failed"), verified=False)
    await world.provenance(
        digest("other-workflow"), signer="https://github.com/acme/web/.github/workflows/dev.yml"
    )
    await world.provenance(digest("branch"), ref="refs/heads/feature")
    data = await _check(world, image("good"))
    assert data["allowed"] is True
    assert data["images"][0]["reasons"] == []
    for label, words in (
        ("none", "no provenance"),
        ("failed", "verified"),
        ("other-workflow", "workflow"),
        ("branch", "ref refs/heads/feature"),
    ):
        data = await _check(world, image(label))
        assert data["allowed"] is (mode == "audit"), label
        assert words in data["images"][0]["reasons"][0], data
        if mode == "audit":
            assert data["warnings"]


@pytest.mark.parametrize("mode", ["enforce", "audit"])
async def test_alert_rule(world: World, mode: str) -> None:
    await world.policy(mode=mode, max_open_alert_severity="medium", only_alerts_with_patch=True)
    await world.provenance(digest("web"))
    await world.alert("medium")
    await world.alert("critical", patched=None)
    assert (await _check(world, image("web")))["images"][0]["reasons"] == []
    await world.alert("high")
    data = await _check(world, image("web"))
    assert data["allowed"] is (mode == "audit")
    assert "high" in data["images"][0]["reasons"][0]
    assert "acme/web" in data["images"][0]["reasons"][0]
    # Without provenance nothing says which repository's alerts count.
    assert (await _check(world, image("unknown")))["images"][0]["allowed"] is (mode == "audit")


@pytest.mark.parametrize("mode", ["enforce", "audit"])
async def test_registry_rule_and_exemptions(world: World, mode: str) -> None:
    await world.policy(
        mode=mode,
        registries=[REGISTRY + "/"],
        exempt_images=["registry.example/base/"],
        exempt_namespaces=["kube-system"],
    )
    await world.storage(digest("stored"))
    await world.storage(digest("elsewhere"), registry="https://registry.example")
    assert (await _check(world, image("stored")))["allowed"] is True
    data = await _check(world, image("elsewhere"))
    assert data["allowed"] is (mode == "audit")
    assert "https://registry.example" in data["images"][0]["reasons"][0]
    data = await _check(world, image("absent"))
    assert "no storage record" in data["images"][0]["reasons"][0]
    assert (await _check(world, image("x", name="registry.example/base/alpine")))["allowed"] is True
    response = await _review(world, review("Pod", pod(image("absent")), namespace="kube-system"))
    assert response["allowed"] is True


@pytest.mark.parametrize("mode", ["enforce", "audit"])
async def test_kubernetes_workloads(world: World, mode: str) -> None:
    await world.policy(mode=mode, require_provenance=True)
    await world.provenance(digest("good"))
    response = await _review(world, review("Pod", pod(image("good"))))
    assert response["allowed"] is True
    assert "warnings" not in response
    response = await _review(
        world, review("Deployment", deployment(image("good"), image("bad")), operation="UPDATE", group="apps")
    )
    assert response["allowed"] is (mode == "audit")
    assert "container c1" in response["status"]["message"]
    response = await _review(world, review("CronJob", cronjob(image("bad")), group="batch"))
    assert response["allowed"] is (mode == "audit")
    # An init container by tag cannot be checked.
    response = await _review(world, review("Pod", pod(image("good"), init=("busybox:1.36",))))
    assert response["allowed"] is (mode == "audit")
    assert "pin the image by digest" in (
        response["status"]["message"] if mode == "enforce" else response["warnings"][0]
    )
    if mode == "enforce":
        assert response["status"]["code"] == 403


async def test_dry_run_is_decided_but_not_recorded(world: World) -> None:
    await world.policy(require_provenance=True)
    response = await _review(world, review("Pod", pod(image("bad")), dry_run=True))
    assert response["allowed"] is False
    assert (await world.api.get(DECISIONS, token=world.alice)).json()["decisions"] == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}}',
        b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}',
        b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", '
        b'"request": {"uid": "u", "kind": {"kind": "Pod"}, '
        b'"object": {"spec": {"containers": [{"name": "x"}]}}}}',
        b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", '
        b'"request": {"uid": "u", "kind": {"kind": "Deployment"}, '
        b'"object": {"spec": 3}}}',
    ],
)
async def test_malformed_review_is_400(world: World, body: bytes) -> None:
    await world.policy(mode="audit")
    response = await world.api.post(
        KUBERNETES, token=world.alice, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "allowed" not in response.text


async def test_three_entry_points_agree(world: World) -> None:
    await world.policy(require_provenance=True, registries=[REGISTRY])
    await world.provenance(digest("good"))
    await world.storage(digest("good"))
    await world.provenance(digest("unstored"))
    images = [image("good"), image("unstored"), "nginx:latest"]
    plain = await _check(world, *images)
    gate = await _gatekeeper(world, *images)
    k8s = await _review(world, review("Pod", pod(*images)))
    verdicts = [i["allowed"] for i in plain["images"]]
    assert verdicts == [True, False, False]
    assert [i["value"]["allowed"] for i in gate["items"]] == verdicts
    assert [i["key"] for i in gate["items"]] == images
    assert [i["value"]["reasons"] for i in gate["items"]] == [i["reasons"] for i in plain["images"]]
    assert k8s["allowed"] is plain["allowed"] is False


async def test_decision_log_filters_and_deployment_link(world: World) -> None:
    await world.policy(require_provenance=True)
    await world.provenance(digest("good"))
    await _review(world, review("Pod", pod(image("good"))))
    await _review(world, review("Pod", pod(image("bad")), namespace="batch"))
    listed = (await world.api.get(DECISIONS, token=world.alice)).json()["decisions"]
    assert [d["verdict"] for d in listed] == ["denied", "allowed"]
    assert listed[1]["workload"] == "Pod/web-0"
    assert listed[1]["namespace"] == "shop"
    assert listed[1]["deployment"] is None
    denied = (await world.api.get(DECISIONS, params={"verdict": "denied"}, token=world.alice)).json()
    assert [d["namespace"] for d in denied["decisions"]] == ["batch"]
    shop = (
        await world.api.get(DECISIONS, params={"namespace": "shop", "environment": "prod"}, token=world.alice)
    ).json()
    assert len(shop["decisions"]) == 1
    assert (await world.api.get(DECISIONS, params={"verdict": "maybe"}, token=world.alice)).status_code == 422
    record = {
        "name": "web",
        "digest": digest("good"),
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "east",
        "cluster": "moda-1",
        "deployment_name": "web",
        "github_repository": "web",
    }
    created = await world.api.post(
        "/orgs/acme/artifacts/metadata/deployment-record", token=world.alice, json=record
    )
    assert created.status_code == 200, created.text
    listed = (await world.api.get(DECISIONS, token=world.alice)).json()["decisions"]
    assert listed[1]["deployment"]["deployment_name"] == "web"
    assert listed[1]["deployment"]["digest"] == digest("good")
    assert listed[0]["deployment"] is None
