from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.harness import Harness


@dataclass
class Setup:
    api: Harness
    token: str


@pytest.fixture
async def alice(api: Harness) -> Setup:
    """alice owns the public repository alice/web (default branch main), with a classic repo token."""
    await api.user("alice")
    await api.repo("alice/web")
    return Setup(api, await api.token("alice"))
