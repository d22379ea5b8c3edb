"""Signing in to the pages with the test client (its cookie jar keeps the session)."""

from __future__ import annotations

import re

import httpx

from tests.harness import Harness

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in(api: Harness, token: str, next_url: str = "/ui") -> httpx.Response:
    form = await api.get("/ui/sign-in")
    return await api.post("/ui/sign-in", data={"csrf": csrf_of(form), "token": token, "next": next_url})
