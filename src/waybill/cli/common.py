"""What every ``waybill`` subcommand shares: how a domain error reads on one line."""

from __future__ import annotations

from waybill.core.errors import DomainError, ValidationFailed


def message(error: DomainError) -> str:
    if isinstance(error, ValidationFailed) and error.errors:
        return "; ".join(e.message or f"{e.field} is {e.code}" for e in error.errors)
    return error.message
