"""Query parameters that several operations take alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from waybill.core.errors import FieldError, ValidationFailed


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


def invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    """The 422 that names a query parameter."""
    return ValidationFailed([FieldError("Query", field, "invalid", message, value)])


def comma_list(params: Any, name: str) -> list[str]:
    """``name=a,b`` and ``name[]=a&name[]=b`` alike."""
    values = [*params.getall(name, []), *params.getall(f"{name}[]", [])]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def comma_values(params: Any, name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """``comma_list`` without repeats, each one of ``allowed`` when given."""
    values = comma_list(params, name)
    if allowed is not None:
        for value in values:
            if value not in allowed:
                raise invalid(name, f"{name} must be a comma-separated list of: {', '.join(allowed)}", value)
    return tuple(dict.fromkeys(values))


def one_of(params: Any, name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise invalid(name, f"{name} must be one of: {', '.join(allowed)}", raw)
    return str(raw)
