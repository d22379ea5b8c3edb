"""A burst of requests with a token the process has not cached makes one lookup, and each request gets
its answer, or its refusal."""

from __future__ import annotations

import asyncio

import pytest

from waybill.auth import tokens
from waybill.auth.types import ANONYMOUS, Principal
from waybill.core.errors import Unauthenticated


async def test_concurrent_requests_share_one_lookup() -> None:
    calls = 0

    async def lookup() -> Principal:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return ANONYMOUS

    answers = await asyncio.gather(*(tokens.looked_up_once("db", "wbp_x", lookup) for _ in range(50)))
    assert calls == 1
    assert all(answer is ANONYMOUS for answer in answers)
    # Once answered, the next miss looks up again (the cache, not this, keeps answers).
    await tokens.looked_up_once("db", "wbp_x", lookup)
    assert calls == 2


async def test_a_refusal_is_shared_and_other_tokens_are_looked_up_apart() -> None:
    calls: list[str] = []

    async def refused() -> Principal:
        calls.append("bad")
        await asyncio.sleep(0.01)
        raise Unauthenticated("Bad credentials")

    async def accepted() -> Principal:
        calls.append("good")
        return ANONYMOUS

    bad = [tokens.looked_up_once("db", "wbp_bad", refused) for _ in range(5)]
    results = await asyncio.gather(
        *bad, tokens.looked_up_once("db", "wbp_good", accepted), return_exceptions=True
    )
    assert [type(r) for r in results[:5]] == [Unauthenticated] * 5
    assert results[5] is ANONYMOUS
    assert sorted(calls) == ["bad", "good"]
    with pytest.raises(Unauthenticated):
        await tokens.looked_up_once("db", "wbp_bad", refused)
