"""``WAYBILL_TRUSTED_PROXIES`` over real HTTP: behind a trusted proxy the client's address (for rate
limits and logs) and the scheme and host of generated URLs come from ``X-Forwarded-*``; from any
other peer those headers are ignored. Loopback answers on all of 127.0.0.0/8: 127.0.0.1 is the
trusted proxy here, 127.0.0.2 a client that connects directly."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.attestations.bundles import random_digest
from tests.live import LiveServer, live_server

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "WAYBILL_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        "WAYBILL_RATE_LIMIT": "1",
        "WAYBILL_RATE_LIMIT_ANONYMOUS": "2",
        "WAYBILL_LOG_FORMAT": "json",
        "WAYBILL_ACCESS_LOG": "true",
    }
    with live_server("sqlite", tmp_path_factory.mktemp("proxies"), through=lambda _: settings) as live:
        yield live


def _client(source: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30)


def test_generated_urls_take_the_forwarded_scheme_and_host(server: LiveServer) -> None:
    with _client("127.0.0.1") as proxy:
        root = proxy.get(f"{server.url}/", headers={**FORWARDED, "X-Forwarded-For": "203.0.113.1"})
        assert root.status_code == 200, root.text
        assert root.json()["current_user_url"] == "https://api.example.com/user"
        repo = f"{server.world.org}/{server.world.public_repo}"
        digest = random_digest()
        server.attest(repo, [digest])
        server.attest(repo, [digest])
        page = proxy.get(
            f"{server.url}/repos/{repo}/attestations/{digest}?per_page=1",
            headers={**FORWARDED, "Authorization": f"Bearer {server.world.owner_token}"},
        )
        assert page.status_code == 200, page.text
        assert f"<https://api.example.com/repos/{repo}/attestations/{digest}?" in page.headers["link"]


def test_rate_limits_and_logs_use_the_forwarded_client(server: LiveServer) -> None:
    with _client("127.0.0.1") as proxy:
        first = {"X-Forwarded-For": "203.0.113.10"}
        assert [proxy.get(f"{server.url}/", headers=first).status_code for _ in range(2)] == [200, 200]
        refused = proxy.get(f"{server.url}/", headers=first)
        assert refused.status_code == 403
        assert "203.0.113.10" in refused.json()["message"]
        # Another client behind the same proxy has its own quota.
        assert proxy.get(f"{server.url}/", headers={"X-Forwarded-For": "203.0.113.11"}).status_code == 200
        # The chain is read from the right: trusted hops (10.0.0.0/8) are skipped, and what the
        # client wrote left of the first untrusted hop is not believed.
        chain = {"X-Forwarded-For": "198.51.100.7, 203.0.113.12, 10.1.2.3"}
        for _ in range(2):
            assert proxy.get(f"{server.url}/", headers=chain).status_code == 200
        assert "203.0.113.12" in proxy.get(f"{server.url}/", headers=chain).json()["message"]
    clients = {
        json.loads(line).get("client")
        for line in server.log.read_text().splitlines()
        if line.startswith("{") and json.loads(line).get("logger") == "waybill.access"
    }
    assert {"203.0.113.10", "203.0.113.11", "203.0.113.12"} <= clients
    assert "198.51.100.7" not in clients


def test_an_untrusted_peer_cannot_forward(server: LiveServer) -> None:
    spoofed = {**FORWARDED, "X-Forwarded-For": "203.0.113.20"}
    with _client("127.0.0.2") as direct:
        root = direct.get(f"{server.url}/", headers=spoofed)
        assert root.status_code == 200
        assert root.json()["current_user_url"] == f"{server.url}/user"
        assert direct.get(f"{server.url}/", headers=spoofed).status_code == 200
        refused = direct.get(f"{server.url}/", headers={"X-Forwarded-For": "203.0.113.21"})
        assert refused.status_code == 403
        assert "127.0.0.2" in refused.json()["message"]
