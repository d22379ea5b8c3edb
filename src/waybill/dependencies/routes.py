"""HTTP handlers for the dependency graph."""

from __future__ import annotations

from typing import Any

route_handlers: list[Any] = []
