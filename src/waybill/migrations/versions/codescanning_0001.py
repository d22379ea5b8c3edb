"""Code scanning: SARIF uploads, analyses, alerts, their instances and per-repository numbers.

Revision ID: codescanning_0001
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from waybill.core.models import BigId, Json, UTCDateTime

revision: str = "codescanning_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("codescanning",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_scanning_sarifs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("checkout_uri", sa.Text(), nullable=True),
        sa.Column("tool_name", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("gzipped", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("errors", Json, nullable=True),
        sa.Column("job_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_code_scanning_sarifs_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_scanning_sarifs")),
    )
    op.create_index("ix_code_scanning_sarifs_repository_id", "code_scanning_sarifs", ["repository_id"])
    op.create_table(
        "code_scanning_analyses",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("sarif_id", sa.String(length=36), nullable=False),
        sa.Column("run_index", sa.Integer(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("analysis_key", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("tool_name", sa.Text(), nullable=False),
        sa.Column("tool_version", sa.Text(), nullable=True),
        sa.Column("tool_guid", sa.Text(), nullable=True),
        sa.Column("results_count", sa.Integer(), nullable=False),
        sa.Column("rules_count", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_code_scanning_analyses_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sarif_id"],
            ["code_scanning_sarifs.id"],
            name=op.f("fk_code_scanning_analyses_sarif_id_code_scanning_sarifs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_scanning_analyses")),
        sa.UniqueConstraint("sarif_id", "run_index", name="uq_code_scanning_analyses_sarif_id_run_index"),
    )
    op.create_index(
        "ix_code_scanning_analyses_set",
        "code_scanning_analyses",
        ["repository_id", "tool_name", "category", "ref", "id"],
    )
    op.create_table(
        "code_scanning_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("tool_name", sa.Text(), nullable=False),
        sa.Column("tool_version", sa.Text(), nullable=True),
        sa.Column("tool_guid", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("rule_name", sa.Text(), nullable=False),
        sa.Column("rule_severity", sa.String(length=16), nullable=False),
        sa.Column("security_severity_level", sa.String(length=16), nullable=True),
        sa.Column("rule_description", sa.Text(), nullable=False),
        sa.Column("rule_full_description", sa.Text(), nullable=False),
        sa.Column("rule_tags", Json, nullable=False),
        sa.Column("rule_help", sa.Text(), nullable=True),
        sa.Column("rule_help_uri", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("fixed_at", UTCDateTime(), nullable=True),
        sa.Column("dismissed_at", UTCDateTime(), nullable=True),
        sa.Column("dismissed_by_id", BigId, nullable=True),
        sa.Column("dismissed_reason", sa.String(length=16), nullable=True),
        sa.Column("dismissed_comment", sa.String(length=280), nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_code_scanning_alerts_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by_id"],
            ["accounts.id"],
            name=op.f("fk_code_scanning_alerts_dismissed_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_scanning_alerts")),
        sa.UniqueConstraint("repository_id", "number", name="uq_code_scanning_alerts_repository_id_number"),
        sa.UniqueConstraint(
            "repository_id", "identity", name="uq_code_scanning_alerts_repository_id_identity"
        ),
    )
    op.create_index("ix_code_scanning_alerts_created_at_id", "code_scanning_alerts", ["created_at", "id"])
    op.create_index("ix_code_scanning_alerts_updated_at_id", "code_scanning_alerts", ["updated_at", "id"])
    op.create_index(
        "ix_code_scanning_alerts_tool_name_rule_id", "code_scanning_alerts", ["tool_name", "rule_id"]
    )
    op.create_table(
        "code_scanning_alert_instances",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("alert_id", BigId, nullable=False),
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("tool_name", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("analysis_key", sa.Text(), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("analysis_id", BigId, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("start_line", sa.Integer(), nullable=True),
        sa.Column("end_line", sa.Integer(), nullable=True),
        sa.Column("start_column", sa.Integer(), nullable=True),
        sa.Column("end_column", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["code_scanning_alerts.id"],
            name=op.f("fk_code_scanning_alert_instances_alert_id_code_scanning_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_scanning_alert_instances")),
        sa.UniqueConstraint(
            "alert_id", "ref", "category", name="uq_code_scanning_alert_instances_alert_id_ref_category"
        ),
    )
    op.create_index(
        "ix_code_scanning_alert_instances_set",
        "code_scanning_alert_instances",
        ["repository_id", "tool_name", "ref", "category", "state"],
    )
    op.create_table(
        "code_scanning_alert_numbers",
        sa.Column("repository_id", BigId, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_code_scanning_alert_numbers_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_code_scanning_alert_numbers")),
    )


def downgrade() -> None:
    op.drop_table("code_scanning_alert_numbers")
    op.drop_index("ix_code_scanning_alert_instances_set", table_name="code_scanning_alert_instances")
    op.drop_table("code_scanning_alert_instances")
    op.drop_index("ix_code_scanning_alerts_tool_name_rule_id", table_name="code_scanning_alerts")
    op.drop_index("ix_code_scanning_alerts_updated_at_id", table_name="code_scanning_alerts")
    op.drop_index("ix_code_scanning_alerts_created_at_id", table_name="code_scanning_alerts")
    op.drop_table("code_scanning_alerts")
    op.drop_index("ix_code_scanning_analyses_set", table_name="code_scanning_analyses")
    op.drop_table("code_scanning_analyses")
    op.drop_index("ix_code_scanning_sarifs_repository_id", table_name="code_scanning_sarifs")
    op.drop_table("code_scanning_sarifs")
