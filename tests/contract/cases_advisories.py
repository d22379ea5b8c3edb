"""Contract cases of the global security advisories operations."""

from __future__ import annotations

import httpx

from tests.contract.registry import case
from tests.contract.world import Http, World


@case("security-advisories/list-global-advisories", "imported advisories", 200)
async def _list(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/advisories?per_page=5", token=w.owner_token, version=v)


@case("security-advisories/list-global-advisories", "bad per_page", 422, message="Validation Failed")
async def _list_bad(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/advisories?per_page=many", token=w.owner_token, version=v)


@case("security-advisories/get-global-advisory", "imported advisory", 200)
async def _get(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/advisories/{w.extra['ghsa_id']}", token=w.owner_token, version=v)


@case("security-advisories/get-global-advisory", "unknown advisory", 404, message="Not Found")
async def _get_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", "/advisories/GHSA-zzzz-zzzz-zzzz", token=w.owner_token, version=v)
