"""HTTP handlers for artifact metadata."""

from __future__ import annotations

from typing import Any

route_handlers: list[Any] = []
