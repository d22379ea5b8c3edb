"""GitHub's HTTP conventions on every route: versions, prefixes, error bodies, request ids, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from tests.harness import Harness, running
from waybill.config import Settings

DOCS = "https://docs.github.com/rest"


@pytest.mark.parametrize("version", ["2022-11-28", "2026-03-10", None])
async def test_supported_api_versions(api: Harness, version: str | None) -> None:
    response = await api.get("/", version=version)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_unsupported_api_version_is_400(api: Harness) -> None:
    response = await api.get("/", version="2021-01-01")
    assert response.status_code == 400
    assert response.json() == {
        "message": (
            "Unsupported 'X-GitHub-Api-Version' header '2021-01-01'. Supported: 2022-11-28, 2026-03-10"
        ),
        "documentation_url": DOCS,
        "status": "400",
    }


async def test_enterprise_prefix_serves_the_same_api_with_its_own_urls(api: Harness) -> None:
    await api.user("alice")
    token = await api.token("alice")
    plain = await api.get("/user", token=token)
    prefixed = await api.get("/api/v3/user", token=token)
    assert prefixed.status_code == 200
    assert prefixed.json()["login"] == plain.json()["login"]
    assert prefixed.json()["url"] == "http://waybill.test/api/v3/users/alice"
    assert (await api.get("/api/v3")).status_code == 200
    assert (await api.get("/api/v3/nope")).status_code == 404


async def test_every_response_has_a_request_id(api: Harness) -> None:
    for response in (await api.get("/"), await api.get("/missing"), await api.get("/", version="x")):
        assert len(response.headers["x-github-request-id"].split(":")) == 5


async def test_unknown_route_is_github_not_found(api: Harness) -> None:
    response = await api.get("/repos/a/b/c/d/e")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found", "documentation_url": DOCS, "status": "404"}


async def test_wrong_method_is_not_found_as_on_github(api: Harness) -> None:
    response = await api.delete("/user")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


async def _admin(api: Harness) -> str:
    await api.user("root", site_admin=True)
    return await api.token("root", "site_admin")


async def test_malformed_json_is_400_problems_parsing_json(api: Harness) -> None:
    token = await _admin(api)
    response = await api.post("/admin/users", token=token, content=b'{"login": ')
    assert response.status_code == 400
    assert response.json() == {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"}


async def test_missing_field_is_422_missing_field(api: Harness) -> None:
    token = await _admin(api)
    response = await api.post("/admin/users", token=token, json={"email": "x@example.com"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "Validation Failed",
        "documentation_url": DOCS,
        "status": "422",
        "errors": [
            {"resource": "User", "field": "login", "code": "missing_field", "message": "login is missing"}
        ],
    }


async def test_wrong_type_is_422_invalid_naming_the_field(api: Harness) -> None:
    token = await _admin(api)
    response = await api.post("/admin/users", token=token, json={"login": 7})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "resource": "User",
            "field": "login",
            "code": "invalid",
            "message": "login: Expected `str`, got `int`",
        }
    ]


async def test_unknown_field_is_422_when_the_schema_forbids_it(api: Harness) -> None:
    token = await _admin(api)
    response = await api.post("/admin/users", token=token, json={"login": "x", "shoe_size": 9})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "shoe_size"


@pytest.fixture
async def limited(settings: Settings, backend: str) -> AsyncIterator[Harness]:
    tight = replace(
        settings,
        rate_limit_enabled=True,
        rate_limit_anonymous=2,
        rate_limit_authenticated=3,
        max_body_bytes=1024,
    )
    async with running(tight, backend) as harness:
        yield harness


async def test_rate_limit_headers_and_anonymous_exhaustion(limited: Harness) -> None:
    first = await limited.get("/")
    assert first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert first.headers["x-ratelimit-used"] == "1"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(first.headers["x-ratelimit-reset"]) > 0
    await limited.get("/")
    exhausted = await limited.get("/")
    assert exhausted.status_code == 403
    assert exhausted.headers["x-ratelimit-remaining"] == "0"
    assert exhausted.json()["message"].startswith("API rate limit exceeded for ")


async def test_rate_limit_is_per_token(limited: Harness) -> None:
    await limited.user("alice")
    token = await limited.token("alice")
    other = await limited.token("alice")
    for _ in range(3):
        assert (await limited.get("/user", token=token)).status_code == 200
    exhausted = await limited.get("/user", token=token)
    assert exhausted.status_code == 403
    assert exhausted.json()["message"] == "API rate limit exceeded for this token."
    assert (await limited.get("/user", token=other)).status_code == 200


async def test_body_over_the_cap_is_413(limited: Harness) -> None:
    await limited.user("root", site_admin=True)
    token = await limited.token("root", "site_admin")
    response = await limited.post("/admin/users", token=token, content=b"{" + b" " * 2048 + b"}")
    assert response.status_code == 413
    assert response.json() == {"message": "Payload Too Large", "documentation_url": DOCS, "status": "413"}


async def test_chunked_body_over_the_cap_is_413(limited: Harness) -> None:
    await limited.user("root", site_admin=True)
    token = await limited.token("root", "site_admin")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b" " * 512

    response = await limited.post("/admin/users", token=token, content=chunks())
    assert response.status_code == 413


async def test_servers_on_one_database_share_a_tokens_rate_limit(settings: Settings, backend: str) -> None:
    # Two apps on one database stand for two hosts: the limit is the token's, across both.
    tight = replace(settings, rate_limit_enabled=True, rate_limit_authenticated=10)
    async with running(tight, backend) as one, running(tight, backend) as other:
        await one.user("alice")
        token = await one.token("alice")

        async def status(server: Harness) -> int:
            return (await server.get("/user", token=token)).status_code

        async def share(server: Harness) -> None:
            # What each server's limiter does about once a second.
            assert server.app.limiter is not None
            await server.app.limiter.share_once(server.db)

        assert [await status(one) for _ in range(4)] == [200] * 4
        assert [await status(other) for _ in range(4)] == [200] * 4
        await share(one)
        await share(other)
        # Adding its 4 to the window, the other server learnt of the first one's 4.
        seen = await other.get("/user", token=token)
        assert seen.headers["x-ratelimit-used"] == "9"
        await share(other)
        assert await status(one) == 200  # the first server still counts 5: it learns when it adds
        await share(one)
        assert await status(one) == 403
        # Beyond the limit by what a server served since it last added: one request here.
        assert await status(other) == 200
        await share(other)
        refused = await other.get("/user", token=token)
        assert refused.status_code == 403
        assert refused.headers["x-ratelimit-used"] == "11"
        assert refused.headers["x-ratelimit-reset"] == seen.headers["x-ratelimit-reset"]
