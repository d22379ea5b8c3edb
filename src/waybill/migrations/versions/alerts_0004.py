"""Alerts: the history summed per repository and day, the alerts open now per severity, and each
event's time in its prior state, so that the trends read a window's sums instead of every event.

Revision ID: alerts_0004
Revises: alerts_0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId

revision: str = "alerts_0004"
down_revision: str | Sequence[str] | None = "alerts_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIXES = "state = 'fixed' AND prior_state = 'open'"
_EVENT_COLUMNS = (
    "repository_id",
    "state",
    "severity",
    "occurred_at",
    "prior_state",
    "prior_severity",
    "prior_at",
    "prior_seconds",
)
_DAY_COLUMNS = ("repository_id", "day", "severity", "prior_severity", "entered", "exited", "opened", "fixed")


def _repository(table: str) -> sa.Column[int]:
    return sa.Column(
        "repository_id",
        BigId,
        sa.ForeignKey(
            "repositories.id", name=op.f(f"fk_{table}_repository_id_repositories"), ondelete="CASCADE"
        ),
        nullable=False,
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("dependabot_alert_events", sa.Column("prior_seconds", sa.Float(), nullable=True))
    events = sa.table("dependabot_alert_events", *(sa.column(name) for name in _EVENT_COLUMNS))
    e = events.c
    seconds = (
        sa.extract("epoch", e.occurred_at - e.prior_at)
        if postgres
        else (sa.func.julianday(e.occurred_at) - sa.func.julianday(e.prior_at)) * 86400.0
    )
    op.execute(events.update().where(e.prior_at.is_not(None)).values(prior_seconds=seconds))
    op.drop_index("ix_dependabot_alert_events_trends", table_name="dependabot_alert_events")
    op.create_index(
        "ix_dependabot_alert_events_fixes",
        "dependabot_alert_events",
        ["repository_id", "occurred_at", "prior_severity", "prior_seconds"],
        sqlite_where=sa.text(_FIXES),
        postgresql_where=sa.text(_FIXES),
    )
    op.create_table(
        "dependabot_alert_days",
        _repository("dependabot_alert_days"),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("prior_severity", sa.String(length=16), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("exited", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "repository_id", "day", "severity", "prior_severity", name=op.f("pk_dependabot_alert_days")
        ),
    )
    op.create_table(
        "dependabot_alert_open_counts",
        _repository("dependabot_alert_open_counts"),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("repository_id", "severity", name=op.f("pk_dependabot_alert_open_counts")),
    )
    day = (
        sa.func.to_char(sa.func.timezone("UTC", e.occurred_at), "YYYY-MM-DD")
        if postgres
        else sa.func.substr(e.occurred_at, 1, 10)
    )
    prior_severity = sa.func.coalesce(e.prior_severity, "")
    entered = sa.case((e.state == "open", 1), else_=0)
    exited = sa.case((e.prior_state == "open", 1), else_=0)
    reopened = sa.case(
        (sa.and_(e.state == "open", sa.func.coalesce(e.prior_state, "") != "open"), 1), else_=0
    )
    sums = sa.select(
        e.repository_id,
        day,
        e.severity,
        prior_severity,
        sa.func.sum(entered),
        sa.func.sum(exited),
        sa.func.sum(reopened),
        sa.func.sum(sa.case((e.state == "fixed", 1), else_=0)),
    ).group_by(e.repository_id, day, e.severity, prior_severity)
    days = sa.table("dependabot_alert_days", *(sa.column(name) for name in _DAY_COLUMNS))
    op.execute(days.insert().from_select(_DAY_COLUMNS, sums))
    moves = sa.union_all(
        sa.select(e.repository_id, e.severity, entered.label("n")),
        sa.select(e.repository_id, e.prior_severity, -exited).where(e.prior_severity.is_not(None)),
    ).subquery("moves")
    counts = (
        sa.select(moves.c.repository_id, moves.c.severity, sa.func.sum(moves.c.n))
        .group_by(moves.c.repository_id, moves.c.severity)
        .having(sa.func.sum(moves.c.n) != 0)
    )
    columns = ("repository_id", "severity", "alerts")
    open_counts = sa.table("dependabot_alert_open_counts", *(sa.column(name) for name in columns))
    op.execute(open_counts.insert().from_select(columns, counts))


def downgrade() -> None:
    op.drop_table("dependabot_alert_open_counts")
    op.drop_table("dependabot_alert_days")
    op.drop_index("ix_dependabot_alert_events_fixes", table_name="dependabot_alert_events")
    op.create_index(
        "ix_dependabot_alert_events_trends",
        "dependabot_alert_events",
        ["repository_id", "occurred_at", "state", "severity", "prior_state", "prior_severity", "prior_at"],
    )
    op.drop_column("dependabot_alert_events", "prior_seconds")
