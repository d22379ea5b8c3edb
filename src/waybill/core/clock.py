"""Time, in one place, so that it is always UTC and always rendered the way GitHub renders it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """``2026-03-10T12:00:00Z``: GitHub's timestamp form (UTC, second precision, ``Z``)."""
    # isoformat is C and several times cheaper than strftime: this runs twice per record listed.
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.isoformat(timespec="seconds")[:19] + "Z"


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else iso(value)
