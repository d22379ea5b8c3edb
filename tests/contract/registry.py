"""Every GitHub operation Waybill implements, by ``operationId``, with the requests that exercise it.

A case names the operation, the exact status it must answer, and how to send the request against the
seeded world. ``test_coverage`` fails when the server routes an operation that has no case here, or
when a case names an operation the server does not route; fuzzing and the clients take their list of
operations from here too. Each domain keeps its cases in its own module (``cases_<domain>.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tests.contract.description import API_VERSIONS
from tests.contract.world import Http, World

Call = Callable[[Http, World, str], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Case:
    operation_id: str
    name: str
    status: int
    call: Call
    # For error responses: the exact ``message`` GitHub's body must carry.
    message: str | None = None
    versions: tuple[str, ...] = API_VERSIONS

    @property
    def id(self) -> str:
        return f"{self.operation_id}:{self.name}"


CASES: list[Case] = []


def case(
    operation_id: str,
    name: str,
    status: int,
    *,
    message: str | None = None,
    versions: tuple[str, ...] = API_VERSIONS,
) -> Callable[[Call], Call]:
    """Register a case; ``versions`` narrows it to the API versions whose answer it states."""

    def register(call: Call) -> Call:
        CASES.append(Case(operation_id, name, status, call, message, versions))
        return call

    return register


def implemented() -> list[str]:
    """The operationIds with at least one case, in registration order."""
    _load()
    return list(dict.fromkeys(c.operation_id for c in CASES))


def cases() -> list[Case]:
    _load()
    return CASES


def _load() -> None:
    # Importing a domain's module registers its cases.
    from tests.contract import (  # noqa: F401
        cases_accounts,
        cases_advisories,
        cases_alerts,
        cases_apps,
        cases_artifacts,
        cases_attestations,
        cases_codescanning,
        cases_dependencies,
        cases_webhooks,
    )
