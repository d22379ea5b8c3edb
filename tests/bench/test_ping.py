"""The no-op ceiling the benchmarks measure against."""

from tests.harness import Harness


async def test_ping_answers_without_a_token_or_the_database(api: Harness) -> None:
    r = await api.get("/waybill/ping")
    assert r.status_code == 200
    assert r.json() == {"ok": True}
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-github-request-id" in r.headers


async def test_ping_goes_through_the_api_version_check(api: Harness) -> None:
    r = await api.get("/waybill/ping", version="1999-01-01")
    assert r.status_code == 400
    assert r.json() == {
        "message": (
            "Unsupported 'X-GitHub-Api-Version' header '1999-01-01'. Supported: 2022-11-28, 2026-03-10"
        ),
        "documentation_url": "https://docs.github.com/rest",
        "status": "400",
    }
