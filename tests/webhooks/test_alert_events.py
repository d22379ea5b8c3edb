"""``dependabot_alert`` events through an alert's life, each checked against GitHub's webhook schema
and parsed by githubkit."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import githubkit.webhooks

from tests.advisories.osv_docs import as_file, osv_document
from tests.alerts.conftest import snapshot
from tests.webhooks.conftest import SECRET, World, hook_body
from tests.webhooks.receiver import Receiver
from tests.webhooks.schemas import check_github
from tests.webhooks.verifiers import octokit_verify
from waybill.alerts import service as alerts

LOCK = "package-lock.json"


async def _submit(world: World, version: str, n: int) -> None:
    manifests = {LOCK: {f"pkg:npm/left-pad@{version}": ("left-pad", "runtime", "direct")}}
    response = await world.api.post(
        "/repos/acme/web/dependency-graph/snapshots", token=world.owner, json=snapshot(manifests, n)
    )
    assert response.status_code == 201, response.text
    await world.run_jobs()


def _alert_events(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r.headers["X-GitHub-Event"], json.loads(r.body))
        for r in receiver.received
        if r.headers["X-GitHub-Event"] == "dependabot_alert"
    ]


async def test_an_alerts_life_is_told_to_the_hooks(world: World, receiver: Receiver) -> None:
    api = world.api
    advisory = osv_document(
        "GHSA-aaaa-aaaa-aaaa", "npm", "left-pad", [{"introduced": "0"}, {"fixed": "1.0.3"}]
    )
    await api.tx(lambda c: alerts.import_advisories(c, [as_file(advisory)]))
    created = await api.post(
        "/orgs/acme/hooks", token=world.owner, json=hook_body(receiver.url, events=["dependabot_alert"])
    )
    assert created.status_code == 201
    await _submit(world, "1.0.0", 1)  # created
    await _submit(world, "1.0.3", 2)  # fixed
    await _submit(world, "1.0.1", 3)  # reintroduced
    alert = "/repos/acme/web/dependabot/alerts/1"
    dismiss = {"state": "dismissed", "dismissed_reason": "tolerable_risk"}
    assert (await api.patch(alert, token=world.owner, json=dismiss)).status_code == 200
    assert (await api.patch(alert, token=world.owner, json={"state": "open"})).status_code == 200
    await world.run_jobs()
    events = _alert_events(receiver)
    assert [body["action"] for _, body in events] == [
        "created",
        "fixed",
        "reintroduced",
        "dismissed",
        "reopened",
    ]
    for _, body in events:
        check_github("dependabot_alert", body["action"], body)
        parsed = githubkit.webhooks.parse("dependabot_alert", json.dumps(body))
        assert parsed.alert.number == 1
    assert events[3][1]["sender"]["login"] == "octocat"
    assert events[0][1]["alert"]["security_advisory"]["ghsa_id"] == "GHSA-aaaa-aaaa-aaaa"
    deliveries = [r for r in receiver.received if r.headers["X-GitHub-Event"] == "dependabot_alert"]
    assert all(r["verified"] for r in octokit_verify(SECRET, deliveries))


async def test_advisory_imports_send_security_advisory_events(world: World, receiver: Receiver) -> None:
    api = world.api
    created = await api.post(
        "/repos/acme/web/hooks", token=world.owner, json=hook_body(receiver.url, events=["security_advisory"])
    )
    assert created.status_code == 201
    ranges = [{"introduced": "0"}, {"fixed": "2.0.0"}]
    first = osv_document("GHSA-eeee-eeee-eeee", "npm", "minimist", ranges, modified="2026-02-01T00:00:00Z")
    changed = {**first, "summary": "Prototype pollution, now explained", "modified": "2026-02-02T00:00:00Z"}
    withdrawn = {**changed, "withdrawn": "2026-02-03T00:00:00Z", "modified": "2026-02-03T00:00:00Z"}
    for doc in (first, first, changed, withdrawn):
        await api.tx(partial(alerts.import_advisories, files=[as_file(doc)]))
    await world.run_jobs()
    events = [
        json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == "security_advisory"
    ]
    assert [e["action"] for e in events] == ["published", "updated", "withdrawn"]
    for body in events:
        check_github("security_advisory", body["action"], body)
        githubkit.webhooks.parse("security_advisory", json.dumps(body))
    assert events[1]["security_advisory"]["summary"] == "Prototype pollution, now explained"
    assert events[2]["security_advisory"]["withdrawn_at"] is not None
