"""Deliveries end to end: a real HTTP receiver on 127.0.0.1, GitHub's headers and signatures checked
by standard verifiers, the deliveries API, redelivery, and retries with backoff."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import ssl
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import githubkit.webhooks
import httpx
import pytest

from tests.certificates import self_signed
from tests.harness import running
from tests.webhooks import receiver as receivers
from tests.webhooks.conftest import ORG_HOOKS, REPO_HOOKS, SECRET, World, hook_body
from tests.webhooks.receiver import Receiver
from tests.webhooks.verifiers import octokit_verify
from waybill.config import Settings
from waybill.core import clock
from waybill.core.jobs import Worker
from waybill.webhooks import jobs as webhooks_jobs
from waybill.webhooks import sending


async def _create(world: World, collection: str, url: str, **overrides: object) -> dict[str, Any]:
    response = await world.api.post(collection, token=world.owner, json=hook_body(url, **overrides))
    assert response.status_code == 201, response.text
    value: dict[str, Any] = response.json()
    return value


@pytest.mark.parametrize("collection", [ORG_HOOKS, REPO_HOOKS])
async def test_a_new_hook_is_pinged_with_githubs_headers(
    world: World, receiver: Receiver, collection: str
) -> None:
    hook = await _create(world, collection, receiver.url)
    await world.run_jobs()
    [ping] = receiver.received
    headers = ping.headers
    assert headers["X-GitHub-Event"] == "ping"
    assert uuid.UUID(headers["X-GitHub-Delivery"])
    assert headers["X-GitHub-Hook-ID"] == str(hook["id"])
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["Content-Type"] == "application/json"
    target = "organization" if collection == ORG_HOOKS else "repository"
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == target
    expected = hmac.new(SECRET.encode(), ping.body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    sha1 = hmac.new(SECRET.encode(), ping.body, hashlib.sha1).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha1={sha1}"
    assert githubkit.webhooks.verify(SECRET, ping.body, headers["X-Hub-Signature-256"])
    parsed = githubkit.webhooks.parse("ping", ping.body)
    assert parsed.hook_id == hook["id"]
    body = json.loads(ping.body)
    assert body["hook"]["id"] == hook["id"]
    assert SECRET not in ping.body.decode()
    assert body["hook"]["config"]["secret"] == "********"


async def test_octokit_verifies_and_parses_the_deliveries(world: World, receiver: Receiver) -> None:
    hook = await _create(world, ORG_HOOKS, receiver.url)
    await world.api.post(f"{ORG_HOOKS}/{hook['id']}/pings", token=world.owner)
    await world.run_jobs()
    assert len(receiver.received) == 2
    results = octokit_verify(SECRET, receiver.received)
    assert [r["verified"] for r in results] == [True, True], results
    assert [r["parsed"]["name"] for r in results] == ["ping", "ping"]
    assert octokit_verify("not the secret", receiver.received[:1])[0]["verified"] is False


async def test_a_form_hook_posts_the_payload_field(world: World, receiver: Receiver) -> None:
    await _create(world, ORG_HOOKS, receiver.url, config={"url": receiver.url, "content_type": "form"})
    await world.run_jobs()
    [ping] = receiver.received
    assert ping.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "X-Hub-Signature-256" not in ping.headers
    assert json.loads(parse_qs(ping.body.decode())["payload"][0])["zen"]


async def test_deliveries_are_listed_read_and_redelivered(world: World, receiver: Receiver) -> None:
    api = world.api
    hook = await _create(world, REPO_HOOKS, receiver.url)
    one = f"{REPO_HOOKS}/{hook['id']}"
    await world.run_jobs()
    listed = await api.get(f"{one}/deliveries", token=world.owner)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()
    assert item["event"] == "ping"
    assert item["status_code"] == 200
    assert item["status"] == "OK"
    assert item["redelivery"] is False
    assert item["duration"] >= 0
    full = (await api.get(f"{one}/deliveries/{item['id']}", token=world.owner)).json()
    assert full["request"]["payload"]["hook_id"] == hook["id"]
    assert full["request"]["headers"]["X-GitHub-Event"] == "ping"
    assert full["response"]["payload"] == "thanks"
    again = await api.post(f"{one}/deliveries/{item['id']}/attempts", token=world.owner)
    assert again.status_code == 202
    await world.run_jobs()
    assert len(receiver.received) == 2
    assert (
        receiver.received[0].headers["X-GitHub-Delivery"] == receiver.received[1].headers["X-GitHub-Delivery"]
    )
    newest = (await api.get(f"{one}/deliveries", token=world.owner)).json()
    assert [d["redelivery"] for d in newest] == [True, False]
    hook_now = (await api.get(one, token=world.owner)).json()
    assert hook_now["last_response"] == {"code": 200, "status": "active", "message": "OK"}


async def test_deliveries_page_with_a_cursor(world: World, receiver: Receiver) -> None:
    api = world.api
    hook = await _create(world, ORG_HOOKS, receiver.url)
    one = f"{ORG_HOOKS}/{hook['id']}"
    for _ in range(2):
        await api.post(f"{one}/pings", token=world.owner)
    await world.run_jobs()
    first = await api.get(f"{one}/deliveries?per_page=2", token=world.owner)
    assert len(first.json()) == 2
    link = first.headers["link"]
    assert 'rel="next"' in link
    cursor = link.split("cursor=")[1].split(">")[0].split("&")[0]
    rest = await api.get(f"{one}/deliveries?per_page=2&cursor={cursor}", token=world.owner)
    assert len(rest.json()) == 1
    bad = await api.get(f"{one}/deliveries?cursor=nonsense", token=world.owner)
    assert bad.status_code == 422


async def test_a_failing_receiver_is_retried_with_backoff_until_it_recovers(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sending, "TIMEOUT_SECONDS", 0.5)
    receiver.script = [500, "stall", 429]
    receiver.stall_seconds = 1.5
    hook = await _create(world, ORG_HOOKS, receiver.url)
    one = f"{ORG_HOOKS}/{hook['id']}"
    await world.run_jobs()
    assert len(receiver.received) == 1
    start = clock.now()
    statuses = []
    for minutes in (1, 2, 4, 8):
        later = start + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda later=later: later)
        await world.run_jobs()
    statuses = [
        (d["status_code"], d["status"])
        for d in (await world.api.get(f"{one}/deliveries", token=world.owner)).json()
    ]
    assert statuses[::-1] == [
        (500, "Invalid HTTP Response: 500"),
        (0, "timed out"),
        (429, "Invalid HTTP Response: 429"),
        (200, "OK"),
    ]
    guids = {r.headers["X-GitHub-Delivery"] for r in receiver.received}
    assert len(receiver.received) == 4
    assert len(guids) == 1


async def test_a_client_error_is_not_retried(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.script = [404]
    await _create(world, ORG_HOOKS, receiver.url)
    await world.run_jobs()
    later = clock.now() + timedelta(hours=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    await world.run_jobs()
    assert len(receiver.received) == 1


async def test_a_hook_receives_its_events_in_order_even_across_retries(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.script = [503]
    hook = await _create(world, ORG_HOOKS, receiver.url)
    one = f"{ORG_HOOKS}/{hook['id']}"
    await world.run_jobs()
    # Queued behind the ping that failed: they wait for its retry.
    for _ in range(2):
        await world.api.post(f"{one}/pings", token=world.owner)
    await world.run_jobs()
    assert len(receiver.received) == 1
    later = clock.now() + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    await world.run_jobs()
    ids = [r.headers["X-GitHub-Delivery"] for r in receiver.received]
    assert len(ids) == 4
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3


async def test_redirects_are_not_followed(world: World, receiver: Receiver) -> None:
    receiver.script = [302]
    hook = await _create(world, ORG_HOOKS, receiver.url)
    await world.run_jobs()
    [item] = (await world.api.get(f"{ORG_HOOKS}/{hook['id']}/deliveries", token=world.owner)).json()
    assert item["status_code"] == 302
    assert len(receiver.received) == 1


async def test_an_inactive_hook_is_not_pinged(world: World, receiver: Receiver) -> None:
    await _create(world, ORG_HOOKS, receiver.url, active=False)
    await world.run_jobs()
    assert receiver.received == []


async def test_deliveries_pending_when_a_server_stops_are_sent_after_it_restarts(
    settings: Settings, backend: str, receiver: Receiver
) -> None:
    async with running(settings, backend) as first:
        await first.user("octocat")
        await first.org("acme", owner="octocat")
        token = await first.token("octocat", "admin:org_hook")
        created = await first.post(ORG_HOOKS, token=token, json=hook_body(receiver.url))
        assert created.status_code == 201
        # The server stops before its worker took the ping.
    assert receiver.received == []
    async with running(settings, backend) as second:
        await second.app.worker.run_until_idle()
    [ping] = receiver.received
    assert ping.headers["X-GitHub-Hook-ID"] == str(created.json()["id"])


async def test_a_delivery_cut_short_by_a_crash_is_sent_again(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that dies mid-attempt leaves its claim to run out; the attempt is then made again."""
    await _create(world, ORG_HOOKS, receiver.url)

    async def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sending, "attempt", crash)
    await world.run_jobs()
    monkeypatch.undo()
    assert receiver.received == []
    later = clock.now() + timedelta(minutes=10)
    monkeypatch.setattr(clock, "now", lambda: later)
    await world.run_jobs()
    assert len(receiver.received) == 1


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = world.api
    strict = replace(api.app.settings, webhook_allow_private=False)
    hook = await _create(world, ORG_HOOKS, "http://intranet.example.com/hook")

    async def private(*_args: object, **_kwargs: object) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", private)
    await Worker(api.db, webhooks_jobs.job_handlers(strict)).run_until_idle()
    [item] = (await api.get(f"{ORG_HOOKS}/{hook['id']}/deliveries", token=world.owner)).json()
    assert item["status"] == "refused: url resolves to a loopback, link-local or private address"
    assert item["status_code"] == 0


async def test_a_delivery_goes_to_the_address_its_name_was_checked_at(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once an attempt, and the connection made to that address: a second
    answer (DNS rebinding to a private address) is never asked for."""
    port = receiver.server.server_address[1]
    asked: list[str] = []

    async def receiver_address(host: str, *_args: object, **_kwargs: object) -> list[tuple[Any, ...]]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    await _create(world, ORG_HOOKS, f"http://hooks.example.test:{port}/hook")
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", receiver_address)
    await world.run_jobs()
    # The ping: its one resolution, and the receiver told the name it was sent to.
    assert asked == ["hooks.example.test"]
    [ping] = receiver.received
    assert ping.headers["Host"] == f"hooks.example.test:{port}"
    assert ping.headers["X-GitHub-Event"] == "ping"


async def test_over_https_the_pinned_address_is_verified_as_the_hooks_name(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A receiver whose certificate names hooks.example.test only, trusted as its own authority.
    cert, key = self_signed(tmp_path, "hooks.example.test")
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    secure = receivers.start(tls=server_side)
    try:
        port = secure.server.server_address[1]

        async def receiver_address(*_args: object, **_kwargs: object) -> list[tuple[Any, ...]]:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        trusting = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(
            sending,
            "client",
            lambda verify: httpx.AsyncClient(verify=trusting, follow_redirects=False, trust_env=False),
        )
        hook = await _create(world, ORG_HOOKS, f"https://hooks.example.test:{port}/hook")
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", receiver_address)
        await world.run_jobs()
        # Connected to 127.0.0.1, the certificate was checked against the hook's name (SNI).
        [ping] = secure.received
        assert ping.headers["Host"] == f"hooks.example.test:{port}"
        [item] = (await world.api.get(f"{ORG_HOOKS}/{hook['id']}/deliveries", token=world.owner)).json()
        assert item["status"] == "OK"
    finally:
        secure.close()


async def test_a_slow_receiver_holds_up_no_other_hooks_delivery(world: World, receiver: Receiver) -> None:
    slow = receivers.start()
    slow.script, slow.stall_seconds = ["stall"], 5.0
    try:
        stalled = await _create(world, ORG_HOOKS, slow.url)
        quick = await _create(world, ORG_HOOKS, receiver.url)
        worker = world.api.app.worker
        assert worker.concurrency > 1

        async def statuses(hook: dict[str, Any]) -> list[str]:
            listed = await world.api.get(f"{ORG_HOOKS}/{hook['id']}/deliveries", token=world.owner)
            return [d["status"] for d in listed.json()]

        worker.start()
        try:
            # Both pings are sent at once: the quick receiver's is answered while the slow one waits.
            for _ in range(100):
                if await statuses(quick) == ["OK"]:
                    break
                await asyncio.sleep(0.05)
            assert await statuses(quick) == ["OK"]
            assert len(slow.received) == 1
            assert await statuses(stalled) == []
            for _ in range(200):
                if await statuses(stalled) == ["OK"]:
                    break
                await asyncio.sleep(0.05)
            assert await statuses(stalled) == ["OK"]
        finally:
            await worker.stop()
    finally:
        slow.close()
