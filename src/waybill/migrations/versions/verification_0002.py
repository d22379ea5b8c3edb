"""Verification of attestations in the background: when an attestation's verification was queued, so
that one not checked yet reads as pending rather than unchecked.

Revision ID: verification_0002
Revises: verification_0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import UTCDateTime

revision: str = "verification_0002"
down_revision: str | Sequence[str] | None = "verification_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable with no default: SQLite adds such a column in place, and existing attestations were
    # verified inline or not at all, so none of them is pending.
    op.add_column("attestations", sa.Column("verification_queued_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35 and later) drops a column in place when nothing indexes it, as here.
    op.drop_column("attestations", "verification_queued_at")
