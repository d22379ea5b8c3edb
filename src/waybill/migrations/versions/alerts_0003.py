"""Alerts: the history of each Dependabot alert's states, backfilled from what the alerts keep.

An alert row keeps only its current cycle (a reopen clears ``fixed_at`` and the dismissal), so the
backfill gives each alert the events its columns still show: opened at ``created_at``, then fixed,
dismissed or auto-dismissed at those columns' times (each after the opening).

Revision ID: alerts_0003
Revises: alerts_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, UTCDateTime

revision: str = "alerts_0003"
down_revision: str | Sequence[str] | None = "alerts_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column of ``dependabot_alerts`` -> the state it records.
_BACKFILLED = (
    ("created_at", "open"),
    ("fixed_at", "fixed"),
    ("dismissed_at", "dismissed"),
    ("auto_dismissed_at", "auto_dismissed"),
)


_EVENT_COLUMNS = (
    "alert_id",
    "repository_id",
    "state",
    "severity",
    "occurred_at",
    "prior_state",
    "prior_severity",
    "prior_at",
)


def upgrade() -> None:
    op.create_table(
        "dependabot_alert_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("prior_state", sa.String(length=16), nullable=True),
        sa.Column("prior_severity", sa.String(length=16), nullable=True),
        sa.Column("prior_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["dependabot_alerts.id"],
            name=op.f("fk_dependabot_alert_events_alert_id_dependabot_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dependabot_alert_events_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependabot_alert_events")),
    )
    op.create_index(
        "ix_dependabot_alert_events_alert_id_occurred_at",
        "dependabot_alert_events",
        ["alert_id", "occurred_at", "id"],
    )
    op.create_index(
        "ix_dependabot_alert_events_trends",
        "dependabot_alert_events",
        ["repository_id", "occurred_at", "state", "severity", "prior_state", "prior_severity", "prior_at"],
    )
    alerts = sa.table(
        "dependabot_alerts",
        *(sa.column(name) for name in ("id", "repository_id", "advisory_id")),
        *(sa.column(name) for name, _ in _BACKFILLED),
    )
    advisories = sa.table("advisories", sa.column("id"), sa.column("severity"))
    events = sa.table("dependabot_alert_events", *(sa.column(name) for name in _EVENT_COLUMNS))
    # The severity is the alert's as the list shows it: an advisory of unknown severity alerts as low.
    severity = sa.case((advisories.c.severity == "unknown", "low"), else_=advisories.c.severity)
    for column, state in _BACKFILLED:
        at = alerts.c[column]
        # Each closing column follows the opening at ``created_at``.
        opening = state == "open"
        prior = (
            (sa.null(), sa.null(), sa.null())
            if opening
            else (sa.literal("open"), severity, alerts.c.created_at)
        )
        rows = (
            sa.select(alerts.c.id, alerts.c.repository_id, sa.literal(state), severity, at, *prior)
            .join(advisories, advisories.c.id == alerts.c.advisory_id)
            .where(at.is_not(None))
            .order_by(at, alerts.c.id)
        )
        op.execute(events.insert().from_select(_EVENT_COLUMNS, rows))


def downgrade() -> None:
    op.drop_index("ix_dependabot_alert_events_trends", table_name="dependabot_alert_events")
    op.drop_index("ix_dependabot_alert_events_alert_id_occurred_at", table_name="dependabot_alert_events")
    op.drop_table("dependabot_alert_events")
