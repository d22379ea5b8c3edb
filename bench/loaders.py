"""Scale fixtures: rows loaded straight into the domains' tables before the server starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.backends import Backend, Fixture


def load_to(
    backend: Backend,
    fixture: Fixture,
    level: int,
    loaded: dict[str, int],
    data: dict[str, Any],
    scenarios: Sequence[Any],
) -> dict[str, int]:
    """Bring every loaded table up to ``level``; returns how many rows each got now."""
    return {}
