"""Tables of Dependabot alerts, their history and the sums kept from it."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from waybill.core.models import BigId, UTCDateTime, metadata

# Dependabot alerts: one per (repository, advisory, manifest, package), kept across snapshots so that
# its number, state and dismissal survive upgrades and returns of the vulnerable version.
dependabot_alerts = Table(
    "dependabot_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("advisory_id", BigId, ForeignKey("advisories.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of (advisory, manifest, ecosystem, package key): what makes two findings one alert.
    Column("identity", String(64), nullable=False),
    Column("ecosystem", String(16), nullable=False),
    Column("package_name", Text, nullable=False),
    Column("package_key", String(512), nullable=False),
    Column("package_url", Text, nullable=False),
    Column("manifest_path", Text, nullable=False),
    Column("version", Text, nullable=True),
    Column("scope", String(16), nullable=True),
    Column("relationship", String(16), nullable=False),
    # The advisory range the version fell in, as GitHub prints it, and its first patched version.
    Column("vulnerable_version_range", Text, nullable=False),
    Column("first_patched_version", Text, nullable=True),
    # Whether the vulnerable version is in the repository's current graph: a dismissed alert keeps
    # its state when the version goes, and reopening it must know whether to say open or fixed.
    Column("present", Boolean, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("dismissed_at", UTCDateTime, nullable=True),
    Column("dismissed_by_id", BigId, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Column("dismissed_reason", String(16), nullable=True),
    Column("dismissed_comment", String(280), nullable=True),
    Column("fixed_at", UTCDateTime, nullable=True),
    Column("auto_dismissed_at", UTCDateTime, nullable=True),
    UniqueConstraint("repository_id", "number", name="uq_dependabot_alerts_repository_id_number"),
    UniqueConstraint("repository_id", "identity", name="uq_dependabot_alerts_repository_id_identity"),
    Index("ix_dependabot_alerts_advisory_id", "advisory_id"),
    Index("ix_dependabot_alerts_created_at_id", "created_at", "id"),
    Index("ix_dependabot_alerts_updated_at_id", "updated_at", "id"),
)

# Every state an alert has entered, appended in the transaction that changes it: the alert row keeps
# only its current cycle (a reopen clears ``fixed_at``), the trends need the whole history. The
# severity is the one the alert showed then (unknown as low), so the trends read no other table.
# Each event repeats the state, severity and time of the alert's event before it: the trends then
# sum single rows, where pairing each event with the one before (a window over the whole history)
# took most of a second over 100,000 events on SQLite.
dependabot_alert_events = Table(
    "dependabot_alert_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, ForeignKey("dependabot_alerts.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    # None for the event that opened the alert.
    Column("prior_state", String(16), nullable=True),
    Column("prior_severity", String(16), nullable=True),
    Column("prior_at", UTCDateTime, nullable=True),
    # How long the alert was in its prior state, computed once on insert rather than on every read.
    Column("prior_seconds", Float, nullable=True),
    # The alert's latest event (what the next one repeats).
    Index("ix_dependabot_alert_events_alert_id_occurred_at", "alert_id", "occurred_at", "id"),
    # The fixes of open alerts with how long they were open, per repository in time order: the median
    # time to fix reads this index alone.
    Index(
        "ix_dependabot_alert_events_fixes",
        "repository_id",
        "occurred_at",
        "prior_severity",
        "prior_seconds",
        sqlite_where=text("state = 'fixed' AND prior_state = 'open'"),
        postgresql_where=text("state = 'fixed' AND prior_state = 'open'"),
    ),
)

# The history summed per repository, UTC day and (severity, prior severity): the trends' weeks are
# whole days, so they read these sums instead of every event. Kept in the transaction that appends
# the events; ``entered`` counts events into the open state (at ``severity``), ``exited`` events out
# of it (at ``prior_severity``, "" for an opening), ``opened`` openings and reopenings.
dependabot_alert_days = Table(
    "dependabot_alert_days",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    # YYYY-MM-DD, which orders as the days do on both backends.
    Column("day", String(10), primary_key=True),
    Column("severity", String(16), primary_key=True),
    Column("prior_severity", String(16), primary_key=True),
    Column("entered", Integer, nullable=False),
    Column("exited", Integer, nullable=False),
    Column("opened", Integer, nullable=False),
    Column("fixed", Integer, nullable=False),
)

# The alerts open now per repository and severity, by the same events: the trends count back from it
# over the window's days, so no read sums the history before the window.
dependabot_alert_open_counts = Table(
    "dependabot_alert_open_counts",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("severity", String(16), primary_key=True),
    Column("alerts", Integer, nullable=False),
)

# The last alert number handed out per repository: numbers are allocated by one upsert that adds to
# it, so concurrent evaluations never hand out the same number twice.
dependabot_alert_numbers = Table(
    "dependabot_alert_numbers",
    metadata,
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True),
    Column("last_number", Integer, nullable=False),
)

dependabot_alert_assignees = Table(
    "dependabot_alert_assignees",
    metadata,
    Column("alert_id", BigId, ForeignKey("dependabot_alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_dependabot_alert_assignees_user_id", "user_id"),
)
