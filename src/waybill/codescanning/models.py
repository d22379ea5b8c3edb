"""Tables of this domain.

An upload (``code_scanning_sarifs``) keeps its gzipped file; each of its runs becomes an analysis.
An alert is one rule at one place in a repository (its ``identity``: tool, rule and fingerprint),
kept across analyses so that its number, state and dismissal survive; an instance is where and how
it was last seen per (ref, category), which is what a newer analysis of the same tool and category
on the same ref fixes or reopens.
"""

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from waybill.core.models import BigId, Json, UTCDateTime, metadata

code_scanning_sarifs = Table(
    "code_scanning_sarifs",
    metadata,
    # A UUID, as GitHub's SARIF ids are.
    Column("id", String(36), primary_key=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("commit_sha", String(64), nullable=False),
    Column("ref", Text, nullable=False),
    Column("checkout_uri", Text, nullable=True),
    Column("tool_name", Text, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("gzipped", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("errors", Json, nullable=True),
    Column("job_id", BigId, nullable=True),
    # Who uploaded it: the sender of the alert events its processing causes.
    Column("uploaded_by_id", BigId, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    Index("ix_code_scanning_sarifs_repository_id", "repository_id"),
)

code_scanning_analyses = Table(
    "code_scanning_analyses",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("sarif_id", String(36), ForeignKey("code_scanning_sarifs.id", ondelete="CASCADE"), nullable=False),
    # Which run of the upload this analysis is (its SARIF is that run alone).
    Column("run_index", Integer, nullable=False),
    Column("ref", Text, nullable=False),
    Column("commit_sha", String(64), nullable=False),
    Column("analysis_key", Text, nullable=False),
    Column("environment", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("tool_name", Text, nullable=False),
    Column("tool_version", Text, nullable=True),
    Column("tool_guid", Text, nullable=True),
    Column("results_count", Integer, nullable=False),
    Column("rules_count", Integer, nullable=False),
    Column("warning", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("sarif_id", "run_index", name="uq_code_scanning_analyses_sarif_id_run_index"),
    # The set an analysis belongs to (what "the last of its type" means for deletion, and whose
    # newest analysis decides fixed and reopened).
    Index(
        "ix_code_scanning_analyses_set",
        "repository_id",
        "tool_name",
        "category",
        "ref",
        "id",
    ),
)

code_scanning_alerts = Table(
    "code_scanning_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    # SHA-256 of (tool, rule, fingerprint): what makes two results one alert.
    Column("identity", String(64), nullable=False),
    Column("tool_name", Text, nullable=False),
    Column("tool_version", Text, nullable=True),
    Column("tool_guid", Text, nullable=True),
    Column("rule_id", Text, nullable=False),
    Column("rule_name", Text, nullable=False),
    Column("rule_severity", String(16), nullable=False),
    Column("security_severity_level", String(16), nullable=True),
    Column("rule_description", Text, nullable=False),
    Column("rule_full_description", Text, nullable=False),
    Column("rule_tags", Json, nullable=False),
    Column("rule_help", Text, nullable=True),
    Column("rule_help_uri", Text, nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("fixed_at", UTCDateTime, nullable=True),
    Column("dismissed_at", UTCDateTime, nullable=True),
    Column("dismissed_by_id", BigId, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Column("dismissed_reason", String(16), nullable=True),
    Column("dismissed_comment", String(280), nullable=True),
    UniqueConstraint("repository_id", "number", name="uq_code_scanning_alerts_repository_id_number"),
    UniqueConstraint("repository_id", "identity", name="uq_code_scanning_alerts_repository_id_identity"),
    Index("ix_code_scanning_alerts_created_at_id", "created_at", "id"),
    Index("ix_code_scanning_alerts_updated_at_id", "updated_at", "id"),
    Index("ix_code_scanning_alerts_tool_name_rule_id", "tool_name", "rule_id"),
)

code_scanning_alert_instances = Table(
    "code_scanning_alert_instances",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, ForeignKey("code_scanning_alerts.id", ondelete="CASCADE"), nullable=False),
    # The alert's repository and tool, repeated here so that an analysis finds the instances of its
    # set (repository, tool, ref, category) in one index, without a join.
    Column("repository_id", BigId, nullable=False),
    Column("tool_name", Text, nullable=False),
    Column("ref", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("analysis_key", Text, nullable=False),
    Column("environment", Text, nullable=False),
    # The analysis that last reported it (open) or no longer did (fixed).
    Column("analysis_id", BigId, nullable=False),
    Column("state", String(16), nullable=False),
    Column("commit_sha", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("start_line", Integer, nullable=True),
    Column("end_line", Integer, nullable=True),
    Column("start_column", Integer, nullable=True),
    Column("end_column", Integer, nullable=True),
    # The file classifications the SARIF's tags gave (those of its path are added when shown).
    Column("classifications", Json, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "alert_id", "ref", "category", name="uq_code_scanning_alert_instances_alert_id_ref_category"
    ),
    Index(
        "ix_code_scanning_alert_instances_set",
        "repository_id",
        "tool_name",
        "ref",
        "category",
        "state",
    ),
)

# The last alert number handed out per repository, allocated by one upsert that adds to it.
code_scanning_alert_numbers = Table(
    "code_scanning_alert_numbers",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("last_number", Integer, nullable=False),
)


code_scanning_alert_assignees = Table(
    "code_scanning_alert_assignees",
    metadata,
    Column("alert_id", BigId, ForeignKey("code_scanning_alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_code_scanning_alert_assignees_user_id", "user_id"),
)
