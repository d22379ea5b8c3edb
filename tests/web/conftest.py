"""A server that trusts the test Sigstore instance, and the organization the pages show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.harness import Harness, running
from tests.web.world import World, build, trust_roots
from waybill.config import Settings


@pytest.fixture
def trusted_settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, trust_roots=trust_roots(tmp_path / "roots"))


@pytest.fixture
async def wapi(trusted_settings: Settings, backend: str) -> AsyncIterator[Harness]:
    async with running(trusted_settings, backend) as harness:
        yield harness


@pytest.fixture
async def world(wapi: Harness) -> World:
    return await build(wapi)
