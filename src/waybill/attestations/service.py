"""The rules of the attestations domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Provenance:
    attestation_id: int
    repository_id: int


async def provenance_for(
    conn: AsyncConnection, owner_id: int, digests: Sequence[str]
) -> dict[str, Provenance]:
    """For each ``sha256:`` digest, the newest provenance attestation stored in a repository owned by
    ``owner_id``: the artifact metadata writes take the artifact's repository from it."""
    return {}
