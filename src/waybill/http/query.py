"""Query parameters that several operations take alike."""

from __future__ import annotations

from datetime import UTC, datetime

from waybill.core.errors import ValidationFailed


def time_param(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 time (``2026-03-10T12:00:00Z``; without a zone, UTC), or None when not given."""
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationFailed.one(
            "Query", name, "invalid", f"{name} must be an ISO 8601 time such as 2026-03-10T12:00:00Z", raw
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
