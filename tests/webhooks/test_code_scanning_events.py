"""``code_scanning_alert`` events through an alert's life (an upload creates it, another branch sees
it, a newer analysis fixes and reopens it, a user dismisses and reopens it), each checked against
GitHub's webhook schema, parsed by githubkit and verified by @octokit/webhooks."""

from __future__ import annotations

import json
from typing import Any, Final

import githubkit.webhooks
from testkit import sarifs

from tests.webhooks.conftest import SECRET, World, hook_body
from tests.webhooks.receiver import Receiver
from tests.webhooks.schemas import check_github
from tests.webhooks.verifiers import octokit_verify

EVENT: Final = "code_scanning_alert"
FINDING = sarifs.result("sql-injection", "src/app.py", 3, fingerprints={"h": "1"})
OTHER = sarifs.result("xss", "src/page.py", 7, fingerprints={"h": "2"})


async def _upload(
    world: World, results: list[dict[str, Any]], sha: str, ref: str = "refs/heads/main"
) -> None:
    rules = [sarifs.rule("sql-injection", security_severity="8.0"), sarifs.rule("xss")]
    body = sarifs.upload(sarifs.document(sarifs.run(results, rules=rules)), sha=sha, ref=ref)
    response = await world.api.post("/repos/acme/web/code-scanning/sarifs", token=world.owner, json=body)
    assert response.status_code == 202, response.text
    await world.run_jobs()


def _events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] == EVENT]


async def test_an_alerts_life_is_told_to_the_hooks(world: World, receiver: Receiver) -> None:
    api = world.api
    created = await api.post(
        "/orgs/acme/hooks", token=world.owner, json=hook_body(receiver.url, events=[EVENT])
    )
    assert created.status_code == 201, created.text
    await _upload(world, [FINDING, OTHER], "a" * 40)  # created, created
    await _upload(world, [FINDING], "b" * 40, ref="refs/heads/feature")  # appeared_in_branch
    await _upload(world, [OTHER], "c" * 40)  # fixed
    await _upload(world, [FINDING, OTHER], "d" * 40)  # reopened
    alert = "/repos/acme/web/code-scanning/alerts/1"
    dismiss = {
        "state": "dismissed",
        "dismissed_reason": "false positive",
        "dismissed_comment": "not reachable",
    }
    assert (await api.patch(alert, token=world.owner, json=dismiss)).status_code == 200
    assert (await api.patch(alert, token=world.owner, json={"state": "open"})).status_code == 200
    await world.run_jobs()
    events = _events(receiver)
    assert [(e["action"], e["alert"]["number"]) for e in events] == [
        ("created", 1),
        ("created", 2),
        ("appeared_in_branch", 1),
        ("fixed", 1),
        ("reopened", 1),
        ("closed_by_user", 1),
        ("reopened_by_user", 1),
    ]
    for body in events:
        check_github(EVENT, body["action"], body)
        parsed = githubkit.webhooks.parse(EVENT, json.dumps(body))
        assert parsed.alert.rule.id in ("sql-injection", "xss")
    by_action = {e["action"]: e for e in events}
    assert by_action["created"]["ref"] == "refs/heads/main"
    assert by_action["created"]["commit_oid"] == "a" * 40
    assert by_action["appeared_in_branch"]["ref"] == "refs/heads/feature"
    assert by_action["fixed"]["alert"]["state"] == "fixed"
    assert by_action["fixed"]["commit_oid"] == "c" * 40
    assert by_action["reopened"]["alert"]["state"] == "open"
    # The state told is the state at the change, though the alert was reopened before it was sent.
    closed = by_action["closed_by_user"]
    assert closed["alert"]["state"] == "dismissed"
    assert closed["alert"]["dismissed_reason"] == "false positive"
    assert closed["alert"]["dismissed_by"]["login"] == "octocat"
    assert (closed["ref"], closed["commit_oid"]) == ("", "")
    assert closed["sender"]["login"] == "octocat"
    assert by_action["reopened_by_user"]["alert"]["dismissed_at"] is None
    # What the upload caused is sent by its uploader.
    assert by_action["created"]["sender"]["login"] == "octocat"
    assert all(e["repository"]["full_name"] == "acme/web" for e in events)
    deliveries = [r for r in receiver.received if r.headers["X-GitHub-Event"] == EVENT]
    assert all(r["verified"] for r in octokit_verify(SECRET, deliveries))


async def test_only_hooks_that_hear_it_get_it(world: World, receiver: Receiver) -> None:
    api = world.api
    hook = hook_body(receiver.url, events=["dependabot_alert"])
    assert (await api.post("/repos/acme/web/hooks", token=world.owner, json=hook)).status_code == 201
    await _upload(world, [FINDING], "a" * 40)
    assert _events(receiver) == []
    # Subscribed later, by name or with every event: the next change is told.
    patch = {"add_events": [EVENT]}
    hooks = (await api.get("/repos/acme/web/hooks", token=world.owner)).json()
    updated = await api.patch(f"/repos/acme/web/hooks/{hooks[0]['id']}", token=world.owner, json=patch)
    assert updated.status_code == 200, updated.text
    assert EVENT in updated.json()["events"]
    await _upload(world, [], "b" * 40)
    assert [e["action"] for e in _events(receiver)] == ["fixed"]


async def test_a_deletion_that_reopens_is_told(world: World, receiver: Receiver) -> None:
    api = world.api
    await _upload(world, [FINDING], "a" * 40)
    await _upload(world, [], "b" * 40)  # fixed, before any hook
    hook = hook_body(receiver.url, events=[EVENT])
    assert (await api.post("/repos/acme/web/hooks", token=world.owner, json=hook)).status_code == 201
    analyses = (await api.get("/repos/acme/web/code-scanning/analyses", token=world.owner)).json()
    newest = max(a["id"] for a in analyses)
    deleted = await api.delete(f"/repos/acme/web/code-scanning/analyses/{newest}", token=world.owner)
    assert deleted.status_code == 200, deleted.text
    await world.run_jobs()
    events = _events(receiver)
    assert [(e["action"], e["alert"]["state"]) for e in events] == [("reopened", "open")]
    check_github(EVENT, "reopened", events[0])
    assert events[0]["sender"]["login"] == "octocat"
