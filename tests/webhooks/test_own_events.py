"""Waybill's own events of attestations, dependency snapshots and admission decisions, each
checked against its schema in docs/webhooks."""

from __future__ import annotations

import json
from typing import Any

from tests.admission.conftest import CHECK, DECISIONS, POLICY, REGISTRY, digest, environment, image
from tests.alerts.conftest import snapshot
from tests.attestations.bundles import bundle_for, random_digest
from tests.webhooks.conftest import ORG_HOOKS, World, hook_body
from tests.webhooks.receiver import Receiver
from tests.webhooks.schemas import check_waybill


def _bodies(receiver: Receiver, event: str) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == event]


async def _hook(world: World, url: str, events: list[str]) -> None:
    response = await world.api.post(ORG_HOOKS, token=world.owner, json=hook_body(url, events=events))
    assert response.status_code == 201, response.text


async def test_attestation_events(world: World, receiver: Receiver) -> None:
    api = world.api
    await _hook(world, receiver.url, ["attestation"])
    digest = random_digest()
    created = await api.post(
        "/repos/acme/web/attestations", token=world.owner, json={"bundle": bundle_for([digest])}
    )
    assert created.status_code == 201, created.text
    # Under the default policy (record) the verification is queued: the test bundle's signer is
    # no trusted root's, so it fails.
    await world.run_jobs()
    deleted = await api.delete(f"/orgs/acme/attestations/digest/{digest}", token=world.owner)
    assert deleted.status_code == 204, deleted.text
    await world.run_jobs()
    bodies = _bodies(receiver, "attestation")
    assert [b["action"] for b in bodies] == ["created", "verification_failed", "deleted"]
    for body in bodies:
        check_waybill("attestation", body)
        assert body["attestation"]["id"] == created.json()["id"]
        assert body["attestation"]["subject_digests"] == [digest]
        assert body["repository"]["full_name"] == "acme/web"
    assert bodies[0]["sender"]["login"] == "octocat"
    assert bodies[1]["attestation"]["verification"]["verified"] is False


async def test_a_delete_without_hooks_reads_nothing_more(world: World) -> None:
    digest = random_digest()
    created = await world.api.post(
        "/repos/acme/web/attestations", token=world.owner, json={"bundle": bundle_for([digest])}
    )
    assert created.status_code == 201
    assert (
        await world.api.delete(f"/orgs/acme/attestations/digest/{digest}", token=world.owner)
    ).status_code == 204


async def test_dependency_snapshot_events(world: World, receiver: Receiver) -> None:
    await _hook(world, receiver.url, ["dependency_snapshot"])
    manifests = {"package-lock.json": {"pkg:npm/left-pad@1.0.0": ("left-pad", "runtime", "direct")}}
    response = await world.api.post(
        "/repos/acme/web/dependency-graph/snapshots", token=world.owner, json=snapshot(manifests, 7)
    )
    assert response.status_code == 201, response.text
    await world.run_jobs()
    [body] = _bodies(receiver, "dependency_snapshot")
    check_waybill("dependency_snapshot", body)
    assert body["action"] == "submitted"
    assert body["dependency_snapshot"]["id"] == response.json()["id"]
    assert body["dependency_snapshot"]["sha"] == f"{7:040x}"
    assert body["dependency_snapshot"]["job"] == {"correlator": "ci", "id": "7"}
    assert body["sender"]["login"] == "octocat"


async def test_a_reverification_that_fails_is_told(world: World, receiver: Receiver) -> None:
    api = world.api
    await api.user("root", site_admin=True)
    admin = await api.token("root", "site_admin")
    await _hook(world, receiver.url, ["attestation"])
    body = {"bundle": bundle_for([random_digest()])}
    assert (await api.post("/repos/acme/web/attestations", token=world.owner, json=body)).status_code == 201
    await world.run_jobs()
    assert (await api.post("/waybill/attestations/reverify", token=admin)).status_code in (200, 202)
    await world.run_jobs()
    actions = [b["action"] for b in _bodies(receiver, "attestation")]
    assert actions == ["created", "verification_failed", "verification_failed"]


async def test_admission_decision_events(world: World, receiver: Receiver) -> None:
    api = world.api
    await _hook(world, receiver.url, ["admission_decision"])
    allowed = []
    # No requirement, then a registry the image has no storage record in.
    for policy in (environment(), environment(registries=[REGISTRY])):
        put = await api.request("PUT", POLICY, token=world.owner, json={"environments": {"prod": policy}})
        assert put.status_code == 200, put.text
        body = {"environment": "prod", "images": [image("web")]}
        checked = await api.post(CHECK, token=world.owner, json=body)
        assert checked.status_code == 200, checked.text
        allowed.append(checked.json()["allowed"])
    assert allowed == [True, False]
    await world.run_jobs()
    bodies = _bodies(receiver, "admission_decision")
    assert [b["action"] for b in bodies] == ["allowed", "denied"]
    listed = (await api.get(DECISIONS, token=world.owner)).json()["decisions"]
    for sent, shown in zip(bodies, reversed(listed), strict=True):
        check_waybill("admission_decision", sent)
        assert sent["admission_decision"] == {k: v for k, v in shown.items() if k != "deployment"}
        assert sent["organization"]["login"] == "acme"
        assert sent["sender"]["login"] == "octocat"
        assert "repository" not in sent
    reader = await api.token("octocat", "read:audit_log")
    log = (await api.get("/waybill/orgs/acme/audit-log", token=reader)).json()
    assert [(e["action"], e["actor"]) for e in log if e["action"].startswith("admission")] == [
        ("admission_decision.denied", "octocat"),
        ("admission_policy.replaced", "octocat"),
        ("admission_decision.allowed", "octocat"),
        ("admission_policy.replaced", "octocat"),
    ]
    denied = bodies[1]["admission_decision"]
    assert (denied["images"][0]["digest"], denied["allowed"]) == (digest("web"), False)
